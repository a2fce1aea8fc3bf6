/**
 * A read-only ISO 9660 reader for boot media (the client reads the .iso itself:
 * no root, no mount, no external tools). It reads with FileHandle reads:
 *
 * - the volume descriptors from sector 16 (primary required; a Joliet
 *   supplementary descriptor is used when present), 2048-byte logical blocks;
 * - directory records, over as many sectors as a directory spans;
 * - names: Rock Ridge NM (SUSP, CE continuation areas followed) when the root's
 *   "." record carries an SP entry; else Joliet (UCS-2 big-endian); else the
 *   ISO 9660 name lower-cased without its ";1" version and trailing ".".
 *   Rock Ridge relocated directories (CL/RE) are followed and hidden as the
 *   standard says; Rock Ridge symbolic links (SL) are not files and are skipped.
 *
 * An image is untrusted input: every length and extent is checked against the
 * image's size, directory sizes, record counts, CE hops and path depth are
 * bounded, and a directory that is its own ancestor is refused. Everything
 * wrong is a PxeError with MEDIA_ERRORS.format, never another exception, never
 * a hang. Files must be single-extent (multi-extent files are over 4 GiB, which
 * FAT32 media cannot hold either, rule 94).
 */
import { createReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { PxeError } from '../errors.js';
import { MEDIA_ERRORS } from './types.js';

export const SECTOR = 2048;
/** Bounds on hostile images. */
export const ISO_LIMITS = {
  /** Volume descriptors read before giving up on a terminator. */
  maxVolumeDescriptors: 64,
  /** The largest directory (a directory with 200 entries is about 20 KiB). */
  maxDirectoryBytes: 16 * 1024 * 1024,
  /** Records in one directory. */
  maxRecords: 100_000,
  /** Path segments. */
  maxDepth: 64,
  /** SUSP continuation areas followed for one directory record, and their size. */
  maxContinuations: 32,
  maxContinuationBytes: 64 * 1024,
  /** Directories kept parsed in memory. */
  maxCachedDirectories: 4096,
} as const;

/** The default bound of readFile (read larger files with stream()). */
export const DEFAULT_MAX_READ_BYTES = 256 * 1024 * 1024;

export const isoError = (message: string, details: Record<string, unknown> = {}): PxeError => new PxeError(MEDIA_ERRORS.format, message, 400, details);

/**
 * The segments of a medium path ('/'-separated, relative to the root; '' is the
 * root). Refuses absolute paths, '..', backslashes and NUL with MEDIA_ERRORS.format;
 * '.' and empty segments are dropped.
 */
export function splitMediaPath(path: string): string[] {
  if (typeof path !== 'string') throw isoError('a path on the medium must be a string');
  if (path.startsWith('/')) throw isoError(`"${path}": paths on the medium are relative to its root (no leading "/")`, { path });
  if (path.includes('\\') || path.includes('\0')) throw isoError(`"${path}": paths on the medium are '/'-separated and hold no "\\" or NUL`, { path });
  const segments = path.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.includes('..')) throw isoError(`"${path}": ".." would leave the medium`, { path });
  if (segments.length > ISO_LIMITS.maxDepth) throw isoError(`"${path}" is deeper than ${ISO_LIMITS.maxDepth} directories`, { path });
  return segments;
}

export interface IsoEntry {
  /** The name shown (Rock Ridge, Joliet or the cleaned ISO 9660 name). */
  name: string;
  directory: boolean;
  /** Byte offset of the data (or of the directory's records) in the image. */
  offset: number;
  size: number;
  /** Part of a multi-extent file: not readable here. */
  multiExtent: boolean;
}

type Naming = 'rockridge' | 'joliet' | 'iso9660';

interface DirRecord {
  length: number;
  extent: number;
  extAttrLength: number;
  dataLength: number;
  flags: number;
  rawName: Buffer;
  systemUse: Buffer;
}

const u32le = (b: Buffer, at: number): number => b.readUInt32LE(at);

function parseRecord(buf: Buffer, at: number, end: number, where: string): DirRecord {
  const length = buf[at]!;
  if (length < 34 || at + length > end) throw isoError(`ISO image: a directory record in ${where} is ${length} bytes long and runs past its directory; the image is damaged`);
  const nameLength = buf[at + 32]!;
  if (33 + nameLength > length) throw isoError(`ISO image: a directory record's name in ${where} runs past the record; the image is damaged`);
  const suStart = 33 + nameLength + (nameLength % 2 === 0 ? 1 : 0);
  return {
    length,
    extAttrLength: buf[at + 1]!,
    extent: u32le(buf, at + 2),
    dataLength: u32le(buf, at + 10),
    flags: buf[at + 25]!,
    rawName: buf.subarray(at + 33, at + 33 + nameLength),
    systemUse: suStart < length ? buf.subarray(at + suStart, at + length) : Buffer.alloc(0),
  };
}

function isoName(raw: Buffer): string {
  let n = raw.toString('latin1');
  n = n.replace(/;\d*$/, '');
  n = n.replace(/\.$/, '');
  return n.toLowerCase();
}

function jolietName(raw: Buffer): string {
  const even = raw.length - (raw.length % 2);
  const swapped = Buffer.alloc(even);
  for (let i = 0; i < even; i += 2) {
    swapped[i] = raw[i + 1]!;
    swapped[i + 1] = raw[i]!;
  }
  let n = swapped.toString('utf16le');
  n = n.replace(/;\d*$/, '');
  n = n.replace(/\.$/, '');
  return n;
}

interface RockRidge {
  name: string | null;
  /** NM CURRENT / PARENT: the "." / ".." entries. */
  dotEntry: boolean;
  /** CL: this placeholder stands for a relocated directory at this block. */
  childLink: number | null;
  /** RE: the relocated directory itself (hidden where it physically is). */
  relocated: boolean;
  symlink: boolean;
  /** SP in this area: SUSP in use, with this many bytes to skip. */
  sp: number | null;
}

interface Tree {
  naming: Naming;
  root: IsoEntry;
  rootExtent: number;
}

export class IsoImage {
  private readonly cache = new Map<number, Map<string, IsoEntry[]>>();
  private readonly order = new Map<number, IsoEntry[]>();
  private suspSkip = 0;
  private tree!: Tree;

  private constructor(
    readonly path: string,
    private readonly fh: FileHandle,
    readonly imageSize: number,
  ) {}

  /** Opens an ISO 9660 image; throws MEDIA_ERRORS.format when it is not one (or is damaged). */
  static async open(path: string): Promise<IsoImage> {
    let fh: FileHandle;
    try {
      fh = await open(path, 'r');
    } catch (e) {
      throw isoError(`cannot open "${path}": ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}; give the path of the medium's .iso file or its mounted directory`, { path });
    }
    try {
      const st = await fh.stat();
      if (!st.isFile()) throw isoError(`"${path}" is not a file`, { path });
      const image = new IsoImage(path, fh, st.size);
      await image.readVolumeDescriptors();
      return image;
    } catch (e) {
      await fh.close().catch(() => undefined);
      throw e;
    }
  }

  /** Which names this image is read with. */
  get naming(): Naming {
    return this.tree.naming;
  }

  async close(): Promise<void> {
    this.cache.clear();
    this.order.clear();
    await this.fh.close().catch(() => undefined);
  }

  /** Reads exactly `length` bytes at `position`, refusing ranges past the image. */
  async readAt(position: number, length: number, what: string): Promise<Buffer> {
    if (!Number.isSafeInteger(position) || !Number.isSafeInteger(length) || position < 0 || length < 0 || position + length > this.imageSize) {
      throw isoError(`ISO image: ${what} (bytes ${position}–${position + length}) runs past the end of the ${this.imageSize}-byte image; the image is truncated or damaged`, { path: this.path });
    }
    const buf = Buffer.alloc(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await this.fh.read(buf, done, length - done, position + done);
      if (bytesRead === 0) throw isoError(`ISO image: ${what}: the image ended early (was it changed while being read?)`, { path: this.path });
      done += bytesRead;
    }
    return buf;
  }

  private async readVolumeDescriptors(): Promise<void> {
    if (this.imageSize < 17 * SECTOR) throw isoError(`"${this.path}" is ${this.imageSize} bytes: too small to be an ISO 9660 image`, { path: this.path });
    let primary: Buffer | null = null;
    let joliet: Buffer | null = null;
    let terminated = false;
    for (let i = 0; i < ISO_LIMITS.maxVolumeDescriptors; i++) {
      const at = (16 + i) * SECTOR;
      if (at + SECTOR > this.imageSize) break;
      const vd = await this.readAt(at, SECTOR, 'a volume descriptor');
      if (vd.toString('latin1', 1, 6) !== 'CD001') {
        if (i === 0) throw isoError(`"${this.path}" is not an ISO 9660 image (no CD001 volume descriptor at sector 16); give the medium's .iso file or its mounted directory`, { path: this.path });
        break;
      }
      const type = vd[0]!;
      if (type === 255) {
        terminated = true;
        break;
      }
      if (type === 1 && primary === null) primary = vd;
      if (type === 2 && joliet === null && vd[88] === 0x25 && vd[89] === 0x2f && (vd[90] === 0x40 || vd[90] === 0x43 || vd[90] === 0x45)) joliet = vd;
    }
    if (primary === null) throw isoError(`"${this.path}": the ISO image has no primary volume descriptor; it is damaged`, { path: this.path });
    if (!terminated) throw isoError(`"${this.path}": the ISO image's volume descriptors have no terminator; it is damaged`, { path: this.path });
    const blockSize = primary.readUInt16LE(128);
    if (blockSize !== SECTOR) throw isoError(`"${this.path}": logical block size ${blockSize} is not supported (only 2048)`, { path: this.path });

    const primaryRoot = this.rootEntry(primary, 'primary');
    // Rock Ridge: the root's "." record carries SUSP SP (and usually RR/ER).
    const rootDir = await this.readAt(primaryRoot.offset, Math.min(primaryRoot.size, SECTOR), 'the root directory');
    const dot = parseRecord(rootDir, 0, rootDir.length, 'the root directory');
    if (dot.rawName.length !== 1 || dot.rawName[0] !== 0) throw isoError(`"${this.path}": the root directory does not start with its "." record; the image is damaged`, { path: this.path });
    const rr = await this.rockRidge(dot.systemUse, true);
    if (rr.sp !== null) {
      this.suspSkip = rr.sp;
      this.tree = { naming: 'rockridge', root: primaryRoot, rootExtent: primaryRoot.offset / SECTOR };
    } else if (joliet !== null) {
      const root = this.rootEntry(joliet, 'Joliet');
      this.tree = { naming: 'joliet', root, rootExtent: root.offset / SECTOR };
    } else {
      this.tree = { naming: 'iso9660', root: primaryRoot, rootExtent: primaryRoot.offset / SECTOR };
    }
  }

  private rootEntry(vd: Buffer, which: string): IsoEntry {
    const rec = parseRecord(vd, 156, 156 + 34, `the ${which} volume descriptor`);
    if ((rec.flags & 0x02) === 0) throw isoError(`"${this.path}": the ${which} root is not a directory; the image is damaged`, { path: this.path });
    const entry: IsoEntry = { name: '', directory: true, offset: (rec.extent + rec.extAttrLength) * SECTOR, size: rec.dataLength, multiExtent: false };
    this.checkExtent(entry, `the ${which} root directory`);
    return entry;
  }

  private checkExtent(e: IsoEntry, what: string): void {
    if (e.offset + e.size > this.imageSize) throw isoError(`ISO image: ${what} (${e.size} bytes at ${e.offset}) runs past the end of the ${this.imageSize}-byte image; the image is truncated or damaged`, { path: this.path });
  }

  /** Rock Ridge fields of a system use area, following CE continuation areas (bounded). */
  private async rockRidge(area: Buffer, isRootDot = false): Promise<RockRidge> {
    const out: RockRidge = { name: null, dotEntry: false, childLink: null, relocated: false, symlink: false, sp: null };
    let buf = isRootDot ? area : area.subarray(Math.min(this.suspSkip, area.length));
    const name: string[] = [];
    let nameDone = false;
    for (let hops = 0; ; hops++) {
      let next: { block: number; offset: number; length: number } | null = null;
      let at = 0;
      while (at + 4 <= buf.length) {
        const sig = buf.toString('latin1', at, at + 2);
        const len = buf[at + 2]!;
        if (buf[at] === 0) break; // padding
        if (len < 4 || at + len > buf.length) throw isoError('ISO image: a Rock Ridge (SUSP) entry runs past its system use area; the image is damaged', { path: this.path });
        const body = buf.subarray(at + 4, at + len);
        if (sig === 'ST') break;
        if (sig === 'SP' && isRootDot && at === 0 && len >= 7 && body[0] === 0xbe && body[1] === 0xef) out.sp = body[2]!;
        else if (sig === 'CE' && len >= 28) next = { block: body.readUInt32LE(0), offset: body.readUInt32LE(8), length: body.readUInt32LE(16) };
        else if (sig === 'NM' && len >= 5 && !nameDone) {
          const flags = body[0]!;
          if ((flags & 0x06) !== 0) out.dotEntry = true;
          name.push(body.subarray(1).toString('utf8'));
          if ((flags & 0x01) === 0) nameDone = true;
        } else if (sig === 'CL' && len >= 12) out.childLink = body.readUInt32LE(0);
        else if (sig === 'RE') out.relocated = true;
        else if (sig === 'SL') out.symlink = true;
        at += len;
      }
      if (next === null) break;
      if (hops + 1 > ISO_LIMITS.maxContinuations) throw isoError(`ISO image: more than ${ISO_LIMITS.maxContinuations} Rock Ridge continuation areas for one entry (a loop?); the image is damaged`, { path: this.path });
      if (next.length > ISO_LIMITS.maxContinuationBytes) throw isoError(`ISO image: a Rock Ridge continuation area of ${next.length} bytes; the image is damaged`, { path: this.path });
      buf = await this.readAt(next.block * SECTOR + next.offset, next.length, 'a Rock Ridge continuation area');
    }
    if (name.length > 0) out.name = name.join('');
    return out;
  }

  /** The entries of the directory at `dir` (parsed once, cached). */
  private async entries(dir: IsoEntry): Promise<IsoEntry[]> {
    const key = dir.offset;
    const cached = this.order.get(key);
    if (cached !== undefined) return cached;
    if (dir.size > ISO_LIMITS.maxDirectoryBytes) throw isoError(`ISO image: a directory of ${dir.size} bytes is over the ${ISO_LIMITS.maxDirectoryBytes / 2 ** 20} MiB limit; the image is damaged`, { path: this.path });
    this.checkExtent(dir, 'a directory');
    const buf = await this.readAt(dir.offset, dir.size, 'a directory');
    const list: IsoEntry[] = [];
    const byName = new Map<string, IsoEntry[]>();
    let at = 0;
    let records = 0;
    let pendingMulti: IsoEntry | null = null;
    while (at < buf.length) {
      if (buf[at] === 0) {
        // Records never cross a sector: the rest of this sector is padding.
        at = (Math.floor(at / SECTOR) + 1) * SECTOR;
        continue;
      }
      if (++records > ISO_LIMITS.maxRecords) throw isoError(`ISO image: a directory with more than ${ISO_LIMITS.maxRecords} records; the image is damaged`, { path: this.path });
      const rec = parseRecord(buf, at, buf.length, 'a directory');
      at += rec.length;
      if (rec.rawName.length === 1 && (rec.rawName[0] === 0 || rec.rawName[0] === 1)) continue; // "." and ".."
      if (rec.rawName.length === 0) throw isoError('ISO image: a directory record without a name; the image is damaged', { path: this.path });
      let name: string;
      let directory = (rec.flags & 0x02) !== 0;
      let extent = rec.extent;
      let size = rec.dataLength;
      if (this.tree.naming === 'rockridge') {
        const rr = await this.rockRidge(rec.systemUse);
        if (rr.dotEntry || rr.relocated || rr.symlink) continue;
        name = rr.name ?? isoName(rec.rawName);
        if (rr.childLink !== null) {
          // A relocated directory: its records live at the CL block; its size is its "." record's.
          const head = await this.readAt(rr.childLink * SECTOR, SECTOR, 'a relocated directory');
          const dot = parseRecord(head, 0, head.length, 'a relocated directory');
          directory = true;
          extent = rr.childLink;
          size = dot.dataLength;
        }
      } else if (this.tree.naming === 'joliet') {
        name = jolietName(rec.rawName);
      } else {
        name = isoName(rec.rawName);
      }
      if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) {
        throw isoError(`ISO image: a directory holds an entry named ${JSON.stringify(name)}; the image is damaged or hostile`, { path: this.path });
      }
      const multi = (rec.flags & 0x80) !== 0;
      if (pendingMulti !== null) {
        // The following records of a multi-extent file carry its name again.
        if (pendingMulti.name === name) {
          if (!multi) pendingMulti = null;
          continue;
        }
        pendingMulti = null;
      }
      const entry: IsoEntry = { name, directory, offset: (extent + extAttrBlocks(rec, directory)) * SECTOR, size, multiExtent: multi };
      if (multi) pendingMulti = entry;
      list.push(entry);
      const k = name.toLowerCase();
      const same = byName.get(k);
      if (same === undefined) byName.set(k, [entry]);
      else same.push(entry);
    }
    if (this.order.size >= ISO_LIMITS.maxCachedDirectories) {
      this.order.clear();
      this.cache.clear();
    }
    this.order.set(key, list);
    this.cache.set(key, byName);
    return list;
  }

  private async child(dir: IsoEntry, name: string): Promise<IsoEntry | null> {
    await this.entries(dir);
    const same = this.cache.get(dir.offset)?.get(name.toLowerCase());
    if (same === undefined) return null;
    return same.find((e) => e.name === name) ?? same[0] ?? null;
  }

  /** The entry at `path` (case-insensitive fallback per segment); null when absent. */
  async lookup(path: string): Promise<IsoEntry | null> {
    const segments = splitMediaPath(path);
    let cur = this.tree.root;
    const ancestors = new Set<number>([cur.offset]);
    for (const seg of segments) {
      if (!cur.directory) return null;
      const next = await this.child(cur, seg);
      if (next === null) return null;
      if (next.directory) {
        if (ancestors.has(next.offset)) throw isoError(`ISO image: directory "${path}" contains itself (a loop); the image is damaged or hostile`, { path: this.path });
        ancestors.add(next.offset);
      }
      cur = next;
    }
    return cur;
  }

  private async file(path: string): Promise<IsoEntry | null> {
    const e = await this.lookup(path);
    if (e === null || e.directory) return null;
    if (e.multiExtent) throw isoError(`"${path}" on the ISO image spans several extents (a file over 4 GiB); pxepoint media never hold such files (rule 94), rebuild the medium`, { path });
    this.checkExtent(e, `"${path}"`);
    return e;
  }

  async size(path: string): Promise<number | null> {
    return (await this.file(path))?.size ?? null;
  }

  async readFile(path: string, maxBytes = DEFAULT_MAX_READ_BYTES): Promise<Buffer | null> {
    const e = await this.file(path);
    if (e === null) return null;
    if (e.size > maxBytes) throw isoError(`"${path}" is ${e.size} bytes, over the ${maxBytes}-byte limit for reading it whole; stream it instead`, { path });
    return this.readAt(e.offset, e.size, `"${path}"`);
  }

  async stream(path: string): Promise<Readable> {
    const e = await this.file(path);
    if (e === null) throw isoError(`"${path}" is not a file on the medium`, { path });
    if (e.size === 0) return Readable.from([]);
    return createReadStream(this.path, { start: e.offset, end: e.offset + e.size - 1 });
  }

  async list(dir: string): Promise<string[] | null> {
    const e = await this.lookup(dir);
    if (e === null || !e.directory) return null;
    const seen = new Set<string>();
    const names: string[] = [];
    for (const entry of await this.entries(e)) {
      if (seen.has(entry.name)) continue;
      seen.add(entry.name);
      names.push(entry.name);
    }
    return names.sort();
  }
}

/** Data of a file starts after its extended attribute record; a relocated directory's placeholder has none that counts. */
function extAttrBlocks(rec: DirRecord, directory: boolean): number {
  return directory && (rec.flags & 0x02) === 0 ? 0 : rec.extAttrLength;
}
