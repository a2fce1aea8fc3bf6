/**
 * The content-addressed store under `<dataDir>/content/`, the same on the site
 * and on every distribution point:
 *
 *   objects/ab/abcdef…   one file per distinct content, named by its SHA-256
 *   manifests/PKG/N.json the signed manifest of package PKG version N
 *   tmp/                 files being written (emptied at open: leftovers of a crash)
 *   partial/<sha256>     a download in progress (kept across restarts; only its
 *                        verified whole chunks are ever reused, see writeObjectResumable)
 *
 * Atomicity: an object is written to tmp/, fsynced and renamed into objects/ only
 * after its digests were checked; a manifest is renamed into manifests/ only after
 * every object it names is in objects/. A manifest on disk is therefore the proof
 * that the whole version is here and verified — a process killed at any moment
 * (SIGKILL, power loss) leaves at worst orphan temp files, never a partial version.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, truncate, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Digester, DigestStream, digestInto, listPackageFiles, manifestBody, READ_BUFFER, xxhashApi, type FileDigest, type ManifestHeader } from './manifest.js';
import { CHUNK_SIZE, type ContentManifest, type ContentManifestBody, type ManifestFile } from './types.js';

const SHA256_HEX = /^[0-9a-f]{64}$/;
/** Package ids become directory names: a conservative alphabet, never "." or "..". */
const PACKAGE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export const isPackageId = (id: string): boolean => PACKAGE_ID.test(id);

/** A digest mismatch: the bytes are not what the manifest promises. */
export class ContentVerifyError extends Error {
  readonly code = 'PXE_ERR_CONTENT_VERIFY';
  constructor(message: string, readonly path: string, readonly chunk: number | null) {
    super(message);
  }
}

async function fsyncPath(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export class ContentLibrary {
  readonly objectsDir: string;
  readonly manifestsDir: string;
  readonly tmpDir: string;
  readonly partialDir: string;

  private constructor(readonly root: string) {
    this.objectsDir = join(root, 'objects');
    this.manifestsDir = join(root, 'manifests');
    this.tmpDir = join(root, 'tmp');
    this.partialDir = join(root, 'partial');
  }

  /** Opens (creating) `<dataDir>/content` and drops temp files left by a crash. */
  static async open(dataDir: string): Promise<ContentLibrary> {
    const lib = new ContentLibrary(join(dataDir, 'content'));
    await rm(lib.tmpDir, { recursive: true, force: true });
    await Promise.all([lib.objectsDir, lib.manifestsDir, lib.tmpDir, lib.partialDir].map((d) => mkdir(d, { recursive: true })));
    return lib;
  }

  objectPath(sha256: string): string {
    if (!SHA256_HEX.test(sha256)) throw new Error(`not a SHA-256: ${sha256}`);
    return join(this.objectsDir, sha256.slice(0, 2), sha256);
  }

  async hasObject(sha256: string, size?: number): Promise<boolean> {
    try {
      const info = await stat(this.objectPath(sha256));
      return info.isFile() && (size === undefined || info.size === size);
    } catch {
      return false;
    }
  }

  #tmpFile(): string {
    return join(this.tmpDir, `${process.pid}-${randomBytes(8).toString('hex')}`);
  }

  /** fsync the temp file, rename it to its object name, fsync the directory. An existing object wins (same bytes). */
  async #publish(tmp: string, sha256: string): Promise<void> {
    const target = this.objectPath(sha256);
    if (await this.hasObject(sha256)) {
      await unlink(tmp).catch(() => undefined);
      return;
    }
    await fsyncPath(tmp);
    await mkdir(join(this.objectsDir, sha256.slice(0, 2)), { recursive: true });
    await rename(tmp, target);
    await fsyncPath(join(this.objectsDir, sha256.slice(0, 2)));
  }

  /** Imports one file: a single read computes the digests while copying to a temp file. */
  async importFile(file: string, chunkSize = CHUNK_SIZE): Promise<FileDigest> {
    const tmp = this.#tmpFile();
    try {
      const digest = await digestInto(file, createWriteStream(tmp), chunkSize);
      await this.#publish(tmp, digest.sha256);
      return digest;
    } catch (e) {
      await unlink(tmp).catch(() => undefined);
      throw e;
    }
  }

  /** Imports a folder (one read per file) and returns the manifest body; objects are durable when it resolves. */
  async importFolder(dir: string, header: ManifestHeader, chunkSize = CHUNK_SIZE): Promise<ContentManifestBody> {
    const files: ManifestFile[] = [];
    for (const path of await listPackageFiles(dir)) {
      const d = await this.importFile(join(dir, ...path.split('/')), chunkSize);
      files.push({ path, size: d.size, sha256: d.sha256, chunks: d.chunks });
    }
    return manifestBody(header, files, chunkSize);
  }

  /**
   * Writes an object from a stream, checking each chunk's XXH64 as it arrives (a
   * corrupt chunk aborts the transfer at once) and the SHA-256 and size at the end.
   * Only verified bytes are renamed into the store.
   */
  async writeObject(source: Readable | AsyncIterable<Uint8Array>, expected: ManifestFile, chunkSize = CHUNK_SIZE): Promise<void> {
    const tmp = this.#tmpFile();
    const stream = new DigestStream(await xxhashApi(), chunkSize, (i, digest) => {
      if (expected.chunks[i] !== digest) throw new ContentVerifyError(`${expected.path}: chunk ${i} has XXH64 ${digest}, the manifest says ${expected.chunks[i] ?? '(no such chunk)'}`, expected.path, i);
    });
    try {
      await pipeline(source, stream, createWriteStream(tmp));
      const got = stream.digester.digest();
      if (got.size !== expected.size) throw new ContentVerifyError(`${expected.path}: ${got.size} bytes, the manifest says ${expected.size}`, expected.path, null);
      if (got.chunks.length !== expected.chunks.length) throw new ContentVerifyError(`${expected.path}: ${got.chunks.length} chunks, the manifest says ${expected.chunks.length}`, expected.path, null);
      if (got.sha256 !== expected.sha256) throw new ContentVerifyError(`${expected.path}: SHA-256 ${got.sha256}, the manifest says ${expected.sha256}`, expected.path, null);
      await this.#publish(tmp, expected.sha256);
    } catch (e) {
      await unlink(tmp).catch(() => undefined);
      throw e;
    }
  }

  /**
   * Like writeObject, but resumable, also across restarts: the bytes go to
   * partial/<sha256>; before a new attempt the whole chunks already there are
   * re-hashed against the manifest and kept only while they match (the rest is cut
   * off), and `open(offset)` is asked for the remainder (an HTTP Range request).
   * `open` returns the stream and whether it starts at `offset` (false: from byte 0).
   */
  async writeObjectResumable(
    expected: ManifestFile, chunkSize: number, openFrom: (offset: number) => Promise<{ stream: Readable; fromOffset: boolean }>,
  ): Promise<{ resumedAt: number }> {
    if (await this.hasObject(expected.sha256, expected.size)) return { resumedAt: expected.size };
    const partial = join(this.partialDir, expected.sha256);
    if (!/^[0-9a-f]{64}$/.test(expected.sha256)) throw new Error(`not a SHA-256: ${expected.sha256}`);
    const xx = await xxhashApi();
    let digester = new Digester(xx, chunkSize);
    let good = 0;
    // Keep the verified whole chunks of an earlier attempt (bounded by the file size).
    const fh = await open(partial, 'a+');
    try {
      const buf = Buffer.allocUnsafe(chunkSize);
      const have = (await fh.stat()).size;
      for (let i = 0; (i + 1) * chunkSize <= Math.min(have, expected.size) && i < expected.chunks.length; i++) {
        const { bytesRead } = await fh.read(buf, 0, chunkSize, i * chunkSize);
        if (bytesRead !== chunkSize) break;
        const digest = xx.h64Raw(buf).toString(16).padStart(16, '0');
        if (digest !== expected.chunks[i]) break;
        digester.update(buf);
        good += chunkSize;
      }
      await fh.truncate(good);
    } finally {
      await fh.close();
    }
    const { stream, fromOffset } = await openFrom(good);
    if (!fromOffset && good > 0) {
      // The source sent the whole file: start over.
      await truncate(partial, 0);
      digester = new Digester(xx, chunkSize);
      good = 0;
    }
    const resumedAt = good;
    const ds = new DigestStream(xx, chunkSize, undefined, digester);
    const first = Math.floor(good / chunkSize);
    // Chunks are checked as they complete (index continues from the kept prefix).
    const check = (i: number, digest: string): void => {
      if (i >= first && expected.chunks[i] !== digest) {
        throw new ContentVerifyError(`${expected.path}: chunk ${i} has XXH64 ${digest}, the manifest says ${expected.chunks[i] ?? '(no such chunk)'}`, expected.path, i);
      }
    };
    digester.onChunk = check;
    await pipeline(stream, ds, createWriteStream(partial, { flags: 'a' }));
    const got = digester.digest();
    if (got.size !== expected.size) throw new ContentVerifyError(`${expected.path}: ${got.size} bytes, the manifest says ${expected.size}`, expected.path, null);
    if (got.sha256 !== expected.sha256) {
      await unlink(partial).catch(() => undefined);
      throw new ContentVerifyError(`${expected.path}: SHA-256 ${got.sha256}, the manifest says ${expected.sha256}`, expected.path, null);
    }
    await this.#publish(partial, expected.sha256);
    return { resumedAt };
  }

  /** Re-hashes a stored object: 'ok', 'missing' or the first problem found. */
  async verifyObject(expected: ManifestFile, chunkSize = CHUNK_SIZE): Promise<{ ok: true } | { ok: false; reason: string }> {
    let d: Digester;
    try {
      d = new Digester(await xxhashApi(), chunkSize);
      for await (const buf of createReadStream(this.objectPath(expected.sha256), { highWaterMark: READ_BUFFER })) d.update(buf as Buffer);
    } catch (e) {
      return { ok: false, reason: `${expected.path}: object missing or unreadable (${(e as Error).message})` };
    }
    const got = d.digest();
    if (got.size !== expected.size) return { ok: false, reason: `${expected.path}: ${got.size} bytes, expected ${expected.size}` };
    const bad = got.chunks.findIndex((c, i) => c !== expected.chunks[i]);
    if (bad >= 0) return { ok: false, reason: `${expected.path}: chunk ${bad} does not match its XXH64` };
    if (got.sha256 !== expected.sha256) return { ok: false, reason: `${expected.path}: SHA-256 does not match` };
    return { ok: true };
  }

  async removeObject(sha256: string): Promise<void> {
    await unlink(this.objectPath(sha256)).catch(() => undefined);
  }

  #manifestPath(packageId: string, version: number): string {
    if (!isPackageId(packageId) || !Number.isSafeInteger(version) || version < 1) throw new Error(`bad package version ${packageId}@${version}`);
    return join(this.manifestsDir, packageId, `${version}.json`);
  }

  /** Records a version as complete. Call only once every object it names is stored (and verified). */
  async commitManifest(manifest: ContentManifest): Promise<void> {
    for (const f of manifest.files) {
      if (!(await this.hasObject(f.sha256, f.size))) throw new Error(`cannot commit ${manifest.packageId}@${manifest.version}: ${f.path} is not in the store`);
    }
    const target = this.#manifestPath(manifest.packageId, manifest.version);
    const dir = join(this.manifestsDir, manifest.packageId);
    await mkdir(dir, { recursive: true });
    const tmp = this.#tmpFile();
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(JSON.stringify(manifest));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, target);
    await fsyncPath(dir);
  }

  async readManifest(packageId: string, version: number): Promise<ContentManifest | undefined> {
    if (!isPackageId(packageId) || !Number.isSafeInteger(version) || version < 1) return undefined;
    try {
      return JSON.parse(await readFile(this.#manifestPath(packageId, version), 'utf8')) as ContentManifest;
    } catch {
      return undefined;
    }
  }

  /** Withdraws a version (validation found it damaged): it is no longer complete. */
  async removeManifest(packageId: string, version: number): Promise<void> {
    await unlink(this.#manifestPath(packageId, version)).catch(() => undefined);
  }

  /** Every complete version held, sorted by package then version. */
  async listVersions(): Promise<{ packageId: string; version: number }[]> {
    const out: { packageId: string; version: number }[] = [];
    for (const pkg of (await readdir(this.manifestsDir)).sort()) {
      if (!isPackageId(pkg)) continue;
      for (const f of await readdir(join(this.manifestsDir, pkg)).catch(() => [] as string[])) {
        const m = /^([1-9]\d{0,8})\.json$/.exec(f);
        if (m) out.push({ packageId: pkg, version: Number(m[1]) });
      }
    }
    return out.sort((a, b) => (a.packageId < b.packageId ? -1 : a.packageId > b.packageId ? 1 : a.version - b.version));
  }

  /** The newest complete version of a package held here. */
  async newestVersion(packageId: string): Promise<number | undefined> {
    const versions = (await this.listVersions()).filter((v) => v.packageId === packageId).map((v) => v.version);
    return versions.length ? Math.max(...versions) : undefined;
  }
}
