import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { runPxepoint } from '../support/child.js';
import { makeFolder, tempDir } from './helpers.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('pxepoint package add-content / content …', () => {
  it('adds a version, distributes it, shows the status and requests validation', async () => {
    const dataDir = tempDir('pxp-cli-');
    const src = makeFolder({ 'setup.cmd': 'echo hi' });
    dirs.push(dataDir, src);
    const run = (...args: string[]) => runPxepoint([...args, '--data-dir', dataDir, '--json'], { timeoutMs: 60_000 });

    const pkg = JSON.parse((await run('package', 'create', '--name', 'App')).stdout) as { id: string };
    const dp = JSON.parse((await run('dp', 'create', '--name', 'DP1', '--url', 'http://127.0.0.1:8081/')).stdout) as { id: string };
    const added = await run('package', 'add-content', pkg.id, '--source', src);
    expect(added.code, added.stderr).toBe(0);
    expect(JSON.parse(added.stdout)).toMatchObject({ packageId: pkg.id, version: 2, created: true, files: 1 });

    const dist = await run('content', 'distribute', pkg.id, '--dp', dp.id);
    expect(dist.code, dist.stderr).toBe(0);
    const status = JSON.parse((await run('content', 'status', '--package', pkg.id)).stdout) as { versions: { version: number }[]; distributionPoints: { state: string }[] };
    expect(status.versions.map((v) => v.version)).toEqual([2]);
    expect(status.distributionPoints).toMatchObject([{ distributionPointId: dp.id, packageId: pkg.id, version: 2, state: 'pending' }]);

    const val = await run('content', 'validate', '--dp', dp.id);
    expect(val.code, val.stderr).toBe(0);
    expect(JSON.parse(val.stdout)).toEqual({ distributionPointId: dp.id, packages: 1 });

    const again = await run('package', 'add-content', pkg.id, '--source', src);
    expect(JSON.parse(again.stdout)).toMatchObject({ created: false, version: 2 });
    const bad = await runPxepoint(['package', 'add-content', pkg.id, '--data-dir', dataDir], { timeoutMs: 60_000 });
    expect(bad.code).toBe(2);
  }, 120_000);
});
