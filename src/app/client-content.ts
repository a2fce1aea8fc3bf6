/**
 * Package content as the client API serves it: the file list with SHA-256 and
 * size (what the client verifies, rule 116), and safe resolution of a requested
 * path inside a package's source folder.
 *
 * Hashes are computed once per package version (a new source path is a new
 * version, rule 17) by streaming each file through the hash, never reading a
 * whole file into memory. Symbolic links are neither listed nor served: a link
 * could point out of the package folder.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, realpath, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { ContentFile } from '../policy/client-api.js';
import type { Package } from '../site/model.js';
import type { SiteRepository } from '../site/repository.js';
import type { ContentManifest } from '../content/types.js';

/** Streams one file through SHA-256. */
export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}

/** Every regular file under `root`, '/'-separated relative paths, sorted. Links are skipped. */
async function listFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string, prefix: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true });
    for (const e of entries) {
      const rel = prefix === '' ? e.name : `${prefix}/${e.name}`;
      if (e.isDirectory()) await walk(join(dir, e.name), rel);
      else if (e.isFile()) out.push(rel);
    }
  };
  await walk(root, '');
  return out.sort();
}

export class ContentCatalogue {
  /** "id@version" → files; a promise, so concurrent policy requests hash a package once. */
  readonly #files = new Map<string, Promise<ContentFile[]>>();

  /** With a repository, files come from the signed manifest of the newest content version (src/content/). */
  constructor(private readonly repo?: () => SiteRepository) {}

  /**
   * The files of a package's newest version: from the content library's manifest
   * when the package has one (rule 17: the newest), else hashed from its source
   * folder (packages whose content was never added to the library); [] when neither.
   */
  async filesOf(pkg: Package): Promise<ContentFile[]> {
    const latest = this.repo ? await this.repo().content.latestVersion(pkg.id) : undefined;
    if (latest) {
      const key = `${pkg.id}@library@${latest.version}`;
      let files = this.#files.get(key);
      if (files === undefined) {
        const m = JSON.parse(latest.manifestJson) as ContentManifest;
        files = Promise.resolve(m.files.map((f) => ({ path: f.path, size: f.size, sha256: f.sha256 })));
        this.#files.set(key, files);
      }
      return files;
    }
    return this.#fromSource(pkg);
  }

  #fromSource(pkg: Package): Promise<ContentFile[]> {
    if (pkg.sourcePath === null) return Promise.resolve([]);
    const key = `${pkg.id}@${pkg.version}@${pkg.sourcePath}`;
    let files = this.#files.get(key);
    if (files === undefined) {
      files = this.#hashAll(pkg.sourcePath);
      // A failure (folder not there yet) is not cached: the next request tries again.
      files.catch(() => this.#files.delete(key));
      this.#files.set(key, files);
    }
    return files;
  }

  async #hashAll(root: string): Promise<ContentFile[]> {
    const files: ContentFile[] = [];
    for (const path of await listFiles(root)) {
      const abs = join(root, ...path.split('/'));
      const [info, sha256] = await Promise.all([stat(abs), sha256File(abs)]);
      files.push({ path, size: info.size, sha256 });
    }
    return files;
  }
}

/**
 * The absolute path of `requested` inside the package folder, or null when the
 * path is malformed, leaves the folder (`..`, absolute, a link pointing out), or
 * is not a regular file. Every byte of `requested` comes from the client.
 */
export async function resolvePackageFile(pkg: Package, requested: string): Promise<string | null> {
  if (pkg.sourcePath === null) return null;
  if (requested === '' || requested.length > 1024 || /[\0\\]/.test(requested) || isAbsolute(requested)) return null;
  const segments = requested.split('/');
  if (segments.some((s) => s === '' || s === '.' || s === '..')) return null;
  const root = resolve(pkg.sourcePath);
  const candidate = resolve(root, ...segments);
  if (!isInside(root, candidate)) return null;
  try {
    // No link anywhere on the way: lstat each component below the root.
    let at = root;
    for (const s of segments) {
      at = join(at, s);
      const info = await lstat(at);
      if (info.isSymbolicLink()) return null;
    }
    const [realRoot, realFile] = await Promise.all([realpath(root), realpath(candidate)]);
    if (!isInside(realRoot, realFile)) return null;
    return (await stat(realFile)).isFile() ? realFile : null;
  } catch {
    return null;
  }
}

function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel !== '' && !rel.startsWith('..' + sep) && rel !== '..' && !isAbsolute(rel);
}

export type ByteRange = { start: number; end: number };

/**
 * One `bytes=` range of a file of `size` bytes (RFC 9110 §14.1.2): the range, null
 * to send the whole file (no header, several ranges, or a form we do not serve),
 * or 'unsatisfiable' (416).
 */
export function parseRange(header: string | undefined, size: number): ByteRange | null | 'unsatisfiable' {
  if (header === undefined) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (m === null) return null;
  const [, a, b] = m as unknown as [string, string, string];
  if (a === '' && b === '') return null;
  if (a === '') {
    const suffix = Number(b);
    if (suffix === 0) return 'unsatisfiable';
    return size === 0 ? 'unsatisfiable' : { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(a);
  const end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
  if (!Number.isSafeInteger(start) || start >= size || end < start) return 'unsatisfiable';
  return { start, end };
}
