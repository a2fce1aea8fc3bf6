/**
 * Reading a medium: a mounted directory or the ISO file itself (no root, no
 * mount; the ISO 9660 reader is iso-reader.ts). Both resolve paths the same way:
 * '/'-separated, relative to the medium's root, exact name first and then a
 * case-insensitive match per segment (ISO 9660 names are case-insensitive, and a
 * medium mounted or copied on Windows may change case). A directory source never
 * leaves its root: '..' and absolute paths are refused, and a symbolic link is
 * followed only when its target is inside the root.
 */
import { createReadStream, type Dirent } from 'node:fs';
import { lstat, open, readdir, realpath, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { isPxeError, PxeError } from '../errors.js';
import { DEFAULT_MAX_READ_BYTES, IsoImage, isoError, splitMediaPath } from './iso-reader.js';
import { MEDIA_ERRORS } from './types.js';

export { splitMediaPath, DEFAULT_MAX_READ_BYTES } from './iso-reader.js';

export interface MediaSource {
  kind: 'directory' | 'iso';
  /** The path given (directory or .iso). */
  location: string;
  /** A file's bytes (paths '/'-separated, relative to the medium's root; case-insensitive match as on ISO 9660); null when absent. */
  readFile(path: string, maxBytes?: number): Promise<Buffer | null>;
  /** Size of a regular file; null when absent. */
  size(path: string): Promise<number | null>;
  /** Streams a regular file (large package files are never read whole). */
  stream(path: string): Promise<Readable>;
  /** Names in a directory ('' = root); null when it is not a directory. */
  list(dir: string): Promise<string[] | null>;
  close(): Promise<void>;
}

const isMissing = (e: unknown): boolean => {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
};

class DirectorySource implements MediaSource {
  readonly kind = 'directory' as const;
  constructor(
    readonly location: string,
    /** realpath of the root. */
    private readonly root: string,
  ) {}

  private inside(real: string): boolean {
    return real === this.root || real.startsWith(this.root.endsWith(sep) ? this.root : this.root + sep);
  }

  /** The real path of `path` inside the root, or null when absent. */
  private async resolve(path: string): Promise<string | null> {
    const segments = splitMediaPath(path);
    let cur = this.root;
    for (const seg of segments) {
      let next = join(cur, seg);
      let info = await lstat(next).catch((e: unknown) => {
        if (isMissing(e)) return null;
        throw e;
      });
      if (info === null) {
        let names: Dirent[];
        try {
          names = await readdir(cur, { withFileTypes: true });
        } catch (e) {
          if (isMissing(e)) return null;
          throw e;
        }
        const lower = seg.toLowerCase();
        const match = names.map((d) => d.name).filter((n) => n.toLowerCase() === lower).sort()[0];
        if (match === undefined) return null;
        next = join(cur, match);
        info = await lstat(next);
      }
      if (info.isSymbolicLink()) {
        let real: string;
        try {
          real = await realpath(next);
        } catch (e) {
          if (isMissing(e) || (e as NodeJS.ErrnoException).code === 'ELOOP') return null;
          throw e;
        }
        if (!this.inside(real)) throw new PxeError(MEDIA_ERRORS.format, `"${path}" on the medium is a symbolic link that leaves the medium's directory; refusing to follow it`, 400, { path });
        next = real;
      }
      cur = next;
    }
    return cur;
  }

  private async regular(path: string): Promise<{ file: string; size: number } | null> {
    const file = await this.resolve(path);
    if (file === null) return null;
    const st = await stat(file).catch((e: unknown) => {
      if (isMissing(e)) return null;
      throw e;
    });
    if (st === null || !st.isFile()) return null;
    return { file, size: st.size };
  }

  async readFile(path: string, maxBytes = DEFAULT_MAX_READ_BYTES): Promise<Buffer | null> {
    const r = await this.regular(path);
    if (r === null) return null;
    const fh = await open(r.file, 'r');
    try {
      const size = (await fh.stat()).size;
      if (size > maxBytes) throw isoError(`"${path}" is ${size} bytes, over the ${maxBytes}-byte limit for reading it whole; stream it instead`, { path });
      // Read at most maxBytes + 1, so a file growing under us is noticed, not read without bound.
      const buf = Buffer.alloc(Math.min(maxBytes + 1, size + 1));
      let done = 0;
      for (;;) {
        const { bytesRead } = await fh.read(buf, done, buf.length - done, done);
        if (bytesRead === 0) break;
        done += bytesRead;
        if (done === buf.length) break;
      }
      if (done > maxBytes) throw isoError(`"${path}" grew over the ${maxBytes}-byte limit while being read`, { path });
      return buf.subarray(0, done);
    } finally {
      await fh.close();
    }
  }

  async size(path: string): Promise<number | null> {
    return (await this.regular(path))?.size ?? null;
  }

  async stream(path: string): Promise<Readable> {
    const r = await this.regular(path);
    if (r === null) throw isoError(`"${path}" is not a file on the medium`, { path });
    return createReadStream(r.file);
  }

  async list(dir: string): Promise<string[] | null> {
    const d = await this.resolve(dir);
    if (d === null) return null;
    try {
      if (!(await stat(d)).isDirectory()) return null;
      return (await readdir(d)).sort();
    } catch (e) {
      if (isMissing(e)) return null;
      throw e;
    }
  }

  async close(): Promise<void> {
    // nothing held open
  }
}

class IsoSource implements MediaSource {
  readonly kind = 'iso' as const;
  constructor(
    readonly location: string,
    private readonly image: IsoImage,
  ) {}
  readFile(path: string, maxBytes?: number): Promise<Buffer | null> {
    return this.image.readFile(path, maxBytes);
  }
  size(path: string): Promise<number | null> {
    return this.image.size(path);
  }
  stream(path: string): Promise<Readable> {
    return this.image.stream(path);
  }
  list(dir: string): Promise<string[] | null> {
    return this.image.list(dir);
  }
  close(): Promise<void> {
    return this.image.close();
  }
}

/** Opens a directory or an ISO 9660 image (Rock Ridge / Joliet names). Throws PxeError MEDIA_ERRORS.format with what is wrong. */
export async function openMediaSource(path: string): Promise<MediaSource> {
  let st;
  try {
    st = await stat(path);
  } catch (e) {
    throw new PxeError(MEDIA_ERRORS.format, `cannot open the medium "${path}": ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}; give the path of its .iso file or of the directory it is mounted on`, 400, { path });
  }
  if (st.isDirectory()) return new DirectorySource(path, await realpath(path));
  if (st.isFile()) {
    try {
      return new IsoSource(path, await IsoImage.open(path));
    } catch (e) {
      if (isPxeError(e)) throw e;
      throw new PxeError(MEDIA_ERRORS.format, `cannot read the ISO image "${path}": ${(e as Error).message}`, 400, { path });
    }
  }
  throw new PxeError(MEDIA_ERRORS.format, `"${path}" is neither a directory nor an ISO image file`, 400, { path });
}
