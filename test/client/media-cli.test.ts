/**
 * `pxepoint client --media PATH` (issue 7): the password from --password-file,
 * PXEPOINT_MEDIA_PASSWORD or stdin (rule 99), exit code 6 for a medium that
 * cannot be used, --media with flags that do not go with it, and a stand-alone
 * run from an ISO 9660 image built by xorriso from a fixture directory (the
 * client reads the .iso file itself, no mount).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MEDIA_ERRORS } from '../../src/media/types.js';
import { runPxepoint } from '../support/child.js';
import { itWithTools } from '../support/tools.js';
import { tempDir } from './helpers.js';
import { mediaStep, writeMediaFixture, type MediaFixtureOptions } from './support/media-fixture.js';

const standalone = (extra: Partial<MediaFixtureOptions> = {}): MediaFixtureOptions => ({
  type: 'standalone',
  taskSequence: {
    id: 'PXP00010',
    name: 'Stand-alone from the CLI',
    steps: [
      mediaStep(0, { type: 'run-command', name: 'Show', packageId: 'PXP00001', commandLine: 'cat hello.txt > "$_PXPTargetDir/hello.out"; echo "$_SMSTSMediaType $_SMSTSLaunchMode" >> "$_PXPTargetDir/hello.out"' }),
    ],
  },
  packages: [{ id: 'PXP00001', files: { 'hello.txt': 'hello from the medium\n' } }],
  ...extra,
});

/** The environment of a child without a media password in it (the tests set their own). */
function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env, ...extra };
  if (!('PXEPOINT_MEDIA_PASSWORD' in extra)) delete e.PXEPOINT_MEDIA_PASSWORD;
  return e;
}

describe('pxepoint client --media (rule 99: the password)', () => {
  const medium = writeMediaFixture(standalone({ password: 's3cret media' }));

  it('takes the password from --password-file', async () => {
    const target = tempDir();
    const file = join(tempDir(), 'pw.txt');
    writeFileSync(file, 's3cret media\n', { mode: 0o600 });
    const r = await runPxepoint(['client', '--media', medium.dir, '--target', target, '--password-file', file], { env: env(), timeoutMs: 60_000 });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/medium .* \(stand-alone\)/);
    expect(r.stdout).toMatch(/succeeded: /);
    expect(readFileSync(join(target, 'hello.out'), 'utf8')).toBe('hello from the medium\nFullMedia UFD\n');
  });

  it('takes the password from PXEPOINT_MEDIA_PASSWORD, and from stdin when neither is given', async () => {
    const t1 = tempDir();
    const fromEnv = await runPxepoint(['client', '--media', medium.dir, '--target', t1], { env: env({ PXEPOINT_MEDIA_PASSWORD: 's3cret media' }), timeoutMs: 60_000 });
    expect(fromEnv.code).toBe(0);
    expect(fromEnv.stdout).not.toMatch(/Password for medium/);

    const t2 = tempDir();
    const fromStdin = await runPxepoint(['client', '--media', medium.dir, '--target', t2, '--json'], { env: env(), input: 's3cret media\n', timeoutMs: 60_000 });
    expect(fromStdin.code).toBe(0);
    expect(fromStdin.stderr).toMatch(/Password for medium .*: /);
    const json = JSON.parse(fromStdin.stdout) as { exitCode: number; media: { type: string; launchMode: string }; run: { succeeded: boolean } };
    expect(json).toMatchObject({ exitCode: 0, media: { type: 'standalone', launchMode: 'UFD' }, run: { succeeded: true } });
    expect(readFileSync(join(t2, '_SMSTSLog', 'smsts.log'), 'utf8')).not.toContain('s3cret media');
  });

  it('exit 6 after three wrong passwords on stdin, and at once for a wrong one in the environment', async () => {
    const r = await runPxepoint(['client', '--media', medium.dir, '--target', tempDir()], { env: env(), input: 'a\nb\nc\n', timeoutMs: 60_000 });
    expect(r.code).toBe(6);
    expect(r.stdout).toMatch(/this medium cannot be used: .*3 tries.*PXE_ERR_MEDIA_WRONG_PASSWORD/);
    expect(r.stdout.match(/Password for medium/g)).toHaveLength(3);

    const e = await runPxepoint(['client', '--media', medium.dir, '--target', tempDir()], { env: env({ PXEPOINT_MEDIA_PASSWORD: 'nope' }), input: 's3cret media\n', timeoutMs: 60_000 });
    expect(e.code).toBe(6);
    expect(e.stdout).toMatch(new RegExp(`PXEPOINT_MEDIA_PASSWORD.*${MEDIA_ERRORS.wrongPassword}`));
  });

  it('--media refuses flags that do not go with it (exit 2)', async () => {
    const r = await runPxepoint(['client', '--media', medium.dir, '--target', tempDir(), '--token', 'pxb_x'], { env: env(), timeoutMs: 60_000 });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--token does not go with --media/);
    const b = await runPxepoint(['client', '--site', 'http://127.0.0.1:9', '--mac', '52:54:00:77:00:10', '--boot', 'media', '--target', tempDir()], { env: env(), timeoutMs: 60_000 });
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/give --media PATH/);
  });
});

describe('pxepoint client --media FILE.iso', () => {
  itWithTools({ xorriso: 'xorriso' }, 'runs a stand-alone medium from an ISO 9660 image (Rock Ridge + Joliet) built by xorriso; _SMSTSLaunchMode=CD', async () => {
    const medium = writeMediaFixture(standalone());
    const iso = join(tempDir(), 'standalone.iso');
    execFileSync('xorriso', ['-as', 'mkisofs', '-R', '-J', '-V', 'PXEPOINT', '-o', iso, medium.dir], { stdio: 'ignore' });
    const target = tempDir();
    const r = await runPxepoint(['client', '--media', iso, '--target', target, '--json'], { env: env(), timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout) as { media: { mediaId: string; launchMode: string } };
    expect(json.media).toMatchObject({ mediaId: medium.mediaId, launchMode: 'CD' });
    expect(readFileSync(join(target, 'hello.out'), 'utf8')).toBe('hello from the medium\nFullMedia CD\n');
  }, 60_000);

  itWithTools({ xorriso: 'xorriso' }, 'detects a byte flipped in package content inside the ISO (rule 118)', async () => {
    const medium = writeMediaFixture(standalone());
    const iso = join(tempDir(), 'standalone.iso');
    execFileSync('xorriso', ['-as', 'mkisofs', '-R', '-J', '-o', iso, medium.dir], { stdio: 'ignore' });
    const image = readFileSync(iso);
    const at = image.indexOf('hello from the medium');
    expect(at).toBeGreaterThan(0);
    image[at] = 'j'.charCodeAt(0);
    writeFileSync(iso, image);
    const r = await runPxepoint(['client', '--media', iso, '--target', tempDir(), '--json'], { env: env(), timeoutMs: 60_000 });
    expect(r.code).toBe(1);
    const json = JSON.parse(r.stdout) as { run: { steps: { result: string; failure?: string }[] } };
    expect(json.run.steps[0]).toMatchObject({ result: 'failed', failure: MEDIA_ERRORS.contentHash });
  }, 60_000);
});
