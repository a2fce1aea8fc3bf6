/**
 * A distribution point process (`pxepoint serve --role dp`): its own content
 * library, filled by PULLING from the site (docs/decisions/0010-content-distribution.md).
 *
 * Every poll: read the assignments (GET /api/content/dps/:id/assignments), and for
 * each assigned version not held, report `verifying`, fetch the signed manifest,
 * check its signature against the pinned site key, stream every file into the
 * library (XXH64 per chunk as it arrives, SHA-256 at the end, only verified bytes
 * renamed into the store), commit the manifest, and only then report `available`.
 * The committed manifest is the DP's only proof of a complete version, so a DP
 * killed at any point restarts with the version absent and pulls it again.
 *
 * Validation (every `validateMs`, and when the site asks): re-hash every held file;
 * a damaged version is withdrawn (manifest removed, bad objects deleted), reported
 * `failed`, and pulled again at once (redistribute).
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { get as httpGet, type IncomingMessage } from 'node:http';
import { get as httpsGet } from 'node:https';
import { publish } from '../events.js';
import type { DpContentState } from '../site/model.js';
import type { DpAssignment } from './distribution.js';
import { ContentLibrary, ContentVerifyError, isPackageId } from './library.js';
import { isSafeContentPath } from './manifest.js';
import { verifyManifest } from './signing.js';
import type { ContentSource } from './source.js';
import { fileUrl, manifestUrl, type ContentManifest, type DpHeldPackage } from './types.js';

export interface DpNodeOptions {
  dataDir: string;
  /** The site's base URL, e.g. "http://site.example:8080/" (its /api/ and content routes). */
  siteUrl: string;
  /** This DP's id in the site (a DistributionPoint). */
  dpId: string;
  /** An admin API token of the site (the DP's credential). */
  token: string;
  pollMs?: number;
  /** Scheduled validation interval; 0 turns it off. */
  validateMs?: number;
  /** The site's public key; default: pinned in <dataDir>/keys/site.pub.pem, fetched once over the authenticated API. */
  publicKeyPem?: string;
  log?: { info(msg: string): void; warn(msg: string): void };
  /** Download attempts per file. */
  attempts?: number;
}

export interface ValidationResult {
  packageId: string;
  version: number;
  ok: boolean;
  problems: string[];
}

/**
 * A file download as a plain node stream (node:http, not fetch: no web-stream
 * layer between the socket and the digests, so a 1 GiB pull costs little memory).
 */
function download(url: string, offset = 0): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const headers = offset > 0 ? { range: `bytes=${offset}-` } : {};
    const req = (url.startsWith('https:') ? httpsGet : httpGet)(url, { headers }, resolve);
    req.on('error', reject);
    req.setTimeout(120_000, () => req.destroy(new Error(`no data from ${url} for 120 s`)));
  });
}

const PINNED_KEY = 'site.pub.pem';
const SHARE_FILE = 'share.json';
/** On-demand requests for the same version are sent at most this often. */
const ON_DEMAND_EVERY_MS = 10_000;

export class DpNode implements ContentSource {
  readonly #opts: Required<Omit<DpNodeOptions, 'publicKeyPem' | 'log'>> & { log: NonNullable<DpNodeOptions['log']> };
  readonly #base: string;
  #publicKeyPem = '';
  #share = new Set<string>();
  #pollTimer: NodeJS.Timeout | null = null;
  #validateTimer: NodeJS.Timeout | null = null;
  #polling: Promise<void> | null = null;
  #again = false;
  #closed = false;
  readonly #onDemand = new Map<string, number>();
  /** Failed pulls wait before the next attempt (doubling, at most an hour) so a bad source is not re-read every poll. */
  readonly #backoff = new Map<string, { failures: number; nextAt: number }>();
  /** Committed manifests, read once (they never change; withdrawn ones are dropped). */
  readonly #manifests = new Map<string, ContentManifest>();

  private constructor(readonly library: ContentLibrary, opts: DpNodeOptions) {
    this.#opts = {
      dataDir: opts.dataDir, siteUrl: opts.siteUrl, dpId: opts.dpId, token: opts.token,
      pollMs: opts.pollMs ?? 30_000, validateMs: opts.validateMs ?? 24 * 3600_000, attempts: opts.attempts ?? 3,
      log: opts.log ?? { info: () => undefined, warn: () => undefined },
    };
    this.#base = opts.siteUrl.endsWith('/') ? opts.siteUrl : `${opts.siteUrl}/`;
  }

  /** Opens the library and the pinned key; `start()` begins polling. */
  static async open(opts: DpNodeOptions): Promise<DpNode> {
    const node = new DpNode(await ContentLibrary.open(opts.dataDir), opts);
    await node.#loadKey(opts.publicKeyPem);
    const shareFile = join(node.library.root, SHARE_FILE);
    if (existsSync(shareFile)) {
      try {
        node.#share = new Set(JSON.parse(readFileSync(shareFile, 'utf8')) as string[]);
      } catch {
        /* rewritten at the next poll */
      }
    }
    return node;
  }

  /** Polls now and then every pollMs; validates every validateMs. */
  start(): void {
    const loop = (): void => {
      if (this.#closed) return;
      void this.poll().finally(() => {
        if (!this.#closed) this.#pollTimer = setTimeout(loop, this.#opts.pollMs);
      });
    };
    loop();
    if (this.#opts.validateMs > 0) {
      this.#validateTimer = setInterval(() => void this.validateAll().then(() => this.poll()).catch((e: unknown) => this.#opts.log.warn(`validation failed: ${String(e)}`)), this.#opts.validateMs);
      this.#validateTimer.unref();
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#pollTimer) clearTimeout(this.#pollTimer);
    if (this.#validateTimer) clearInterval(this.#validateTimer);
    await this.#polling?.catch(() => undefined);
  }

  publicKeyPem(): string {
    return this.#publicKeyPem;
  }

  async #loadKey(given: string | undefined): Promise<void> {
    if (given) {
      this.#publicKeyPem = given;
      return;
    }
    const dir = join(this.#opts.dataDir, 'keys');
    const pinned = join(dir, PINNED_KEY);
    if (existsSync(pinned)) {
      this.#publicKeyPem = readFileSync(pinned, 'utf8');
      return;
    }
    const res = await this.#api('GET', 'site-key');
    const body = (await res.json()) as { publicKeyPem: string };
    await mkdir(dir, { recursive: true });
    await writeFile(pinned, body.publicKeyPem, { mode: 0o644 });
    this.#publicKeyPem = body.publicKeyPem;
  }

  async #api(method: string, path: string, body?: unknown): Promise<Response> {
    const res = await fetch(`${this.#base}api/content/${path}`, {
      method,
      headers: { authorization: `Bearer ${this.#opts.token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(30_000),
    });
    if (!res.ok) throw new Error(`site answered ${res.status} to ${method} /api/content/${path}: ${(await res.text()).slice(0, 300)}`);
    return res;
  }

  async #report(packageId: string, version: number, state: DpContentState, detail: string | null = null, validated = false): Promise<void> {
    try {
      await this.#api('PUT', `dps/${encodeURIComponent(this.#opts.dpId)}/packages/${encodeURIComponent(packageId)}`, { version, state, detail, ...(validated ? { validated } : {}) });
    } catch (e) {
      this.#opts.log.warn(`could not report ${packageId}@${version} ${state} to the site: ${(e as Error).message}`);
    }
  }

  /** One poll (coalesced: a poll asked for while one runs runs once more after it). */
  poll(): Promise<void> {
    if (this.#polling) {
      this.#again = true;
      return this.#polling;
    }
    this.#polling = (async () => {
      // Bounded: one extra round per request made during the previous one.
      for (let round = 0; round < 10; round++) {
        this.#again = false;
        await this.#pollOnce().catch((e: unknown) => this.#opts.log.warn(`poll failed: ${(e as Error).message}`));
        if (!this.#again || this.#closed) break;
      }
    })().finally(() => {
      this.#polling = null;
    });
    return this.#polling;
  }

  async #pollOnce(): Promise<void> {
    const res = await this.#api('GET', `dps/${encodeURIComponent(this.#opts.dpId)}/assignments`);
    const { assignments } = (await res.json()) as { assignments: DpAssignment[] };
    await this.#saveShare(new Set(assignments.filter((a) => a.share).map((a) => a.packageId)));
    for (const a of assignments) {
      if (this.#closed) return;
      if (!isPackageId(a.packageId)) continue;
      let held = await this.library.readManifest(a.packageId, a.version);
      if (held && a.validateRequested) {
        const r = await this.#validate(held);
        await this.#report(a.packageId, a.version, r.ok ? 'available' : 'failed', r.ok ? null : `validation: ${r.problems.join('; ')}`, true);
        if (!r.ok) held = undefined;
      }
      if (held) {
        if (a.state !== 'available') await this.#report(a.packageId, a.version, 'available');
        continue;
      }
      const wait = this.#backoff.get(`${a.packageId}@${a.version}`);
      if (wait && Date.now() < wait.nextAt) continue;
      await this.pull(a.packageId, a.version);
    }
  }

  async #saveShare(next: Set<string>): Promise<void> {
    if (next.size === this.#share.size && [...next].every((p) => this.#share.has(p))) return;
    this.#share = next;
    const file = join(this.library.root, SHARE_FILE);
    await writeFile(`${file}.tmp`, JSON.stringify([...next].sort()));
    await rename(`${file}.tmp`, file);
  }

  /** Copies and verifies one version from the site; reports verifying → available | failed. */
  async pull(packageId: string, version: number): Promise<boolean> {
    await this.#report(packageId, version, 'verifying');
    try {
      const manifest = await this.#fetchManifest(packageId, version);
      for (const f of manifest.files) {
        if (this.#closed) throw new Error('the distribution point is shutting down');
        if (await this.library.hasObject(f.sha256, f.size)) {
          // Already here for another version: check it too before vouching for it.
          if ((await this.library.verifyObject(f, manifest.chunkSize)).ok) continue;
          await this.library.removeObject(f.sha256);
        }
        await this.#download(manifest, f);
      }
      await this.library.commitManifest(manifest);
      this.#backoff.delete(`${packageId}@${version}`);
      await this.#report(packageId, version, 'available');
      this.#opts.log.info(`package ${packageId} version ${version} is available (${manifest.files.length} files verified)`);
      return true;
    } catch (e) {
      const detail = (e as Error).message;
      if (e instanceof ContentVerifyError) publish('content.verify.fail', { distributionPointId: this.#opts.dpId, packageId, version, path: e.path, chunk: e.chunk, detail });
      this.#opts.log.warn(`package ${packageId} version ${version} failed: ${detail}`);
      const key = `${packageId}@${version}`;
      const failures = (this.#backoff.get(key)?.failures ?? 0) + 1;
      this.#backoff.set(key, { failures, nextAt: Date.now() + Math.min(3600_000, this.#opts.pollMs * 2 ** (failures - 1)) });
      await this.#report(packageId, version, 'failed', detail);
      return false;
    }
  }

  async #fetchManifest(packageId: string, version: number): Promise<ContentManifest> {
    const res = await fetch(manifestUrl(this.#base, packageId, version), { signal: AbortSignal.timeout(60_000) });
    if (!res.ok) throw new Error(`the site answered ${res.status} for the manifest of ${packageId}@${version}`);
    const m = (await res.json()) as ContentManifest;
    if (!verifyManifest(m, this.#publicKeyPem)) throw new ContentVerifyError(`the manifest of ${packageId}@${version} is not signed by the site's key`, 'manifest.json', null);
    if (m.packageId !== packageId || m.version !== version) throw new ContentVerifyError(`the manifest names ${m.packageId}@${m.version}, not ${packageId}@${version}`, 'manifest.json', null);
    if (!m.files.every((f) => isSafeContentPath(f.path))) throw new ContentVerifyError(`the manifest of ${packageId}@${version} has an unsafe path`, 'manifest.json', null);
    return m;
  }

  async #download(m: ContentManifest, f: ContentManifest['files'][number]): Promise<void> {
    let last: unknown;
    for (let attempt = 1; attempt <= this.#opts.attempts; attempt++) {
      try {
        // Resumes after the verified whole chunks of an earlier attempt (even one before a crash).
        const { resumedAt } = await this.library.writeObjectResumable(f, m.chunkSize, async (offset) => {
          const res = await download(fileUrl(this.#base, m.packageId, m.version, f.path), offset);
          const ranged = res.statusCode === 206 && String(res.headers['content-range'] ?? '').startsWith(`bytes ${offset}-`);
          if (res.statusCode !== 200 && !ranged) {
            res.resume();
            throw new Error(`the site answered ${res.statusCode} for ${f.path}`);
          }
          return { stream: res, fromOffset: ranged };
        });
        if (resumedAt > 0 && resumedAt < f.size) this.#opts.log.info(`${m.packageId}@${m.version} ${f.path}: resumed at byte ${resumedAt}`);
        return;
      } catch (e) {
        last = e;
        if (this.#closed) break;
      }
    }
    throw last instanceof Error ? last : new Error(String(last));
  }

  /** Re-hashes one held version; withdraws it when damaged (bad objects deleted). */
  async #validate(m: ContentManifest): Promise<ValidationResult> {
    const problems: string[] = [];
    for (const f of m.files) {
      const r = await this.library.verifyObject(f, m.chunkSize);
      if (!r.ok) {
        problems.push(r.reason);
        await this.library.removeObject(f.sha256);
      }
    }
    if (problems.length > 0) {
      this.#manifests.delete(`${m.packageId}@${m.version}`);
      await this.library.removeManifest(m.packageId, m.version);
      publish('content.verify.fail', { distributionPointId: this.#opts.dpId, packageId: m.packageId, version: m.version, detail: problems.join('; ') });
      this.#opts.log.warn(`validation: package ${m.packageId} version ${m.version} is damaged: ${problems.join('; ')}`);
    }
    return { packageId: m.packageId, version: m.version, ok: problems.length === 0, problems };
  }

  /** Validates every held version, reports the damaged ones `failed` (the next poll pulls them again). */
  async validateAll(): Promise<ValidationResult[]> {
    const out: ValidationResult[] = [];
    for (const v of await this.library.listVersions()) {
      const m = await this.library.readManifest(v.packageId, v.version);
      if (!m) continue;
      const r = await this.#validate(m);
      out.push(r);
      if (!r.ok) await this.#report(v.packageId, v.version, 'failed', `validation: ${r.problems.join('; ')}`, true);
    }
    return out;
  }

  // --- ContentSource -----------------------------------------------------------------

  async manifest(packageId: string, version: number): Promise<ContentManifest | undefined> {
    const key = `${packageId}@${version}`;
    const cached = this.#manifests.get(key);
    if (cached) return cached;
    const m = await this.library.readManifest(packageId, version);
    if (m) {
      if (this.#manifests.size > 1000) this.#manifests.clear();
      this.#manifests.set(key, m);
    }
    return m;
  }

  async held(): Promise<DpHeldPackage[]> {
    return (await this.library.listVersions()).map((v) => ({ ...v, share: this.#share.has(v.packageId) }));
  }

  async shared(packageId: string): Promise<ContentManifest | undefined> {
    if (!this.#share.has(packageId)) return undefined;
    const v = await this.library.newestVersion(packageId);
    return v === undefined ? undefined : this.library.readManifest(packageId, v);
  }

  /** On-demand distribution (rule 125): ask the site to assign the package, then poll. */
  async onMissing(packageId: string, version: number): Promise<number | null> {
    const key = `${packageId}@${version}`;
    const last = this.#onDemand.get(key);
    if (last !== undefined && Date.now() - last < ON_DEMAND_EVERY_MS) return 5;
    this.#onDemand.set(key, Date.now());
    if (this.#onDemand.size > 10_000) this.#onDemand.clear();
    const res = await this.#api('POST', `dps/${encodeURIComponent(this.#opts.dpId)}/packages/${encodeURIComponent(packageId)}/request`);
    const { assigned } = (await res.json()) as { assigned: { version: number } | null };
    if (assigned === null || assigned.version !== version) return null;
    void this.poll();
    return 5;
  }
}

