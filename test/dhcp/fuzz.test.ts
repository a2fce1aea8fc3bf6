/**
 * Seeded mutation fuzz: the parser must return a packet or a typed error for anything,
 * and every packet it returns must survive encode → parse unchanged.
 */
import { describe, expect, it } from 'vitest';
import { encodeDhcpPacket, MAGIC_COOKIE, parseDhcpPacket, type DhcpPacket } from '../../src/dhcp/packet.js';
import { isDhcpParseError, type DhcpParseErrorCode } from '../../src/dhcp/errors.js';
import { decodePxeVendorOptions } from '../../src/dhcp/pxe-options.js';
import { decodeIpxeOptions } from '../../src/dhcp/ipxe-options.js';
import { clientMachineId, malformedOptions, relayAgentInfo, userClass } from '../../src/dhcp/options.js';
import { allCapturedDhcp, logical } from './captures.js';
import { mulberry32 as prng } from '../support/prng.js';


/** Field-by-field equality of the logical message; cheaper than a deep equal in a 100k loop. */
function sameMessage(a: DhcpPacket, b: DhcpPacket): boolean {
  const header = ['op', 'htype', 'hlen', 'hops', 'xid', 'secs', 'flags', 'ciaddr', 'yiaddr', 'siaddr', 'giaddr', 'sname', 'file'] as const;
  if (header.some((k) => a[k] !== b[k]) || !a.chaddr.equals(b.chaddr) || a.options.length !== b.options.length) return false;
  return a.options.every((o, k) => o.code === b.options[k]!.code && o.data.equals(b.options[k]!.data));
}

const ITERATIONS = 100_000;
const CODES: readonly DhcpParseErrorCode[] = [
  'PXE_ERR_DHCP_TRUNCATED', 'PXE_ERR_DHCP_BAD_OP', 'PXE_ERR_DHCP_BAD_HLEN', 'PXE_ERR_DHCP_BAD_COOKIE',
  'PXE_ERR_DHCP_OPTION_OVERRUN', 'PXE_ERR_DHCP_BAD_OVERLOAD',
];

describe('mutation fuzz', () => {
  it(`${ITERATIONS.toLocaleString('en')} seeded mutations of captured packets and random buffers: no throw, typed results, round trip`, () => {
    const rnd = prng(0x9e3779b9);
    const int = (n: number): number => Math.floor(rnd() * n);
    const seeds = allCapturedDhcp().map((c) => c.datagram.payload);
    const outcomes = new Map<string, number>();
    const count = (k: string): void => { outcomes.set(k, (outcomes.get(k) ?? 0) + 1); };
    const started = Date.now();

    for (let i = 0; i < ITERATIONS; i++) {
      let buf: Buffer;
      const strategy = int(8);
      if (strategy === 7) {
        buf = Buffer.alloc(int(700));
        for (let k = 0; k < buf.length; k++) buf[k] = int(256);
        if (buf.length >= 240 && rnd() < 0.7) { buf[0] = 1 + int(2); buf[2] = int(17); buf.writeUInt32BE(MAGIC_COOKIE, 236); }
      } else {
        buf = Buffer.from(seeds[int(seeds.length)]!);
        const optionByte = (): number => 240 + int(Math.max(1, buf.length - 240));
        switch (strategy) {
          case 0: for (let k = 1 + int(4); k > 0; k--) buf[int(buf.length)] = int(256); break;
          case 1: buf = buf.subarray(0, int(buf.length + 1)); break;
          case 2: buf[optionByte()] = rnd() < 0.5 ? 255 : int(256); break; // lengths and codes
          case 3: { const at = int(buf.length); buf = Buffer.concat([buf.subarray(0, at), Buffer.from(Array.from({ length: 1 + int(8) }, () => int(256))), buf.subarray(at)]); break; }
          case 4: { const at = optionByte(); buf = Buffer.concat([buf.subarray(0, at), buf.subarray(Math.min(buf.length, at + 1 + int(20)))]); break; }
          case 5: { // overload pointing at garbage or at options
            buf = Buffer.concat([buf.subarray(0, 240), Buffer.from([52, 1, int(6)]), buf.subarray(240)]);
            for (let k = 44; k < 236; k++) if (rnd() < 0.3) buf[k] = int(256);
            break;
          }
          default: { // a long option split into pieces, or a run of zero-length options
            const code = 1 + int(254);
            const extra = rnd() < 0.5 ? [code, 0, code, 0] : [code, 3, 1, 2, 3, code, 2, 4, 5];
            buf = Buffer.concat([buf.subarray(0, 240), Buffer.from(extra), buf.subarray(240)]);
          }
        }
      }

      const p = parseDhcpPacket(buf); // must not throw
      if (isDhcpParseError(p)) {
        if (!CODES.includes(p.code)) throw new Error(`unknown error code ${p.code}`);
        count(p.code);
        continue;
      }
      count('packet');
      // Accessors and sub-option decoders never throw either.
      malformedOptions(p); userClass(p); relayAgentInfo(p); clientMachineId(p);
      for (const o of p.options) { decodePxeVendorOptions(o.data); decodeIpxeOptions(o.data); }
      const again = parseDhcpPacket(encodeDhcpPacket(p));
      if (isDhcpParseError(again)) throw new Error(`re-encoded packet ${i} does not parse: ${again.message}`);
      if (!sameMessage(again, p)) {
        expect(logical(again)).toEqual(logical(p)); // shows the difference
      }
    }

    const elapsed = Date.now() - started;
    if (process.env.FUZZ_REPORT) console.log(Object.fromEntries(outcomes), `${elapsed} ms`);
    expect(outcomes.get('packet')).toBeGreaterThan(ITERATIONS / 4);
    for (const code of ['PXE_ERR_DHCP_TRUNCATED', 'PXE_ERR_DHCP_OPTION_OVERRUN', 'PXE_ERR_DHCP_BAD_OVERLOAD', 'PXE_ERR_DHCP_BAD_COOKIE']) {
      expect(outcomes.get(code), code).toBeGreaterThan(0);
    }
    expect(elapsed).toBeLessThan(20_000); // a few seconds on one shared core
  });
});
