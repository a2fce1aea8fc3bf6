/**
 * Issue 7: "building media never needs root". When the suite runs as root (CI does),
 * the whole build — boot image import, `pxepoint media create`, the ISO tools — runs
 * again as the unprivileged user `nobody` through the CLI, in a folder that user owns,
 * and the image it writes boots on BIOS and UEFI (both El Torito entries present).
 * Not root: the suite itself is unprivileged, so build.test.ts already proves it.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../e2e/support/pxepoint.js';
import { itWithTools } from '../support/tools.js';

const TOOLS = { runuser: 'util-linux', 'grub-mkrescue': 'grub-common', xorriso: 'xorriso', mformat: 'mtools', 'wimlib-imagex': 'wimtools' };
const isRoot = process.getuid?.() === 0;
const CLI = join(REPO_ROOT, 'src', 'cli', 'run.ts');

describe('media create as an unprivileged user (issue 7)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pxp-media-nobody-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Runs a pxepoint command as `nobody`; returns stdout, throws with the output otherwise. */
  const asNobody = (args: string[]): string => {
    const r = spawnSync('runuser', ['-u', 'nobody', '--', 'env', `HOME=${dir}`, process.execPath, '--import', 'tsx', CLI, ...args, '--data-dir', join(dir, 'data')], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 120_000 });
    if (r.status !== 0) throw new Error(`pxepoint ${args.join(' ')} as nobody: exit ${r.status ?? r.signal}\n${r.stdout}${r.stderr}`);
    return r.stdout;
  };

  const title = 'builds a BIOS + UEFI ISO as nobody, writing only under its own folder';
  if (!isRoot) {
    it.skip(`${title} [skipped: the suite is not root, so build.test.ts already builds unprivileged]`, () => undefined);
    return;
  }
  itWithTools(TOOLS, title, async () => {
    for (const [rel, text] of Object.entries({
      'Windows/Boot/PXE/bootmgr.exe': 'MZ stand-in', 'Windows/Boot/EFI/bootmgfw.efi': 'MZ stand-in', 'Windows/Boot/DVD/PCAT/boot.sdi': 'sdi',
      'Windows/System32/boot/winload.exe': 'MZ', 'Windows/System32/boot/winload.efi': 'MZ',
    })) {
      mkdirSync(dirname(join(dir, 'tree', rel)), { recursive: true });
      writeFileSync(join(dir, 'tree', rel), text);
    }
    execFileSync('wimlib-imagex', ['capture', join(dir, 'tree'), join(dir, 'pe.wim'), 'WinPE', '--boot'], { stdio: 'ignore' });
    mkdirSync(join(dir, 'out'));
    chmodSync(dir, 0o755);
    for (const p of [dir, join(dir, 'out'), join(dir, 'pe.wim')]) chownSync(p, 65534, 65534);

    const image = JSON.parse(asNobody(['bootimage', 'create', '--name', 'nobody', '--arch', 'x64', '--image-path', 'images/x64/boot.wim', '--pxe', '--json'])) as { id: string };
    asNobody(['bootimage', 'import', '--id', image.id, '--arch', 'x64', '--wim', join(dir, 'pe.wim'), '--root', join(dir, 'tftp')]);
    execFileSync('runuser', ['-u', 'nobody', '--', 'sh', '-c', `printf 'stand-in wimboot' > '${join(dir, 'tftp', 'boot', 'wimboot')}'`]);
    const iso = join(dir, 'out', 'media.iso');
    asNobody(['media', 'create', '--type', 'bootable', '--boot-image', image.id, '--out', iso, '--root', join(dir, 'tftp'), '--site-url', 'http://10.0.0.1:8080', '--json']);

    expect(existsSync(iso)).toBe(true);
    expect(readdirSync(join(dir, 'out'))).toEqual(['media.iso']); // no temp or scratch left beside it
    const eltorito = execFileSync('xorriso', ['-indev', iso, '-report_el_torito', 'plain'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    expect(eltorito).toMatch(/boot img :\s+1\s+BIOS/);
    expect(eltorito).toMatch(/boot img :\s+2\s+UEFI/);
  }, 180_000);
});
