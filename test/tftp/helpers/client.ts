/**
 * A small, independent RFC 1350/2347/7440 read client for tests: windowed receive,
 * ACK on the window's last block, ACK of the last in-order block on a gap (RFC 7440
 * §4), re-ACK on timeout, block-number rollover. Written from the RFCs, not from the
 * server, so the two can disagree.
 */
import dgram from 'node:dgram';

export interface GetOptions {
  host?: string;
  port: number;
  file: string;
  mode?: string;
  /** RRQ options in order, e.g. [['blksize','1468'],['windowsize','16']]. */
  options?: Array<[string, string]>;
  /** Receiver timeout before re-ACKing (ms). */
  timeoutMs?: number;
  retries?: number;
  /** Abort with ERROR 8 right after the OACK (the OVMF tsize probe). */
  abortAfterOack?: boolean;
  /** Overall deadline (ms). */
  deadlineMs?: number;
}

export interface GetResult {
  data: Buffer;
  oack: Record<string, string> | null;
  error: { code: number; message: string } | null;
  acksSent: number;
  dataPackets: number;
  serverPort: number | null;
}

function rrq(file: string, mode: string, options: Array<[string, string]>): Buffer {
  const parts = [file, mode, ...options.flat()];
  return Buffer.concat([Buffer.from([0, 1]), ...parts.map((p) => Buffer.from(p + '\0', 'latin1'))]);
}

const ack = (block: number): Buffer => Buffer.from([0, 4, (block >> 8) & 0xff, block & 0xff]);

export function tftpGet(o: GetOptions): Promise<GetResult> {
  const host = o.host ?? '127.0.0.1';
  const timeoutMs = o.timeoutMs ?? 300;
  const retries = o.retries ?? 20;
  const sock = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
  const opts = o.options ?? [];
  let blksize = 512;
  let windowsize = 1;
  let oack: Record<string, string> | null = null;
  let serverPort: number | null = null;
  const chunks: Buffer[] = [];
  let expected = 1; // absolute next block
  let sinceAck = 0;
  let lastAckSent = -1;
  let acksSent = 0;
  let dataPackets = 0;
  let tries = 0;
  let timer: NodeJS.Timeout | null = null;
  const request = rrq(o.file, o.mode ?? 'octet', opts);

  return new Promise<GetResult>((resolve, reject) => {
    let finished = false;
    const deadline = setTimeout(() => finish(new Error(`tftpGet ${o.file}: deadline exceeded at block ${expected}`)), o.deadlineMs ?? 60_000);
    const finish = (err: Error | null, error: GetResult['error'] = null): void => {
      if (finished) return;
      finished = true;
      clearTimeout(deadline);
      if (timer) clearTimeout(timer);
      sock.close();
      if (err) reject(err);
      else resolve({ data: Buffer.concat(chunks), oack, error, acksSent, dataPackets, serverPort });
    };
    const sendAck = (abs: number, then?: () => void): void => {
      if (serverPort === null) return;
      acksSent++;
      lastAckSent = abs;
      sock.send(ack(abs & 0xffff), serverPort, host, then);
    };
    const arm = (): void => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => {
        if (++tries > retries) return finish(new Error(`tftpGet ${o.file}: gave up at block ${expected}`));
        if (serverPort === null) sock.send(request, o.port, host);
        else sendAck(expected - 1);
        arm();
      }, timeoutMs);
    };
    sock.on('error', (e) => finish(e));
    sock.on('message', (msg, rinfo) => {
      if (finished) return;
      if (serverPort === null) serverPort = rinfo.port;
      else if (rinfo.port !== serverPort) {
        sock.send(Buffer.from([0, 5, 0, 5, 0]), rinfo.port, rinfo.address);
        return;
      }
      if (msg.length < 4) return;
      const op = msg.readUInt16BE(0);
      if (op === 5) {
        const end = msg.indexOf(0, 4);
        return finish(null, { code: msg.readUInt16BE(2), message: msg.toString('latin1', 4, end < 0 ? msg.length : end) });
      }
      if (op === 6) {
        if (expected !== 1 || chunks.length > 0) return; // duplicate OACK
        const parts = msg.toString('latin1', 2).split('\0');
        oack = {};
        for (let i = 0; i + 1 < parts.length; i += 2) if (parts[i]) oack[(parts[i] as string).toLowerCase()] = parts[i + 1] as string;
        blksize = Number(oack.blksize ?? 512);
        windowsize = Number(oack.windowsize ?? 1);
        if (o.abortAfterOack) {
          sock.send(Buffer.concat([Buffer.from([0, 5, 0, 8]), Buffer.from('tsize probe done\0')]), serverPort, host, () => finish(null));
          return;
        }
        tries = 0;
        sendAck(0);
        arm();
        return;
      }
      if (op !== 3) return;
      dataPackets++;
      const wire = msg.readUInt16BE(2);
      if (wire === (expected & 0xffff)) {
        const payload = msg.subarray(4);
        chunks.push(Buffer.from(payload));
        tries = 0;
        expected++;
        sinceAck++;
        if (payload.length < blksize) {
          // Close only once the final ACK has left (dgram sends after a lookup tick).
          finished = true;
          sendAck(expected - 1, () => {
            finished = false;
            finish(null);
          });
          return;
        }
        if (sinceAck >= windowsize) {
          sinceAck = 0;
          sendAck(expected - 1);
        }
        arm();
        return;
      }
      // Out of order. Behind us: a duplicate. Only a repeat of the block we last
      // acknowledged means the server missed that ACK (it resent the window up to
      // it); any other duplicate is network noise and must not trigger an ACK that
      // the server would read as a gap report. Ahead of us: a gap → ACK the last
      // in-order block, once per gap (RFC 7440 §4).
      const behind = ((expected & 0xffff) - wire) & 0xffff;
      if (behind > 0 && behind < 0x8000) {
        if (wire === (lastAckSent & 0xffff)) sendAck(expected - 1);
      } else if (lastAckSent !== expected - 1) {
        sinceAck = 0;
        sendAck(expected - 1);
      }
    });
    sock.bind(0, () => {
      sock.send(request, o.port, host);
      arm();
    });
  });
}

/** Sends raw datagrams and collects the first reply (with its source port). */
export function exchange(
  port: number,
  packet: Buffer,
  opts: { host?: string; waitMs?: number; from?: dgram.Socket } = {},
): Promise<{ msg: Buffer; port: number } | null> {
  const host = opts.host ?? '127.0.0.1';
  const sock = opts.from ?? dgram.createSocket('udp4');
  return new Promise((resolve) => {
    const done = (v: { msg: Buffer; port: number } | null): void => {
      clearTimeout(t);
      sock.off('message', onMsg);
      if (!opts.from) sock.close();
      resolve(v);
    };
    const onMsg = (msg: Buffer, rinfo: dgram.RemoteInfo): void => done({ msg, port: rinfo.port });
    const t = setTimeout(() => done(null), opts.waitMs ?? 2000);
    sock.on('message', onMsg);
    sock.send(packet, port, host);
  });
}

/** Polls `cond` until it holds or `ms` pass (tests must not race a loaded CI machine). */
export async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
}
