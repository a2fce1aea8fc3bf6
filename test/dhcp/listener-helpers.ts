/** Loopback DHCP clients for the listener tests: nothing leaves 127.0.0.0/8. */
import dgram from 'node:dgram';
import { chaddrFromMac, encodeDhcpPacket, parseDhcpPacket, type DhcpOption, type DhcpPacket } from '../../src/dhcp/packet.js';
import { isDhcpParseError } from '../../src/dhcp/errors.js';
import { DhcpOptionCode } from '../../src/dhcp/option-codes.js';
import type { PxeDecision } from '../../src/pxe/types.js';

export interface TestSocket {
  socket: dgram.Socket;
  port: number;
  /** Next datagram parsed, or null after `ms`. */
  next(ms?: number): Promise<{ packet: DhcpPacket; from: dgram.RemoteInfo } | null>;
  send(buf: Buffer, port: number, address?: string): Promise<void>;
  close(): Promise<void>;
}

export async function testSocket(port = 0): Promise<TestSocket> {
  const socket = dgram.createSocket('udp4');
  const queue: Array<{ packet: DhcpPacket; from: dgram.RemoteInfo }> = [];
  const waiters: Array<(v: { packet: DhcpPacket; from: dgram.RemoteInfo }) => void> = [];
  socket.on('message', (msg, from) => {
    const packet = parseDhcpPacket(msg);
    if (isDhcpParseError(packet)) return;
    const w = waiters.shift();
    if (w) w({ packet, from });
    else queue.push({ packet, from });
  });
  await new Promise<void>((resolve) => socket.bind(port, '127.0.0.1', resolve));
  return {
    socket,
    port: socket.address().port,
    next(ms = 1000) {
      const q = queue.shift();
      if (q) return Promise.resolve(q);
      return new Promise((resolve) => {
        const w = (v: { packet: DhcpPacket; from: dgram.RemoteInfo }): void => {
          clearTimeout(t);
          resolve(v);
        };
        const t = setTimeout(() => {
          const i = waiters.indexOf(w);
          if (i >= 0) waiters.splice(i, 1);
          resolve(null);
        }, ms);
        waiters.push(w);
      });
    },
    send: (buf, to, address = '127.0.0.1') => new Promise((resolve, reject) => socket.send(buf, to, address, (e) => (e ? reject(e) : resolve()))),
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
}

export interface ClientPacketSpec {
  type: number;
  mac: string;
  xid?: number;
  vendorClass?: string | null;
  arch?: number;
  ciaddr?: string;
  giaddr?: string;
  broadcast?: boolean;
  requestedIp?: string;
  serverId?: string;
  options?: DhcpOption[];
}

const ip4 = (ip: string): Buffer => Buffer.from(ip.split('.').map(Number));

export function clientPacket(s: ClientPacketSpec): Buffer {
  const options: DhcpOption[] = [{ code: DhcpOptionCode.MessageType, data: Buffer.from([s.type]) }];
  if (s.requestedIp) options.push({ code: DhcpOptionCode.RequestedIpAddress, data: ip4(s.requestedIp) });
  if (s.serverId) options.push({ code: DhcpOptionCode.ServerIdentifier, data: ip4(s.serverId) });
  const vc = s.vendorClass === undefined ? 'PXEClient:Arch:00007:UNDI:003000' : s.vendorClass;
  if (vc !== null) options.push({ code: DhcpOptionCode.VendorClassIdentifier, data: Buffer.from(vc, 'latin1') });
  if (s.arch !== undefined) options.push({ code: DhcpOptionCode.ClientSystemArchitecture, data: Buffer.from([s.arch >> 8, s.arch & 255]) });
  options.push({ code: DhcpOptionCode.ParameterRequestList, data: Buffer.from([1, 3, 6, 51, 54, 60, 66, 67]) });
  options.push(...(s.options ?? []));
  return encodeDhcpPacket({
    op: 1, htype: 1, hlen: 6, hops: 0, xid: s.xid ?? 0x12345678, secs: 0, flags: s.broadcast === false ? 0 : 0x8000,
    ciaddr: s.ciaddr ?? '0.0.0.0', yiaddr: '0.0.0.0', siaddr: '0.0.0.0', giaddr: s.giaddr ?? '0.0.0.0',
    chaddr: chaddrFromMac(s.mac), sname: '', file: '', options,
  });
}

/** A decision that boots everyone with the architecture's program (or the iPXE script over HTTP). */
export function bootEveryone(req: { mac: string; isIpxe: boolean; isHttpBoot: boolean }): PxeDecision {
  const http = req.isIpxe || req.isHttpBoot;
  return {
    action: 'boot', reasonCode: 'required', reason: 'test: boot everyone',
    deviceId: null, unknownObjectId: null, deploymentId: 'PXP20001', bootImageId: null, bootImageArchitecture: null,
    bootFile: http ? `/boot/${req.mac.replace(/:/g, '-')}.ipxe` : 'boot/x64/snponly.efi', http,
  } as PxeDecision;
}
