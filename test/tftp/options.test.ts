import { describe, expect, it } from 'vitest';
import { negotiateOptions, type NegotiationLimits } from '../../src/tftp/options.js';

const limits: NegotiationLimits = { maxBlksize: 65464, maxWindowsize: 64, defaultTimeoutMs: 1000 };
const opts = (...kv: string[]): Array<{ name: string; value: string }> => {
  const out = [];
  for (let i = 0; i < kv.length; i += 2) out.push({ name: kv[i] as string, value: kv[i + 1] as string });
  return out;
};

describe('negotiateOptions', () => {
  it('no options → lock-step 512, no OACK (RFC 1350)', () => {
    expect(negotiateOptions([], limits, 1000)).toEqual({ blksize: 512, windowsize: 1, timeoutMs: 1000, tsize: null, oack: null });
  });

  it('OVMF: tsize=0 blksize=1468 windowsize=4 → all acknowledged with the real size', () => {
    const n = negotiateOptions(opts('tsize', '0', 'blksize', '1468', 'windowsize', '4'), limits, 123456);
    expect(n).toMatchObject({ blksize: 1468, windowsize: 4, tsize: 123456 });
    expect(n.oack).toEqual(opts('tsize', '123456', 'blksize', '1468', 'windowsize', '4'));
  });

  it('iPXE: blksize=1432 tsize=0, lock-step', () => {
    const n = negotiateOptions(opts('blksize', '1432', 'tsize', '0'), limits, 10);
    expect(n).toMatchObject({ blksize: 1432, windowsize: 1, tsize: 10 });
    expect(n.oack).toEqual(opts('blksize', '1432', 'tsize', '10'));
  });

  it.each([
    // [requested blksize, server max, granted (null = not acknowledged)]
    ['1468', 65464, 1468],
    ['65464', 65464, 65464],
    ['65535', 65464, 65464],
    ['8192', 1468, 1468],
    ['8', 65464, 8],
    ['7', 65464, null],
    ['0', 65464, null],
    ['-1', 65464, null],
    ['abc', 65464, null],
    ['0x400', 65464, null],
    ['', 65464, null],
    ['99999999999', 65464, null],
  ])('blksize %s with max %d → %s', (req, max, granted) => {
    const n = negotiateOptions(opts('blksize', req as string), { ...limits, maxBlksize: max as number }, 1);
    if (granted === null) {
      expect(n.oack).toBeNull();
      expect(n.blksize).toBe(512);
    } else {
      expect(n.blksize).toBe(granted);
      expect(n.oack).toEqual(opts('blksize', String(granted)));
    }
  });

  it.each([
    ['16', 64, 16],
    ['64', 64, 64],
    ['65535', 64, 64],
    ['8', 4, 4],
    ['1', 64, 1],
    ['0', 64, null],
    ['65536', 64, null],
  ])('windowsize %s with max %d → %s', (req, max, granted) => {
    const n = negotiateOptions(opts('windowsize', req as string), { ...limits, maxWindowsize: max as number }, 1);
    if (granted === null) expect(n.oack).toBeNull();
    else expect(n).toMatchObject({ windowsize: granted, oack: opts('windowsize', String(granted)) });
  });

  it.each([
    ['1', 1000],
    ['255', 255000],
    ['0', null],
    ['256', null],
  ])('timeout %s → %s ms (RFC 2349: 1..255, echoed unchanged)', (req, ms) => {
    const n = negotiateOptions(opts('timeout', req as string), limits, 1);
    if (ms === null) expect(n).toMatchObject({ timeoutMs: 1000, oack: null });
    else expect(n).toMatchObject({ timeoutMs: ms, oack: opts('timeout', req as string) });
  });

  it('tsize is left out when the size is not known in advance (netascii)', () => {
    expect(negotiateOptions(opts('tsize', '0'), limits, null).oack).toBeNull();
  });

  it('option names are case-insensitive, echoed as sent; unknown and repeated ones are ignored', () => {
    const n = negotiateOptions(opts('BLKSIZE', '1456', 'multicast', '', 'blksize', '512', 'WindowSize', '8'), limits, 1);
    expect(n).toMatchObject({ blksize: 1456, windowsize: 8 });
    expect(n.oack).toEqual(opts('BLKSIZE', '1456', 'WindowSize', '8'));
  });

  it.each([
    // [blksize, windowsize asked, maxWindowBytes, windowsize granted]
    ['1468', '64', 1 << 20, 64],
    ['65464', '64', 1 << 20, 16],
    ['65464', '8', 1 << 20, 8],
    ['65464', '4', 100_000, 1],
  ])('windowsize is lowered to bound memory: blksize %s windowsize %s max %d bytes → %d', (b, w, max, granted) => {
    const n = negotiateOptions(opts('windowsize', w as string, 'blksize', b as string), { ...limits, maxWindowBytes: max as number }, 1);
    expect(n.windowsize).toBe(granted);
    expect(n.oack).toEqual(opts('windowsize', String(granted), 'blksize', b as string));
  });

  it('Windows bootmgr: blksize 1456 windowsize 8', () => {
    expect(negotiateOptions(opts('blksize', '1456', 'windowsize', '8', 'tsize', '0'), limits, 300e6)).toMatchObject({ blksize: 1456, windowsize: 8, tsize: 300e6 });
  });
});
