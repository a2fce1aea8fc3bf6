/**
 * Where TFTP bytes come from: a small resolver interface (the one thing tftp/ asks
 * of the outside), a disk resolver confined to a root, generated per-client files
 * for the PXE layer, and a composite that tries them in order.
 */
import { promises as fsp, constants as fsc } from 'node:fs';
import { loadNativeNet } from '../native/udp-device.js';
import { normalizeRequestName, resolveUnderRoot, TftpAccessError } from './paths.js';

export interface TftpClientInfo {
  address: string;
  port: number;
}

export interface TftpFileSource {
  /** Size in octets, known before the first byte is sent (tsize). */
  readonly size: number;
  /**
   * Reads up to `length` bytes at `position`. When `into` is given and large enough
   * the bytes are read into it (no allocation); the result is a view of the bytes
   * read, shorter than `length` only at the end of the file.
   */
  read(position: number, length: number, into?: Buffer): Promise<Buffer>;
  /**
   * Optional synchronous read of bytes that need no waiting (a disk file's pages
   * already in the page cache): reads `length` bytes at `position` into
   * `into[offset…]` and returns how many (fewer only at the end of the file), or -1
   * when that would mean waiting for the disk (use `read` then). Never blocks.
   */
  readNow?(position: number, length: number, into: Buffer, offset: number): number;
  close(): Promise<void>;
}

export interface TftpFileResolver {
  /**
   * The file a client asked for, or null when there is none (TFTP error 1).
   * Rejects with TftpAccessError to refuse (TFTP error 2).
   */
  open(name: string, client: TftpClientInfo): Promise<TftpFileSource | null>;
}

/** An in-memory file (generated content); reads are views, never copies. */
export function bufferSource(data: Buffer): TftpFileSource {
  return {
    size: data.length,
    async read(position, length) {
      return data.subarray(Math.min(position, data.length), Math.min(position + length, data.length));
    },
    async close() {},
  };
}

/** preadv2(RWF_NOWAIT) from the addon, when it is built with it. */
type PreadNoWait = (fd: number, buf: Buffer, offset: number, length: number, position: number) => number;
let preadNoWait: PreadNoWait | null | undefined;
function cachedReader(): PreadNoWait | null {
  if (preadNoWait === undefined) {
    const addon = loadNativeNet().addon;
    preadNoWait = typeof addon?.preadNoWait === 'function' ? addon.preadNoWait.bind(addon) : null;
  }
  return preadNoWait;
}

class DiskSource implements TftpFileSource {
  readonly readNow?: (position: number, length: number, into: Buffer, offset: number) => number;
  constructor(
    private readonly handle: fsp.FileHandle,
    readonly size: number,
  ) {
    const pread = cachedReader();
    if (pread) {
      let usable = true;
      this.readNow = (position, length, into, offset) => {
        if (!usable || this.handle.fd < 0) return -1; // fd is -1 once closed
        let got = 0;
        while (got < length) {
          const n = pread(this.handle.fd, into, offset + got, length - got, position + got);
          if (n === 0) return got; // end of file
          if (n < 0) {
            if (n !== -11) usable = false; // not EAGAIN: the file system cannot; stop asking
            return -1;
          }
          got += n;
        }
        return got;
      };
    }
  }

  async read(position: number, length: number, into?: Buffer): Promise<Buffer> {
    const target = into && into.length >= length ? into : Buffer.allocUnsafe(length);
    let got = 0;
    // A regular file returns short reads only at EOF, but loop to be safe.
    while (got < length) {
      const { bytesRead } = await this.handle.read(target, got, length - got, position + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return target.subarray(0, got);
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

/** Serves regular files under `root` (see paths.ts for the name policy). */
export function createDiskResolver(root: string): TftpFileResolver {
  let realRoot: Promise<string> | null = null;
  return {
    async open(name) {
      const norm = normalizeRequestName(name);
      if (!norm.ok) throw new TftpAccessError(norm.reason);
      realRoot ??= fsp.realpath(root);
      const real = await resolveUnderRoot(await realRoot, norm.segments);
      if (real === null) return null;
      let handle: fsp.FileHandle;
      try {
        // O_NOFOLLOW: `real` is already a realpath; a symlink appearing here is a race.
        handle = await fsp.open(real, fsc.O_RDONLY | fsc.O_NOFOLLOW);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EACCES' || code === 'EPERM' || code === 'ELOOP') throw new TftpAccessError(`cannot open: ${code}`);
        return null;
      }
      let st: Awaited<ReturnType<fsp.FileHandle['stat']>>;
      try {
        st = await handle.stat();
      } catch (e) {
        await handle.close().catch(() => undefined); // never left to the garbage collector
        throw e;
      }
      if (!st.isFile()) {
        await handle.close();
        return null; // directories and devices are "not found", never streamed
      }
      return new DiskSource(handle, st.size);
    },
  };
}

export type GeneratedFile = (client: TftpClientInfo) => Buffer | null | Promise<Buffer | null>;

/**
 * Per-client files that do not exist on disk (iPXE scripts, variables files).
 * Names are matched after the same normalisation as disk names, case-insensitively,
 * so `\SMSTemp\x.var` and `smstemp/X.VAR` are one file.
 */
export class GeneratedFiles implements TftpFileResolver {
  private readonly files = new Map<string, GeneratedFile>();

  set(name: string, generate: GeneratedFile): this {
    const norm = normalizeRequestName(name);
    if (!norm.ok) throw new TypeError(`generated TFTP file name "${name}" is not servable: ${norm.reason}`);
    this.files.set(norm.key, generate);
    return this;
  }

  delete(name: string): boolean {
    const norm = normalizeRequestName(name);
    return norm.ok ? this.files.delete(norm.key) : false;
  }

  has(name: string): boolean {
    const norm = normalizeRequestName(name);
    return norm.ok && this.files.has(norm.key);
  }

  async open(name: string, client: TftpClientInfo): Promise<TftpFileSource | null> {
    const norm = normalizeRequestName(name);
    if (!norm.ok) throw new TftpAccessError(norm.reason);
    const generate = this.files.get(norm.key);
    if (!generate) return null;
    const data = await generate(client);
    return data ? bufferSource(data) : null;
  }
}

/** Tries each resolver in order; the first file found wins, an access refusal stops the search. */
export function composeResolvers(...resolvers: TftpFileResolver[]): TftpFileResolver {
  return {
    async open(name, client) {
      for (const r of resolvers) {
        const src = await r.open(name, client);
        if (src) return src;
      }
      return null;
    },
  };
}
