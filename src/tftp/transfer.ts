/**
 * One read transfer as a state machine, free of sockets and clocks so every rule is
 * a unit test: the server feeds it packets from the right client and gives it a
 * `send` and a timer.
 *
 * Blocks are numbered absolutely inside (1, 2, … 2^53) and put on the wire modulo
 * 65536, so a file of more than 65535 blocks rolls over to block 0 (what tftp-hpa and
 * Windows clients expect). An ACK is mapped back to the one absolute block in
 * [base-1, sentTo] with that wire number; windows are at most 65535 blocks, so the
 * mapping is unambiguous.
 *
 * Rules (RFC 1350, 2347, 7440):
 * - ACK of the whole window → send the next window.
 * - ACK of an earlier block in the window → restart the window just after it
 *   (RFC 7440 §4), at once, not on timeout (the atftpd stall).
 * - ACK of a block already acknowledged (duplicate, stale, reordered) → ignored, so a
 *   duplicated ACK never triggers a second burst (no Sorcerer's Apprentice).
 * - Timeout → resend the unacknowledged window (or the OACK); after `retries`
 *   timeouts without progress the client is taken as gone.
 */
import { encodeOack, OPCODE, type TftpOption } from './packet.js';
import type { BlockStream } from './reader.js';

export interface TransferTimer {
  /** (Re)starts the single retransmission timer. */
  arm(ms: number): void;
  cancel(): void;
}

export interface TransferIo {
  /** Sends one datagram to the client; `buf` must not be modified until acknowledged. */
  send(buf: Buffer): void;
  /**
   * Optional batch path (the native sendmmsg in server.ts): sends `count` DATA packets
   * of the window ring in one go, packet j being `ring[slot*stride, +lens[slot])` with
   * slot = (first + j) % lens.length. When present, DATA goes only through here (the
   * OACK still through `send`); the ring is not modified until its blocks are acknowledged.
   */
  sendSlots?(ring: Buffer, stride: number, lens: Uint32Array, first: number, count: number): void;
  /** Creates the transfer's one timer, calling `onFire` when it expires. */
  createTimer(onFire: () => void): TransferTimer;
  /** Milliseconds, monotonic. */
  now(): number;
}

export type TransferOutcome = 'ok' | 'client-error' | 'timeout' | 'read-error' | 'cancelled';

export interface TransferResult {
  outcome: TransferOutcome;
  /** File bytes the client acknowledged. */
  bytes: number;
  blocks: number;
  /** DATA or OACK packets sent more than once. */
  retransmits: number;
  /** ACKs ignored as duplicate or stale. */
  duplicateAcks: number;
  /** Times sending had to wait for the disk (read-ahead not ready). */
  readStalls: number;
  /** Retransmission timeouts that fired. */
  timeouts: number;
  durationMs: number;
  /** Set when the client ended the transfer with an ERROR packet. */
  clientError?: { code: number; message: string };
  /** Set for read errors and cancellations. */
  reason?: string;
}

export interface TransferParams {
  blksize: number;
  windowsize: number;
  timeoutMs: number;
  /** Timeouts without progress before giving up. */
  retries: number;
  /** Options to acknowledge; null → start with DATA 1. */
  oack: TftpOption[] | null;
}

export class Transfer {
  /**
   * The window: one buffer of `windowsize + 1` slots of blksize+4 bytes (block n lives
   * in slot n % slots), allocated at the first DATA and reused for every window. The
   * spare slot holds the first block of the next window, read ahead by `prefill()`
   * while the ACK is awaited: blocks base..base+windowsize are then all in distinct slots.
   */
  private ring: Buffer | null = null;
  private readonly slots: number;
  private readonly stride: number;
  /** Packet length per slot (header + data). */
  private readonly lens: Uint32Array;
  /** The exact bytes to send per slot, for the one-datagram-per-send path (views of the ring). */
  private readonly packets: Buffer[] = [];
  private readonly oackPacket: Buffer | null;
  private readonly timer: TransferTimer;
  private readonly startedAt: number;

  private phase: 'oack' | 'data' | 'done' = 'data';
  /** First block not yet acknowledged. */
  private base = 1;
  /** Highest block read into a slot. */
  private filled = 0;
  /** Highest block ever sent. */
  private sentTo = 0;
  /** The final block (the first shorter than blksize), once known. */
  private last = Number.POSITIVE_INFINITY;
  /** Next block to send in the current burst, and the burst's end. */
  private cursor = 1;
  private burstEnd = 0;
  private waitingForData = false;
  private retriesLeft: number;

  private bytesAcked = 0;
  private lastBlockLen = 0;
  private retransmits = 0;
  private duplicateAcks = 0;
  private readStalls = 0;
  private timeouts = 0;
  private result: TransferResult | null = null;

  constructor(
    private readonly params: TransferParams,
    private readonly reader: BlockStream,
    private readonly io: TransferIo,
    private readonly onEnd: (r: TransferResult) => void,
  ) {
    this.retriesLeft = params.retries;
    this.stride = params.blksize + 4;
    this.slots = params.windowsize + 1;
    this.lens = new Uint32Array(this.slots);
    this.oackPacket = params.oack ? encodeOack(params.oack) : null;
    this.timer = io.createTimer(() => this.onTimeout());
    this.startedAt = io.now();
  }

  get done(): boolean {
    return this.phase === 'done';
  }

  /**
   * True while everything due has been sent and the client's acknowledgement is
   * awaited: the OACK, or a whole burst of the window (not while waiting for the disk).
   * The server's busy-poll (server.ts, busyPollMicros) spins only then.
   */
  get awaitingAck(): boolean {
    return this.phase === 'oack' || (this.phase === 'data' && !this.waitingForData && this.cursor > this.burstEnd && this.sentTo > 0);
  }

  start(): void {
    if (this.oackPacket) {
      this.phase = 'oack';
      this.io.send(this.oackPacket);
      this.timer.arm(this.params.timeoutMs);
    } else {
      this.startBurst(1);
    }
  }

  /** A datagram from the transfer's client (source already checked by the server). */
  handlePacket(msg: Buffer): void {
    if (this.phase === 'done' || msg.length < 4 || msg[0] !== 0) return;
    const op = msg[1];
    if (op === OPCODE.ACK) this.onAck(msg.readUInt16BE(2));
    else if (op === OPCODE.ERROR) {
      const end = msg.indexOf(0, 4);
      this.finish('client-error', {
        clientError: { code: msg.readUInt16BE(2), message: msg.toString('latin1', 4, end < 0 ? msg.length : end) },
      });
    }
    // Anything else from the client (DATA, a repeated RRQ) is ignored: it cannot
    // advance a read transfer, and answering it could loop with a confused peer.
  }

  onAck(wire: number): void {
    if (this.phase === 'done') return;
    if (this.phase === 'oack') {
      if (wire !== 0) return; // RFC 2347: the OACK is acknowledged with ACK 0
      this.phase = 'data';
      this.retriesLeft = this.params.retries;
      this.startBurst(1);
      return;
    }
    // Map to the absolute block in [base-1, base-1+65535].
    const prev = this.base - 1;
    const k = prev + ((wire - (prev & 0xffff)) & 0xffff);
    if (k === prev || k > this.sentTo) {
      this.duplicateAcks++;
      return;
    }
    const newlyAcked = k - prev;
    this.bytesAcked += newlyAcked * this.params.blksize;
    this.base = k + 1;
    this.retriesLeft = this.params.retries;
    if (k >= this.last) {
      // The last block counted as a full block above; correct for its real length.
      this.bytesAcked -= this.params.blksize - this.lastBlockLen;
      this.finish('ok');
      return;
    }
    // Either the whole burst was acknowledged (next window) or the client reported a
    // gap at k+1 (RFC 7440 §4: restart from there). Both start a window at k+1.
    this.startBurst(this.base);
  }

  private startBurst(from: number): void {
    this.cursor = from;
    this.burstEnd = Math.min(this.base + this.params.windowsize - 1, this.last);
    if (!this.waitingForData) this.pump();
  }

  /**
   * Reads the block after the current burst into its slot now, so that the ACK is
   * answered without a read: called by the server while it busy-polls for the ACK.
   * Never waits: when the reader has no data ready it does nothing.
   */
  prefill(): void {
    // Not while the OACK waits: OVMF aborts after it (tsize probe), so nothing is read for it.
    if (this.phase !== 'data' || !this.awaitingAck) return;
    const n = this.filled + 1;
    if (n > this.last || n > this.base + this.params.windowsize) return;
    this.fillSlot(this.ring ??= Buffer.allocUnsafe(this.slots * this.stride), n);
  }

  /** Reads block n into its slot with its DATA header; returns the data length, or -1 (not ready). */
  private fillSlot(ring: Buffer, n: number): number {
    const { blksize } = this.params;
    const i = n % this.slots;
    const off = i * this.stride;
    const got = this.reader.fill(ring, off + 4, blksize);
    if (got < 0) return -1;
    ring[off] = 0;
    ring[off + 1] = OPCODE.DATA;
    ring[off + 2] = (n >>> 8) & 0xff;
    ring[off + 3] = n & 0xff;
    this.lens[i] = 4 + got;
    if (this.io.sendSlots === undefined) {
      // A view per slot, made once; the short final block gets its own.
      const p = this.packets[i];
      this.packets[i] = p !== undefined && p.length === 4 + got ? p : ring.subarray(off, off + 4 + got);
    }
    this.filled = n;
    if (got < blksize) {
      this.last = n;
      this.lastBlockLen = got;
    }
    return got;
  }

  /** Sends blocks cursor..burstEnd, reading them as needed; re-entered after a disk wait. */
  private pump(): void {
    const stride = this.stride;
    const slots = this.slots;
    const batch = this.io.sendSlots !== undefined;
    const ring = (this.ring ??= Buffer.allocUnsafe(slots * stride));
    // Batch path: the run of slots [batchFirst, +batchCount) is sent in one call.
    let batchFirst = 0;
    let batchCount = 0;
    let kicked = false;
    while (this.cursor <= this.burstEnd) {
      const n = this.cursor;
      const i = n % slots;
      if (n > this.filled) {
        const got = this.fillSlot(ring, n);
        if (got < 0) {
          // Send what is ready before waiting for the disk.
          if (batchCount > 0) this.io.sendSlots!(ring, stride, this.lens, batchFirst, batchCount);
          this.waitingForData = true;
          this.readStalls++;
          this.reader.wait().then(
            () => {
              this.waitingForData = false;
              if (this.phase === 'data') this.pump();
            },
            (err: unknown) => {
              this.waitingForData = false;
              this.finish('read-error', { reason: err instanceof Error ? err.message : String(err) });
            },
          );
          return;
        }
        if (n === this.last && this.burstEnd > n) this.burstEnd = n;
      }
      if (n <= this.sentTo) this.retransmits++;
      else this.sentTo = n;
      if (batch) {
        if (batchCount === 0) batchFirst = i;
        batchCount++;
        if (!kicked) {
          // The first packet leaves at once, alone: the client's wake-up (an IPI, tens
          // of µs in a VM) then overlaps with reading and sending the rest of the window.
          kicked = true;
          this.io.sendSlots!(ring, stride, this.lens, batchFirst, batchCount);
          batchCount = 0;
        }
      } else this.io.send(this.packets[i] as Buffer);
      this.cursor = n + 1;
    }
    if (batchCount > 0) this.io.sendSlots!(ring, stride, this.lens, batchFirst, batchCount);
    this.timer.arm(this.params.timeoutMs);
  }

  private onTimeout(): void {
    if (this.phase === 'done') return;
    if (this.retriesLeft <= 0) {
      this.finish('timeout', { reason: `no acknowledgement after ${this.params.retries} retransmissions` });
      return;
    }
    this.retriesLeft--;
    this.timeouts++;
    if (this.phase === 'oack') {
      this.retransmits++;
      this.io.send(this.oackPacket as Buffer);
      this.timer.arm(this.params.timeoutMs);
      return;
    }
    this.startBurst(this.base);
  }

  cancel(reason: string): void {
    this.finish('cancelled', { reason });
  }

  private finish(outcome: TransferOutcome, extra: Partial<TransferResult> = {}): void {
    if (this.phase === 'done') return;
    this.phase = 'done';
    this.timer.cancel();
    this.result = {
      outcome,
      bytes: Math.max(0, this.bytesAcked),
      blocks: this.base - 1,
      retransmits: this.retransmits,
      duplicateAcks: this.duplicateAcks,
      readStalls: this.readStalls,
      timeouts: this.timeouts,
      durationMs: this.io.now() - this.startedAt,
      ...extra,
    };
    this.onEnd(this.result);
  }
}
