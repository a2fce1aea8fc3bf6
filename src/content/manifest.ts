/**
 * Package manifests: per file its size, SHA-256 (the integrity guarantee, rule 116)
 * and the XXH64 of each CHUNK_SIZE chunk (fast early detection of a corrupt chunk,
 * resumable downloads). Both digests come from ONE streaming read of the file
 * (`DigestStream`), so a package folder is read once however large it is.
 *
 * XXH64 chunk digests: seed 0, 16 lowercase hex digits; a file of n bytes has
 * ceil(n / CHUNK_SIZE) chunks (an empty file has none).
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import xxhash, { type XXHashAPI } from 'xxhash-wasm';
import { CHUNK_SIZE, type ContentManifestBody, type ManifestFile } from './types.js';

let api: Promise<XXHashAPI> | undefined;
/** The xxhash-wasm instance (compiled once per process). */
export function xxhashApi(): Promise<XXHashAPI> {
  api ??= xxhash();
  return api;
}

export interface FileDigest {
  size: number;
  sha256: string;
  chunks: string[];
}

const hex64 = (v: bigint): string => v.toString(16).padStart(16, '0');

/**
 * Incremental SHA-256 + chunked XXH64 over bytes fed in order. `onChunk` is called
 * with each finished chunk's index and digest (a downloader compares it with the
 * manifest and aborts at the first wrong chunk).
 */
export class Digester {
  readonly #sha: Hash = createHash('sha256');
  readonly #xx: XXHashAPI;
  readonly #chunkSize: number;
  #chunk: ReturnType<XXHashAPI['create64']>;
  #inChunk = 0;
  #size = 0;
  readonly chunks: string[] = [];

  constructor(xx: XXHashAPI, chunkSize = CHUNK_SIZE, public onChunk?: (index: number, digest: string) => void) {
    this.#xx = xx;
    this.#chunkSize = chunkSize;
    this.#chunk = xx.create64(0n);
  }

  get size(): number {
    return this.#size;
  }

  update(buf: Uint8Array): void {
    this.#sha.update(buf);
    this.#size += buf.length;
    let at = 0;
    while (at < buf.length) {
      const take = Math.min(this.#chunkSize - this.#inChunk, buf.length - at);
      this.#chunk.update(at === 0 && take === buf.length ? buf : buf.subarray(at, at + take));
      this.#inChunk += take;
      at += take;
      if (this.#inChunk === this.#chunkSize) this.#finishChunk();
    }
  }

  #finishChunk(): void {
    const digest = hex64(this.#chunk.digest());
    this.chunks.push(digest);
    this.onChunk?.(this.chunks.length - 1, digest);
    this.#chunk = this.#xx.create64(0n);
    this.#inChunk = 0;
  }

  digest(): FileDigest {
    if (this.#inChunk > 0) this.#finishChunk();
    return { size: this.#size, sha256: this.#sha.digest('hex'), chunks: this.chunks };
  }
}

/** A pass-through stream that digests what flows through it (`digest()` after the end). */
export class DigestStream extends Transform {
  readonly digester: Digester;
  constructor(xx: XXHashAPI, chunkSize = CHUNK_SIZE, onChunk?: (index: number, digest: string) => void, digester?: Digester) {
    super();
    // An existing digester continues where it stopped (a resumed download).
    this.digester = digester ?? new Digester(xx, chunkSize, onChunk);
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    try {
      this.digester.update(chunk);
      done(null, chunk);
    } catch (e) {
      done(e as Error);
    }
  }
}

/** Reads read-ahead at 1 MiB: fewer syscalls and hash calls per byte than the 64 KiB default. */
export const READ_BUFFER = 1024 * 1024;

/** SHA-256 and chunk digests of one file, one streaming read. */
export async function digestFile(file: string, chunkSize = CHUNK_SIZE): Promise<FileDigest> {
  const d = new Digester(await xxhashApi(), chunkSize);
  for await (const buf of createReadStream(file, { highWaterMark: READ_BUFFER })) d.update(buf as Buffer);
  return d.digest();
}

/** Pipes `file` through a DigestStream into `sink` (one read: the library's import). */
export async function digestInto(file: string, sink: NodeJS.WritableStream, chunkSize = CHUNK_SIZE): Promise<FileDigest> {
  const ds = new DigestStream(await xxhashApi(), chunkSize);
  await pipeline(createReadStream(file, { highWaterMark: READ_BUFFER }), ds, sink);
  return ds.digester.digest();
}

/** Every regular file under `root`, '/'-separated relative paths, sorted. Links and specials are skipped (could point out of the package). */
export async function listPackageFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string, prefix: string, depth: number): Promise<void> => {
    if (depth > 64) throw new Error(`folder nesting deeper than 64 levels under ${root}`);
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const rel = prefix === '' ? e.name : `${prefix}/${e.name}`;
      if (e.isDirectory()) await walk(join(dir, e.name), rel, depth + 1);
      else if (e.isFile()) out.push(rel);
    }
  };
  await walk(root, '', 0);
  // Code-unit order, not locale order: the same folder gives the same manifest everywhere.
  return out.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** True for a safe in-package path: '/'-separated, relative, no '.', '..', empty segment, NUL or backslash. */
export function isSafeContentPath(path: string): boolean {
  if (path === '' || path.length > 1024 || /[\0\\]/.test(path) || path.startsWith('/')) return false;
  return path.split('/').every((s) => s !== '' && s !== '.' && s !== '..');
}

export interface ManifestHeader {
  packageId: string;
  version: number;
  createdAt: string;
}

/** The manifest body from digested files (sorted by path so the same content gives the same bytes). */
export function manifestBody(header: ManifestHeader, files: ManifestFile[], chunkSize = CHUNK_SIZE): ContentManifestBody {
  const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { packageId: header.packageId, version: header.version, chunkSize, createdAt: header.createdAt, files: sorted };
}

/** Builds a manifest body from a folder: one streaming read per file. */
export async function buildManifest(dir: string, header: ManifestHeader, chunkSize = CHUNK_SIZE): Promise<ContentManifestBody> {
  const files: ManifestFile[] = [];
  for (const path of await listPackageFiles(dir)) {
    const d = await digestFile(join(dir, ...path.split('/')), chunkSize);
    files.push({ path, size: d.size, sha256: d.sha256, chunks: d.chunks });
  }
  return manifestBody(header, files, chunkSize);
}

/**
 * Canonical JSON (the bytes that are signed): object keys sorted by code unit, no
 * whitespace, `undefined` members dropped. Only JSON values are accepted.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError('canonical JSON has no NaN or Infinity');
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v)).join(',')}]`;
  if (typeof value === 'object') {
    const o = value as Record<string, unknown>;
    const keys = Object.keys(o).filter((k) => o[k] !== undefined).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
  }
  throw new TypeError(`canonical JSON cannot hold a ${typeof value}`);
}

/** The signed part of a manifest: everything but the signature (extra members included, so none can be slipped in unsigned). */
export function bodyOf(m: ContentManifestBody & { signature?: unknown }): ContentManifestBody {
  const { signature: _signature, ...body } = m;
  return body;
}

/** Sum of file sizes. */
export const totalSize = (m: ContentManifestBody): number => m.files.reduce((n, f) => n + f.size, 0);
