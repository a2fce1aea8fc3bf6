import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SiteService, type Actor } from '../../src/app/site-service.js';
import { loadSiteDocument } from '../../src/app/site-document.js';
import { openSqliteRepository } from '../../src/store/sqlite/open.js';
import { SAMPLE_SITE_FILE } from '../../src/server.js';
import { ALL_SYSTEMS_ID, ALL_UNKNOWN_COMPUTERS_ID, AVAILABLE_TO, X64_UNKNOWN_ID, type Device } from '../../src/site/model.js';
import type { SiteRepository } from '../../src/site/repository.js';

const admin: Actor = { name: 'test-admin', component: 'test' };

let repo: SiteRepository;
let service: SiteService;

beforeEach(async () => {
  repo = await openSqliteRepository({ file: ':memory:' });
  service = new SiteService(repo, () => new Date('2026-11-26T10:00:00Z'));
});
afterEach(async () => {
  await repo.close();
});

async function expectCode(p: Promise<unknown>, code: string): Promise<Error & { code: string; details: Record<string, unknown> }> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  expect(e, `expected ${code}`).toBeDefined();
  expect((e as { code: string }).code).toBe(code);
  return e as Error & { code: string; details: Record<string, unknown> };
}

describe('site service: plain entities', () => {
  it('creates a device with normalised identifiers, a site-code-free resource id and an audit message', async () => {
    const d = (await service.create('devices', { name: 'PC1', macs: ['52-54-00-AA-BB-CC'], smbiosGuid: '{4B1D0000-7777-4000-8000-000000000010}' }, admin)) as Device;
    expect(d.macs).toEqual(['52:54:00:aa:bb:cc']);
    expect(d.smbiosGuid).toBe('4b1d0000-7777-4000-8000-000000000010');
    expect(Number(d.id)).toBeGreaterThanOrEqual(16777216);
    const audit = await service.messages({ kind: 'audit' });
    expect(audit.map((m) => [m.actor, m.text])).toContainEqual(['test-admin', `created device ${d.id}`]);
  });

  it('gives site-code IDs to collections and advertisement-style IDs to deployments', async () => {
    const c = await service.create('collections', { name: 'Lab' }, admin);
    expect(c.id).toMatch(/^PXP[0-9A-F]{5}$/);
  });

  it.each([
    [{ name: 'x', macs: ['zz'] }, 'body.macs'],
    [{ name: 'x', nmae: 'typo' }, 'body.nmae'],
    [{ name: 'x', architecture: 'ia64' }, 'body.architecture'],
    [{ macs: [] }, 'body.name'],
    [{ name: 'x', smbiosGuid: 'not-a-guid' }, 'body.smbiosGuid'],
  ])('refuses a malformed device %j naming %s, writing nothing', async (body, field) => {
    const before = await repo.devices.count();
    const e = await expectCode(service.create('devices', body, admin), 'PXE_ERR_INVALID');
    expect(e.message).toContain(field);
    expect(await repo.devices.count()).toBe(before);
    expect(await service.messages({ kind: 'audit' })).toHaveLength(0);
  });

  it('refuses a second device with the same MAC', async () => {
    await service.create('devices', { name: 'A', macs: ['52:54:00:00:00:01'] }, admin);
    await expectCode(service.create('devices', { name: 'B', macs: ['52:54:00:00:00:01'] }, admin), 'PXE_ERR_CONFLICT');
  });

  it('keeps built-ins built in: unknown objects and built-in collections cannot be renamed or deleted', async () => {
    await expectCode(service.remove('devices', X64_UNKNOWN_ID, admin), 'PXE_ERR_BUILTIN');
    await expectCode(service.update('devices', X64_UNKNOWN_ID, { name: 'mine' }, admin), 'PXE_ERR_BUILTIN');
    await expectCode(service.remove('collections', ALL_SYSTEMS_ID, admin), 'PXE_ERR_BUILTIN');
    await expectCode(service.update('collections', ALL_UNKNOWN_COMPUTERS_ID, { rules: [] }, admin), 'PXE_ERR_BUILTIN');
    // Rule 65: collection variables on All Unknown Computers are how unknown machines get settings.
    const c = await service.update('collections', ALL_UNKNOWN_COMPUTERS_ID, { variables: [{ name: 'OSDTimeZone', value: 'UTC' }] }, admin);
    expect(c.variables).toHaveLength(1);
  });

  it('removes a deleted device from direct memberships in the same transaction', async () => {
    const d = await service.create('devices', { name: 'A', macs: [] }, admin);
    const c = await service.create('collections', { name: 'Lab', directMemberIds: [d.id] }, admin);
    await service.remove('devices', d.id, admin);
    expect((await service.get('collections', c.id)).directMemberIds).toEqual([]);
  });

  it('refuses members that do not exist and unknown objects as direct members', async () => {
    await expectCode(service.create('collections', { name: 'Lab', directMemberIds: ['999'] }, admin), 'PXE_ERR_INVALID');
    await expectCode(service.create('collections', { name: 'Lab', directMemberIds: [X64_UNKNOWN_ID] }, admin), 'PXE_ERR_INVALID');
  });

  it('keeps exactly one site default boundary group', async () => {
    const a = await service.create('boundary-groups', { name: 'A', isSiteDefault: true }, admin);
    const b = await service.create('boundary-groups', { name: 'B', isSiteDefault: true }, admin);
    const all = await service.list('boundary-groups');
    expect(all.filter((g) => g.isSiteDefault).map((g) => g.id)).toEqual([b.id]);
    expect(a.id).not.toBe(b.id);
  });

  it('refuses a boundary that is not a subnet', async () => {
    const e = await expectCode(service.create('boundary-groups', { name: 'A', boundaries: [{ kind: 'subnet', cidr: '10.0.0.0/40' }] }, admin), 'PXE_ERR_INVALID');
    expect(e.message).toContain('body.boundaries.0.cidr');
  });

  it('refuses to delete a package a task sequence uses, naming it', async () => {
    const p = await service.create('packages', { name: 'P' }, admin);
    const ts = await service.create('task-sequences', { name: 'TS', steps: [{ name: 's', type: 'download-package', packageId: p.id }] }, admin);
    const e = await expectCode(service.remove('packages', p.id, admin), 'PXE_ERR_IN_USE');
    expect(e.message).toContain(ts.id);
  });

  it('bumps a package version when its content source changes (rule 17)', async () => {
    const p = await service.create('packages', { name: 'P', sourcePath: '/a' }, admin);
    const q = await service.update('packages', p.id, { sourcePath: '/b' }, admin);
    expect(q.version).toBe(2);
  });

  it('refuses boot image paths that leave the boot files root', async () => {
    await expectCode(service.create('boot-images', { name: 'B', architecture: 'x64', imagePath: '../etc/passwd' }, admin), 'PXE_ERR_INVALID');
    await expectCode(service.create('boot-images', { name: 'B', architecture: 'x64', imagePath: '/etc/passwd' }, admin), 'PXE_ERR_INVALID');
  });
});

describe('site service: deployments, templates, clear-pxe, tokens', () => {
  async function osDeploymentSetup() {
    const bi = await service.create('boot-images', { name: 'WinPE', architecture: 'x64', imagePath: 'images/x64/boot.wim' }, admin);
    const pkg = await service.create('packages', { name: 'OS' }, admin);
    const ts = await service.create('task-sequences', { name: 'OSD', bootImageId: bi.id, steps: [{ name: 'apply', type: 'apply-image', packageId: pkg.id }] }, admin);
    const dev = await service.create('devices', { name: 'LAB-1', macs: ['52:54:00:00:00:01'] }, admin);
    const col = await service.create('collections', { name: 'Lab', directMemberIds: [dev.id] }, admin);
    return { bi, pkg, ts, dev, col };
  }

  it('creates a deployment through the wizard with a PXP2xxxx id and an audit message', async () => {
    const { ts, col } = await osDeploymentSetup();
    const { deployment } = await service.createDeployment({ taskSequenceId: ts.id, collectionId: col.id, settings: { deploymentSettings: { purpose: 'available', availableTo: 'media-pxe' } } }, admin);
    expect(deployment.id).toMatch(/^PXP2[0-9A-F]{4}$/);
    expect(deployment.deploymentSettings.availableTo).toBe('media-pxe');
    const audit = await service.messages({ deploymentId: deployment.id });
    expect(audit.some((m) => m.kind === 'audit' && m.text.includes(deployment.id))).toBe(true);
  });

  it('rule 135: accepting a high-risk warning writes an audit status message; without consent nothing is written', async () => {
    const { ts, col, dev } = await osDeploymentSetup();
    await service.update('devices', dev.id, { isServer: true }, admin);
    const body = { taskSequenceId: ts.id, collectionId: col.id, settings: { deploymentSettings: { purpose: 'required', availableTo: 'media-pxe' }, scheduling: { assignments: [{ kind: 'asap' }] } } };
    await expectCode(service.createDeployment(body, admin), 'PXE_ERR_HIGH_RISK_NOT_ACCEPTED');
    expect(await repo.deployments.count()).toBe(0);
    const { deployment } = await service.createDeployment({ ...body, acceptHighRisk: true }, admin);
    const msgs = await service.messages({ deploymentId: deployment.id });
    expect(msgs.some((m) => m.kind === 'audit' && m.severity === 'warning' && m.text.startsWith('accepted high-risk'))).toBe(true);
  });

  it('rule 4: a saved template drops scheduling, pre-download and software installation', async () => {
    const { ts, col } = await osDeploymentSetup();
    const { deployment } = await service.createDeployment({
      taskSequenceId: ts.id, collectionId: col.id,
      settings: {
        general: { preDownload: true },
        deploymentSettings: { purpose: 'available', availableTo: 'clients-media-pxe' },
        scheduling: { available: { at: '2026-12-01T08:00', utc: true } },
        userExperience: { softwareInstallOutsideMaintenance: true, showProgress: false },
      },
    }, admin);
    const t = await service.saveTemplate({ name: 'lab', fromDeploymentId: deployment.id }, admin);
    const saved = JSON.stringify(t.settings);
    expect(saved).not.toContain('preDownload');
    expect(saved).not.toContain('scheduling');
    expect(saved).not.toContain('softwareInstallOutsideMaintenance');
    expect(t.settings.userExperience.showProgress).toBe(false);
    await expectCode(service.saveTemplate({ name: 'lab', fromDeploymentId: deployment.id }, admin), 'PXE_ERR_CONFLICT');
  });

  it('rule 40: clear-pxe resets the PXE marker of a device, or of every member of a collection', async () => {
    const { dev, col } = await osDeploymentSetup();
    const d = (await repo.devices.get(dev.id))!;
    await repo.devices.update({ ...d, pxe: { lastPxeDeploymentId: 'PXP20001', lastPxeDeploymentTime: '2026-11-25T10:00:00.000Z' } });
    expect((await service.clearPxe({ collectionId: col.id }, admin)).cleared).toEqual([dev.id]);
    expect((await repo.devices.get(dev.id))!.pxe.lastPxeDeploymentId).toBeNull();
    expect((await service.clearPxe({ deviceId: dev.id }, admin)).cleared).toEqual([]);
    await expectCode(service.clearPxe({ deviceId: dev.id, collectionId: col.id }, admin), 'PXE_ERR_INVALID');
  });

  it('stores tokens hashed and authenticates only the real secret', async () => {
    const { token, secret } = await service.createToken({ name: 'ci' }, admin);
    expect(JSON.stringify(await repo.tokens.list())).not.toContain(secret);
    expect((await service.authenticate(secret))?.id).toBe(token.id);
    expect(await service.authenticate(secret + 'x')).toBeUndefined();
    expect(await service.authenticate('Bearer nonsense')).toBeUndefined();
  });

  it('refuses site settings whose maximum size is not above the default size (rule 131)', async () => {
    await expectCode(service.updateSettings({ deploymentVerification: { defaultSize: 100, maximumSize: 50 } }, admin), 'PXE_ERR_VERIFICATION_SETTINGS');
  });
});

describe('sample site', () => {
  it('loads through the wizard with one deployment of each "make available to" value', async () => {
    const summary = await loadSiteDocument(service, SAMPLE_SITE_FILE, admin);
    const deployments = await service.listDeployments();
    expect(deployments.map((d) => d.id)).toEqual(summary.deployments);
    expect(new Set(deployments.map((d) => d.deploymentSettings.availableTo))).toEqual(new Set(AVAILABLE_TO));
    // Issue 4: a new machine is serviced out of the box through All Unknown Computers.
    expect(deployments.some((d) => d.collectionId === ALL_UNKNOWN_COMPUTERS_ID && d.deploymentSettings.availableTo !== 'clients-only')).toBe(true);
    const lab = (await service.list('collections')).find((c) => c.name === 'Lab Workstations')!;
    expect((await service.members(lab.id)).map((d) => d.name).sort()).toEqual(['LAB-PC-01', 'LAB-PC-02']);
    for (const ts of await service.list('task-sequences')) expect(await service.checkTaskSequence(ts.id)).toEqual([]);
  });
});
