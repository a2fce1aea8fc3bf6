/**
 * Package content on the client: download, verify, keep.
 *
 * Rule 116: the client regenerates the SHA-256 of every file and compares it to
 * the hash in policy; content that does not match is not used. Each file is
 * streamed to a temporary file while hashing, checked for size and hash, and
 * only then renamed into a staging folder; the staging folder becomes
 * `<target>/_SMSTSPackages/<packageId>/` only when every file is good. A bad copy
 * is deleted and the next location (rule 124 order, as policy lists them) is
 * tried; when none is good the package fails and nothing of it is kept.
 *
 * Rule 117: "access content directly" does not verify. The client still fetches
 * (it has no SMB share to run from) but skips the checks, and says so loudly.
 *
 * Rule 122: network failures are retried SMSTSDownloadRetryCount times (default
 * 2), SMSTSDownloadRetryDelay seconds apart (default 15). A hash mismatch or a
 * 4xx is final for that location: retrying the same bytes cannot fix it.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { publish } from '../events.js';
import type { ContentFile, PolicyPackage } from '../policy/client-api.js';
import type { FetchLike } from './api.js';
import { defaultSleep } from './api.js';
import type { RunLog } from './log.js';

export const PACKAGES_DIR = '_SMSTSPackages';

export interface DownloadSettings {
  /** False for "access content directly" (rule 117). */
  verify: boolean;
  /** SMSTSDownloadRetryCount (rule 122), default 2. */
  retryCount: number;
  /** SMSTSDownloadRetryDelay in ms (rule 122), default 15 s. */
  retryDelayMs: number;
  /** One file from one location, whole transfer. */
  fileTimeoutMs: number;
}

export type PackageResult =
  | { ok: true; dir: string; files: number; bytes: number; unverified: boolean; lastLocation: string | null }
  | { ok: false; reason: 'hash-mismatch' | 'unavailable' | 'invalid-policy'; message: string };

type Attempt =
  | { ok: true; bytes: number }
  | { ok: false; kind: 'mismatch' | 'final' | 'retryable'; message: string };

const PACKAGE_ID = /^[A-Za-z0-9_.-]{1,64}$/;

/** A package path from policy is untrusted input: relative, '/'-separated, no '..', no backslash. */
export function safeRelativePath(path: string): string | null {
  if (path.length === 0 || path.length > 1024 || path.includes('\0') || path.includes('\\') || path.startsWith('/')) return null;
  const parts = path.split('/');
  if (parts.some((p) => p === '' || p === '.' || p === '..')) return null;
  return parts.join('/');
}

/** The URL of a file at a location: the location is the base URL of the package's content. */
export function fileUrl(location: string, path: string): string {
  const base = location.endsWith('/') ? location : location + '/';
  return new URL(path.split('/').map(encodeURIComponent).join('/'), base).href;
}

export class ContentCache {
  /** Packages already present in this run: downloaded once, used by every later step (rule 120). */
  private readonly ready = new Map<string, Extract<PackageResult, { ok: true }>>();

  constructor(
    readonly targetDir: string,
    private readonly fetchFn: FetchLike,
    private readonly log: RunLog,
    private readonly sleep: (ms: number) => Promise<void> = defaultSleep,
    /** Extra request headers for a content URL (the session's bearer token, for the site's own origin only). */
    private readonly headersFor: (url: string) => Record<string, string> = () => ({}),
  ) {}

  packageDir(packageId: string): string {
    return join(this.targetDir, PACKAGES_DIR, packageId);
  }

  /** Downloads the package unless this run already has it with at least the same verification. */
  async ensure(pkg: PolicyPackage, settings: DownloadSettings): Promise<PackageResult> {
    const have = this.ready.get(pkg.id);
    if (have && (!settings.verify || !have.unverified)) return have;
    const result = await this.download(pkg, settings);
    if (result.ok) this.ready.set(pkg.id, result);
    return result;
  }

  private async download(pkg: PolicyPackage, settings: DownloadSettings): Promise<PackageResult> {
    if (!PACKAGE_ID.test(pkg.id)) return { ok: false, reason: 'invalid-policy', message: `package id "${pkg.id}" is not a safe folder name` };
    for (const f of pkg.files) {
      if (safeRelativePath(f.path) === null) return { ok: false, reason: 'invalid-policy', message: `package ${pkg.id}: file path "${f.path}" is not a relative path inside the package` };
    }
    if (!settings.verify) {
      this.log.warn(`!!! UNVERIFIED CONTENT: package ${pkg.id} (${pkg.name}) is used WITHOUT hash verification — "access content directly" (rule 117). Altered content would not be detected.`);
    }
    if (pkg.files.length > 0 && pkg.locations.length === 0) {
      return { ok: false, reason: 'unavailable', message: `package ${pkg.id} (${pkg.name}) has no content location: no distribution point holds it for this client (rules 123–125)` };
    }
    if (pkg.files.length === 0) this.log.warn(`package ${pkg.id} (${pkg.name}) lists no content files in policy; nothing to download`);

    const root = join(this.targetDir, PACKAGES_DIR);
    const staging = join(root, `.staging-${pkg.id}-${process.pid}-${randomBytes(4).toString('hex')}`);
    await mkdir(staging, { recursive: true });
    let bytes = 0;
    let lastLocation: string | null = null;
    try {
      for (const file of pkg.files) {
        const r = await this.downloadFile(pkg, file, staging, settings);
        if (!r.ok) {
          await rm(staging, { recursive: true, force: true });
          return r;
        }
        bytes += r.bytes;
        lastLocation = r.location;
      }
      const final = this.packageDir(pkg.id);
      await rm(final, { recursive: true, force: true });
      await rename(staging, final);
      this.log.info(`package ${pkg.id} (${pkg.name}) v${pkg.version}: ${pkg.files.length} file(s), ${bytes} bytes${settings.verify ? ', SHA-256 verified' : ', NOT verified'} → ${final}`);
      return { ok: true, dir: final, files: pkg.files.length, bytes, unverified: !settings.verify, lastLocation };
    } catch (e) {
      await rm(staging, { recursive: true, force: true });
      return { ok: false, reason: 'unavailable', message: `package ${pkg.id}: ${(e as Error).message}` };
    }
  }

  private async downloadFile(
    pkg: PolicyPackage,
    file: ContentFile,
    staging: string,
    settings: DownloadSettings,
  ): Promise<{ ok: true; bytes: number; location: string } | Extract<PackageResult, { ok: false }>> {
    const dest = join(staging, ...safeRelativePath(file.path)!.split('/'));
    await mkdir(dirname(dest), { recursive: true });
    const done = new Set<string>(); // locations that are final for this file (mismatch, 4xx)
    let sawMismatch = false;
    const problems: string[] = [];
    for (let round = 0; round <= settings.retryCount; round++) {
      if (round > 0) {
        this.log.warn(`package ${pkg.id}: ${file.path}: retry ${round} of ${settings.retryCount} in ${settings.retryDelayMs / 1000} s (SMSTSDownloadRetryCount/Delay, rule 122)`);
        await this.sleep(settings.retryDelayMs);
      }
      for (const location of pkg.locations) {
        if (done.has(location)) continue;
        const url = fileUrl(location, file.path);
        const tmp = `${dest}.part-${randomBytes(4).toString('hex')}`;
        const a = await this.fetchTo(url, tmp, file, settings);
        if (a.ok) {
          await rename(tmp, dest);
          return { ok: true, bytes: a.bytes, location };
        }
        await rm(tmp, { force: true });
        problems.push(`${url}: ${a.message}`);
        if (a.kind === 'mismatch') {
          sawMismatch = true;
          this.log.warn(`package ${pkg.id}: ${file.path} from ${location}: ${a.message}; copy deleted, trying the next location (rule 116)`);
          publish('content.verify.fail', { packageId: pkg.id, path: file.path, location, reason: a.message });
        } else {
          this.log.warn(`package ${pkg.id}: ${file.path} from ${location}: ${a.message}`);
        }
        if (a.kind !== 'retryable') done.add(location);
      }
      if (done.size === pkg.locations.length) break; // nothing left worth retrying
    }
    return sawMismatch
      ? { ok: false, reason: 'hash-mismatch', message: `package ${pkg.id}: no location has ${file.path} matching the policy's size and SHA-256 (rule 116); nothing of the package was kept. Tried: ${problems.join('; ')}` }
      : { ok: false, reason: 'unavailable', message: `package ${pkg.id}: ${file.path} could not be downloaded from any location. Tried: ${problems.join('; ')}` };
  }

  /** One file from one URL into `tmp`, hashing as it streams; never more bytes than policy promised when verifying. */
  private async fetchTo(url: string, tmp: string, file: ContentFile, settings: DownloadSettings): Promise<Attempt> {
    let res: Response;
    try {
      res = await this.fetchFn(url, { headers: this.headersFor(url), signal: AbortSignal.timeout(settings.fileTimeoutMs) });
    } catch (e) {
      return { ok: false, kind: 'retryable', message: networkMessage(e) };
    }
    if (!res.ok || !res.body) {
      await res.body?.cancel().catch(() => undefined);
      return { ok: false, kind: res.status >= 500 || res.status === 429 ? 'retryable' : 'final', message: `HTTP ${res.status}` };
    }
    const hash = createHash('sha256');
    let bytes = 0;
    let tooLong = false;
    const limit = settings.verify ? file.size : Number.MAX_SAFE_INTEGER;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        bytes += chunk.length;
        if (bytes > limit) {
          tooLong = true;
          cb(new Error(`more than the ${file.size} bytes policy lists`));
          return;
        }
        hash.update(chunk);
        cb(null, chunk);
      },
    });
    try {
      await pipeline(Readable.fromWeb(res.body as unknown as NodeReadableStream<Uint8Array>), meter, createWriteStream(tmp));
    } catch (e) {
      if (tooLong) return { ok: false, kind: 'mismatch', message: `size mismatch: more than the ${file.size} bytes policy lists` };
      return { ok: false, kind: 'retryable', message: networkMessage(e) };
    }
    const sha256 = hash.digest('hex');
    if (!settings.verify) {
      const agrees = sha256 === file.sha256.toLowerCase() && bytes === file.size;
      this.log.warn(`UNVERIFIED ${url}: ${bytes} bytes, sha256 ${sha256} (${agrees ? 'happens to match' : 'DOES NOT match'} policy; not checked, rule 117)`);
      return { ok: true, bytes };
    }
    if (bytes !== file.size) return { ok: false, kind: 'mismatch', message: `size mismatch: ${bytes} bytes, policy says ${file.size}` };
    if (sha256 !== file.sha256.toLowerCase()) return { ok: false, kind: 'mismatch', message: `hash mismatch: sha256 ${sha256}, policy says ${file.sha256.toLowerCase()}` };
    return { ok: true, bytes };
  }
}

function networkMessage(e: unknown): string {
  const err = e as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (err.name === 'TimeoutError') return 'timed out';
  return err.cause?.code ?? err.cause?.message ?? err.message ?? String(e);
}
