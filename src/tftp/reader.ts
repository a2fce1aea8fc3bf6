/**
 * Sequential block reader with bounded memory: a few read-ahead chunks per transfer
 * (one being copied into DATA packets, the others filled from disk back to back), so
 * a transfer never holds more than depth × chunk bytes of the file however large it
 * is, and the disk is asked for big reads instead of one read per block.
 *
 * The transfer only ever moves forward through the file: blocks it may have to
 * retransmit are kept in its window buffers (transfer.ts), so this reader needs no
 * random access — which is also what makes netascii conversion cheap here.
 */
import type { TftpFileSource } from './files.js';
import { MAX_BLKSIZE } from './packet.js';

export interface BlockStream {
  /**
   * Copies the next `len` bytes of the stream into `dst` at `off`. Returns the number
   * copied (fewer than `len` only at the end of the stream), or -1 when the data is
   * not there yet: call `wait()` and try again. Nothing is consumed when it returns -1.
   */
  fill(dst: Buffer, off: number, len: number): number;
  wait(): Promise<void>;
  close(): Promise<void>;
}

export const DEFAULT_READ_AHEAD = 256 * 1024;

/** A few free chunk buffers kept between transfers, so short boots do not churn memory. */
const pool: Buffer[] = [];
const POOL_MAX = 8;
function takeChunk(size: number): Buffer {
  if (size === DEFAULT_READ_AHEAD) {
    const b = pool.pop();
    if (b) return b;
  }
  return Buffer.allocUnsafe(size);
}
function giveChunk(b: Buffer): void {
  if (b.length === DEFAULT_READ_AHEAD && pool.length < POOL_MAX) pool.push(b);
}

/** netascii (RFC 764 via RFC 1350): LF → CR LF, CR → CR NUL. Stateless, so chunking is free. */
export function toNetascii(src: Buffer, dst: Buffer): number {
  let o = 0;
  for (let i = 0; i < src.length; i++) {
    const c = src[i] as number;
    if (c === 0x0a) {
      dst[o++] = 0x0d;
      dst[o++] = 0x0a;
    } else if (c === 0x0d) {
      dst[o++] = 0x0d;
      dst[o++] = 0x00;
    } else dst[o++] = c;
  }
  return o;
}

interface Chunk {
  view: Buffer;
  raw?: Buffer;
  conv?: Buffer;
}

export class FileBlockReader implements BlockStream {
  private cur: Chunk = { view: Buffer.alloc(0) };
  private curPos = 0;
  /** Chunks read and waiting, in file order. */
  private readonly ready: Chunk[] = [];
  private readyBytes = 0;
  private pending: Promise<void> | null = null;
  private error: unknown = null;
  private filePos = 0;
  private readonly chunkSize: number;
  private readonly freeRaw: Buffer[] = [];
  private readonly freeConv: Buffer[] = [];
  private closed = false;
  /** Refills come from topUp() (synchronous, page cache only) instead of the thread pool. */
  private readonly syncTopUp: boolean;
  /** syncTopUp mode: requests of at least this many bytes are read straight into the caller's buffer. */
  private readonly directMin: number;

  /**
   * @param opts.readAhead chunk size (at least one maximum block)
   * @param opts.depth chunks held (default 3): one being copied from, the rest read
   *   ahead back to back, so a slow read does not stall the sender at every chunk.
   * @param opts.syncTopUp (sources with `readNow` only) a chunk freed is refilled by
   *   `topUp()`, which the server calls while it busy-polls for an ACK anyway, or on
   *   demand in `fill()`; only bytes not in the page cache go to the thread pool. A
   *   thread-pool read completes through the event loop, which a busy-polling server
   *   visits late, and competes with the sender for its CPU.
   * @param opts.directMin (syncTopUp, octet only; give it only when every fill() is at
   *   least this large) a `fill()` of at least this many bytes reads what is not buffered
   *   from the page cache straight into the caller's buffer (the window slot), without a
   *   chunk in between: one copy of each byte fewer. `topUp()` then refills no chunks.
   */
  constructor(
    private readonly source: TftpFileSource,
    opts: { readAhead?: number; netascii?: boolean; depth?: number; syncTopUp?: boolean; directMin?: number } = {},
  ) {
    this.syncTopUp = opts.syncTopUp === true && typeof source.readNow === 'function';
    this.directMin = this.syncTopUp && !opts.netascii && opts.directMin !== undefined && opts.directMin > 0 ? opts.directMin : Number.POSITIVE_INFINITY;
    const want = Math.max(opts.readAhead ?? DEFAULT_READ_AHEAD, MAX_BLKSIZE);
    // Small files get a chunk their size: no point holding 256 KiB for a 30 KiB NBP.
    this.chunkSize = Math.max(1, Math.min(want, source.size));
    const depth = source.size <= this.chunkSize ? 1 : Math.max(2, opts.depth ?? 3);
    for (let i = 0; i < depth; i++) {
      this.freeRaw.push(takeChunk(this.chunkSize));
      if (opts.netascii) this.freeConv.push(Buffer.allocUnsafe(this.chunkSize * 2));
    }
    this.prefetch();
  }

  private get sourceDone(): boolean {
    return this.filePos >= this.source.size;
  }

  /** Starts the next read if a buffer is free; each completed read chains the next. */
  private prefetch(): void {
    if (this.pending || this.sourceDone || this.error || this.closed) return;
    const raw = this.freeRaw.pop();
    if (!raw) return; // every buffer holds unread data
    const len = Math.min(this.chunkSize, this.source.size - this.filePos);
    this.pending = this.source.read(this.filePos, len, raw).then(
      (buf) => {
        this.pending = null;
        this.accept(buf, raw, len);
        if (!this.syncTopUp) this.prefetch();
      },
      (err: unknown) => {
        this.pending = null;
        this.freeRaw.push(raw);
        this.error = err ?? new Error('read failed');
      },
    );
  }

  /** A chunk read: `buf` (a view of `raw`, or the source's own) holds the next bytes. */
  private accept(buf: Buffer, raw: Buffer, len: number): void {
    if (buf.length < len) this.filePos = this.source.size; // the file shrank: stop here
    else this.filePos += buf.length;
    const conv = this.freeConv.pop();
    let chunk: Chunk;
    if (conv) {
      const n = toNetascii(buf, conv);
      this.freeRaw.push(raw);
      chunk = { view: conv.subarray(0, n), conv };
    } else {
      // A generated source may hand back its own view instead of filling `raw`.
      chunk = { view: buf, raw };
    }
    this.ready.push(chunk);
    this.readyBytes += chunk.view.length;
  }

  /**
   * syncTopUp mode: reads one chunk into a free buffer now if its bytes are in the page
   * cache (a few tens of µs for 256 KiB), else starts the thread-pool read. Returns
   * true when a chunk was added. Without syncTopUp it only starts a pending read-ahead.
   */
  topUp(): boolean {
    if (!this.syncTopUp) {
      this.prefetch();
      return false;
    }
    if (this.directMin !== Number.POSITIVE_INFINITY) return false; // blocks are read directly
    if (this.pending || this.sourceDone || this.error || this.closed) return false;
    const raw = this.freeRaw.pop();
    if (!raw) return false;
    const len = Math.min(this.chunkSize, this.source.size - this.filePos);
    const n = (this.source.readNow as NonNullable<TftpFileSource['readNow']>)(this.filePos, len, raw, 0);
    if (n < 0) {
      this.freeRaw.push(raw);
      this.prefetch();
      return false;
    }
    this.accept(raw.subarray(0, n), raw, len);
    return true;
  }

  /** Starts the next thread-pool read now if a buffer is free (the default behaviour after every chunk). */
  readAhead(): void {
    this.prefetch();
  }

  fill(dst: Buffer, off: number, len: number): number {
    if (this.error) return -1;
    let available = this.cur.view.length - this.curPos + this.readyBytes;
    if (len >= this.directMin && available < len && !this.pending && !this.closed) {
      // Buffered bytes (left from a chunk read after a cache miss) first, the rest
      // straight from the page cache into the slot; not cached → the chunk path below.
      const want = Math.min(len - available, this.source.size - this.filePos);
      const n = want <= 0 ? 0 : (this.source.readNow as NonNullable<TftpFileSource['readNow']>)(this.filePos, want, dst, off + available);
      if (n >= 0) {
        const copied = this.copyOut(dst, off, available);
        if (n < want) this.filePos = this.source.size; // the file shrank: stop here
        else this.filePos += n;
        return copied + n;
      }
    }
    while (available < len && this.syncTopUp && this.topUp()) available = this.cur.view.length - this.curPos + this.readyBytes;
    if (available < len && (this.pending || !this.sourceDone)) {
      this.prefetch();
      return -1;
    }
    return this.copyOut(dst, off, len);
  }

  /** Copies up to `len` buffered bytes (fewer only at the end of the stream). */
  private copyOut(dst: Buffer, off: number, len: number): number {
    let copied = 0;
    while (copied < len) {
      const view = this.cur.view;
      if (this.curPos >= view.length) {
        if (this.ready.length === 0) break; // end of stream
        this.swap();
        continue;
      }
      const n = Math.min(len - copied, view.length - this.curPos);
      view.copy(dst, off + copied, this.curPos, this.curPos + n);
      this.curPos += n;
      copied += n;
    }
    if (this.curPos >= this.cur.view.length && this.ready.length > 0) this.swap();
    return copied;
  }

  private release(c: Chunk): void {
    if (c.raw) this.freeRaw.push(c.raw);
    if (c.conv) this.freeConv.push(c.conv);
  }

  private swap(): void {
    this.release(this.cur);
    this.cur = this.ready.shift() as Chunk;
    this.readyBytes -= this.cur.view.length;
    this.curPos = 0;
    if (!this.syncTopUp) this.prefetch();
  }

  wait(): Promise<void> {
    if (this.error) return Promise.reject(this.error);
    this.prefetch();
    return this.pending ?? Promise.resolve();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.pending) await this.pending.catch(() => undefined);
    this.release(this.cur);
    for (const c of this.ready.splice(0)) this.release(c);
    this.readyBytes = 0;
    this.cur = { view: Buffer.alloc(0) };
    for (const b of this.freeRaw.splice(0)) giveChunk(b);
    await this.source.close();
  }
}
