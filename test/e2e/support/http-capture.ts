/**
 * Plain HTTP read back from a capture (tcpdump on a guest's tap): the TCP payloads of
 * each connection, reassembled per direction by sequence number (retransmissions
 * dropped), then split into requests and responses (Content-Length or chunked), so a
 * test can check what the machine was actually sent. Minimal by design: IPv4 over
 * Ethernet (with VLAN tags), classic pcap and pcapng; good for the small exchanges of
 * the e2e tests, not a general TCP reassembler (no SACK/overlap subtleties).
 */
import { readFileSync } from 'node:fs';

interface TcpSegment { src: string; dst: string; seq: number; syn: boolean; payload: Buffer }

export interface HttpExchange {
  /** Client side, "ip:port". */
  client: string;
  method: string;
  path: string;
  status: number | null;
  headers: Record<string, string>;
  body: Buffer;
}

/** Link-layer frames of a classic pcap or pcapng file, with their link types. */
function frames(buf: Buffer): Array<{ linkType: number; data: Buffer }> {
  const out: Array<{ linkType: number; data: Buffer }> = [];
  if (buf.length < 24) return out;
  const magicLe = buf.readUInt32LE(0);
  if (magicLe === 0x0a0d0d0a) {
    // pcapng: SHB sets the byte order, IDBs the link types, EPBs (6) and obsolete PBs (2) the frames.
    let le = true;
    const links: number[] = [];
    for (let off = 0; off + 12 <= buf.length;) {
      const type = le ? buf.readUInt32LE(off) : buf.readUInt32BE(off);
      if (type === 0x0a0d0d0a) le = buf.readUInt32LE(off + 8) === 0x1a2b3c4d;
      const len = le ? buf.readUInt32LE(off + 4) : buf.readUInt32BE(off + 4);
      if (len < 12 || off + len > buf.length) break;
      const u32 = (o: number): number => (le ? buf.readUInt32LE(off + o) : buf.readUInt32BE(off + o));
      if (type === 0x0a0d0d0a) links.length = 0;
      else if (type === 1) links.push(le ? buf.readUInt16LE(off + 8) : buf.readUInt16BE(off + 8));
      else if (type === 6 || type === 2) {
        const iface = type === 6 ? u32(8) : (le ? buf.readUInt16LE(off + 8) : buf.readUInt16BE(off + 8));
        const caplen = u32(20);
        out.push({ linkType: links[iface] ?? 1, data: buf.subarray(off + 28, Math.min(off + 28 + caplen, off + len - 4)) });
      }
      off += len;
    }
    return out;
  }
  const le = magicLe === 0xa1b2c3d4 || magicLe === 0xa1b23c4d;
  if (!le && buf.readUInt32BE(0) !== 0xa1b2c3d4 && buf.readUInt32BE(0) !== 0xa1b23c4d) return out;
  const linkType = (le ? buf.readUInt32LE(20) : buf.readUInt32BE(20)) & 0x0fffffff;
  for (let off = 24; off + 16 <= buf.length;) {
    const caplen = le ? buf.readUInt32LE(off + 8) : buf.readUInt32BE(off + 8);
    if (off + 16 + caplen > buf.length) break;
    out.push({ linkType, data: buf.subarray(off + 16, off + 16 + caplen) });
    off += 16 + caplen;
  }
  return out;
}

function ipv4At(f: Buffer, linkType: number): number {
  if (linkType === 1) {
    let at = 12;
    while (f.length >= at + 2 && (f.readUInt16BE(at) === 0x8100 || f.readUInt16BE(at) === 0x88a8)) at += 4;
    return f.length >= at + 2 && f.readUInt16BE(at) === 0x0800 ? at + 2 : -1;
  }
  if (linkType === 113) return f.length >= 16 && f.readUInt16BE(14) === 0x0800 ? 16 : -1;
  if (linkType === 276) return f.length >= 20 && f.readUInt16BE(0) === 0x0800 ? 20 : -1;
  if (linkType === 101 || linkType === 228) return f.length > 0 && f[0]! >> 4 === 4 ? 0 : -1;
  return -1;
}

function tcpSegments(buf: Buffer): TcpSegment[] {
  const out: TcpSegment[] = [];
  for (const { linkType, data: f } of frames(buf)) {
    const ip = ipv4At(f, linkType);
    if (ip < 0 || f.length < ip + 20 || f[ip]! >> 4 !== 4 || f[ip + 9] !== 6) continue;
    const ihl = (f[ip]! & 0x0f) * 4;
    const ipEnd = Math.min(f.length, ip + f.readUInt16BE(ip + 2));
    const tcp = ip + ihl;
    if (ipEnd < tcp + 20) continue;
    const dataOff = (f[tcp + 12]! >> 4) * 4;
    const ipStr = (o: number): string => `${f[o]}.${f[o + 1]}.${f[o + 2]}.${f[o + 3]}`;
    out.push({
      src: `${ipStr(ip + 12)}:${f.readUInt16BE(tcp)}`,
      dst: `${ipStr(ip + 16)}:${f.readUInt16BE(tcp + 2)}`,
      seq: f.readUInt32BE(tcp + 4),
      syn: (f[tcp + 13]! & 0x02) !== 0,
      payload: Buffer.from(f.subarray(Math.min(tcp + dataOff, ipEnd), ipEnd)),
    });
  }
  return out;
}

/** One direction's bytes in sequence order; the first byte is ISN+1 (or the first segment's seq). */
function stream(segments: TcpSegment[]): Buffer {
  const syn = segments.find((s) => s.syn);
  const base = syn ? (syn.seq + 1) >>> 0 : segments.find((s) => s.payload.length > 0)?.seq;
  if (base === undefined) return Buffer.alloc(0);
  const chunks = new Map<number, Buffer>();
  for (const s of segments) {
    if (s.payload.length === 0) continue;
    const rel = (s.seq - base) >>> 0;
    if (!chunks.has(rel) || chunks.get(rel)!.length < s.payload.length) chunks.set(rel, s.payload);
  }
  const parts: Buffer[] = [];
  let at = 0;
  for (const rel of [...chunks.keys()].sort((a, b) => a - b)) {
    const c = chunks.get(rel)!;
    if (rel + c.length <= at) continue; // retransmitted
    if (rel > at) break; // a hole: stop at what is contiguous
    parts.push(c.subarray(at - rel));
    at = rel + c.length;
  }
  return Buffer.concat(parts);
}

/** Splits a response stream into messages; returns [status, headers, body] per response. */
function responses(s: Buffer): Array<{ status: number; headers: Record<string, string>; body: Buffer }> {
  const out: Array<{ status: number; headers: Record<string, string>; body: Buffer }> = [];
  let at = 0;
  while (at < s.length) {
    const end = s.indexOf('\r\n\r\n', at);
    if (end < 0) break;
    const [statusLine, ...lines] = s.subarray(at, end).toString('latin1').split('\r\n');
    const headers: Record<string, string> = {};
    for (const l of lines) {
      const i = l.indexOf(':');
      if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
    }
    let p = end + 4;
    let body: Buffer;
    if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
      const parts: Buffer[] = [];
      for (;;) {
        const eol = s.indexOf('\r\n', p);
        if (eol < 0) { p = s.length; break; }
        const size = parseInt(s.subarray(p, eol).toString('latin1'), 16);
        p = eol + 2;
        if (!(size > 0)) { const t = s.indexOf('\r\n\r\n', p - 2); p = t < 0 ? s.length : t + 4; break; }
        parts.push(s.subarray(p, p + size));
        p += size + 2;
      }
      body = Buffer.concat(parts);
    } else if (headers['content-length'] !== undefined) {
      const n = Number(headers['content-length']);
      body = s.subarray(p, p + n);
      p += n;
    } else {
      body = s.subarray(p);
      p = s.length;
    }
    out.push({ status: Number(statusLine?.split(' ')[1] ?? NaN), headers, body });
    at = p;
  }
  return out;
}

/** Every HTTP request to `server` ("ip:port") in the capture, with the response it got (if any). */
export function httpExchanges(file: string, server: string): HttpExchange[] {
  const segs = tcpSegments(readFileSync(file));
  const clients = [...new Set(segs.filter((s) => s.dst === server).map((s) => s.src))];
  const out: HttpExchange[] = [];
  for (const client of clients) {
    const up = stream(segs.filter((s) => s.src === client && s.dst === server));
    const down = responses(stream(segs.filter((s) => s.src === server && s.dst === client)));
    const requests = [...up.toString('latin1').matchAll(/^([A-Z]+) (\S+) HTTP\/1\.[01]\r\n/gm)];
    requests.forEach((m, i) => {
      const r = down[i];
      out.push({ client, method: m[1]!, path: m[2]!, status: r?.status ?? null, headers: r?.headers ?? {}, body: r?.body ?? Buffer.alloc(0) });
    });
  }
  return out;
}
