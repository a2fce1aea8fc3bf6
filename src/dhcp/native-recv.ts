/**
 * How DHCP requests arrive on the per-interface sockets: batched through the native
 * addon's recvmmsg(2) (src/native/udp_batch.c, recvStart), or one dgram 'message' each.
 * See docs/decisions/0014-dhcp-batched-send.md and docs/dhcp.md.
 *
 * Native path: a uv_poll on the main loop reads up to SLOTS datagrams per readable event
 * into one shared ring and calls `onBatch(count)` once; each datagram is then copied into
 * its own Buffer (the handler may keep it) with a RemoteInfo like dgram's, and handed to
 * the same handler. dgram's own reads on that socket are stopped (the socket stays for
 * what the reply sender hands to dgram, address() and close). Datagrams larger than a
 * slot are dropped in C (counted), never cut short.
 *
 * Chosen once per socket: native when the addon has recvStart and the fd is the addon's,
 * unless the caller says otherwise or the environment has PXEPOINT_DHCP_NATIVE=0.
 */
import type dgram from 'node:dgram';
import type { NativeNet } from '../native/udp-device.js';
import { intToIp } from './ipv4.js';

/** Slot size: larger than any Ethernet datagram (1500 − 28), so only jumbo frames are dropped. */
const STRIDE = 2048;
const SLOTS = 32;

export interface NativeReceiver {
  /** [0] datagrams dropped for being larger than a slot, [1] receive errors, [2] last errno. */
  readonly stats: Float64Array;
  stop(): void;
}

/** Whether native receive is wanted and possible with this addon. */
export function nativeRecvWanted(want: boolean | undefined, addon: NativeNet | null): addon is NativeNet & Required<Pick<NativeNet, 'recvStart' | 'recvStop'>> {
  if (want === false) return false;
  if (want === undefined && process.env.PXEPOINT_DHCP_NATIVE === '0') return false;
  return !!addon && typeof addon.recvStart === 'function' && typeof addon.recvStop === 'function';
}

/** dgram's UDP handle (Node keeps it under its internal `state symbol`; no public call reaches it), if found. */
function dgramHandle(socket: dgram.Socket): { recvStart?: () => number; recvStop?: () => number } | undefined {
  const sym = Object.getOwnPropertySymbols(socket).find((s) => s.description === 'state symbol');
  return sym ? (socket as unknown as Record<symbol, { handle?: { recvStart?: () => number; recvStop?: () => number } } | undefined>)[sym]?.handle : undefined;
}

/**
 * Stops dgram's reads on `socket` (its UDP handle has recvStop()). False when this Node
 * keeps the handle elsewhere: then dgram stays.
 */
function stopDgramReads(socket: dgram.Socket): boolean {
  const handle = dgramHandle(socket);
  if (!handle || typeof handle.recvStop !== 'function') return false;
  return handle.recvStop() === 0;
}

/**
 * Starts batched receive on `fd` (the socket dgram wraps), or returns null when it cannot
 * (dgram then keeps receiving). `onMessage` gets what dgram's 'message' would give.
 */
export function startNativeReceive(
  addon: NativeNet & Required<Pick<NativeNet, 'recvStart' | 'recvStop'>>,
  socket: dgram.Socket,
  fd: number,
  onMessage: (msg: Buffer, from: dgram.RemoteInfo) => void,
  /** A handler that threw (dgram would have let it escape as an uncaught exception). */
  onError: (e: Error) => void,
): NativeReceiver | null {
  const ring = Buffer.alloc(STRIDE * SLOTS);
  const lens = new Uint32Array(SLOTS);
  const addrs = new Uint32Array(SLOTS);
  const ports = new Uint32Array(SLOTS);
  const stats = new Float64Array(3);
  const onBatch = (count: number): void => {
    for (let j = 0; j < count; j++) {
      const len = lens[j]!;
      const msg = Buffer.allocUnsafe(len);
      ring.copy(msg, 0, j * STRIDE, j * STRIDE + len);
      const from: dgram.RemoteInfo = { address: intToIp(addrs[j]!), family: 'IPv4', port: ports[j]!, size: len };
      try {
        onMessage(msg, from);
      } catch (e) {
        // As a throwing 'message' listener would, but without ending the batch.
        onError(e as Error);
      }
    }
  };
  if (!stopDgramReads(socket)) return null;
  let handle: unknown;
  try {
    handle = addon.recvStart(fd, ring, STRIDE, lens, addrs, ports, stats, onBatch);
  } catch {
    // No poll for this fd (e.g. out of fds for the dup): dgram's reads come back.
    dgramHandle(socket)!.recvStart!();
    return null;
  }
  return {
    stats,
    stop(): void {
      if (handle === undefined) return;
      const h = handle;
      handle = undefined; // recvStop frees it: never twice
      addon.recvStop(h);
    },
  };
}
