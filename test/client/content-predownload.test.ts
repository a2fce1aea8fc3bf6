/**
 * Rule 16: `pxepoint client --pre-download` caches the verified content of
 * offered Available deployments that ask for it; the later run uses that copy
 * (re-checked) instead of downloading. Fake site + fake DP on loopback.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { identityFromFlags } from '../../src/client/identity.js';
import { runClientSession } from '../../src/client/session.js';
import { dpPackage, dpSource, holdPackage, manifestOf, newSiteKey, signingKeyOf, startFakeDp, type FakeDp } from './content-fake-dp.js';
import { deployment, policy, startFakeSite, step, tempDir, type FakeSite } from './helpers.js';
import { runPxepoint } from '../support/child.js';

const key = newSiteKey();
const FILES = { 'tool.sh': Buffer.from('echo tool > "$_PXPTargetDir/tool-ran.txt"\n') };
let site: FakeSite;
let dp: FakeDp;

beforeAll(async () => {
  site = await startFakeSite();
  dp = await startFakeDp('dp-1');
  const manifest = await manifestOf('PXP00301', 1, FILES, key);
  holdPackage(dp, manifest, FILES);
  const pkg = dpPackage('PXP00301', manifest, [dpSource(dp, 'PXP00301', 1)]);
  const steps = [step({ type: 'run-command', name: 'Tool', packageId: 'PXP00301', commandLine: 'sh tool.sh' })];
  site.state.policy = policy({
    offered: [
      { ...deployment('PXP20301', steps, { packages: [pkg] }), preDownload: true },
      { ...deployment('PXP20302', steps, { packages: [pkg], taskSequenceName: 'no pre-download' }), preDownload: false },
    ],
    contentSigning: signingKeyOf(key),
  });
});
afterAll(async () => {
  await site.close();
  await dp.close();
});

const identity = () => identityFromFlags({ site: site.url, macs: ['52:54:00:77:03:01'], boot: 'full-os', clientKey: 'pxk_test' });

describe('pre-download (rule 16)', () => {
  it('caches verified content; the later run uses it without touching the DP, and status says Download Complete', async () => {
    const target = tempDir();
    site.statuses.length = 0;
    const pre = await runClientSession({ identity: identity(), targetDir: target, preDownload: true });
    expect(pre.exitCode).toBe(0);
    expect(pre.run).toBeNull();
    expect(pre.preDownload).toEqual([{ deploymentId: 'PXP20301', ok: true, packages: [expect.objectContaining({ packageId: 'PXP00301', ok: true, fromCache: false })] }]);
    expect(site.statuses.map((s) => [s.deploymentId, s.state])).toEqual([['PXP20301', 5], ['PXP20301', 6]]);
    expect(existsSync(join(target, '_SMSTSCache', 'PXP00301.json'))).toBe(true);
    expect(existsSync(join(target, 'tool-ran.txt'))).toBe(false); // nothing ran

    dp.requests.length = 0;
    const run = await runClientSession({ identity: identity(), targetDir: target, select: 'PXP20301' });
    expect(run.exitCode).toBe(0);
    expect(readFileSync(join(target, 'tool-ran.txt'), 'utf8')).toBe('tool\n');
    expect(dp.requests).toEqual([]);
    expect(readFileSync(run.logPath, 'utf8')).toMatch(/using the copy verified earlier in this target \(pre-cached, rule 16\)/);
  });

  it('`pxepoint client --pre-download` prints what it cached; nothing to pre-cache → exit 3', async () => {
    const target = tempDir();
    const r = await runPxepoint(['client', '--site', site.url, '--mac', '52:54:00:77:03:02', '--boot', 'full-os', '--client-key', 'pxk_test', '--target', target, '--pre-download']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/pre-downloaded: PXP20301: PXP00301 ok/);

    const saved = site.state.policy;
    site.state.policy = policy({ offered: [{ ...deployment('PXP20302', []), preDownload: false }] });
    try {
      const none = await runPxepoint(['client', '--site', site.url, '--mac', '52:54:00:77:03:02', '--boot', 'full-os', '--client-key', 'pxk_test', '--target', tempDir(), '--pre-download']);
      expect(none.code).toBe(3);
      expect(none.stdout).toMatch(/no offered deployment asks for pre-download/);
    } finally {
      site.state.policy = saved;
    }
  }, 60_000);
});
