/**
 * `pxepoint bootimage import`: a boot.wim (plus the ADK's boot files, or a folder
 * laid out like a Windows ISO) → files under the TFTP/HTTP root, a manifest of
 * their sizes and SHA-256 hashes, one BCD per firmware, and the BootImage record.
 *
 * What SMSPXE does when a boot image arrives (rule 85: "Found new image", reads the
 * WIM info, extracts the boot files) with wimlib (Debian wimtools) in place of DISM.
 *
 * Layout under the root (docs/winpe.md):
 *   images/<BootImageId>/boot.wim          the image, copied, hashed
 *   images/<BootImageId>/BCD-bios|BCD-uefi  BCD per firmware (bcd.ts); its path goes out in option 252
 *   images/<BootImageId>/winpe.json        manifest: WIM images, files, sizes, SHA-256, BCD settings
 *   boot/<arch>/bootmgfw.efi               UEFI boot program (rule 83)
 *   boot/<arch>/pxeboot.n12, pxeboot.com, abortpxe.com, bootmgr.exe, wdsnbp.com   BIOS (rules 70, 83)
 *   boot/boot.sdi, boot/fonts/*            shared by every image (rule 84's SMSBoot\boot.sdi, Fonts)
 *
 * A file is looked for in --boot-files DIR (flat, or ADK Media layout), then
 * --iso-tree DIR, then inside the WIM. A required file found nowhere, or a WIM
 * wimlib cannot read, is an error naming the file and where it was looked for.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, promises as fsp } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { promisify } from 'node:util';
import { PxeError } from '../errors.js';
import type { Architecture } from '../site/model.js';
import { RAMDISK_TFTP_DEFAULTS, writeWinpeBcd } from './bcd.js';
import { writeStartupFiles } from './startup.js';

const run = promisify(execFile);

export const WINPE_ERRORS = {
  fileMissing: 'PXE_ERR_WINPE_FILE_MISSING',
  wimUnreadable: 'PXE_ERR_WINPE_WIM_UNREADABLE',
  toolMissing: 'PXE_ERR_WINPE_TOOL_MISSING',
  notWinpe: 'PXE_ERR_WINPE_NOT_WINPE',
  archMismatch: 'PXE_ERR_WINPE_ARCH_MISMATCH',
} as const;

export interface WimImageInfo {
  index: number;
  name: string;
  architecture: string | null;
}

export interface WimInfo {
  imageCount: number;
  bootIndex: number | null;
  images: WimImageInfo[];
}

/** Parses `wimlib-imagex info` output. */
export function parseWimInfo(text: string): WimInfo {
  const field = (block: string, name: string): string | null => {
    const m = new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(block);
    return m ? m[1]!.trim() : null;
  };
  const [head = '', ...blocks] = text.split(/^Index:/m);
  const images = blocks.map((b) => {
    const block = `Index:${b}`;
    return { index: Number(field(block, 'Index')), name: field(block, 'Name') ?? '', architecture: field(block, 'Architecture') };
  });
  const boot = Number(field(head, 'Boot Index'));
  return { imageCount: Number(field(head, 'Image Count') ?? images.length), bootIndex: Number.isInteger(boot) && boot > 0 ? boot : null, images };
}

const WIM_ARCH: Record<string, Architecture> = { x86: 'x86', x86_64: 'x64', amd64: 'x64', arm64: 'arm64', aarch64: 'arm64' };

async function wimlib(args: string[], what: string): Promise<string> {
  try {
    const { stdout } = await run('wimlib-imagex', args, { maxBuffer: 16 * 1024 * 1024 });
    return stdout;
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: string };
    if (err.code === 'ENOENT') {
      throw new PxeError(WINPE_ERRORS.toolMissing, 'wimlib-imagex is not installed; install the Debian package wimtools (apt-get install wimtools)', 500);
    }
    const detail = (err.stderr ?? err.message).trim().split('\n').filter((l) => l.trim() !== '').slice(-2).join(' ');
    throw new PxeError(WINPE_ERRORS.wimUnreadable, `${what}: wimlib-imagex could not read it (${detail}); check that the file is a complete WIM (re-copy it from the ADK or the ISO's sources\\boot.wim)`, 400, { field: 'wim' });
  }
}

export async function readWimInfo(wim: string): Promise<WimInfo> {
  const info = parseWimInfo(await wimlib(['info', wim], `boot image "${wim}"`));
  if (info.images.length === 0) throw new PxeError(WINPE_ERRORS.wimUnreadable, `boot image "${wim}" holds no images`, 400, { field: 'wim' });
  return info;
}

/** One boot file: where it goes, and where it may come from. */
interface BootFileSpec {
  /** Destination under the root; `<arch>` is replaced. */
  dest: string;
  /** Names tried under --boot-files (case-insensitive, `/`-separated). */
  bootFiles: string[];
  /** Names tried under --iso-tree. */
  isoTree: string[];
  /** Paths inside the WIM. */
  wim: string[];
  required: (arch: Architecture) => boolean;
  why: string;
}

const PXE_PROGRAM = (name: string, why: string, required: (a: Architecture) => boolean): BootFileSpec => ({
  dest: `boot/<arch>/${name}`,
  bootFiles: [name, `PXE/${name}`, `Windows/Boot/PXE/${name}`],
  isoTree: [],
  wim: [`/Windows/Boot/PXE/${name}`],
  required,
  why,
});

/** Rule 77: BIOS clients need an x86 image, so an x86 image must bring the BIOS programs. */
const biosRequired = (a: Architecture): boolean => a === 'x86';

export const BOOT_FILE_SPECS: readonly BootFileSpec[] = [
  {
    dest: 'boot/<arch>/bootmgfw.efi',
    bootFiles: ['bootmgfw.efi', 'EFI/bootmgfw.efi', 'Windows/Boot/EFI/bootmgfw.efi'],
    isoTree: ['efi/microsoft/boot/bootmgfw.efi'],
    wim: ['/Windows/Boot/EFI/bootmgfw.efi'],
    required: () => true,
    why: 'the UEFI boot program (rule 83)',
  },
  PXE_PROGRAM('pxeboot.n12', 'BIOS: boot without a key press (rule 70)', biosRequired),
  PXE_PROGRAM('pxeboot.com', 'BIOS: boot after F12 (rule 70)', biosRequired),
  PXE_PROGRAM('abortpxe.com', 'BIOS: abort to the next device (rule 70)', biosRequired),
  PXE_PROGRAM('bootmgr.exe', 'BIOS: the boot manager pxeboot loads (rule 84)', biosRequired),
  PXE_PROGRAM('wdsnbp.com', 'BIOS: architecture detection (rule 77)', () => false),
  {
    dest: 'boot/boot.sdi',
    bootFiles: ['boot.sdi', 'Boot/boot.sdi', 'Media/Boot/boot.sdi'],
    isoTree: ['boot/boot.sdi'],
    wim: ['/Windows/Boot/DVD/EFI/boot.sdi', '/Windows/Boot/DVD/PCAT/boot.sdi'],
    required: () => true,
    why: 'the ramdisk template (BCD ramdisksdipath)',
  },
  {
    dest: 'boot/fonts/wgl4_boot.ttf',
    bootFiles: ['wgl4_boot.ttf', 'Fonts/wgl4_boot.ttf', 'Boot/Fonts/wgl4_boot.ttf', 'Media/Boot/Fonts/wgl4_boot.ttf'],
    isoTree: ['boot/fonts/wgl4_boot.ttf', 'efi/microsoft/boot/fonts/wgl4_boot.ttf'],
    wim: ['/Windows/Boot/Fonts/wgl4_boot.ttf'],
    required: () => false,
    why: 'the boot manager\'s font (rule 84)',
  },
];

/** Where winload lives in a WinPE image; one of them must exist, or this is not WinPE. */
const WINLOAD = ['/Windows/System32/boot/winload.efi', '/Windows/System32/boot/winload.exe', '/Windows/System32/winload.efi', '/Windows/System32/winload.exe'];

/** A path under `root` matched case-insensitively segment by segment (Windows media on a case-sensitive disk). */
async function findInsensitive(root: string, rel: string): Promise<string | null> {
  let dir = root;
  for (const seg of rel.split('/').filter((s) => s !== '')) {
    let names: string[];
    try {
      names = await fsp.readdir(dir);
    } catch {
      return null;
    }
    const hit = names.find((n) => n === seg) ?? names.find((n) => n.toLowerCase() === seg.toLowerCase());
    if (hit === undefined) return null;
    dir = path.join(dir, hit);
  }
  const st = await fsp.stat(dir).catch(() => null);
  return st?.isFile() ? dir : null;
}

export interface ImportedFile {
  /** Path under the root, `/`-separated. */
  path: string;
  size: number;
  sha256: string;
  /** Where it came from: "boot-files", "iso-tree" or "wim". */
  source: 'boot-files' | 'iso-tree' | 'wim' | 'generated';
}

export interface BcdSettings {
  /** RamDiskTFTPBlockSize (rule 88; default 4096). */
  tftpBlockSize?: number;
  /** RamDiskTFTPWindowSize (rule 88; default 1). */
  tftpWindowSize?: number;
}

export interface WinpeManifest {
  bootImageId: string;
  architecture: Architecture;
  wim: { index: number; images: WimImageInfo[] };
  files: ImportedFile[];
  bcd: { tftpBlockSize: number; tftpWindowSize: number; bios: string | null; uefi: string | null };
  importedAt: string;
}

export const MANIFEST_NAME = 'winpe.json';
export const imageDir = (bootImageId: string): string => `images/${bootImageId}`;
export const bcdFile = (bootImageId: string, firmware: 'bios' | 'uefi'): string => `${imageDir(bootImageId)}/BCD-${firmware}`;

async function hashFile(file: string): Promise<{ size: number; sha256: string }> {
  const h = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(file)) {
    h.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { size, sha256: h.digest('hex') };
}

/** Copies `from` to `to` (via a temporary name, then rename) and returns size and SHA-256 of what was written. */
async function copyHashed(from: string, to: string): Promise<{ size: number; sha256: string }> {
  await fsp.mkdir(path.dirname(to), { recursive: true });
  const tmp = `${to}.${randomBytes(4).toString('hex')}.tmp`;
  const h = createHash('sha256');
  let size = 0;
  const tap = new Transform({ transform(chunk: Buffer, _enc, cb) { h.update(chunk); size += chunk.length; cb(null, chunk); } });
  try {
    await pipeline(createReadStream(from), tap, createWriteStream(tmp));
    await fsp.rename(tmp, to);
  } catch (e) {
    await fsp.rm(tmp, { force: true });
    throw e;
  }
  return { size, sha256: h.digest('hex') };
}

async function writeAtomic(to: string, bytes: Buffer | string): Promise<void> {
  await fsp.mkdir(path.dirname(to), { recursive: true });
  const tmp = `${to}.${randomBytes(4).toString('hex')}.tmp`;
  await fsp.writeFile(tmp, bytes);
  await fsp.rename(tmp, to);
}

/** BCD stores for the image's firmware types (both for x86/x64, UEFI only for arm64); regenerated on every import and settings change. */
export async function writeImageBcds(root: string, bootImageId: string, arch: Architecture, settings: BcdSettings): Promise<ImportedFile[]> {
  const firmwares: ('bios' | 'uefi')[] = arch === 'arm64' ? ['uefi'] : ['bios', 'uefi'];
  const out: ImportedFile[] = [];
  for (const firmware of firmwares) {
    const { bytes } = writeWinpeBcd({
      firmware,
      wimPath: `${imageDir(bootImageId)}/boot.wim`,
      sdiPath: 'boot/boot.sdi',
      loaderSeed: `${bootImageId}:${arch}:${firmware}`,
      description: `Windows PE ${bootImageId} (${arch}, ${firmware === 'uefi' ? 'UEFI' : 'BIOS'})`,
      ...(settings.tftpBlockSize !== undefined ? { tftpBlockSize: settings.tftpBlockSize } : {}),
      ...(settings.tftpWindowSize !== undefined ? { tftpWindowSize: settings.tftpWindowSize } : {}),
    });
    const rel = bcdFile(bootImageId, firmware);
    await writeAtomic(path.join(root, rel), bytes);
    out.push({ path: rel, size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex'), source: 'generated' });
  }
  return out;
}

export interface ImportOptions {
  /** The TFTP/HTTP boot files root. */
  root: string;
  architecture: Architecture;
  /** boot.wim; default: <isoTree>/sources/boot.wim. */
  wim?: string;
  bootFiles?: string;
  isoTree?: string;
  /** WIM image to boot; default the WIM's boot index, else 1. */
  index?: number;
  bcd?: BcdSettings;
  now?: () => Date;
}

export interface PreparedImport {
  wim: string;
  info: WimInfo;
  index: number;
  /** Boot files found: destination → source file, and any missing optional files. */
  found: Map<string, { file: string; source: ImportedFile['source'] }>;
  missingOptional: string[];
  cleanup(): Promise<void>;
}

/**
 * Everything that can fail on bad input, before anything is written under the
 * root or in the site: the WIM is read, WinPE-ness and architecture checked, and
 * every boot file located (extracted from the WIM into a scratch folder if needed).
 */
export async function prepareImport(opts: Omit<ImportOptions, 'root'> & { scratch: string }): Promise<PreparedImport> {
  const wim = opts.wim ?? (opts.isoTree !== undefined ? await findInsensitive(opts.isoTree, 'sources/boot.wim') : null);
  if (wim === null || wim === undefined) {
    throw new PxeError(WINPE_ERRORS.fileMissing, opts.isoTree !== undefined ? `no sources/boot.wim in the ISO folder "${opts.isoTree}"; pass --wim FILE` : 'no boot image given: pass --wim FILE (or --iso-tree DIR with sources/boot.wim)', 400, { field: 'wim' });
  }
  const st = await fsp.stat(wim).catch(() => null);
  if (st === null || !st.isFile()) throw new PxeError(WINPE_ERRORS.fileMissing, `boot image "${wim}" does not exist or is not a file`, 400, { field: 'wim' });
  for (const [flag, dir] of [['--boot-files', opts.bootFiles], ['--iso-tree', opts.isoTree]] as const) {
    if (dir !== undefined && !(await fsp.stat(dir).catch(() => null))?.isDirectory()) {
      throw new PxeError(WINPE_ERRORS.fileMissing, `${flag} "${dir}" is not a folder`, 400, { field: flag.slice(2) });
    }
  }
  const info = await readWimInfo(wim);
  const index = opts.index ?? info.bootIndex ?? 1;
  const image = info.images.find((i) => i.index === index);
  if (image === undefined) throw new PxeError(WINPE_ERRORS.wimUnreadable, `boot image "${wim}" has no image ${index} (it has ${info.images.map((i) => i.index).join(', ')})`, 400, { field: 'index' });
  const wimArch = image.architecture === null ? null : WIM_ARCH[image.architecture.toLowerCase()] ?? null;
  if (wimArch !== null && wimArch !== opts.architecture) {
    throw new PxeError(WINPE_ERRORS.archMismatch, `boot image "${wim}" image ${index} is ${image.architecture} (${wimArch}), not ${opts.architecture}; import it with --arch ${wimArch}`, 400, { field: 'arch' });
  }

  // Extract winload and the boot files from the WIM in one wimlib run.
  const scratch = opts.scratch;
  await fsp.mkdir(scratch, { recursive: true });
  try {
    return await locateBootFiles(opts, wim, info, index, scratch);
  } catch (e) {
    await fsp.rm(scratch, { recursive: true, force: true });
    throw e;
  }
}

async function locateBootFiles(opts: Omit<ImportOptions, 'root'>, wim: string, info: WimInfo, index: number, scratch: string): Promise<PreparedImport> {
  const wimPaths = [...WINLOAD, ...BOOT_FILE_SPECS.flatMap((s) => s.wim)];
  await wimlib(['extract', wim, String(index), ...wimPaths, `--dest-dir=${scratch}`, '--no-acls', '--nullglob', '--preserve-dir-structure'], `boot image "${wim}"`);
  const inWim = async (p: string): Promise<string | null> => findInsensitive(scratch, p);
  let winload = false;
  for (const p of WINLOAD) if (await inWim(p)) winload = true;
  if (!winload) {
    throw new PxeError(WINPE_ERRORS.notWinpe, `boot image "${wim}" image ${index} has no Windows\\System32\\boot\\winload.efi or winload.exe: it is not a Windows PE image (use the ADK's winpe.wim or the ISO's sources\\boot.wim)`, 400, { field: 'wim' });
  }

  const found = new Map<string, { file: string; source: ImportedFile['source'] }>();
  const missing: { spec: BootFileSpec; dest: string }[] = [];
  const missingOptional: string[] = [];
  for (const spec of BOOT_FILE_SPECS) {
    const dest = spec.dest.replace('<arch>', opts.architecture);
    let hit: { file: string; source: ImportedFile['source'] } | null = null;
    for (const rel of opts.bootFiles !== undefined ? spec.bootFiles : []) {
      const f = await findInsensitive(opts.bootFiles!, rel);
      if (f) { hit = { file: f, source: 'boot-files' }; break; }
    }
    for (const rel of hit === null && opts.isoTree !== undefined ? spec.isoTree : []) {
      const f = await findInsensitive(opts.isoTree!, rel);
      if (f) { hit = { file: f, source: 'iso-tree' }; break; }
    }
    for (const p of hit === null ? spec.wim : []) {
      const f = await inWim(p);
      if (f) { hit = { file: f, source: 'wim' }; break; }
    }
    if (hit !== null) {
      const size = (await fsp.stat(hit.file)).size;
      if (size === 0) throw new PxeError(WINPE_ERRORS.fileMissing, `boot file ${path.basename(dest)} (${spec.why}) at "${hit.file}" is empty; re-copy it from the ADK`, 400, { field: 'boot-files' });
      found.set(dest, hit);
    } else if (spec.required(opts.architecture)) missing.push({ spec, dest });
    else missingOptional.push(dest);
  }
  if (missing.length > 0) {
    const where = [opts.bootFiles !== undefined ? `--boot-files "${opts.bootFiles}"` : null, opts.isoTree !== undefined ? `--iso-tree "${opts.isoTree}"` : null, `the WIM (${missing.flatMap((m) => m.spec.wim).join(', ')})`].filter(Boolean).join(', ');
    throw new PxeError(
      WINPE_ERRORS.fileMissing,
      `missing boot file${missing.length > 1 ? 's' : ''} ${missing.map((m) => `${path.basename(m.dest)} (${m.spec.why})`).join(', ')}: looked in ${where}; copy ${missing.length > 1 ? 'them' : 'it'} from the ADK (Windows Preinstallation Environment\\<arch>\\Media, or Windows\\Boot\\PXE and Windows\\Boot\\EFI inside winpe.wim) and pass --boot-files DIR`,
      400,
      { field: 'boot-files', missing: missing.map((m) => m.dest) },
    );
  }
  return { wim, info, index, found, missingOptional, cleanup: () => fsp.rm(scratch, { recursive: true, force: true }) };
}

/** Writes a prepared import under the root for `bootImageId`: files, BCDs, manifest. */
export async function installImport(prep: PreparedImport, root: string, bootImageId: string, arch: Architecture, settings: BcdSettings, now: Date = new Date()): Promise<WinpeManifest> {
  const files: ImportedFile[] = [];
  const wimRel = `${imageDir(bootImageId)}/boot.wim`;
  files.push({ path: wimRel, ...(await copyHashed(prep.wim, path.join(root, wimRel))), source: 'wim' });
  for (const [dest, { file, source }] of prep.found) files.push({ path: dest, ...(await copyHashed(file, path.join(root, dest))), source });
  const bcds = await writeImageBcds(root, bootImageId, arch, settings);
  files.push(...bcds);
  for (const f of await writeStartupFiles(root)) files.push({ path: f.path, size: f.bytes.length, sha256: createHash('sha256').update(f.bytes).digest('hex'), source: 'generated' });
  const manifest: WinpeManifest = {
    bootImageId,
    architecture: arch,
    wim: { index: prep.index, images: prep.info.images },
    files,
    bcd: {
      tftpBlockSize: settings.tftpBlockSize ?? RAMDISK_TFTP_DEFAULTS.blockSize,
      tftpWindowSize: settings.tftpWindowSize ?? RAMDISK_TFTP_DEFAULTS.windowSize,
      bios: bcds.find((b) => b.path.endsWith('BCD-bios'))?.path ?? null,
      uefi: bcds.find((b) => b.path.endsWith('BCD-uefi'))?.path ?? null,
    },
    importedAt: now.toISOString(),
  };
  await writeAtomic(path.join(root, imageDir(bootImageId), MANIFEST_NAME), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

export async function readManifest(root: string, bootImageId: string): Promise<WinpeManifest | null> {
  const text = await fsp.readFile(path.join(root, imageDir(bootImageId), MANIFEST_NAME), 'utf8').catch(() => null);
  return text === null ? null : (JSON.parse(text) as WinpeManifest);
}

/** Re-hashes every file of a manifest: the ones whose size or hash changed, or that are gone. */
export async function verifyManifest(root: string, manifest: WinpeManifest): Promise<{ path: string; problem: string }[]> {
  const problems: { path: string; problem: string }[] = [];
  for (const f of manifest.files) {
    const got = await hashFile(path.join(root, f.path)).catch(() => null);
    if (got === null) problems.push({ path: f.path, problem: 'missing' });
    else if (got.size !== f.size || got.sha256 !== f.sha256) problems.push({ path: f.path, problem: `changed (size ${got.size}, expected ${f.size})` });
  }
  return problems;
}

/**
 * After a change of the ramdisk TFTP settings (rule 88): rewrites the image's BCDs
 * and the manifest's BCD entries. Nothing else changes.
 */
export async function regenerateBcds(root: string, bootImageId: string, settings: BcdSettings): Promise<WinpeManifest> {
  const manifest = await readManifest(root, bootImageId);
  if (manifest === null) {
    throw new PxeError(WINPE_ERRORS.fileMissing, `boot image ${bootImageId} has no ${imageDir(bootImageId)}/${MANIFEST_NAME} under "${root}": import it first with \`pxepoint bootimage import\``, 404, { field: 'id' });
  }
  const merged: BcdSettings = {
    tftpBlockSize: settings.tftpBlockSize ?? manifest.bcd.tftpBlockSize,
    tftpWindowSize: settings.tftpWindowSize ?? manifest.bcd.tftpWindowSize,
  };
  const bcds = await writeImageBcds(root, bootImageId, manifest.architecture, merged);
  const next: WinpeManifest = {
    ...manifest,
    files: [...manifest.files.filter((f) => !bcds.some((b) => b.path === f.path)), ...bcds],
    bcd: { ...manifest.bcd, tftpBlockSize: merged.tftpBlockSize!, tftpWindowSize: merged.tftpWindowSize! },
  };
  await writeAtomic(path.join(root, imageDir(bootImageId), MANIFEST_NAME), `${JSON.stringify(next, null, 2)}\n`);
  return next;
}
