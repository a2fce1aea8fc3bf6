/**
 * Packet capture on a guest's tap (tcpdump inside the server namespace) and a
 * summary of what was said, decoded with pxepoint's own DHCP codec and capture
 * reader: every DHCP/ProxyDHCP/boot-server datagram and every TFTP request. Used
 * both for assertions (the unknown machine got no boot answer, sent no TFTP RRQ)
 * and to explain a failed boot packet by packet.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dhcpDatagrams, isPcapError, readCapture, tftpDatagrams, type UdpDatagram } from '../../../src/dhcp/pcap.js';
import { macAddress, parseDhcpPacket, type DhcpPacket } from '../../../src/dhcp/packet.js';
import { bootfileName, clientArchitectures, getOption, messageType, serverIdentifier, userClass, vendorClass } from '../../../src/dhcp/options.js';
import { messageTypeName } from '../../../src/dhcp/option-codes.js';
import { isDhcpParseError } from '../../../src/dhcp/errors.js';
import type { TestLan } from './netns.js';
import { sleep, waitFor, type BgProcess } from './proc.js';

export interface Capture {
  readonly file: string;
  readonly process: BgProcess;
  stop(): Promise<void>;
}

/** Starts tcpdump on `iface` (in the server namespace); waits until it listens. */
export async function startCapture(lan: TestLan, iface: string, name: string): Promise<Capture> {
  const file = join(lan.workDir, `${name}.pcap`);
  const proc = lan.spawn(lan.srvNs, `tcpdump-${name}`, 'tcpdump', ['-i', iface, '--immediate-mode', '-U', '-s', '0', '-n', '-w', file]);
  await waitFor(() => /listening on/.test(proc.log()) || !proc.running(), 5000, 100);
  if (!proc.running()) throw new Error(`tcpdump on ${iface} did not start:\n${proc.log()}`);
  return {
    file,
    process: proc,
    async stop() {
      // --immediate-mode hands every packet over at once and -U writes it at once, so a
      // short pause is enough for the last ones to reach the file.
      await sleep(500);
      await proc.stop();
    },
  };
}

export interface DhcpSeen {
  time: number;
  src: string;
  dst: string;
  op: 'request' | 'reply';
  type: string;
  xid: number;
  mac: string | undefined;
  ciaddr: string;
  yiaddr: string;
  siaddr: string;
  /** `file` field or option 67. */
  bootFile: string | undefined;
  vendorClass: string | undefined;
  hasOption43: boolean;
  arch: number[] | undefined;
  ipxe: boolean;
  serverId: string | undefined;
  packet: DhcpPacket;
}

export interface TftpRequest {
  time: number;
  src: string;
  dst: string;
  kind: 'RRQ' | 'WRQ';
  file: string;
  options: Record<string, string>;
}

export interface CaptureSummary {
  dhcp: DhcpSeen[];
  tftp: TftpRequest[];
  /** Other datagrams to or from port 4011/67/68/69 that did not parse. */
  errors: string[];
}

function tftpRequest(d: UdpDatagram): TftpRequest | undefined {
  const p = d.payload;
  if (p.length < 4) return undefined;
  const op = p.readUInt16BE(0);
  if (op !== 1 && op !== 2) return undefined;
  const parts = p.subarray(2).toString('latin1').split('\0');
  const options: Record<string, string> = {};
  for (let i = 2; i + 1 < parts.length; i += 2) if (parts[i]) options[parts[i]!.toLowerCase()] = parts[i + 1]!;
  return { time: d.time, src: `${d.srcIp}:${d.srcPort}`, dst: `${d.dstIp}:${d.dstPort}`, kind: op === 1 ? 'RRQ' : 'WRQ', file: parts[0] ?? '', options };
}

export function summarizeCapture(file: string): CaptureSummary {
  const out: CaptureSummary = { dhcp: [], tftp: [], errors: [] };
  if (!existsSync(file)) {
    out.errors.push(`no capture file ${file}`);
    return out;
  }
  const cap = readCapture(readFileSync(file));
  if (isPcapError(cap)) {
    out.errors.push(`${cap.code}: ${cap.message}`);
    return out;
  }
  for (const d of dhcpDatagrams(cap.datagrams)) {
    const p = parseDhcpPacket(d.payload);
    if (isDhcpParseError(p)) {
      out.errors.push(`${d.srcIp}:${d.srcPort} > ${d.dstIp}:${d.dstPort}: ${p.code} ${p.message}`);
      continue;
    }
    const pkt: DhcpPacket = p;
    const uc = userClass(pkt);
    out.dhcp.push({
      time: d.time,
      src: `${d.srcIp}:${d.srcPort}`,
      dst: `${d.dstIp}:${d.dstPort}`,
      op: pkt.op === 1 ? 'request' : 'reply',
      type: messageTypeName(messageType(pkt)),
      xid: pkt.xid,
      mac: macAddress(pkt),
      ciaddr: pkt.ciaddr,
      yiaddr: pkt.yiaddr,
      siaddr: pkt.siaddr,
      bootFile: pkt.file || bootfileName(pkt),
      vendorClass: vendorClass(pkt),
      hasOption43: getOption(pkt, 43) !== undefined,
      arch: clientArchitectures(pkt),
      ipxe: getOption(pkt, 175) !== undefined || (uc !== undefined && JSON.stringify(uc).includes('iPXE')),
      serverId: serverIdentifier(pkt),
      packet: pkt,
    });
  }
  for (const d of tftpDatagrams(cap.datagrams)) {
    const r = tftpRequest(d);
    if (r) out.tftp.push(r);
  }
  return out;
}

/** One line per DHCP datagram and TFTP request, times relative to the first packet. */
export function formatSummary(s: CaptureSummary): string {
  const t0 = Math.min(...s.dhcp.map((d) => d.time), ...s.tftp.map((t) => t.time));
  const rows: [number, string][] = [];
  for (const d of s.dhcp) {
    const fields = [
      `${d.type.padEnd(8)} xid=${d.xid.toString(16).padStart(8, '0')}`,
      d.mac ? `mac=${d.mac}` : '',
      d.op === 'reply' ? `yiaddr=${d.yiaddr} siaddr=${d.siaddr}` : d.ciaddr !== '0.0.0.0' ? `ciaddr=${d.ciaddr}` : '',
      d.bootFile ? `file=${JSON.stringify(d.bootFile)}` : '',
      d.vendorClass ? `60=${JSON.stringify(d.vendorClass)}` : '',
      d.hasOption43 ? '43' : '',
      d.arch ? `93=${d.arch.join(',')}` : '',
      d.ipxe ? 'iPXE' : '',
      d.serverId ? `54=${d.serverId}` : '',
    ].filter(Boolean);
    rows.push([d.time, `${d.src} > ${d.dst} ${fields.join(' ')}`]);
  }
  for (const t of s.tftp) rows.push([t.time, `${t.src} > ${t.dst} TFTP ${t.kind} ${t.file} ${JSON.stringify(t.options)}`]);
  rows.sort((a, b) => a[0] - b[0]);
  return [...rows.map(([t, l]) => `+${(t - t0).toFixed(2)}s ${l}`), ...s.errors].join('\n');
}
