import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { bufferSource } from '../../src/tftp/files.js';
import { FileBlockReader, toNetascii, type BlockStream } from '../../src/tftp/reader.js';
import { Transfer, type TransferParams, type TransferResult } from '../../src/tftp/transfer.js';

/** A synchronous in-memory stream: the state machine without any disk latency. */
function memStream(data: Buffer): BlockStream {
  let pos = 0;
  return {
    fill(dst, off, len) {
      const n = Math.min(len, data.length - pos);
      data.copy(dst, off, pos, pos + n);
      pos += n;
      return n;
    },
    wait: async () => undefined,
    close: async () => undefined,
  };
}

interface Sent {
  op: number;
  block: number;
  len: number;
  payload: Buffer;
}

function harness(params: Partial<TransferParams>, data: Buffer, stream?: BlockStream) {
  const sent: Sent[] = [];
  let onFire: (() => void) | null = null;
  let armedMs: number | null = null;
  let result: TransferResult | null = null;
  const p: TransferParams = { blksize: 512, windowsize: 1, timeoutMs: 1000, retries: 3, oack: null, ...params };
  const t = new Transfer(
    p,
    stream ?? memStream(data),
    {
      send: (b) => sent.push({ op: b.readUInt16BE(0), block: b.readUInt16BE(2), len: b.length - 4, payload: Buffer.from(b.subarray(4)) }),
      createTimer: (fn) => {
        onFire = fn;
        return { arm: (ms) => (armedMs = ms), cancel: () => (armedMs = null) };
      },
      now: () => 0,
    },
    (r) => (result = r),
  );
  const ack = (block: number): void => t.handlePacket(Buffer.from([0, 4, (block >> 8) & 0xff, block & 0xff]));
  const take = (): Sent[] => sent.splice(0);
  const blocks = (): number[] => take().map((s) => s.block);
  const fire = (): void => {
    expect(armedMs).not.toBeNull();
    armedMs = null;
    (onFire as unknown as () => void)();
  };
  return { t, ack, take, blocks, fire, result: () => result, armed: () => armedMs };
}

/**
 * Starts the transfer and, one event-loop turn at a time (bounded), ACKs the last block of
 * every window sent until it ends; returns the payload received. `eachTurn` runs first in
 * every turn.
 */
async function windowsToEnd(h: ReturnType<typeof harness>, eachTurn?: () => void): Promise<Buffer> {
  h.t.start();
  const out: Buffer[] = [];
  for (let guard = 0; guard < 10_000 && !h.result(); guard++) {
    eachTurn?.();
    await new Promise((r) => setImmediate(r));
    const burst = h.take();
    if (burst.length === 0) continue;
    for (const s of burst) out.push(s.payload);
    h.ack((burst[burst.length - 1] as Sent).block);
  }
  return Buffer.concat(out);
}

describe('Transfer state machine', () => {
  it('lock-step without options: DATA 1 first, ends on the short block', () => {
    const data = crypto.randomBytes(1300);
    const h = harness({}, data);
    h.t.start();
    expect(h.blocks()).toEqual([1]);
    h.ack(1);
    expect(h.blocks()).toEqual([2]);
    h.ack(2);
    const last = h.take();
    expect(last).toHaveLength(1);
    expect(last[0]).toMatchObject({ block: 3, len: 1300 - 1024 });
    expect(h.result()).toBeNull();
    h.ack(3);
    expect(h.result()).toMatchObject({ outcome: 'ok', bytes: 1300, blocks: 3, retransmits: 0 });
    expect(h.armed()).toBeNull();
  });

  it('sends OACK first and starts DATA on ACK 0 (RFC 2347)', () => {
    const h = harness({ oack: [{ name: 'blksize', value: '8' }], blksize: 8, windowsize: 1 }, Buffer.from('0123456789'));
    h.t.start();
    const first = h.take();
    expect(first).toHaveLength(1);
    expect(first[0]?.op).toBe(6);
    h.ack(5); // not 0: ignored while waiting for the OACK's ACK
    expect(h.take()).toEqual([]);
    h.ack(0);
    expect(h.blocks()).toEqual([1]);
  });

  it('sends a window, then the next one on the window ACK (RFC 7440)', () => {
    const h = harness({ windowsize: 4, blksize: 8 }, Buffer.alloc(8 * 10 + 3));
    h.t.start();
    expect(h.blocks()).toEqual([1, 2, 3, 4]);
    h.ack(4);
    expect(h.blocks()).toEqual([5, 6, 7, 8]);
    h.ack(8);
    expect(h.blocks()).toEqual([9, 10, 11]);
    h.ack(11);
    expect(h.result()).toMatchObject({ outcome: 'ok', bytes: 83, blocks: 11 });
  });

  it('never answers a duplicate or stale ACK with a burst (Sorcerer\'s Apprentice)', () => {
    const h = harness({ windowsize: 4, blksize: 8 }, Buffer.alloc(8 * 20));
    h.t.start();
    h.take();
    h.ack(4);
    expect(h.blocks()).toEqual([5, 6, 7, 8]);
    h.ack(4); // network duplicate
    h.ack(4);
    h.ack(2); // stale, reordered
    h.ack(0);
    h.ack(60000); // far outside anything sent
    expect(h.take()).toEqual([]);
    h.ack(8);
    expect(h.blocks()).toEqual([9, 10, 11, 12]);
    h.ack(8); // the same window ACK again
    expect(h.take()).toEqual([]);
    expect(h.t['duplicateAcks']).toBe(6);
  });

  it('restarts the window just after an earlier-block ACK (RFC 7440 §4), at once', () => {
    const h = harness({ windowsize: 4, blksize: 8 }, Buffer.alloc(8 * 20));
    h.t.start();
    h.take();
    h.ack(4);
    expect(h.blocks()).toEqual([5, 6, 7, 8]);
    h.ack(6); // the client lost 7
    expect(h.blocks()).toEqual([7, 8, 9, 10]);
    h.ack(6); // its repeat does nothing
    expect(h.take()).toEqual([]);
    h.ack(10);
    expect(h.blocks()).toEqual([11, 12, 13, 14]);
  });

  it('retransmits the unacknowledged window on timeout, then gives up after `retries`', () => {
    const h = harness({ windowsize: 3, blksize: 8, retries: 2 }, Buffer.alloc(8 * 10));
    h.t.start();
    expect(h.blocks()).toEqual([1, 2, 3]);
    h.ack(1);
    expect(h.blocks()).toEqual([2, 3, 4]);
    h.fire();
    expect(h.blocks()).toEqual([2, 3, 4]);
    h.fire();
    expect(h.blocks()).toEqual([2, 3, 4]);
    h.fire();
    expect(h.take()).toEqual([]);
    expect(h.result()).toMatchObject({ outcome: 'timeout', blocks: 1 });
    expect(h.result()?.retransmits).toBe(2 + 6);
  });

  it('progress resets the retry budget', () => {
    const h = harness({ blksize: 8, retries: 1 }, Buffer.alloc(8 * 5));
    h.t.start();
    h.take();
    h.fire();
    h.ack(1);
    h.fire();
    h.ack(2);
    h.fire();
    expect(h.result()).toBeNull();
  });

  it('retransmits the OACK on timeout; a vanished client is cleaned up', () => {
    const h = harness({ oack: [{ name: 'tsize', value: '5' }], retries: 1 }, Buffer.alloc(5));
    h.t.start();
    expect(h.take().map((s) => s.op)).toEqual([6]);
    h.fire();
    expect(h.take().map((s) => s.op)).toEqual([6]);
    h.fire();
    expect(h.result()).toMatchObject({ outcome: 'timeout', retransmits: 1 });
  });

  it('OVMF tsize probe: OACK, then ERROR 8 from the client ends the transfer quietly', () => {
    const h = harness({ oack: [{ name: 'tsize', value: '1000' }, { name: 'blksize', value: '1468' }, { name: 'windowsize', value: '4' }], blksize: 1468, windowsize: 4 }, Buffer.alloc(1000));
    h.t.start();
    h.take();
    h.t.handlePacket(Buffer.from('\x00\x05\x00\x08tsize only\x00', 'latin1'));
    expect(h.result()).toMatchObject({ outcome: 'client-error', clientError: { code: 8, message: 'tsize only' }, bytes: 0 });
    expect(h.armed()).toBeNull();
    h.ack(0);
    expect(h.take()).toEqual([]);
  });

  it('an empty file is one empty DATA block; a multiple of blksize ends with an empty block', () => {
    const e = harness({ blksize: 8 }, Buffer.alloc(0));
    e.t.start();
    expect(e.take()).toMatchObject([{ block: 1, len: 0 }]);
    e.ack(1);
    expect(e.result()).toMatchObject({ outcome: 'ok', bytes: 0 });

    const m = harness({ blksize: 8, windowsize: 8 }, Buffer.alloc(16));
    m.t.start();
    expect(m.take().map((s) => [s.block, s.len])).toEqual([[1, 8], [2, 8], [3, 0]]);
    m.ack(3);
    expect(m.result()).toMatchObject({ outcome: 'ok', bytes: 16 });
  });

  it('rolls block numbers over to 0 after 65535 and still maps ACKs right', () => {
    const blocks = 65535 + 300;
    const data = crypto.randomBytes(blocks * 8 + 5);
    const h = harness({ blksize: 8, windowsize: 64 }, data);
    h.t.start();
    const out: Buffer[] = [];
    let lastWire = -1;
    let seenZero = false;
    for (let guard = 0; guard < 5000 && !h.result(); guard++) {
      const burst = h.take();
      for (const s of burst) {
        out.push(s.payload);
        if (s.block === 0 && lastWire === 65535) seenZero = true;
        lastWire = s.block;
      }
      h.ack(lastWire);
    }
    expect(seenZero).toBe(true);
    expect(h.result()).toMatchObject({ outcome: 'ok', bytes: data.length, blocks: blocks + 1 });
    expect(Buffer.concat(out).equals(data)).toBe(true);
  });

  it('ignores ACKs for blocks never sent and non-ACK packets from the client', () => {
    const h = harness({ windowsize: 2, blksize: 8 }, Buffer.alloc(100));
    h.t.start();
    h.take();
    h.ack(3);
    h.t.handlePacket(Buffer.from([0, 3, 0, 1, 9, 9])); // DATA from a reader: nonsense, ignored
    h.t.handlePacket(Buffer.from([0, 1, 0x41, 0])); // an RRQ fragment
    h.t.handlePacket(Buffer.from([0]));
    expect(h.take()).toEqual([]);
    expect(h.result()).toBeNull();
  });

  it('prefill: the next window\'s first block is read while the ACK is awaited; restarts and timeouts still resend the right bytes', () => {
    const data = crypto.randomBytes(512 * 10 + 100); // 11 blocks, the last short
    const h = harness({ windowsize: 4 }, data);
    const check = (sent: Sent[]): number[] => {
      for (const x of sent) expect(x.payload.equals(data.subarray((x.block - 1) * 512, x.block * 512))).toBe(true);
      return sent.map((x) => x.block);
    };
    h.t.start();
    expect(check(h.take())).toEqual([1, 2, 3, 4]);
    h.t.prefill(); // reads block 5 into the spare slot
    h.t.prefill(); // nothing more: block 6 is beyond base + windowsize
    expect(h.take()).toEqual([]);
    h.ack(2); // RFC 7440 §4: restart after 2
    expect(check(h.take())).toEqual([3, 4, 5, 6]);
    h.t.prefill(); // block 7
    h.fire(); // timeout: 3..6 again, from their slots
    expect(check(h.take())).toEqual([3, 4, 5, 6]);
    h.ack(6);
    expect(check(h.take())).toEqual([7, 8, 9, 10]);
    h.t.prefill(); // block 11, the short last one
    h.ack(10);
    const last = h.take();
    expect(check(last)).toEqual([11]);
    expect(last[0]?.len).toBe(100);
    h.t.prefill(); // nothing after the last block
    h.ack(11);
    expect(h.result()).toMatchObject({ outcome: 'ok', bytes: data.length, retransmits: 6 });
  });

  it('streams through the chunked reader across chunk boundaries (async refills)', async () => {
    const data = crypto.randomBytes(300_000);
    const reader = new FileBlockReader(bufferSource(data), { readAhead: 65464 });
    const h = harness({ blksize: 1000, windowsize: 16 }, data, reader);
    expect(await windowsToEnd(h)).toEqual(data);
    expect(h.result()).toMatchObject({ outcome: 'ok', bytes: data.length });
  });

  it.each([
    ['chunks', undefined],
    ['blocks read straight into the window (directMin)', 1000],
  ] as const)('syncTopUp, %s: from readNow (page cache) when it can, from read() when it cannot', async (_label, directMin) => {
    const data = crypto.randomBytes(300_000);
    let nowCalls = 0;
    let asyncCalls = 0;
    // readNow "finds" every other chunk uncached: those go through the async read.
    const source = {
      size: data.length,
      read: async (pos: number, len: number, into?: Buffer) => {
        asyncCalls++;
        const b = into ?? Buffer.alloc(len);
        return b.subarray(0, data.copy(b, 0, pos, Math.min(pos + len, data.length)));
      },
      readNow: (pos: number, len: number, into: Buffer, off: number) => {
        if (nowCalls++ % 2 === 1) return -1;
        return data.copy(into, off, pos, Math.min(pos + len, data.length));
      },
      close: async () => undefined,
    };
    const reader = new FileBlockReader(source, { readAhead: 65464, syncTopUp: true, ...(directMin ? { directMin } : {}) });
    const h = harness({ blksize: 1000, windowsize: 16 }, data, reader);
    // reader.topUp(): what the busy-polling server does while it waits for an ACK.
    expect(await windowsToEnd(h, () => reader.topUp())).toEqual(data);
    expect(h.result()).toMatchObject({ outcome: 'ok', bytes: data.length });
    expect(nowCalls).toBeGreaterThan(1);
    expect(asyncCalls).toBeGreaterThan(1);
  });

  it('a failing disk read ends the transfer with outcome read-error', async () => {
    const failing = {
      size: 1_000_000,
      read: async () => {
        throw new Error('EIO: i/o error');
      },
      close: async () => undefined,
    };
    const h = harness({ blksize: 512 }, Buffer.alloc(0), new FileBlockReader(failing));
    h.t.start();
    for (let i = 0; i < 10 && !h.result(); i++) await new Promise((r) => setImmediate(r));
    expect(h.result()).toMatchObject({ outcome: 'read-error', reason: 'EIO: i/o error' });
    expect(h.take()).toEqual([]);
  });

  it('netascii: LF → CR LF, CR → CR NUL', async () => {
    const src = Buffer.from('a\nb\rc\r\n');
    const dst = Buffer.alloc(32);
    expect(dst.subarray(0, toNetascii(src, dst)).toString('latin1')).toBe('a\r\nb\r\0c\r\0\r\n');
    const reader = new FileBlockReader(bufferSource(Buffer.from('x\n'.repeat(1000))), { netascii: true });
    await reader.wait();
    const block = Buffer.alloc(4000);
    expect(reader.fill(block, 0, 4000)).toBe(3000);
    expect(block.subarray(0, 6).toString('latin1')).toBe('x\r\nx\r\n');
  });
});
