/** Option 252 and the native boot program in the three boot replies (pxe.chain native, docs/winpe.md). */
import { describe, expect, it } from 'vitest';
import { addressReply, bootServerAck, proxyOffer, type BootTarget } from '../../src/dhcp/proxy.js';
import { encodeReply } from '../../src/dhcp/builder.js';
import { DhcpMessageType, DhcpOptionCode } from '../../src/dhcp/option-codes.js';
import { getOption, messageType, wdsBcdPath } from '../../src/dhcp/options.js';
import { parseDhcpPacket, type DhcpPacket } from '../../src/dhcp/packet.js';
import { isDhcpParseError } from '../../src/dhcp/errors.js';
import { pxeRequestFrom } from '../../src/pxe/request.js';
import { nativeChainFor } from '../../src/winpe/native-chain.js';
import { capturedDhcp, type CaptureName } from './captures.js';

const SERVER = '192.168.77.1';

/** The firmware's first DISCOVER of a capture. */
function discoverOf(name: CaptureName): DhcpPacket {
  const c = capturedDhcp(name).find((d) => d.packet.op === 1 && messageType(d.packet) === DhcpMessageType.Discover);
  if (!c) throw new Error(`${name}: no DISCOVER`);
  return c.packet;
}

/** The same packet as a REQUEST (what a client sends to the 4011 boot server). */
const asRequest = (p: DhcpPacket): DhcpPacket => ({
  ...p,
  options: p.options.map((o) => (o.code === DhcpOptionCode.MessageType ? { code: o.code, data: Buffer.from([DhcpMessageType.Request]) } : o)),
});

/** Encoded the way the listener sends it, then parsed back. */
function wire(request: DhcpPacket, reply: DhcpPacket): DhcpPacket {
  const { buffer, fits } = encodeReply(request, reply);
  expect(fits).toBe(true);
  const parsed = parseDhcpPacket(buffer);
  if (isDhcpParseError(parsed)) throw new Error(parsed.message);
  return parsed;
}

const cases = [
  { name: 'BIOS', capture: 'proxy-bios' as const, firmware: 'bios' as const, file: 'boot/x86/pxeboot.n12', bcd: '\\images\\P0100005\\BCD-bios', arch: 'x86' as const },
  { name: 'UEFI', capture: 'proxy-uefi' as const, firmware: 'uefi' as const, file: 'boot/x64/bootmgfw.efi', bcd: '\\images\\P0100005\\BCD-uefi', arch: 'x64' as const },
];

describe('native Windows chain in the boot replies', () => {
  for (const c of cases) {
    const native = nativeChainFor({ action: 'boot', firmware: c.firmware, architecture: c.arch, bootImageId: 'P0100005' })!;
    const nativeTarget: BootTarget = { file: native.bootFile, http: false, bcdPath: native.bcdPath };
    const ipxeTarget: BootTarget = { file: c.firmware === 'bios' ? 'boot/bios/undionly.kpxe' : 'boot/x64/snponly.efi', http: false };

    it(`${c.name}: nativeChainFor names the boot program and BCD`, () => {
      expect(native).toEqual({ bootFile: c.file, bcdPath: c.bcd });
    });

    const replies: Array<[string, (target: BootTarget) => [DhcpPacket, DhcpPacket]]> = [
      ['proxy offer', (target) => {
        const p = discoverOf(c.capture);
        return [p, proxyOffer(p, pxeRequestFrom(p, 'proxy')!, target, SERVER, 80)];
      }],
      ['4011 ACK', (target) => {
        const p = asRequest(discoverOf(c.capture));
        return [p, bootServerAck(p, pxeRequestFrom(p, 'boot-server')!, target, SERVER, 80)];
      }],
      ['full-mode ACK', (target) => {
        const p = asRequest(discoverOf(c.capture));
        return [p, addressReply(p, {
          messageType: DhcpMessageType.Ack, serverAddress: SERVER, yiaddr: '192.168.77.50', leaseSeconds: 3600, subnetMask: '255.255.255.0',
          pxe: { req: pxeRequestFrom(p, 'dhcp')!, target, httpPort: 80 },
        })];
      }],
    ];

    for (const [what, build] of replies) {
      it(`${c.name} ${what}: option 252 and the native boot program with a BCD path`, () => {
        const [request, reply] = build(nativeTarget);
        const got = wire(request, reply);
        expect(got.file).toBe(c.file);
        expect(got.siaddr).toBe(SERVER);
        expect(wdsBcdPath(got)).toBe(c.bcd);
        expect(getOption(got, DhcpOptionCode.WdsBcdPath)!.equals(Buffer.from(c.bcd, 'ascii'))).toBe(true);
        expect(messageType(got)).toBe(what === 'proxy offer' ? DhcpMessageType.Offer : DhcpMessageType.Ack);
      });

      it(`${c.name} ${what}: no option 252 without a BCD path`, () => {
        for (const target of [ipxeTarget, { ...nativeTarget, bcdPath: null }]) {
          const [request, reply] = build(target);
          const got = wire(request, reply);
          expect(got.file).toBe(target.file);
          expect(getOption(got, DhcpOptionCode.WdsBcdPath)).toBeUndefined();
        }
      });
    }
  }
});
