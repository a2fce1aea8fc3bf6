/**
 * The task sequence engine: steps in order, rule 145, status reports, each step
 * type, against a fake reporter and a tiny content server on 127.0.0.1.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TaskSequenceEnvironment } from '../../src/client/environment.js';
import { MemoryLog } from '../../src/client/log.js';
import { StatusReporter } from '../../src/client/reporter.js';
import { runTaskSequence } from '../../src/client/runner.js';
import { PxeError } from '../../src/errors.js';
import type { PolicyDeployment, StatusReport, StatusResponse } from '../../src/policy/client-api.js';
import { contentFile, deployment, location, pkg, startFakeSite, step, tempDir, type FakeSite } from './helpers.js';

const SCRIPT = 'echo "role=$OSDRole advert=$_SMSTSAdvertID" > "$_PXPTargetDir/ran.txt"\n';
const IMAGE = 'boot loader config\n';

function fakeReporter(fail = false) {
  const reports: StatusReport[] = [];
  const api = {
    status: async (r: StatusReport): Promise<StatusResponse> => {
      if (fail) throw new PxeError('PXE_ERR_CLIENT_UNREACHABLE', 'down', 503);
      reports.push(r);
      return { accepted: true, ...(r.state === 13 ? { deviceId: '16777300' } : {}) };
    },
  };
  return { reports, api };
}

async function run(d: PolicyDeployment, opts: { env?: TaskSequenceEnvironment; failStatus?: boolean; disableRetry?: boolean; commandTimeoutMs?: number } = {}) {
  const target = tempDir();
  const log = new MemoryLog();
  const { reports, api } = fakeReporter(opts.failStatus);
  const reporter = new StatusReporter(api, log, opts.disableRetry ?? false);
  const env = opts.env ?? new TaskSequenceEnvironment();
  const result = await runTaskSequence({ targetDir: target, deployment: d, env, reporter, log, fetch, sleep: async () => undefined, commandTimeoutMs: opts.commandTimeoutMs ?? 10_000 });
  return { target, log, reports, result, env };
}

describe('runTaskSequence', () => {
  let site: FakeSite;
  beforeAll(async () => {
    site = await startFakeSite();
    site.state.content = { good: { 'post.sh': SCRIPT, 'boot.ini': IMAGE, 'Windows/System32/README.txt': 'os' }, bad: { 'boot.ini': 'tampered image\n' } };
  });
  afterAll(() => site.close());

  const agent = () => pkg('PXP00001', [contentFile('post.sh', SCRIPT)], [location(site, 'good')]);
  const image = (locs = [location(site, 'good')]) => pkg('PXP00002', [contentFile('boot.ini', IMAGE), contentFile('Windows/System32/README.txt', 'os')], locs);

  it('runs every step type in order, reports start/steps/end, and writes the log', async () => {
    const d = deployment('PXP20001', [
      step({ type: 'download-package', name: 'Download agent', packageId: 'PXP00001' }),
      step({ type: 'apply-image', name: 'Apply OS', packageId: 'PXP00002' }),
      step({ type: 'set-variable', name: 'Role', variableName: 'OSDRole', variableValue: 'Workstation' }),
      step({ type: 'set-variable', name: 'Name', variableName: 'OSDComputerName', variableValue: 'NEW-PC-7' }),
      step({ type: 'run-command', name: 'Post-install', packageId: 'PXP00001', commandLine: 'sh post.sh' }),
      step({ type: 'restart', name: 'Restart' }),
      step({ type: 'run-command', name: 'After restart', commandLine: 'echo after > after.txt' }),
    ], { packages: [agent(), image()] });
    const { target, reports, result } = await run(d);
    expect(result.succeeded).toBe(true);
    expect(result.steps.map((s) => s.result)).toEqual(Array(7).fill('succeeded'));
    expect(readFileSync(join(target, 'ran.txt'), 'utf8')).toBe('role=Workstation advert=PXP20001\n');
    expect(readFileSync(join(target, 'os', 'boot.ini'), 'utf8')).toBe(IMAGE);
    expect(readFileSync(join(target, 'os', 'Windows', 'System32', 'README.txt'), 'utf8')).toBe('os');
    expect(readFileSync(join(target, 'after.txt'), 'utf8')).toBe('after\n');
    expect(JSON.parse(readFileSync(join(target, '_SMSTSRestart'), 'utf8'))).toMatchObject({ deploymentId: 'PXP20001', stepIndex: 5, stepName: 'Restart' });
    expect(result.restartRequested).toBe(true);
    // Status: start (Running 9/11140), one per step, reboot as Reboot Pending (12/11142), end Succeeded (13/11171) with run-time variables.
    expect(reports.map((r) => [r.state, r.messageId])).toEqual([
      [9, 11140], [9, 11134], [9, 11134], [9, 11134], [9, 11134], [9, 11134], [12, 11142], [9, 11134], [13, 11171],
    ]);
    expect(reports.at(-1)!.variables).toEqual([{ name: 'OSDRole', value: 'Workstation' }, { name: 'OSDComputerName', value: 'NEW-PC-7' }]);
    expect(result.deviceId).toBe('16777300');
  });

  it('fails on the first failed step (rule 145): later steps do not run, Failed 11/11170', async () => {
    const d = deployment('PXP20002', [
      step({ type: 'run-command', name: 'ok', commandLine: 'true' }),
      step({ type: 'run-command', name: 'boom', commandLine: 'echo oops >&2; exit 7' }),
      step({ type: 'run-command', name: 'never', commandLine: 'touch never' }),
    ]);
    const { target, reports, result, log } = await run(d);
    expect(result.succeeded).toBe(false);
    expect(result.steps.map((s) => s.result)).toEqual(['succeeded', 'failed', 'not-run']);
    expect(result.steps[1]!.message).toMatch(/exited with code 7/);
    expect(existsSync(join(target, 'never'))).toBe(false);
    expect(reports.map((r) => [r.state, r.messageId])).toEqual([[9, 11140], [9, 11134], [9, 11135], [11, 11170]]);
    expect(reports.at(-1)!.message).toMatch(/step 1 "boom" failed/);
    expect(log.lines.some((l) => /oops/.test(l.text))).toBe(true);
  });

  it('continues past a failed step with continueOnError (11138), and skips disabled steps', async () => {
    const d = deployment('PXP20003', [
      step({ type: 'run-command', name: 'tolerated', commandLine: 'exit 3', continueOnError: true }),
      { ...step({ type: 'run-command', name: 'disabled', commandLine: 'touch disabled' }), disabled: true } as ReturnType<typeof step>,
      step({ type: 'run-command', name: 'last', commandLine: 'touch last' }),
    ]);
    const { target, reports, result, env } = await run(d);
    expect(result.succeeded).toBe(true);
    expect(result.steps.map((s) => s.result)).toEqual(['failed-ignored', 'skipped', 'succeeded']);
    expect(existsSync(join(target, 'disabled'))).toBe(false);
    expect(existsSync(join(target, 'last'))).toBe(true);
    expect(reports.map((r) => r.messageId)).toEqual([11140, 11138, 11128, 11134, 11171]);
    expect(env.get('_SMSTSLastActionSucceeded')).toBe('true');
  });

  it('a hash mismatch everywhere fails the step with that reason and keeps nothing (rules 116, 123)', async () => {
    const d = deployment('PXP20004', [step({ type: 'apply-image', name: 'Apply OS', packageId: 'PXP00002' })], { packages: [image([location(site, 'bad')])] });
    const { target, result, reports } = await run(d);
    expect(result.succeeded).toBe(false);
    expect(result.steps[0]).toMatchObject({ result: 'failed', failure: 'hash-mismatch' });
    expect(existsSync(join(target, 'os'))).toBe(false);
    expect(readdirSync(join(target, '_SMSTSPackages'))).toEqual([]);
    expect(reports.at(-1)).toMatchObject({ state: 11, messageId: 11170 });
  });

  it('access content directly: runs unverified and says so in status (rule 117)', async () => {
    const d = deployment('PXP20005', [step({ type: 'apply-image', name: 'Apply OS', packageId: 'PXP00002' })], {
      packages: [image([location(site, 'bad'), location(site, 'good')])], deploymentOption: 'access-directly',
    });
    const { target, result, reports, env, log } = await run(d);
    expect(result.succeeded).toBe(true);
    expect(result.unverifiedPackages).toEqual(['PXP00002']);
    expect(readFileSync(join(target, 'os', 'boot.ini'), 'utf8')).toBe('tampered image\n');
    expect(reports[1]!.message).toMatch(/UNVERIFIED: package PXP00002/);
    expect(reports.at(-1)!.message).toMatch(/WITHOUT hash verification \(rule 117\): PXP00002/);
    expect(env.get('_SMSTSRunFromDP')).toBe('true');
    expect(log.lines.some((l) => l.level === 'warn' && /!!!.*NOT verified/.test(l.text))).toBe(true);
  });

  it('the Apply OS Image step\'s own "access directly" covers only its image (rule 117)', async () => {
    const d = deployment('PXP20006', [
      step({ type: 'apply-image', name: 'Apply OS', packageId: 'PXP00002', accessContentDirectly: true }),
      step({ type: 'download-package', name: 'Agent', packageId: 'PXP00001' }),
    ], { packages: [image([location(site, 'bad'), location(site, 'good')]), pkg('PXP00001', [contentFile('post.sh', 'different\n')], [location(site, 'good')])] });
    const { result } = await run(d);
    expect(result.unverifiedPackages).toEqual(['PXP00002']);
    expect(result.steps.map((s) => s.result)).toEqual(['succeeded', 'failed']);
    expect(result.steps[1]!.failure).toBe('hash-mismatch');
  });

  it('set-variable follows rule 113: read-only names fail the step', async () => {
    const d = deployment('PXP20007', [step({ type: 'set-variable', name: 'bad', variableName: '_SMSTSAdvertID', variableValue: 'x' })]);
    const { result } = await run(d);
    expect(result.steps[0]).toMatchObject({ result: 'failed', failure: 'variable' });
    expect(result.steps[0]!.message).toMatch(/read-only/);
  });

  it('run-command sees only task sequence variables plus PATH, and is bounded in time', async () => {
    process.env.PXP_TEST_LEAK = 'leaked';
    const env = new TaskSequenceEnvironment();
    env.load([{ name: 'FromSite', value: 'yes' }]);
    const d = deployment('PXP20008', [
      step({ type: 'run-command', name: 'env', commandLine: 'echo "${FromSite}-${PXP_TEST_LEAK:-none}" > env.txt' }),
      step({ type: 'run-command', name: 'slow', commandLine: 'sleep 30' }),
    ]);
    const started = Date.now();
    const { target, result } = await run(d, { env, commandTimeoutMs: 300 });
    delete process.env.PXP_TEST_LEAK;
    expect(readFileSync(join(target, 'env.txt'), 'utf8')).toBe('yes-none\n');
    expect(result.steps[1]).toMatchObject({ result: 'failed', failure: 'timeout' });
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('a status that cannot be sent does not stop the run; SMSTSDisableStatusRetry stops sending (rule 144)', async () => {
    const d = deployment('PXP20009', [step({ type: 'run-command', name: 'a', commandLine: 'true' }), step({ type: 'run-command', name: 'b', commandLine: 'true' })]);
    const { result, log } = await run(d, { failStatus: true, disableRetry: true });
    expect(result.succeeded).toBe(true);
    expect(result.statusFailed).toBe(1);
    expect(log.lines.filter((l) => /could not send status/.test(l.text))).toHaveLength(1);
  });
});
