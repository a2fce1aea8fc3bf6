/**
 * The DHCP sockets: port 67 (DHCP / ProxyDHCP) and 4011 (PXE boot server), either one
 * pair per configured interface (bound to the device by the native addon, so the
 * receiving interface is known and broadcasts leave through it: rule 49) or one
 * wildcard pair when every interface is served. See docs/decisions/0009-dhcp-interfaces.md.
 *
 * Only sockets here; what to answer is decided in server.ts / proxy.ts / full.ts.
 */
import dgram from 'node:dgram';
import { PxeError } from '../errors.js';
import { loadNativeNet, type NativeNet } from '../native/udp-device.js';
import type { DhcpInterface } from './interfaces.js';
import { nativeRecvWanted, startNativeReceive, type NativeReceiver } from './native-recv.js';

/** 'dhcp': port 67; 'pxe': port 4011. */
export type EndpointKind = 'dhcp' | 'pxe';

export interface DhcpEndpoint {
  readonly kind: EndpointKind;
  /** The device this socket is bound to; null for a wildcard socket. */
  readonly iface: DhcpInterface | null;
  readonly port: number;
  readonly socket: dgram.Socket;
  /** The socket's fd when the native addon opened it (per interface), else null. */
  readonly fd: number | null;
  /** Batched native receive on this socket (src/dhcp/native-recv.ts), or null: dgram 'message'. */
  readonly receiver?: NativeReceiver | null;
}

export type MessageHandler = (msg: Buffer, from: dgram.RemoteInfo, endpoint: DhcpEndpoint) => void;

export interface ListenerOptions {
  /** Bind address of wildcard sockets (ignored per interface: those bind 0.0.0.0 on the device). */
  address: string;
  dhcpPort: number;
  pxePort: number;
  /** Empty: one wildcard pair. */
  interfaces: readonly DhcpInterface[];
  onMessage: MessageHandler;
  /** Socket errors (a failed send is reported here: replies are sent without a callback). */
  onError?: (error: Error, endpoint: DhcpEndpoint) => void;
  /** For tests; defaults to the built addon. */
  native?: NativeNet | null;
  /**
   * Kernel receive buffer to ask for (bursts of DISCOVERs while the event loop is busy);
   * default 4 MiB. Device-bound sockets get it even above net.core.rmem_max (SO_RCVBUFFORCE).
   */
  recvBufferBytes?: number;
  /**
   * Receive per-interface sockets through the addon's recvmmsg (src/dhcp/native-recv.ts).
   * undefined: when available and PXEPOINT_DHCP_NATIVE is not "0"; false: dgram only.
   */
  nativeRecv?: boolean;
}

export interface DhcpListeners {
  readonly endpoints: readonly DhcpEndpoint[];
  /** Why the listeners are not per interface, when that matters to the operator. */
  readonly warnings: readonly string[];
  close(): Promise<void>;
}

function bindSocket(socket: dgram.Socket, opts: dgram.BindOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error): void => reject(e);
    socket.once('error', onError);
    socket.bind(opts, () => {
      socket.off('error', onError);
      resolve();
    });
  });
}

function describeBindError(e: unknown, what: string, port: number): PxeError {
  const err = e as NodeJS.ErrnoException;
  const code = err.code ?? '';
  const hint = code === 'EADDRINUSE' || code === 'E98'
    ? `port ${port} is already in use (another DHCP server?); pick another with --dhcp-port/--pxe-port, or --dhcp-mode off`
    : code === 'EACCES' || code === 'EPERM' || code === 'E1' || code === 'E13'
      ? `not allowed: ports below 1024 and binding to a device need root (CAP_NET_BIND_SERVICE, CAP_NET_RAW)`
      : err.message;
  return new PxeError('PXE_ERR_DHCP_LISTEN', `cannot listen for DHCP on ${what} port ${port}: ${hint}`);
}

/** Opens every socket or none (a failure closes those already open). */
export async function openDhcpListeners(opts: ListenerOptions): Promise<DhcpListeners> {
  const endpoints: DhcpEndpoint[] = [];
  const warnings: string[] = [];
  const native = opts.native === undefined ? loadNativeNet().addon : opts.native;
  const recvBuffer = opts.recvBufferBytes ?? 4 * 1024 * 1024;
  const ports: Array<[EndpointKind, number]> = [['dhcp', opts.dhcpPort], ['pxe', opts.pxePort]];

  const useNativeRecv = nativeRecvWanted(opts.nativeRecv, native);

  const attach = (socket: dgram.Socket, kind: EndpointKind, iface: DhcpInterface | null, port: number, fd: number | null): void => {
    const endpoint: { -readonly [K in keyof DhcpEndpoint]: DhcpEndpoint[K] } = { kind, iface, port, socket, fd, receiver: null };
    // A send or receive error on one datagram must not end the listener: counted, not thrown.
    socket.on('error', (e) => opts.onError?.(e, endpoint));
    socket.on('message', (msg, from) => opts.onMessage(msg, from, endpoint));
    if (fd !== null && useNativeRecv && native) {
      endpoint.receiver = startNativeReceive(native as Parameters<typeof startNativeReceive>[0], socket, fd,
        (msg, from) => opts.onMessage(msg, from, endpoint),
        (e) => { process.nextTick(() => { throw e; }); });
    }
    if (!iface) {
      try {
        socket.setRecvBufferSize(recvBuffer);
      } catch {
        // Capped by net.core.rmem_max; the default is fine for modest rates.
      }
    }
    endpoints.push(endpoint);
  };

  try {
    if (opts.interfaces.length > 0) {
      if (!native) {
        throw new PxeError('PXE_ERR_DHCP_LISTEN',
          `--interface needs the native addon to bind to a device, and ${loadNativeNet().error}; without --interface pxepoint answers on every interface`);
      }
      for (const iface of opts.interfaces) {
        for (const [kind, port] of ports) {
          let fd: number;
          try {
            fd = native.openUdpSocket(iface.name, '0.0.0.0', port, recvBuffer);
          } catch (e) {
            throw describeBindError(e, `interface ${iface.name}`, port);
          }
          const socket = dgram.createSocket({ type: 'udp4' });
          try {
            await bindSocket(socket, { fd });
          } catch (e) {
            native.closeFd(fd);
            throw describeBindError(e, `interface ${iface.name}`, port);
          }
          attach(socket, kind, iface, port, fd);
        }
      }
    } else {
      if (!native) warnings.push(`${loadNativeNet().error}; answering on every interface through one socket (fine on a single-interface host; --interface is unavailable)`);
      for (const [kind, port] of ports) {
        const socket = dgram.createSocket({ type: 'udp4' });
        try {
          await bindSocket(socket, { address: opts.address, port });
        } catch (e) {
          throw describeBindError(e, opts.address, port);
        }
        socket.setBroadcast(true);
        attach(socket, kind, null, port, null);
      }
    }
  } catch (e) {
    await closeAll(endpoints);
    throw e;
  }
  return { endpoints, warnings, close: () => closeAll(endpoints) };
}

async function closeAll(endpoints: readonly DhcpEndpoint[]): Promise<void> {
  await Promise.all(endpoints.map((ep) => new Promise<void>((resolve) => {
    ep.receiver?.stop(); // the poll lets go of its dup before the socket closes
    try {
      ep.socket.close(() => resolve());
    } catch {
      resolve(); // already closed
    }
  })));
}
