/**
 * A windowed TFTP read client that hashes as it receives (nothing is kept in
 * memory), behaving like the Windows boot manager's ramdisk download as far as
 * the wire shows: RRQ with blksize/windowsize/tsize from the BCD, ACK 0 after the
 * OACK, one ACK per full window or at the last block, ACK of the last in-order
 * block on a gap (RFC 7440 §4), re-ACK on timeout, block numbers rolling over
 * from 65535 to 0. Written from RFCs 1350, 2347–2349 and 7440, not from the server.
 */
import { createHash } from 'node:crypto';
import dgram from 'node:dgram';

export interface WindowedGetOptions {
  host?: string;
  port: number;
  file: string;
  blksize: number;
  windowsize: number;
  timeoutMs?: number;
  retries?: number;
  deadlineMs: number;
}

export interface WindowedGetResult {
  size: number;
  sha256: string;
  oack: Record<string, string>;
  blocks: number;
  acks: number;
  gaps: number;
  ms: number;
}

const u16 = (n: number): Buffer => Buffer.from([(n >> 8) & 0xff, n & 0xff]);

export function windowedGet(opts: WindowedGetOptions): Promise<WindowedGetResult> {
  const host = opts.host ?? '127.0.0.1';
  const timeoutMs = opts.timeoutMs ?? 1000;
  const retries = opts.retries ?? 8;
  const started = Date.now();
  const sock = dgram.createSocket('udp4');
  const hash = createHash('sha256');
  let server: { port: number } | null = null;
  let oack: Record<string, string> | null = null;
  let blksize = 512;
  let windowsize = 1;
  /** Absolute number of the last block received in order (0 = none). */
  let last = 0;
  let inWindow = 0;
  let size = 0;
  let acks = 0;
  let gaps = 0;
  let lastSent: Buffer;
  let idle = 0;
  let gapAckedAt = -1;

  return new Promise<WindowedGetResult>((resolve, reject) => {
    let timer: NodeJS.Timeout | null = null;
    const deadline = setTimeout(() => finish(new Error(`${opts.file}: deadline of ${opts.deadlineMs} ms passed at block ${last} (${size} bytes)`)), opts.deadlineMs);
    const finish = (err: Error | null, result?: WindowedGetResult): void => {
      if (timer) clearTimeout(timer);
      clearTimeout(deadline);
      sock.close();
      if (err) reject(err);
      else resolve(result!);
    };
    const send = (pkt: Buffer): void => {
      lastSent = pkt;
      const to = server ?? { port: opts.port };
      sock.send(pkt, to.port, host);
      if (timer) clearTimeout(timer);
      timer = setTimeout(onTimeout, timeoutMs);
    };
    const onTimeout = (): void => {
      if (++idle > retries) return finish(new Error(`${opts.file}: no progress after ${retries} timeouts at block ${last}`));
      send(lastSent);
    };
    const ack = (block: number): void => {
      acks++;
      inWindow = 0;
      send(Buffer.concat([u16(4), u16(block & 0xffff)]));
    };

    sock.on('message', (msg, rinfo) => {
      if (server !== null && rinfo.port !== server.port) return; // another TID
      const op = msg.readUInt16BE(0);
      if (op === 5) return finish(new Error(`${opts.file}: ERROR ${msg.readUInt16BE(2)} ${msg.subarray(4, msg.length - 1).toString('latin1')}`));
      if (server === null) server = { port: rinfo.port };
      if (op === 6 && oack === null) {
        const parts = msg.subarray(2).toString('latin1').split('\0');
        oack = {};
        for (let i = 0; i + 1 < parts.length; i += 2) if (parts[i]) oack[parts[i]!.toLowerCase()] = parts[i + 1]!;
        blksize = Number(oack.blksize ?? 512);
        windowsize = Number(oack.windowsize ?? 1);
        idle = 0;
        ack(0);
        return;
      }
      if (op !== 3) return;
      const wire = msg.readUInt16BE(2);
      if (wire !== ((last + 1) & 0xffff)) {
        // An old block again (a retransmitted window): already ACKed, ignore it.
        if (((wire - ((last + 1) & 0xffff)) & 0xffff) >= 0x8000) return;
        // A gap: say where we are (RFC 7440 §4), once per gap, not once per packet after it.
        if (gapAckedAt !== last) {
          gaps++;
          gapAckedAt = last;
          ack(last);
        }
        return;
      }
      idle = 0;
      const data = msg.subarray(4);
      hash.update(data);
      size += data.length;
      last++;
      inWindow++;
      if (data.length < blksize) {
        acks++;
        sock.send(Buffer.concat([u16(4), u16(last & 0xffff)]), server.port, host, () =>
          finish(null, { size, sha256: hash.digest('hex'), oack: oack ?? {}, blocks: last, acks, gaps, ms: Date.now() - started }));
        if (timer) clearTimeout(timer);
        return;
      }
      if (inWindow >= windowsize) ack(last);
    });
    sock.on('error', (e) => finish(e));
    send(Buffer.concat([u16(1), Buffer.from(`${opts.file}\0octet\0blksize\0${opts.blksize}\0windowsize\0${opts.windowsize}\0tsize\0${0}\0`, 'latin1')]));
  });
}
