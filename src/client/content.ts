/**
 * Package content on the client: locate, download, verify, keep.
 *
 * Locations come from policy in rule 124 order (content/locations.ts on the
 * site). For each package the client:
 *
 *  1. takes the signed manifest (content/types.ts) from the first location that
 *     has one whose Ed25519 signature verifies with the site's key from policy
 *     and that agrees with the policy's file list, sizes and SHA-256. A location
 *     whose manifest is forged or disagrees is refused for the whole package.
 *     When the site signs manifests and no DP location offers a good one, only
 *     locations that serve none by design (the site's own route) are used; with
 *     none of those either, the package fails (`manifest-refused`).
 *  2. streams each file into a temporary file, checking the XXH64 of every
 *     CHUNK_SIZE chunk before it is written and the SHA-256 of the whole file at
 *     the end (rule 116). A bad chunk is never written: it is fetched again with
 *     a Range request from the next location, which then goes on from there
 *     (resumable). Without a manifest (the site's route, or a site with no key)
 *     the SHA-256 of policy is the only check and a bad copy is started over
 *     from the next location.
 *  3. renames each good file into a staging folder, and the staging folder to
 *     `<target>/_SMSTSPackages/<packageId>/` only when every file is good. When
 *     no location has good content the package fails (`hash-mismatch`) and
 *     nothing of it is kept: temporary files and staging are removed.
 *
 * Rule 117: "access content directly" reads from the package share
 * (`sources[i].shareUrl`) with NO verification, and says so loudly.
 *
 * Rule 122: network failures are retried SMSTSDownloadRetryCount times (default
 * 2), SMSTSDownloadRetryDelay seconds apart (default 15). A mismatch or a 4xx is
 * final for that location: retrying the same bytes cannot fix it.
 *
 * Rule 16: a verified package is recorded in `<target>/_SMSTSCache/<id>.json`;
 * a later run (after `pxepoint client --pre-download`) re-hashes the local copy
 * against policy and uses it instead of downloading again (content-kept.ts).
 * One transfer from one location, chunk checks included: content-transfer.ts.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ContentManifest } from '../content/types.js';
import { publish } from '../events.js';
import type { ContentFile, ContentSigningKey, PolicyContentSource, PolicyPackage } from '../policy/client-api.js';
import type { FetchLike } from './api.js';
import { defaultSleep } from './api.js';
import { recordVerified, verifiedCopy } from './content-kept.js';
import { transferOnce, type ChunkInfo, type FileState } from './content-transfer.js';
import type { RunLog } from './log.js';
import { fetchManifest } from './manifest.js';

export const PACKAGES_DIR = '_SMSTSPackages';
export { CACHE_DIR } from './content-kept.js';

export interface DownloadSettings {
  /** False for "access content directly" (rule 117). */
  verify: boolean;
  /** SMSTSDownloadRetryCount (rule 122), default 2. */
  retryCount: number;
  /** SMSTSDownloadRetryDelay in ms (rule 122), default 15 s. */
  retryDelayMs: number;
  /** One request to one location (a file, a manifest), whole transfer. */
  fileTimeoutMs: number;
}

/** `PXE_ERR_MEDIA_CONTENT_HASH`: a file on stand-alone media does not match its sealed policy (rule 118, client/standalone.ts). */
export type PackageFailure = 'hash-mismatch' | 'unavailable' | 'invalid-policy' | 'manifest-refused' | 'PXE_ERR_MEDIA_CONTENT_HASH';

export type PackageResult =
  | {
    ok: true; dir: string; files: number; bytes: number; unverified: boolean; lastLocation: string | null;
    /** Chunks checked against a manifest the site signed (else: SHA-256 of policy only, or unverified). */
    manifestVerified: boolean;
    /** Taken from an earlier verified download in this target (rule 16). */
    fromCache: boolean;
  }
  | { ok: false; reason: PackageFailure; message: string };

export interface ContentCacheOptions {
  /** The site's content-signing key from policy; null or absent: manifests are not used. */
  signingKey?: ContentSigningKey | null;
}

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

/** The package's locations with what policy says about them; a site without `sources`: plain file bases. */
export function sourcesOf(pkg: PolicyPackage): PolicyContentSource[] {
  if (pkg.sources && pkg.sources.length > 0) return pkg.sources;
  return pkg.locations.map((l) => ({ filesUrl: l, manifestUrl: null, shareUrl: l, distributionPointId: 'site', source: 'site' as const }));
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
    private readonly options: ContentCacheOptions = {},
  ) {}

  packageDir(packageId: string): string {
    return join(this.targetDir, PACKAGES_DIR, packageId);
  }

  /** Downloads the package unless this run (or a verified earlier one, rule 16) already has it with at least the same verification. */
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
    const sources = sourcesOf(pkg);
    if (pkg.sources) {
      const list = sources.map((x) => `${x.source} ${x.distributionPointId}${x.failoverMinutes !== undefined ? ` (${x.failoverMinutes} min, not waited for)` : ''}`);
      this.log.info(`package ${pkg.id} v${pkg.version}: content locations in rule 124 order: ${list.join(', ') || '(none)'}`);
    }
    if (pkg.files.length > 0) {
      const cached = await this.fromCache(pkg, pkg.files);
      if (cached) return cached;
    }
    if (!settings.verify) return this.downloadUnverified(pkg, sources, settings);

    if (pkg.files.length > 0 && sources.length === 0) {
      return { ok: false, reason: 'unavailable', message: `package ${pkg.id} (${pkg.name}) has no content location: no distribution point holds it for this client (rules 123–125)` };
    }
    const located = await this.locateManifest(pkg, sources, settings);
    if (!located.ok) return located;
    const { manifest, usable } = located;
    const files: ContentFile[] = pkg.files.length > 0 ? pkg.files : (manifest?.files.map((f) => ({ path: f.path, size: f.size, sha256: f.sha256 })) ?? []);
    if (files.length === 0) {
      this.log.warn(`package ${pkg.id} (${pkg.name}) lists no content files in policy; nothing to download`);
    } else if (pkg.files.length === 0) {
      const cached = await this.fromCache(pkg, files);
      if (cached) return cached;
    }
    const chunksOf = new Map(manifest?.files.map((f) => [f.path, { chunks: f.chunks, chunkSize: manifest.chunkSize }]) ?? []);
    return this.fetchAll(pkg, files, usable, settings, (path) => chunksOf.get(path) ?? null, manifest !== null);
  }

  /**
   * Step 1 of the file comment: the manifest, and the locations left to use.
   * Network failures are retried per rule 122; a forged or disagreeing manifest is final for its location.
   */
  private async locateManifest(
    pkg: PolicyPackage, sources: PolicyContentSource[], settings: DownloadSettings,
  ): Promise<{ ok: true; manifest: ContentManifest | null; usable: PolicyContentSource[] } | Extract<PackageResult, { ok: false }>> {
    const key = this.options.signingKey ?? null;
    const withManifest = sources.filter((s) => s.manifestUrl !== null);
    if (key === null) {
      if (withManifest.length > 0) this.log.warn(`package ${pkg.id}: the site hands out no content-signing key; manifests are not used, every file is checked against the SHA-256 of policy only`);
      return { ok: true, manifest: null, usable: sources };
    }
    const refused = new Set<PolicyContentSource>();
    const problems: string[] = [];
    for (let round = 0; round <= settings.retryCount; round++) {
      const pending = withManifest.filter((s) => !refused.has(s));
      if (pending.length === 0) break;
      if (round > 0) {
        this.log.warn(`package ${pkg.id}: manifest: retry ${round} of ${settings.retryCount} in ${settings.retryDelayMs / 1000} s (SMSTSDownloadRetryCount/Delay, rule 122)`);
        await this.sleep(settings.retryDelayMs);
      }
      for (const src of pending) {
        const url = src.manifestUrl!;
        const m = await fetchManifest(this.fetchFn, url, pkg, key, settings.fileTimeoutMs, this.headersFor(url));
        if (m.ok) {
          this.log.info(`package ${pkg.id}: manifest from ${url} is signed by the site (key ${key.keyId}) and agrees with policy`);
          return { ok: true, manifest: m.manifest, usable: sources.filter((s) => !refused.has(s)) };
        }
        problems.push(`${url}: ${m.message}`);
        if (m.kind === 'unavailable') {
          this.log.warn(`package ${pkg.id}: manifest from ${url}: ${m.message}`);
          continue;
        }
        refused.add(src);
        this.log.warn(`package ${pkg.id}: REFUSED location ${src.distributionPointId} (${url}): ${m.message}; trying the next location`);
        publish('content.verify.fail', { kind: 'manifest', packageId: pkg.id, location: url, reason: m.message });
      }
    }
    // No good manifest: only locations that serve none by design (the site's own route) remain.
    const usable = sources.filter((s) => s.manifestUrl === null);
    if (usable.length > 0) {
      if (withManifest.length > 0) this.log.warn(`package ${pkg.id}: no distribution point offered a manifest signed by the site; using ${usable.map((s) => s.filesUrl).join(', ')} with the SHA-256 of policy`);
      return { ok: true, manifest: null, usable };
    }
    return refused.size > 0
      ? { ok: false, reason: 'manifest-refused', message: `package ${pkg.id}: no location offered a manifest signed by the site's key ${key.keyId}; refused: ${problems.join('; ')}` }
      : { ok: false, reason: 'unavailable', message: `package ${pkg.id}: no location answered with its manifest: ${problems.join('; ')}` };
  }

  /** Every file into staging, then staging into place; nothing kept on failure. */
  private async fetchAll(
    pkg: PolicyPackage, files: ContentFile[], sources: PolicyContentSource[], settings: DownloadSettings,
    chunksOf: (path: string) => ChunkInfo | null, manifestVerified: boolean,
  ): Promise<PackageResult> {
    const root = join(this.targetDir, PACKAGES_DIR);
    const staging = join(root, `.staging-${pkg.id}-${process.pid}-${randomBytes(4).toString('hex')}`);
    await mkdir(staging, { recursive: true });
    let bytes = 0;
    let lastLocation: string | null = null;
    try {
      for (const file of files) {
        const dest = join(staging, ...safeRelativePath(file.path)!.split('/'));
        await mkdir(dirname(dest), { recursive: true });
        const r = await this.downloadFile(pkg, file, dest, sources, settings, settings.verify ? chunksOf(file.path) : null);
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
      await recordVerified(this.targetDir, pkg, settings.verify ? files : null);
      const how = !settings.verify ? 'NOT verified' : manifestVerified ? 'chunks and SHA-256 verified against the signed manifest' : 'SHA-256 verified against policy';
      this.log.info(`package ${pkg.id} (${pkg.name}) v${pkg.version}: ${files.length} file(s), ${bytes} bytes, ${how} → ${final}`);
      return { ok: true, dir: final, files: files.length, bytes, unverified: !settings.verify, lastLocation, manifestVerified: settings.verify && manifestVerified, fromCache: false };
    } catch (e) {
      await rm(staging, { recursive: true, force: true });
      return { ok: false, reason: 'unavailable', message: `package ${pkg.id}: ${(e as Error).message}` };
    }
  }

  /** Rule 117: from the package share, no verification, loudly. */
  private async downloadUnverified(pkg: PolicyPackage, sources: PolicyContentSource[], settings: DownloadSettings): Promise<PackageResult> {
    this.log.warn(`!!! UNVERIFIED CONTENT: package ${pkg.id} (${pkg.name}) is used WITHOUT hash verification — "access content directly" (rule 117). Altered content would not be detected.`);
    const shares = sources
      .filter((s): s is PolicyContentSource & { shareUrl: string } => s.shareUrl !== null)
      .map((s) => ({ ...s, filesUrl: s.shareUrl, manifestUrl: null }));
    if (pkg.files.length === 0) {
      this.log.warn(`package ${pkg.id} (${pkg.name}) lists no content files in policy; nothing to read`);
    } else if (shares.length === 0) {
      return { ok: false, reason: 'unavailable', message: `package ${pkg.id} (${pkg.name}): no content location has a package share, which "access content directly" reads from (rules 10, 117)` };
    }
    return this.fetchAll(pkg, pkg.files, shares, settings, () => null, false);
  }

  private async downloadFile(
    pkg: PolicyPackage, file: ContentFile, dest: string, sources: PolicyContentSource[], settings: DownloadSettings, chunkInfo: ChunkInfo | null,
  ): Promise<{ ok: true; bytes: number; location: string } | Extract<PackageResult, { ok: false }>> {
    const tmp = `${dest}.part-${randomBytes(4).toString('hex')}`;
    const state: FileState = { handle: await open(tmp, 'w'), position: 0, sha: createHash('sha256'), contributors: new Set() };
    const done = new Set<number>(); // locations that are final for this file (mismatch, 4xx)
    let sawMismatch = false;
    const problems: string[] = [];
    try {
      for (let round = 0; round <= settings.retryCount; round++) {
        if (round > 0) {
          this.log.warn(`package ${pkg.id}: ${file.path}: retry ${round} of ${settings.retryCount} in ${settings.retryDelayMs / 1000} s (SMSTSDownloadRetryCount/Delay, rule 122)`);
          await this.sleep(settings.retryDelayMs);
        }
        for (let i = 0; i < sources.length; i++) {
          if (done.has(i)) continue;
          const location = sources[i]!.filesUrl;
          const url = fileUrl(location, file.path);
          const from = state.position;
          const a = await transferOnce({ fetchFn: this.fetchFn, headersFor: this.headersFor, log: this.log }, url, i, file, state, settings, chunkInfo);
          if (a.kind === 'done') {
            if (from > 0 || problems.length > 0) {
              this.log.info(`package ${pkg.id}: ${file.path}: bytes ${from}–${Math.max(file.size - 1, 0)} from ${location} (location ${i + 1} of ${sources.length}, rule 124 order${from > 0 ? ', resumed with a Range request' : ''})`);
            }
            await state.handle.close();
            await rename(tmp, dest);
            return { ok: true, bytes: state.position, location };
          }
          problems.push(`${url}: ${a.message}`);
          if (a.kind === 'mismatch') {
            sawMismatch = true;
            const next = chunkInfo && state.position > 0 ? `good bytes kept up to ${state.position}, fetching the rest from the next location` : 'copy deleted, trying the next location';
            this.log.warn(`package ${pkg.id}: ${file.path} from ${location}: ${a.message}; ${next} (rule 116)`);
            publish('content.verify.fail', { kind: chunkInfo ? 'chunk' : 'file', packageId: pkg.id, path: file.path, location, reason: a.message });
          } else {
            this.log.warn(`package ${pkg.id}: ${file.path} from ${location}: ${a.message}`);
          }
          if (a.kind !== 'retryable') done.add(i);
          for (const b of a.blame ?? []) done.add(b);
        }
        if (done.size === sources.length) break; // nothing left worth retrying
      }
    } finally {
      await state.handle.close().catch(() => undefined);
      await rm(tmp, { force: true });
    }
    return sawMismatch
      ? { ok: false, reason: 'hash-mismatch', message: `package ${pkg.id}: no location has ${file.path} matching the policy's size and SHA-256 (rule 116); nothing of the package was kept. Tried: ${problems.join('; ')}` }
      : { ok: false, reason: 'unavailable', message: `package ${pkg.id}: ${file.path} could not be downloaded from any location. Tried: ${problems.join('; ')}` };
  }

  /** A copy verified earlier in this target (content-kept.ts), if still good. */
  private async fromCache(pkg: PolicyPackage, files: ContentFile[]): Promise<Extract<PackageResult, { ok: true }> | null> {
    const dir = this.packageDir(pkg.id);
    const kept = await verifiedCopy(this.targetDir, dir, pkg, files);
    if (kept === null) return null;
    if (kept instanceof Error) {
      this.log.warn(`package ${pkg.id}: the copy kept in this target is not usable (${kept.message}); downloading again`);
      return null;
    }
    this.log.info(`package ${pkg.id} (${pkg.name}) v${pkg.version}: using the copy verified earlier in this target (pre-cached, rule 16), re-checked: ${files.length} file(s), ${kept} bytes`);
    return { ok: true, dir, files: files.length, bytes: kept, unverified: false, lastLocation: null, manifestVerified: false, fromCache: true };
  }
}
