/**
 * A stand-in WinPE boot image for the end-to-end tests: a small tree with the
 * boot programs' file names (BIOS and UEFI), captured into a bootable WIM by
 * `wimlib-imagex capture` and imported with `pxepoint bootimage import`, like a
 * real one. Windows PE never runs from it; what each test uses in place of
 * wimboot is that test's business (it writes `boot/wimboot` afterwards).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pxepointCli } from './pxepoint.js';

/** Path inside the WinPE image → stand-in content. */
const STAND_IN_FILES: Record<string, string> = {
  'Windows/System32/boot/winload.exe': 'MZ stand-in winload.exe',
  'Windows/System32/boot/winload.efi': 'MZ stand-in winload.efi',
  'Windows/Boot/EFI/bootmgfw.efi': 'MZ stand-in bootmgfw.efi',
  'Windows/Boot/PXE/bootmgr.exe': 'MZ stand-in bootmgr.exe',
  'Windows/Boot/PXE/pxeboot.n12': 'stand-in pxeboot.n12',
  'Windows/Boot/DVD/PCAT/boot.sdi': 'stand-in boot.sdi '.repeat(1000),
};

export interface StandInWinPeOptions {
  /** Scratch directory for the tree (winpe-tree/) and the WIM (standin.wim). */
  workDir: string;
  /** The site's data directory (`--data-dir`). */
  dataDir: string;
  /** The boot image record to import into. */
  bootImageId: string;
  /** The TFTP/HTTP root the files are imported into (`--root`). */
  tftpRoot: string;
  /** More `bootimage import` flags, e.g. `['--ramdisk-block-size', '1456']`. */
  importFlags?: readonly string[];
}

/** Builds the stand-in WIM and imports it as an x64 boot image; returns the WIM's path. */
export function importStandInWinPe(opts: StandInWinPeOptions): string {
  const tree = join(opts.workDir, 'winpe-tree');
  for (const [rel, text] of Object.entries(STAND_IN_FILES)) {
    mkdirSync(dirname(join(tree, rel)), { recursive: true });
    writeFileSync(join(tree, rel), text);
  }
  const wim = join(opts.workDir, 'standin.wim');
  execFileSync('wimlib-imagex', ['capture', tree, wim, 'Microsoft Windows PE (e2e stand-in)', '--boot'], { stdio: 'ignore' });
  pxepointCli(opts.dataDir, ['bootimage', 'import', '--id', opts.bootImageId, '--arch', 'x64', '--wim', wim, '--root', opts.tftpRoot, ...(opts.importFlags ?? [])]);
  return wim;
}
