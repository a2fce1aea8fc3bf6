/**
 * How DHCP replies leave: batched through the native addon's sendmmsg(2), or one
 * dgram send each (the pure-JS path). See docs/decisions/0014-dhcp-batched-send.md.
 *
 * Native path: a reply is copied into its endpoint's ring (one slot of STRIDE bytes
 * each, lengths and IPv4 destinations in typed arrays) and the rings are flushed once
 * per event-loop turn (setImmediate, i.e. after libuv has read what the socket had),
 * or at once when a ring is full (SLOTS replies). Only for sockets whose fd the addon
 * opened (the per-interface ones); wildcard sockets, non-numeric destinations and
 * replies larger than a slot go through dgram. What the kernel refuses for good is reported like a
 * dgram send error; what does not fit the socket buffer is handed to dgram, which
 * queues it until the socket is writable.
 *
 * Chosen once, at start: native when the addon has `sendBatch`, unless the caller says
 * otherwise or the environment has PXEPOINT_DHCP_NATIVE=0.
 */
import { getSystemErrorName } from 'node:util';
import { loadNativeNet, type NativeNet } from '../native/udp-device.js';
import { intToIp, ipToInt } from './ipv4.js';
import type { DhcpEndpoint } from './listener.js';

/** Slot size: a DHCP reply that fits an Ethernet frame (1500 − 28 bytes of IP and UDP headers). */
const STRIDE = 1472;
/**
 * Replies per ring; a full ring is sent at once. 16 amortises the syscall (one instead of
 * 16) without long bursts: 64 back-to-back replies overflowed perfdhcp's 208 KiB socket
 * buffer on the bench VM whenever its receiving thread was descheduled for a few ms.
 */
const SLOTS = 16;

type SendBatch = NonNullable<NativeNet['sendBatch']>;

export interface ReplySender {
  /** True when `send` on `ep` copies the bytes at once (the caller may reuse its buffer right after). */
  copies(ep: DhcpEndpoint): boolean;
  /** Sends (or queues for this turn) `bytes` to address:port through `ep`'s socket. */
  send(ep: DhcpEndpoint, bytes: Buffer, port: number, address: string): void;
  /** Sends what is queued now. */
  flush(): void;
  /** Sends what is queued and stops batching (later sends go through dgram). */
  close(): void;
}

export interface ReplySenderOptions {
  /** undefined: native when available and PXEPOINT_DHCP_NATIVE is not "0"; false: dgram only. */
  nativeSend?: boolean;
  /** For tests; defaults to the built addon. */
  native?: NativeNet | null;
  /** Sends the kernel refused for good (the same path as a dgram socket 'error'). */
  onError: (error: Error, ep: DhcpEndpoint) => void;
}

/** The addon's batch send, or null: the pure-JS path. */
export function selectBatchSend(want: boolean | undefined, native: NativeNet | null | undefined): SendBatch | null {
  if (want === false) return null;
  if (want === undefined && process.env.PXEPOINT_DHCP_NATIVE === '0') return null;
  const addon = native === undefined ? loadNativeNet().addon : native;
  // An addon built before the batch send existed lacks it: dgram then.
  if (!addon || typeof addon.sendBatch !== 'function') return null;
  return addon.sendBatch.bind(addon);
}

/** One dgram send, no callback (one allocation less; a failure arrives as the socket's 'error'). */
const dgramSend = (ep: DhcpEndpoint, bytes: Buffer, port: number, address: string): void => {
  ep.socket.send(bytes, port, address);
};

class Ring {
  readonly buf = Buffer.allocUnsafe(STRIDE * SLOTS);
  readonly lens = new Uint32Array(SLOTS);
  readonly addrs = new Uint32Array(SLOTS);
  readonly ports = new Uint32Array(SLOTS);
  count = 0;
  constructor(readonly ep: DhcpEndpoint, readonly fd: number) {}
}

class BatchedReplySender implements ReplySender {
  readonly #rings = new Map<DhcpEndpoint, Ring | null>();
  readonly #status = new Int32Array(2);
  #scheduled = false;
  #closed = false;

  constructor(
    private readonly sendBatch: SendBatch,
    private readonly onError: ReplySenderOptions['onError'],
  ) {}

  #ring(ep: DhcpEndpoint): Ring | null {
    let ring = this.#rings.get(ep);
    if (ring === undefined) {
      ring = ep.fd === null ? null : new Ring(ep, ep.fd);
      this.#rings.set(ep, ring);
    }
    return ring;
  }

  copies(ep: DhcpEndpoint): boolean {
    return !this.#closed && this.#ring(ep) !== null;
  }

  send(ep: DhcpEndpoint, bytes: Buffer, port: number, address: string): void {
    const ring = this.#closed ? null : this.#ring(ep);
    const ip = ring ? ipToInt(address) : NaN;
    if (!ring || bytes.length > STRIDE || Number.isNaN(ip) || !(port > 0 && port < 65536)) {
      if (ring) this.#flushRing(ring); // what was queued before leaves before this one
      // dgram keeps a reference until the datagram is sent: give it its own copy when
      // the caller counted on this one being copied.
      dgramSend(ep, ring ? Buffer.from(bytes) : bytes, port, address);
      return;
    }
    const j = ring.count++;
    bytes.copy(ring.buf, j * STRIDE);
    ring.lens[j] = bytes.length;
    ring.addrs[j] = ip;
    ring.ports[j] = port;
    if (ring.count === SLOTS) this.#flushRing(ring);
    else if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  #flushRing(ring: Ring): void {
    const count = ring.count;
    ring.count = 0;
    if (count === 0) return;
    const status = this.#status;
    status[0] = 0;
    let done: number;
    try {
      done = this.sendBatch(ring.fd, ring.buf, STRIDE, ring.lens, ring.addrs, ring.ports, count, status);
    } catch (e) {
      // Never expected (the arguments are ours); the replies still leave through dgram.
      this.onError(e as Error, ring.ep);
      done = 0;
    }
    if (status[0]! > 0) {
      const errno = status[1]!;
      for (let k = 0; k < status[0]!; k++) this.onError(errnoError(errno), ring.ep);
    }
    // The socket buffer is full: dgram queues the rest until the socket is writable.
    for (let j = done; j < count; j++) {
      const bytes = Buffer.from(ring.buf.subarray(j * STRIDE, j * STRIDE + ring.lens[j]!));
      dgramSend(ring.ep, bytes, ring.ports[j]!, intToIp(ring.addrs[j]!));
    }
  }

  flush(): void {
    this.#scheduled = false;
    for (const ring of this.#rings.values()) if (ring) this.#flushRing(ring);
  }

  close(): void {
    this.flush();
    this.#closed = true;
  }
}

/** Like the error dgram reports for a failed send (`send ENETUNREACH`). */
function errnoError(errno: number): Error {
  let code: string;
  try {
    code = getSystemErrorName(-errno);
  } catch {
    code = `E${errno}`;
  }
  const e = new Error(`send ${code}`) as NodeJS.ErrnoException;
  e.errno = -errno;
  e.code = code;
  e.syscall = 'send';
  return e;
}

class DgramReplySender implements ReplySender {
  copies(): boolean {
    return false;
  }

  send(ep: DhcpEndpoint, bytes: Buffer, port: number, address: string): void {
    dgramSend(ep, bytes, port, address);
  }
  flush(): void {}
  close(): void {}
}

export function createReplySender(opts: ReplySenderOptions): ReplySender {
  const batch = selectBatchSend(opts.nativeSend, opts.native);
  return batch ? new BatchedReplySender(batch, opts.onError) : new DgramReplySender();
}
