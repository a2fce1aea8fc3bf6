/**
 * `pxepoint client` against the fake site: exit codes, the prompt on stdin,
 * --select, --unattended, --json, the variables file, rule 110 retries, and the
 * local smsts.log (with the tokens redacted).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runClientSession } from '../../src/client/session.js';
import { identityFromFlags } from '../../src/client/identity.js';
import { runPxepoint } from '../support/child.js';
import { deployment, policy, startFakeSite, step, tempDir, type FakeSite } from './helpers.js';

const MAC = ['--mac', '52:54:00:77:00:10'];
const available1 = deployment('PXP20001', [step({ type: 'run-command', name: 'mark', commandLine: 'echo one > chosen.txt' })], { taskSequenceName: 'Deploy Windows 11' });
const available2 = deployment('PXP20002', [step({ type: 'run-command', name: 'mark', commandLine: 'echo two > chosen.txt' })], { taskSequenceName: 'Deploy Windows 10' });
const required = deployment('PXP20003', [step({ type: 'set-variable', name: 'name', variableName: 'OSDComputerName', variableValue: 'PC-9' })], { purpose: 'required' });

describe('pxepoint client (fake site)', () => {
  let site: FakeSite;
  beforeAll(async () => {
    site = await startFakeSite();
  });
  afterAll(() => site.close());
  beforeEach(() => {
    site.statuses.length = 0;
    site.identifies.length = 0;
    site.policyCalls = 0;
  });

  it('runs a required deployment unattended (exit 0), human output and smsts.log', async () => {
    site.state.policy = policy({ offered: [available1], autoRun: required });
    const target = tempDir();
    const r = await runPxepoint(['client', '--site', site.url, ...MAC, '--token', 'boot-token-secret', '--target', target, '--unattended']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/identified as known device 16777217 \(LAB-PC-01\)/);
    expect(r.stdout).toMatch(/running PXP20003: .*required, no prompt/);
    expect(r.stdout).toMatch(/\[ok\] 0 name: set OSDComputerName=PC-9/);
    expect(r.stdout).toMatch(/succeeded: PXP20003/);
    expect(site.identifies[0]).toMatchObject({ macs: ['52:54:00:77:00:10'], pxeToken: 'boot-token-secret', bootSource: 'pxe', architecture: 'x64' });
    expect(site.statuses.at(-1)).toMatchObject({ deploymentId: 'PXP20003', state: 13, messageId: 11171, variables: [{ name: 'OSDComputerName', value: 'PC-9' }] });
    const log = readFileSync(join(target, '_SMSTSLog', 'smsts.log'), 'utf8');
    expect(log).toMatch(/Retrieving Policy Assignments/);
    expect(log).not.toMatch(/boot-token-secret|session-secret-123/);
  });

  it('offers the list: --unattended refuses (exit 4), --select picks, stdin picks', async () => {
    site.state.policy = policy({ offered: [available1, available2], prompt: true });
    const t1 = tempDir();
    const refused = await runPxepoint(['client', '--site', site.url, ...MAC, '--target', t1, '--unattended']);
    expect(refused.code).toBe(4);
    expect(refused.stdout).toMatch(/--unattended does not guess/);

    const t2 = tempDir();
    const selected = await runPxepoint(['client', '--site', site.url, ...MAC, '--target', t2, '--select', 'PXP20002']);
    expect(selected.code).toBe(0);
    expect(readFileSync(join(t2, 'chosen.txt'), 'utf8')).toBe('two\n');

    const t3 = tempDir();
    const prompted = await runPxepoint(['client', '--site', site.url, ...MAC, '--target', t3], { input: '9\n1\n' });
    expect(prompted.code).toBe(0);
    expect(prompted.stdout).toMatch(/Select a task sequence to run:\n {2}1\) PXP20001 {2}Deploy Windows 11[\s\S]*2\) PXP20002/);
    expect(prompted.stdout).toMatch(/"9" is not one of/);
    expect(readFileSync(join(t3, 'chosen.txt'), 'utf8')).toBe('one\n');

    const t4 = tempDir();
    const eof = await runPxepoint(['client', '--site', site.url, ...MAC, '--target', t4]);
    expect(eof.code).toBe(4);
  });

  it('nothing offered: "no task sequence is available", exit 3; --json result', async () => {
    site.state.policy = policy({ excluded: [{ deploymentId: 'PXP20009', reason: 'clients-only' }] });
    const r = await runPxepoint(['client', '--site', site.url, ...MAC, '--target', tempDir(), '--json']);
    expect(r.code).toBe(3);
    const out = JSON.parse(r.stdout) as { exitCode: number; message: string; excluded: unknown[] };
    expect(out).toMatchObject({ exitCode: 3, excluded: [{ deploymentId: 'PXP20009', reason: 'clients-only' }] });
    expect(out.message).toMatch(/no task sequence is available/);
  });

  it('a failed step exits 1; an unreachable site exits 5; a bad identity exits 2', async () => {
    site.state.policy = policy({ autoRun: deployment('PXP20005', [step({ type: 'run-command', commandLine: 'exit 9' })], { purpose: 'required' }) });
    const failed = await runPxepoint(['client', '--site', site.url, ...MAC, '--target', tempDir()]);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toMatch(/FAILED: PXP20005/);
    expect(site.statuses.at(-1)).toMatchObject({ state: 11, messageId: 11170 });

    const down = await runPxepoint(['client', '--site', 'http://127.0.0.1:1', ...MAC, '--target', tempDir(), '--api-timeout', '2']);
    expect(down.code).toBe(5);
    expect(down.stdout).toMatch(/cannot reach the site/);

    const bad = await runPxepoint(['client', '--site', site.url, '--target', tempDir()]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/at least one MAC/);
  });

  it('reads a PXE variables file: site, MAC, token, SMSTSPreferredAdvertID', async () => {
    const hidden = deployment('PXP20004', [step({ type: 'run-command', commandLine: 'echo hidden > ran.txt' })], { purpose: 'required', availableTo: 'media-pxe-hidden' });
    site.state.policy = policy({ offered: [available1], autoRun: hidden });
    const dir = tempDir();
    const vars = join(dir, 'variables.json');
    writeFileSync(vars, JSON.stringify({ variables: [
      { name: 'SMSTSSiteURL', value: site.url }, { name: '_SMSTSMediaType', value: 'PXE' }, { name: '_SMSTSClientMAC', value: '52:54:00:77:00:10' },
      { name: '_PXPArchitecture', value: 'x64' }, { name: '_PXPBootToken', value: 'tok-from-file' }, { name: 'SMSTSPreferredAdvertID', value: 'PXP20004' },
    ] }));
    const target = join(dir, 'target');
    const r = await runPxepoint(['client', '--vars', vars, '--target', target]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/running PXP20004: .*\(SMSTSPreferredAdvertID\)/);
    expect(site.identifies[0]).toMatchObject({ pxeToken: 'tok-from-file', variables: [{ name: 'SMSTSSiteURL', value: site.url }, { name: 'SMSTSPreferredAdvertID', value: 'PXP20004' }] });
    expect(readFileSync(join(target, 'ran.txt'), 'utf8')).toBe('hidden\n');
  });

  it('rule 110: retries policy SMSTSAssignmentsDownloadRetry times, SMSTSAssignmentsDownloadInterval apart', async () => {
    site.state.policy = (call) => (call < 3 ? policy() : policy({ autoRun: required }));
    const sleeps: number[] = [];
    const r = await runClientSession({
      identity: identityFromFlags({ site: site.url, macs: ['52:54:00:77:00:10'], variables: [{ name: 'SMSTSAssignmentsDownloadRetry', value: '5' }, { name: 'SMSTSAssignmentsDownloadInterval', value: '2' }] }),
      targetDir: tempDir(),
      sleep: async (ms) => void sleeps.push(ms),
    });
    expect(r.exitCode).toBe(0);
    expect(site.policyCalls).toBe(3);
    expect(sleeps).toEqual([2000, 2000]);

    site.policyCalls = 0;
    site.state.policy = policy();
    const none = await runClientSession({ identity: identityFromFlags({ site: site.url, macs: ['52:54:00:77:00:10'] }), targetDir: tempDir() });
    expect(none.exitCode).toBe(3);
    expect(site.policyCalls).toBe(1); // default: no retry
  });
});
