/**
 * Loader for the pxepoint_net addon (src/native/udp_device.c, built by node-gyp from
 * binding.gyp at `npm ci`): UDP sockets bound to one network device, handed to dgram
 * as a file descriptor. See docs/decisions/0009-dhcp-interfaces.md.
 *
 * The addon is optional: where it could not be built (no compiler, not Linux) the DHCP
 * listener falls back to one wildcard socket and says so; asking for `--interface`
 * there is an error.
 */
import { createRequire } from 'node:module';

export interface NativeNet {
  /**
   * A bound UDP socket (SO_REUSEADDR, SO_BROADCAST, SO_BINDTODEVICE when `device` is not "",
   * SO_RCVBUFFORCE when `recvBuffer` > 0); returns its fd.
   */
  openUdpSocket(device: string, address: string, port: number, recvBuffer?: number): number;
  /** Closes an fd that dgram never took over. */
  closeFd(fd: number): void;
  /**
   * TFTP fast path (absent from an addon built before it existed: check before use).
   * A non-blocking UDP socket bound to (address, ephemeral port) without SO_REUSEADDR,
   * SO_SNDBUFFORCE/SO_RCVBUFFORCE (falling back to the capped sizes); returns its fd.
   */
  openTransferSocket?(address: string, sendBuffer: number, recvBuffer: number): number;
  /** The destination as a kernel sockaddr for sendWindow; null if the address is not numeric. */
  sockaddrFor?(address: string, port: number): Buffer | null;
  /**
   * sendmmsg(2) of `count` datagrams to `dest`: packet j is `ring[slot*stride, +lens[slot])`
   * with slot = (first + j) % lens.length. Returns how many were sent (fewer when the
   * socket buffer is full), or -errno when the first one failed for another reason.
   * `gso`: runs of full slots go as UDP GSO super-datagrams (UDP_SEGMENT, segment size
   * `stride`); the kernel answers -EINVAL/-EIO where it cannot (then call again without).
   */
  sendWindow?(fd: number, dest: Buffer, ring: Buffer, stride: number, lens: Uint32Array, first: number, count: number, gso?: boolean): number;
  /**
   * DHCP batch send (src/native/udp_batch.c; absent from an addon built before it existed).
   * sendmmsg(2) of datagram j = `ring[j*stride, +lens[j])` to IPv4 `addrs[j]` (host byte
   * order) port `ports[j]`, for j < count. Returns how many were dealt with: sent, or
   * failed for good (counted in status[0], last errno in status[1]); fewer than `count`
   * when the socket buffer is full.
   */
  sendBatch?(fd: number, ring: Buffer, stride: number, lens: Uint32Array, addrs: Uint32Array, ports: Uint32Array, count: number, status: Int32Array): number;
  /**
   * DHCP batched receive (src/native/udp_batch.c; absent from an addon built before it
   * existed). Watches a dup of `fd` on the main loop; per readable event, recvmmsg(2) of up
   * to lens.length (≤ 64) datagrams into `ring` slots of `stride` bytes, then
   * onBatch(count): datagram j is ring[j*stride, +lens[j]) from IPv4 addrs[j] (host byte
   * order) port ports[j], valid until onBatch returns. Oversize datagrams are dropped
   * (stats[0]); receive errors count in stats[1], last errno in stats[2]. Returns a handle.
   */
  recvStart?(fd: number, ring: Buffer, stride: number, lens: Uint32Array, addrs: Uint32Array, ports: Uint32Array, stats: Float64Array, onBatch: (count: number) => void): unknown;
  /** Stops recvStart's watch and closes its dup; once per handle. */
  recvStop?(handle: unknown): void;
  /**
   * Bounded busy-poll of a transfer socket for the client's next datagram (the ACK of
   * the window just sent), without sleeping, for up to `micros` µs. Returns its length
   * (received into `buf`) when it came from `dest`; -1 when nothing came in time; -2
   * when something else waits for the event loop (another source, a datagram larger
   * than `buf`, or a readable `watchFd`, e.g. the request socket; -1 for none), left
   * unread; < -2 is -errno.
   */
  pollRecv?(fd: number, dest: Buffer, buf: Buffer, micros: number, watchFd: number): number;
  /**
   * preadv2(RWF_NOWAIT) into `buf[offset, +length)` from file position `position`: only
   * bytes already in the page cache, never waiting for the disk. Returns the bytes read
   * (short at EOF or where the cache ends), -EAGAIN (-11) when the first byte is not
   * cached, other -errno (e.g. -EOPNOTSUPP, -95) on failure.
   */
  preadNoWait?(fd: number, buf: Buffer, offset: number, length: number, position: number): number;
}

let cached: { addon: NativeNet | null; error: string | null } | undefined;

/** The addon, or null with the reason it could not be loaded. Loaded once. */
export function loadNativeNet(): { addon: NativeNet | null; error: string | null } {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  // src/native/ and dist/native/ are both two levels below the package root.
  const candidates = ['../../build/Release/pxepoint_net.node', '../../build/Debug/pxepoint_net.node'];
  let error = 'not built';
  for (const path of candidates) {
    try {
      cached = { addon: require(path) as NativeNet, error: null };
      return cached;
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (err.code !== 'MODULE_NOT_FOUND') error = err.message;
    }
  }
  cached = { addon: null, error: `the native addon build/Release/pxepoint_net.node is ${error === 'not built' ? 'not built (run `npm ci` or `npx node-gyp rebuild` with a C compiler)' : `unusable: ${error}`}` };
  return cached;
}
