/**
 * Deployment options in the task sequence engine (rules 9, 10, 117, 120, 123)
 * against fake DPs on loopback: download when needed (per step, before it
 * runs), download all first (full OS only, before step 1), access directly
 * (unverified, reported in status), and Apply OS Image's own direct access.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TaskSequenceEnvironment } from '../../src/client/environment.js';
import { MemoryLog } from '../../src/client/log.js';
import { StatusReporter } from '../../src/client/reporter.js';
import { runTaskSequence } from '../../src/client/runner.js';
import type { ContentManifest } from '../../src/content/types.js';
import type { PolicyDeployment, StatusReport, StatusResponse } from '../../src/policy/client-api.js';
import type { BootSource } from '../../src/policy/types.js';
import { dpPackage, dpSource, holdPackage, manifestOf, newSiteKey, signingKeyOf, startFakeDp, type FakeDp } from './content-fake-dp.js';
import { deployment, step, tempDir } from './helpers.js';

const key = newSiteKey();
const AGENT = { 'agent.sh': Buffer.from('echo agent > "$_PXPTargetDir/agent-ran.txt"\n') };
const IMAGE = { 'boot.ini': Buffer.from('[boot loader]\n'), 'Windows/README.txt': Buffer.from('os\n') };
let dp: FakeDp;
let agentManifest: ContentManifest;
let imageManifest: ContentManifest;

beforeAll(async () => {
  dp = await startFakeDp('dp-1');
  agentManifest = await manifestOf('PXP00201', 1, AGENT, key);
  imageManifest = await manifestOf('PXP00202', 1, IMAGE, key);
});
afterAll(() => dp.close());
beforeEach(() => {
  holdPackage(dp, agentManifest, AGENT);
  holdPackage(dp, imageManifest, IMAGE);
  dp.requests.length = 0;
});

const agent = () => dpPackage('PXP00201', agentManifest, [dpSource(dp, 'PXP00201', 1)]);
const image = () => dpPackage('PXP00202', imageManifest, [dpSource(dp, 'PXP00202', 1)]);

function steps() {
  return [
    step({ type: 'run-command', name: 'Before content', commandLine: 'ls "$_PXPTargetDir/_SMSTSPackages" > before.txt 2>/dev/null; true' }),
    step({ type: 'apply-image', name: 'Apply OS', packageId: 'PXP00202' }),
    step({ type: 'run-command', name: 'Agent', packageId: 'PXP00201', commandLine: 'sh agent.sh' }),
  ];
}

async function run(d: PolicyDeployment, bootSource: BootSource = 'pxe') {
  const target = tempDir();
  const log = new MemoryLog();
  const reports: StatusReport[] = [];
  const reporter = new StatusReporter({ status: async (r: StatusReport): Promise<StatusResponse> => (reports.push(r), { accepted: true }) }, log, false);
  const env = new TaskSequenceEnvironment();
  const result = await runTaskSequence({
    targetDir: target, deployment: d, env, reporter, log, fetch, sleep: async () => undefined, commandTimeoutMs: 10_000,
    bootSource, signingKey: signingKeyOf(key),
  });
  return { target, log, reports, result, env };
}

describe('deployment options in the engine', () => {
  it('rule 120: download when needed — each package right before the step that needs it; _SMSTSDownloadOnDemand=true', async () => {
    const d = { ...deployment('PXP20201', steps(), { packages: [image(), agent()] }), engineVariables: [{ name: '_SMSTSDownloadOnDemand', value: 'true' }] };
    const { target, result, env, log } = await run(d);
    expect(result.succeeded).toBe(true);
    // Nothing was there when step 0 ran.
    expect(readFileSync(join(target, 'before.txt'), 'utf8')).toBe('');
    expect(env.get('_SMSTSDownloadOnDemand')).toBe('true');
    expect(env.get('_SMSTSRunFromDP')).toBeUndefined();
    expect(env.get('_SMSTSLastContentDownloadLocation')).toBe(dpSource(dp, 'PXP00201', 1).filesUrl);
    expect(log.lines.filter((l) => /chunks and SHA-256 verified against the signed manifest/.test(l.text))).toHaveLength(2);
  });

  it('rules 9/123: download all first (full OS) — every package before step 1', async () => {
    const d = { ...deployment('PXP20202', steps(), { packages: [image(), agent()], deploymentOption: 'download-all-first' }), engineVariables: [] };
    const { target, result, env } = await run(d, 'full-os');
    expect(result.succeeded).toBe(true);
    expect(readFileSync(join(target, 'before.txt'), 'utf8').trim().split('\n')).toEqual(['PXP00201', 'PXP00202']);
    expect(env.get('_SMSTSDownloadOnDemand')).toBeUndefined();
  });

  it('rule 9: download all first is refused from PXE and media, clearly, before anything runs', async () => {
    for (const boot of ['pxe', 'media'] as const) {
      const d = deployment('PXP20203', steps(), { packages: [image(), agent()], deploymentOption: 'download-all-first' });
      const { target, result, reports } = await run(d, boot);
      expect(result.succeeded).toBe(false);
      expect(result.steps.map((s) => s.result)).toEqual(['not-run', 'not-run', 'not-run']);
      expect(existsSync(join(target, 'before.txt'))).toBe(false);
      expect(reports.at(-1)).toMatchObject({ state: 11, messageId: 11170, message: expect.stringMatching(/not offered to (PXE|boot media) clients \(rule 9\)/) });
      expect(dp.requests).toEqual([]);
    }
  });

  it('rule 123: with download all first, a package that cannot be had fails the run before step 1', async () => {
    dp.files.get('PXP00201@1')!['agent.sh'] = Buffer.from('echo EVIL > "$_PXPTargetDir/agent-ran.txt"\n');
    const d = deployment('PXP20204', steps(), { packages: [image(), agent()], deploymentOption: 'download-all-first' });
    const { target, result, reports } = await run(d, 'full-os');
    expect(result.succeeded).toBe(false);
    expect(existsSync(join(target, 'before.txt'))).toBe(false);
    expect(existsSync(join(target, '_SMSTSPackages', 'PXP00201'))).toBe(false);
    expect(reports.at(-1)!.message).toMatch(/download all content before starting: .*hash mismatch|no location has agent\.sh/);
  });

  it('rule 117: access directly — read from the share, unverified, said in the log AND in status', async () => {
    dp.files.get('PXP00201@1')!['agent.sh'] = Buffer.from('echo altered > "$_PXPTargetDir/agent-ran.txt"\n');
    const d = { ...deployment('PXP20205', steps(), { packages: [image(), agent()], deploymentOption: 'access-directly' }), engineVariables: [{ name: '_SMSTSRunFromDP', value: 'true' }] };
    const { target, result, reports, env, log } = await run(d);
    expect(result.succeeded).toBe(true);
    expect(readFileSync(join(target, 'agent-ran.txt'), 'utf8')).toBe('altered\n'); // not verified: altered content is not detected
    expect(result.unverifiedPackages.sort()).toEqual(['PXP00201', 'PXP00202']);
    expect(env.get('_SMSTSRunFromDP')).toBe('true');
    expect(dp.requests.every((q) => q.kind === 'share')).toBe(true);
    expect(reports[0]!.message).toMatch(/WARNING: access content directly .*NOT verified \(rule 117\)/);
    expect(reports.at(-1)!.message).toMatch(/content used WITHOUT hash verification \(rule 117\): PXP00202, PXP00201/);
    expect(log.lines.some((l) => l.level === 'warn' && /^!!! /.test(l.text))).toBe(true);
  });

  it('rule 117: Apply OS Image\'s own direct access skips verification for its image only', async () => {
    const s = steps();
    s[1] = { ...s[1]!, accessContentDirectly: true };
    const d = deployment('PXP20206', s, { packages: [image(), agent()] });
    const { result } = await run(d);
    expect(result.succeeded).toBe(true);
    expect(result.unverifiedPackages).toEqual(['PXP00202']);
    expect(dp.requests.filter((q) => q.kind === 'share').map((q) => q.path).sort()).toEqual(['Windows/README.txt', 'boot.ini']);
    expect(dp.requests.filter((q) => q.kind === 'file').map((q) => q.path)).toEqual(['agent.sh']);
  });

  it('a tampered package fails its step with a hash-mismatch status; the steps after it do not run', async () => {
    dp.files.get('PXP00201@1')!['agent.sh'] = Buffer.from('echo EVIL > "$_PXPTargetDir/agent-ran.txt"\n');
    const d = deployment('PXP20207', steps(), { packages: [image(), agent()] });
    const { target, result, reports } = await run(d);
    expect(result.succeeded).toBe(false);
    expect(result.steps.map((s) => s.result)).toEqual(['succeeded', 'succeeded', 'failed']);
    expect(result.steps[2]).toMatchObject({ failure: 'hash-mismatch' });
    expect(existsSync(join(target, 'agent-ran.txt'))).toBe(false);
    expect(existsSync(join(target, '_SMSTSPackages', 'PXP00201'))).toBe(false);
    expect(reports.find((r) => r.messageId === 11135)!.message).toMatch(/Agent: .*SHA-256 \(rule 116\)/);
  });
});
