/**
 * Writing a medium: a hybrid ISO image (grub-mkrescue + xorriso) or a directory
 * tree, atomically.
 *
 * ISO: `grub-mkrescue` (GRUB 2.06) builds the BIOS El Torito image, the EFI FAT
 * image (mformat, mtools) and the hybrid MBR/GPT, so the image also boots after
 * `dd` to a USB stick. The medium's files are added with xorriso graft points
 * (`path/on/iso=/source/file`): boot.wim and package files are read where they
 * are, never copied. Rock Ridge and Joliet names; the volume id comes from the label.
 *
 * Never outside the output path, never root: grub-mkrescue's TMPDIR and the
 * generated small files live in a scratch folder created beside the output
 * (`.<name>.<random>.scratch`), the image is written to a hidden temporary name
 * beside it (`.<name>.<random>.tmp`), fsynced, checked (size > 0, xorriso finds
 * /pxepoint/media.json in it) and only then renamed onto the requested name. Any
 * failure or an abort (SIGINT/SIGTERM in the CLI) removes both; an existing file
 * at the output stays until the new one is complete. No mount, no loop device.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync, promises as fsp } from 'node:fs';
import path from 'node:path';
import { PxeError } from '../errors.js';
import type { MediaPlan } from './layout.js';
import { MEDIA_ERRORS, MEDIA_PATHS } from './types.js';

export type BuildStage = 'preparing' | 'boot-loader' | 'writing' | 'verifying' | 'registering';

export interface BuildProgress {
  stage: BuildStage;
  /** 0–100 while writing; null when the stage has no measure. */
  percent: number | null;
}

export type ProgressFn = (p: BuildProgress) => void;

/** The tools and the Debian packages that bring them. */
export const ISO_TOOL_PACKAGES: Record<string, string> = {
  'grub-mkrescue': 'grub-common',
  xorriso: 'xorriso',
  mformat: 'mtools',
};

/** GRUB platforms grub-mkrescue must find (it silently leaves out a missing one). */
export const GRUB_PLATFORMS: Record<string, string> = {
  'i386-pc': 'grub-pc-bin',
  'x86_64-efi': 'grub-efi-amd64-bin',
};

export interface IsoTools {
  grubMkrescue: string;
  xorriso: string;
  /** GRUB's platform directories (default /usr/lib/grub). */
  grubLibDir: string;
}

export const DEFAULT_ISO_TOOLS: IsoTools = { grubMkrescue: 'grub-mkrescue', xorriso: 'xorriso', grubLibDir: '/usr/lib/grub' };

function onPath(bin: string): boolean {
  if (bin.includes('/')) return existsSync(bin);
  return (process.env.PATH ?? '/usr/bin:/bin').split(':').some((d) => d !== '' && existsSync(path.join(d, bin)));
}

/** Throws MEDIA_ERRORS.build naming every missing tool or GRUB platform and its Debian package. */
export function checkIsoTools(tools: IsoTools = DEFAULT_ISO_TOOLS): void {
  const missing: string[] = [];
  const bins: [string, string][] = [[tools.grubMkrescue, 'grub-mkrescue'], [tools.xorriso, 'xorriso'], ['mformat', 'mformat']];
  for (const [bin, name] of bins) if (!onPath(bin)) missing.push(`${name} (Debian package ${ISO_TOOL_PACKAGES[name]})`);
  const platformFile: Record<string, string> = { 'i386-pc': 'cdboot.img', 'x86_64-efi': 'linux.mod' };
  for (const [platform, pkg] of Object.entries(GRUB_PLATFORMS)) {
    if (!existsSync(path.join(tools.grubLibDir, platform, platformFile[platform]!))) missing.push(`GRUB for ${platform} (Debian package ${pkg})`);
  }
  if (missing.length > 0) {
    throw new PxeError(MEDIA_ERRORS.build, `cannot write an ISO image: missing ${missing.join(', ')}; install them (apt-get install grub-common grub-pc-bin grub-efi-amd64-bin xorriso mtools), or use --format dir`, 503, { missing });
  }
}

/** ISO 9660 volume id from the label: upper case A–Z, 0–9 and _, at most 32 characters. */
export function volumeIdOf(label: string): string {
  const v = label.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toUpperCase().replace(/[^A-Z0-9_]+/g, '_').replace(/^_+|_+$/g, '').slice(0, 32).replace(/_+$/, '');
  return v === '' ? 'PXEPOINT' : v;
}

/** xorriso's "UPDATE : 12.34% done" → 12.34; null for any other line. */
export function parseXorrisoProgress(line: string): number | null {
  const m = /UPDATE\s*:\s*([\d.]+)%\s*done/.exec(line);
  if (!m) return null;
  const n = Number(m[1]);
  return Number.isFinite(n) ? Math.min(100, Math.max(0, n)) : null;
}

/** A graft point side: '=' separates, '\' escapes (xorriso -graft-points). */
const graftEscape = (s: string): string => s.replace(/\\/g, '\\\\').replace(/=/g, '\\=');

export interface WriteOptions {
  /** The requested output (file for ISO, folder for dir). */
  out: string;
  label: string;
  onProgress?: ProgressFn;
  signal?: AbortSignal;
  tools?: IsoTools;
}

export interface WrittenMedia {
  path: string;
  size: number;
  /** ISO: SHA-256 of the image; dir: null. */
  sha256: string | null;
}

const abortError = (): PxeError => new PxeError(MEDIA_ERRORS.build, 'media build interrupted; nothing was written under the requested name', 500);

function hidden(out: string, suffix: string): string {
  return path.join(path.dirname(out), `.${path.basename(out)}.${randomBytes(6).toString('hex')}.${suffix}`);
}

async function fsyncFile(file: string): Promise<void> {
  const fh = await fsp.open(file, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function fsyncDir(dir: string): Promise<void> {
  await fsyncFile(dir).catch(() => undefined);
}

interface RunResult { code: number | null; signal: NodeJS.Signals | null; tail: string[] }

/** Runs a tool; every stderr/stdout line goes to `onLine`; keeps the last lines for an error message. */
function runTool(bin: string, args: string[], env: NodeJS.ProcessEnv, onLine: (l: string) => void, signal?: AbortSignal): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError());
    const child = spawn(bin, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const tail: string[] = [];
    const feed = (buf: { text: string }) => (chunk: Buffer): void => {
      buf.text += chunk.toString('utf8');
      const lines = buf.text.split(/\r?\n|\r/);
      buf.text = lines.pop() ?? '';
      for (const l of lines) {
        if (l.trim() === '') continue;
        tail.push(l);
        if (tail.length > 30) tail.shift();
        onLine(l);
      }
    };
    child.stdout.on('data', feed({ text: '' }));
    child.stderr.on('data', feed({ text: '' }));
    const onAbort = (): void => void child.kill('SIGTERM');
    signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (e: NodeJS.ErrnoException) => {
      signal?.removeEventListener('abort', onAbort);
      reject(e.code === 'ENOENT'
        ? new PxeError(MEDIA_ERRORS.build, `${bin} is not installed (Debian package ${ISO_TOOL_PACKAGES[path.basename(bin)] ?? path.basename(bin)})`, 503)
        : e);
    });
    child.on('close', (code, sig) => {
      signal?.removeEventListener('abort', onAbort);
      resolve({ code, signal: sig, tail });
    });
  });
}

async function sha256Of(file: string, signal?: AbortSignal): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
    if (signal?.aborted) throw abortError();
    h.update(chunk as Buffer);
  }
  return h.digest('hex');
}

/** The ISO's file list as xorriso reads it back (paths without quotes, leading '/'). */
export async function isoFind(iso: string, at = '/', tools: IsoTools = DEFAULT_ISO_TOOLS): Promise<string[]> {
  const lines: string[] = [];
  const r = await runTool(tools.xorriso, ['-indev', iso, '-find', at, '-type', 'f'], process.env, (l) => lines.push(l));
  if (r.code !== 0) throw new PxeError(MEDIA_ERRORS.build, `xorriso cannot read ${iso}: ${r.tail.slice(-3).join(' ')}`, 500);
  return lines.filter((l) => l.startsWith("'/")).map((l) => l.replace(/^'|'$/g, '').replace(/'"'"'/g, "'"));
}

/** Refuses an output that must not be replaced; returns whether something exists there. */
async function checkOutput(out: string, format: 'iso' | 'dir'): Promise<void> {
  const parent = path.dirname(out);
  const pst = await fsp.stat(parent).catch(() => null);
  if (pst === null || !pst.isDirectory()) throw new PxeError(MEDIA_ERRORS.build, `the output's folder ${parent} does not exist`, 400, { field: 'out' });
  const st = await fsp.lstat(out).catch(() => null);
  if (st === null) return;
  if (format === 'iso' && !st.isFile()) throw new PxeError(MEDIA_ERRORS.build, `${out} exists and is not a file; give another --out`, 400, { field: 'out' });
  if (format === 'dir') {
    if (!st.isDirectory()) throw new PxeError(MEDIA_ERRORS.build, `${out} exists and is not a folder; give another --out`, 400, { field: 'out' });
    const names = await fsp.readdir(out);
    if (names.length > 0 && !existsSync(path.join(out, MEDIA_PATHS.descriptor))) {
      throw new PxeError(MEDIA_ERRORS.build, `${out} is a folder that is not empty and holds no medium (${MEDIA_PATHS.descriptor}); pxepoint replaces only an earlier medium: give an empty or new folder`, 400, { field: 'out' });
    }
  }
}

/** Called before anything is built, so a bad --out fails first. */
export const checkMediaOutput = checkOutput;

/**
 * Writes the plan as a hybrid ISO at `opts.out` (atomically, see the header).
 * `extraArgs` are appended to the xorriso (mkisofs-emulation) arguments.
 */
export async function writeIsoImage(plan: MediaPlan, opts: WriteOptions): Promise<WrittenMedia> {
  const tools = opts.tools ?? DEFAULT_ISO_TOOLS;
  const progress = opts.onProgress ?? (() => undefined);
  const out = path.resolve(opts.out);
  await checkOutput(out, 'iso');
  checkIsoTools(tools);
  const tmp = hidden(out, 'tmp');
  const scratch = hidden(out, 'scratch');
  let renamed = false;
  try {
    await fsp.mkdir(path.join(scratch, 'tmp'), { recursive: true, mode: 0o700 });
    // Generated bytes go to scratch files; every entry becomes a graft point.
    const grafts: string[] = [];
    let n = 0;
    for (const e of plan.entries) {
      let source: string;
      if (e.kind === 'bytes') {
        source = path.join(scratch, 'files', String(n++));
        await fsp.mkdir(path.dirname(source), { recursive: true });
        await fsp.writeFile(source, e.bytes, { mode: 0o600 });
      } else source = e.source;
      grafts.push(`${graftEscape(e.path)}=${graftEscape(source)}`);
    }
    if (opts.signal?.aborted) throw abortError();
    progress({ stage: 'boot-loader', percent: null });
    let writing = false;
    const args = [
      '-o', tmp,
      '--locales=', '--themes=',
      '-graft-points',
      '-V', volumeIdOf(opts.label),
      '-r', '-J', '-joliet-long',
      ...grafts,
    ];
    const r = await runTool(tools.grubMkrescue, args, { ...process.env, TMPDIR: path.join(scratch, 'tmp') }, (line) => {
      const pct = parseXorrisoProgress(line);
      if (pct !== null) {
        writing = true;
        progress({ stage: 'writing', percent: pct });
      } else if (!writing && /Written to medium|Writing to .* completed/.test(line)) {
        writing = true;
      }
    }, opts.signal);
    if (opts.signal?.aborted) throw abortError();
    if (r.code !== 0) {
      const detail = r.tail.filter((l) => /error|FAILURE|SORRY|cannot|failed/i.test(l)).slice(-4).join(' | ') || r.tail.slice(-3).join(' | ');
      throw new PxeError(MEDIA_ERRORS.build, `grub-mkrescue failed (${r.signal ?? `exit ${r.code}`}): ${detail}`, 500);
    }
    progress({ stage: 'writing', percent: 100 });
    progress({ stage: 'verifying', percent: null });
    const st = await fsp.stat(tmp).catch(() => null);
    if (st === null || !st.isFile() || st.size === 0) throw new PxeError(MEDIA_ERRORS.build, 'grub-mkrescue reported success but wrote no image', 500);
    await fsyncFile(tmp);
    const found = await isoFind(tmp, `/${MEDIA_PATHS.descriptor}`, tools);
    if (!found.includes(`/${MEDIA_PATHS.descriptor}`)) throw new PxeError(MEDIA_ERRORS.build, `the written image holds no /${MEDIA_PATHS.descriptor}; not kept`, 500);
    const sha256 = await sha256Of(tmp, opts.signal);
    if (opts.signal?.aborted) throw abortError();
    await fsp.rename(tmp, out);
    renamed = true;
    await fsyncDir(path.dirname(out));
    return { path: out, size: st.size, sha256 };
  } finally {
    if (!renamed) await fsp.rm(tmp, { force: true });
    await fsp.rm(scratch, { recursive: true, force: true });
  }
}

/** Where UEFI firmware looks for a boot loader on a removable FAT medium. */
export const EFI_REMOVABLE_LOADER = 'EFI/BOOT/BOOTX64.EFI';

/**
 * The loader's built-in configuration: find the medium by its media.json, then run
 * its boot/grub/grub.cfg. Modules stay in the loader's memdisk ($prefix).
 */
export const EFI_LOADER_CONFIG = [
  'insmod part_gpt',
  'insmod part_msdos',
  'insmod fat',
  'insmod exfat',
  'insmod iso9660',
  'if search --no-floppy --set=root --file /pxepoint/media.json; then',
  '  configfile ($root)/boot/grub/grub.cfg',
  'else',
  "  echo 'pxepoint: no medium (/pxepoint/media.json) found on any disk'",
  'fi',
  '',
].join('\n');

/**
 * A stand-alone GRUB for x86_64 UEFI (grub-mkstandalone: every module in a memdisk)
 * at `to`, so a folder copied onto a FAT32 USB stick boots on UEFI machines.
 * Returns null, or why it could not be made (the folder is written anyway).
 */
async function writeEfiLoader(to: string, scratch: string, tools: IsoTools, signal?: AbortSignal): Promise<string | null> {
  const bin = tools.grubMkrescue.includes('/') ? path.join(path.dirname(tools.grubMkrescue), 'grub-mkstandalone') : 'grub-mkstandalone';
  if (!onPath(bin) || !existsSync(path.join(tools.grubLibDir, 'x86_64-efi', 'linux.mod'))) {
    return 'grub-mkstandalone or GRUB for x86_64-efi is not installed (Debian packages grub-common, grub-efi-amd64-bin)';
  }
  await fsp.mkdir(path.join(scratch, 'tmp'), { recursive: true, mode: 0o700 });
  const cfg = path.join(scratch, 'efi-loader.cfg');
  await fsp.writeFile(cfg, EFI_LOADER_CONFIG);
  await fsp.mkdir(path.dirname(to), { recursive: true });
  const r = await runTool(bin, [
    '-O', 'x86_64-efi', '-d', path.join(tools.grubLibDir, 'x86_64-efi'), '-o', to,
    '--locales=', '--themes=', '--fonts=', `boot/grub/grub.cfg=${cfg}`,
  ], { ...process.env, TMPDIR: path.join(scratch, 'tmp') }, () => undefined, signal);
  if (signal?.aborted) throw abortError();
  if (r.code !== 0) return `grub-mkstandalone failed (${r.signal ?? `exit ${r.code}`}): ${r.tail.slice(-2).join(' | ')}`;
  return null;
}

/**
 * Writes the plan as a folder tree at `opts.out` (for tests, and for USB sticks
 * prepared by hand): built under a hidden name beside it, then swapped in; an
 * earlier medium there is replaced only once the new tree is complete. With GRUB
 * installed, EFI/BOOT/BOOTX64.EFI makes the folder UEFI-bootable once copied to a
 * FAT32 stick (BIOS needs a boot sector, which only the ISO written with dd has).
 */
export async function writeDirectoryTree(plan: MediaPlan, opts: Omit<WriteOptions, 'label'> & { efiLoader?: boolean }): Promise<WrittenMedia & { warnings: string[] }> {
  const progress = opts.onProgress ?? (() => undefined);
  const out = path.resolve(opts.out);
  await checkOutput(out, 'dir');
  const tmp = hidden(out, 'tmp');
  const scratch = hidden(out, 'scratch');
  const warnings: string[] = [];
  let done = 0;
  let renamed = false;
  try {
    await fsp.mkdir(tmp, { mode: 0o755 });
    if (opts.efiLoader !== false && plan.firmwares.includes('uefi')) {
      progress({ stage: 'boot-loader', percent: null });
      const why = await writeEfiLoader(path.join(tmp, ...EFI_REMOVABLE_LOADER.split('/')), scratch, opts.tools ?? DEFAULT_ISO_TOOLS, opts.signal);
      if (why !== null) warnings.push(`the folder has no ${EFI_REMOVABLE_LOADER}, so a USB stick made from it does not boot by itself: ${why}; write the ISO with dd instead`);
    }
    for (const e of plan.entries) {
      if (opts.signal?.aborted) throw abortError();
      const to = path.join(tmp, ...e.path.split('/'));
      await fsp.mkdir(path.dirname(to), { recursive: true });
      if (e.kind === 'bytes') await fsp.writeFile(to, e.bytes);
      else await fsp.copyFile(e.source, to);
      done += e.size;
      progress({ stage: 'writing', percent: plan.totalBytes === 0 ? 100 : (100 * done) / plan.totalBytes });
    }
    progress({ stage: 'verifying', percent: null });
    if (!existsSync(path.join(tmp, MEDIA_PATHS.descriptor))) throw new PxeError(MEDIA_ERRORS.build, 'the written tree holds no media.json; not kept', 500);
    if (opts.signal?.aborted) throw abortError();
    const old = existsSync(out) ? hidden(out, 'old') : null;
    if (old !== null) await fsp.rename(out, old);
    try {
      await fsp.rename(tmp, out);
      renamed = true;
    } catch (e) {
      if (old !== null) await fsp.rename(old, out).catch(() => undefined);
      throw e;
    }
    if (old !== null) await fsp.rm(old, { recursive: true, force: true });
    await fsyncDir(path.dirname(out));
    return { path: out, size: plan.totalBytes, sha256: null, warnings };
  } finally {
    if (!renamed) await fsp.rm(tmp, { recursive: true, force: true });
    await fsp.rm(scratch, { recursive: true, force: true });
  }
}
