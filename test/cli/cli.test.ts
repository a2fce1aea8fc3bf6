import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../support/cli.js';

let dataDir: string;

beforeAll(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'pxepoint-cli-'));
});
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

const cli = (...argv: string[]) => runCli(dataDir, ...argv);

async function json<T = Record<string, unknown>>(...argv: string[]): Promise<T> {
  const r = await cli(...argv, '--json');
  expect(r.err).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.out) as T;
}

describe('pxepoint CLI', () => {
  let tsId: string;
  let collectionId: string;
  let deviceId: string;

  it('creates an API token and shows the secret once', async () => {
    const r = await cli('token', 'create', 'ci');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/Authorization: Bearer pxp_[A-Za-z0-9_-]{20,}/);
    const list = await json<{ name: string; hash: string }[]>('token', 'list');
    expect(list.map((t) => t.name)).toEqual(['ci']);
  });

  it('manages devices, collections, boot images, packages and task sequences with flags', async () => {
    deviceId = (await json<{ id: string }>('device', 'create', '--name', 'LAB-1', '--mac', '52:54:00:00:00:01', '--arch', 'x64', '--var', 'OSDRole=Lab')).id;
    collectionId = (await json<{ id: string }>('collection', 'create', '--name', 'Lab', '--rule-name', 'LAB-*')).id;
    const members = await json<{ id: string }[]>('collection', 'members', collectionId);
    expect(members.map((m) => m.id)).toEqual([deviceId]);
    const bi = await json<{ id: string }>('bootimage', 'create', '--name', 'WinPE x64', '--arch', 'x64', '--image-path', 'images/x64/boot.wim');
    const pkg = await json<{ id: string }>('package', 'create', '--name', 'OS image', '--share');
    const stepsFile = join(dataDir, 'steps.json');
    writeFileSync(stepsFile, JSON.stringify({ steps: [{ name: 'Apply', type: 'apply-image', packageId: pkg.id }] }));
    tsId = (await json<{ id: string }>('ts', 'create', '--name', 'OSD', '--boot-image', bi.id, '--steps-file', stepsFile)).id;
    const check = await cli('ts', 'check', tsId);
    expect(check.out).toContain('all references are valid');
    const human = await cli('device', 'list');
    expect(human.out).toMatch(/^ID\s+NAME\s+MACS/m);
    expect(human.out).toContain('LAB-1');
  });

  it('runs the deploy wizard with flags that mirror the wizard pages', async () => {
    const r = await json<{ deployment: Record<string, Record<string, unknown>> & { id: string } }>(
      'deploy', '--ts', tsId, '--collection', collectionId,
      '--purpose', 'available', '--available-to', 'clients-media-pxe', '--comment', 'lab rollout',
      '--available-at', '2026-12-01T08:00Z', '--expires-at', '2026-12-31T18:00', '--rerun', 'if-failed',
      '--no-show-progress', '--allow-internet', '--alert-failure-above', '20',
      '--deployment-option', 'access-directly', '--allow-neighbour', '--allow-default-site',
    );
    const d = r.deployment;
    expect(d.id).toMatch(/^PXP2/);
    expect(d.scheduling).toMatchObject({ available: { at: '2026-12-01T08:00', utc: true }, expires: { at: '2026-12-31T18:00', utc: false }, rerun: 'if-failed' });
    expect(d.userExperience).toMatchObject({ showProgress: false, allowOnInternet: true });
    expect(d.alerts).toMatchObject({ failureAbovePercent: 20 });
    expect(d.distributionPoints).toEqual({ deploymentOption: 'access-directly', allowNeighbourFallback: true, allowDefaultSiteFallback: true });
  });

  it('parses every assignment schedule form', async () => {
    const r = await json<{ deployment: { scheduling: { assignments: unknown[] } } }>(
      'deploy', '--ts', tsId, '--collection', collectionId, '--purpose', 'required', '--available-to', 'clients-only',
      '--assign', 'asap', '--assign', 'logon', '--assign', 'logoff', '--assign', 'at:2026-12-01T08:00Z',
      '--assign', 'weekly:2026-12-01T08:00:2:1', '--assign', 'monthly:2026-12-01T08:00Z:1:0', '--assign', 'custom:2026-12-01T08:00:6:hours',
      '--accept-high-risk',
    );
    expect(r.deployment.scheduling.assignments).toEqual([
      { kind: 'asap' }, { kind: 'logon' }, { kind: 'logoff' },
      { kind: 'at', start: { at: '2026-12-01T08:00', utc: true } },
      { kind: 'recurring', start: { at: '2026-12-01T08:00', utc: false }, recurrence: { kind: 'weekly', everyWeeks: 2, dayOfWeek: 1 } },
      { kind: 'recurring', start: { at: '2026-12-01T08:00', utc: true }, recurrence: { kind: 'monthly-date', everyMonths: 1, dayOfMonth: 0 } },
      { kind: 'recurring', start: { at: '2026-12-01T08:00', utc: false }, recurrence: { kind: 'custom', every: 6, unit: 'hours' } },
    ]);
  });

  it('prints a wizard rule violation with its code and exits 1 (rule 6: wake-up needs Required)', async () => {
    const r = await cli('deploy', '--ts', tsId, '--collection', collectionId, '--purpose', 'available', '--wake-up');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/\[PXE_ERR_[A-Z_]+\]/);
    expect(r.err.toLowerCase()).toContain('wake');
  });

  it('names an unknown flag and exits 2', async () => {
    const r = await cli('deploy', '--ts', tsId, '--colection', collectionId);
    expect(r.code).toBe(2);
    expect(r.err).toContain('--colection');
  });

  it('saves a template from a deployment and applies it', async () => {
    const list = await json<{ id: string; comment: string }[]>('deployment', 'list');
    const source = list.find((d) => d.comment === 'lab rollout')!;
    await json('template', 'save', 'lab-defaults', '--from', source.id);
    const r = await json<{ deployment: { distributionPoints: unknown; scheduling: { available: unknown } } }>('template', 'apply', 'lab-defaults', '--ts', tsId, '--collection', collectionId);
    expect(r.deployment.distributionPoints).toEqual({ deploymentOption: 'access-directly', allowNeighbourFallback: true, allowDefaultSiteFallback: true });
    // Rule 4: scheduling is never carried by a template.
    expect(r.deployment.scheduling.available).toBeNull();
  });

  it('clears required PXE deployments on a collection', async () => {
    const r = await cli('clear-pxe', '--collection', collectionId);
    expect(r.code).toBe(0);
    expect(r.out).toContain('cleared required PXE deployments on 0 device(s)');
    expect((await cli('clear-pxe')).code).toBe(2);
  });

  it('shows site settings and refuses a maximum size below the default (rule 131)', async () => {
    expect(await json('settings', 'get')).toMatchObject({ deploymentVerification: { defaultSize: 100, maximumSize: 0 } });
    const r = await cli('settings', 'set', '--maximum-size', '10');
    expect(r.code).toBe(1);
    expect(r.err).toContain('PXE_ERR_VERIFICATION_SETTINGS');
  });

  it('lists the audit trail with the CLI user as actor', async () => {
    const msgs = await json<{ actor: string; kind: string }[]>('messages', '--audit', '--limit', '500');
    expect(msgs.length).toBeGreaterThan(5);
    expect(msgs.every((m) => m.kind === 'audit' && m.actor.startsWith('cli:'))).toBe(true);
  });
});
