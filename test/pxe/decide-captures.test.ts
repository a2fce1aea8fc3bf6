/**
 * Golden packets: the requests real firmware sent (fixtures/captures, QEMU against
 * dnsmasq) go through pxeRequestFrom and decidePxeBoot for every decision branch:
 * known/unknown machine × required/available/nothing, for OVMF's own PXE, iPXE on
 * BIOS and iPXE on UEFI, in full DHCP and ProxyDHCP (port 67 and 4011) modes.
 */
import { describe, expect, it } from 'vitest';
import { messageType } from '../../src/dhcp/options.js';
import { chaddrFromMac, type DhcpPacket } from '../../src/dhcp/packet.js';
import { decidePxeBoot } from '../../src/pxe/decide.js';
import { isPxeClientPacket, pxeRequestFrom, smbiosGuidOf } from '../../src/pxe/request.js';
import type { PxeChannel, PxeDecision } from '../../src/pxe/types.js';
import { X64_UNKNOWN_ID, X86_UNKNOWN_ID, type Architecture } from '../../src/site/model.js';
import { capturedDhcp, type CaptureName } from '../dhcp/captures.js';
import { allSystems, allUnknown, collection, context, deployment, device, pxeSite, taskSequence, unknownObject } from './helpers.js';

interface Golden {
  name: string;
  capture: CaptureName;
  frame: number;
  channel: PxeChannel;
  mac: string;
  guid: string;
  code: number;
  ipxe: boolean;
  clientIp: string | null;
  /** The boot file a serviced boot gets. */
  bootFile: string;
  http: boolean;
}

const SCRIPT = (n: string): string => `/boot/52-54-00-77-00-${n}.ipxe`;
const GOLDEN: Golden[] = [
  { name: 'OVMF PXE, full DHCP DISCOVER', capture: 'full-uefi', frame: 0, channel: 'dhcp', mac: '52:54:00:77:00:20', guid: '4b1d0000-7777-4000-8000-000000000020', code: 7, ipxe: false, clientIp: null, bootFile: 'boot/x64/snponly.efi', http: false },
  { name: 'OVMF PXE, proxy DISCOVER', capture: 'proxy-uefi', frame: 0, channel: 'proxy', mac: '52:54:00:77:00:20', guid: '4b1d0000-7777-4000-8000-000000000020', code: 7, ipxe: false, clientIp: null, bootFile: 'boot/x64/snponly.efi', http: false },
  { name: 'OVMF PXE, 4011 REQUEST (4011 → 4011)', capture: 'proxy-uefi', frame: 5, channel: 'boot-server', mac: '52:54:00:77:00:20', guid: '4b1d0000-7777-4000-8000-000000000020', code: 7, ipxe: false, clientIp: '10.77.0.233', bootFile: 'boot/x64/snponly.efi', http: false },
  { name: 'chained snponly.efi (iPXE), full DHCP', capture: 'full-uefi', frame: 248, channel: 'dhcp', mac: '52:54:00:77:00:20', guid: '4b1d0000-7777-4000-8000-000000000020', code: 7, ipxe: true, clientIp: null, bootFile: SCRIPT('20'), http: true },
  { name: 'iPXE BIOS ROM, full DHCP DISCOVER', capture: 'full-bios', frame: 0, channel: 'dhcp', mac: '52:54:00:77:00:10', guid: '4b1d0000-7777-4000-8000-000000000010', code: 0, ipxe: true, clientIp: null, bootFile: SCRIPT('10'), http: true },
  { name: 'iPXE BIOS ROM, proxy DISCOVER', capture: 'proxy-bios', frame: 0, channel: 'proxy', mac: '52:54:00:77:00:10', guid: '4b1d0000-7777-4000-8000-000000000010', code: 0, ipxe: true, clientIp: null, bootFile: SCRIPT('10'), http: true },
  { name: 'iPXE BIOS ROM, 4011 REQUEST (xid 0)', capture: 'proxy-bios', frame: 5, channel: 'boot-server', mac: '52:54:00:77:00:10', guid: '4b1d0000-7777-4000-8000-000000000010', code: 0, ipxe: true, clientIp: '10.77.0.217', bootFile: SCRIPT('10'), http: true },
  { name: 'chained undionly.kpxe, proxy (option 60 without Arch)', capture: 'proxy-bios', frame: 114, channel: 'proxy', mac: '52:54:00:77:00:10', guid: '4b1d0000-7777-4000-8000-000000000010', code: 0, ipxe: true, clientIp: null, bootFile: SCRIPT('10'), http: true },
  { name: 'iPXE UEFI ROM, full DHCP DISCOVER', capture: 'full-uefi-ipxe', frame: 0, channel: 'dhcp', mac: '52:54:00:77:00:30', guid: '4b1d0000-7777-4000-8000-000000000030', code: 7, ipxe: true, clientIp: null, bootFile: SCRIPT('30'), http: true },
  { name: 'iPXE UEFI ROM, 4011 REQUEST', capture: 'proxy-uefi-ipxe', frame: 8, channel: 'boot-server', mac: '52:54:00:77:00:30', guid: '4b1d0000-7777-4000-8000-000000000030', code: 7, ipxe: true, clientIp: '10.77.0.249', bootFile: SCRIPT('30'), http: true },
];

function packetOf(g: Golden): DhcpPacket {
  const found = capturedDhcp(g.capture).find((c) => c.datagram.frame === g.frame);
  if (!found) throw new Error(`${g.capture} has no DHCP frame ${g.frame}`);
  return found.packet;
}

describe('pxeRequestFrom on the captured requests', () => {
  it.each(GOLDEN.map((g) => [g.name, g] as const))('%s', (_, g) => {
    const p = packetOf(g);
    expect(isPxeClientPacket(p)).toBe(true);
    const req = pxeRequestFrom(p, g.channel);
    expect(req).toMatchObject({
      mac: g.mac, smbiosGuid: g.guid, isIpxe: g.ipxe, isHttpBoot: false, channel: g.channel, clientIp: g.clientIp, relay: null, interface: null,
    });
    expect(req!.architecture.row.code).toBe(g.code);
  });

  it('every captured client request is a PXE client and yields a request', () => {
    for (const name of ['full-bios', 'full-uefi', 'full-uefi-ipxe', 'proxy-bios', 'proxy-uefi', 'proxy-uefi-ipxe'] as const) {
      for (const c of capturedDhcp(name).filter((x) => x.packet.op === 1)) {
        expect(messageType(c.packet)).toBeDefined();
        expect(pxeRequestFrom(c.packet, 'dhcp')).not.toBeNull();
      }
    }
  });

  it('the listener\'s context fills interface, leased address and CPU width', () => {
    const req = pxeRequestFrom(packetOf(GOLDEN[0]!), 'dhcp', { interface: 'br0', clientIp: '10.77.0.50', x64Capable: true });
    expect(req).toMatchObject({ interface: 'br0', clientIp: '10.77.0.50', x64Capable: true });
  });

  it('option 50 names the address in a REQUEST, never in a DISCOVER (a stale hint there)', () => {
    const req = capturedDhcp('full-uefi').find((c) => c.datagram.frame === 2)!.packet; // OVMF REQUEST, full mode
    expect(messageType(req)).toBe(3);
    expect(pxeRequestFrom(req, 'dhcp')!.clientIp).toMatch(/^10\.77\.0\.\d+$/);
    const discover = packetOf(GOLDEN[0]!);
    const hinted: DhcpPacket = { ...discover, options: [...discover.options, { code: 50, data: Buffer.from([10, 77, 0, 9]) }] };
    expect(pxeRequestFrom(hinted, 'dhcp')!.clientIp).toBeNull();
  });

  it('ciaddr wins over the context address (4011 requests carry it)', () => {
    expect(pxeRequestFrom(packetOf(GOLDEN[2]!), 'boot-server', { clientIp: '10.0.0.1' })!.clientIp).toBe('10.77.0.233');
  });

  it('a relayed request carries giaddr and option 82 sub-options in hex', () => {
    const p = packetOf(GOLDEN[0]!);
    const relayed: DhcpPacket = {
      ...p, giaddr: '10.1.0.1',
      options: [...p.options, { code: 82, data: Buffer.from([1, 2, 0x41, 0x42, 2, 1, 0xff]) }],
    };
    expect(pxeRequestFrom(relayed, 'dhcp')!.relay).toEqual({ giaddr: '10.1.0.1', circuitId: '4142', remoteId: 'ff' });
  });

  it('junk SMBIOS GUIDs (all zeros, all ones) read as none', () => {
    const p = packetOf(GOLDEN[0]!);
    const withGuid = (b: number): DhcpPacket => ({ ...p, options: p.options.map((o) => (o.code === 97 ? { code: 97, data: Buffer.concat([Buffer.from([0]), Buffer.alloc(16, b)]) } : o)) });
    expect(smbiosGuidOf(withGuid(0))).toBeNull();
    expect(smbiosGuidOf(withGuid(0xff))).toBeNull();
    expect(smbiosGuidOf(withGuid(0x11))).toBe('11111111-1111-1111-1111-111111111111');
  });

  it('a non-Ethernet chaddr yields no request', () => {
    const p = packetOf(GOLDEN[0]!);
    expect(pxeRequestFrom({ ...p, htype: 6, hlen: 6, chaddr: chaddrFromMac('52:54:00:77:00:20') }, 'dhcp')).toBeNull();
  });

  it('an HTTP Boot vendor class is recognised', () => {
    const p = packetOf(GOLDEN[0]!);
    const http: DhcpPacket = {
      ...p,
      options: p.options.map((o) => (o.code === 60 ? { code: 60, data: Buffer.from('HTTPClient:Arch:00016:UNDI:003000') } : o.code === 93 ? { code: 93, data: Buffer.from([0, 16]) } : o)),
    };
    const req = pxeRequestFrom(http, 'dhcp')!;
    expect(req).toMatchObject({ isHttpBoot: true, isIpxe: false });
    expect(req.architecture.row.code).toBe(16);
  });
});

/** The three captured machines, known or not, with x86 and x64 boot images. */
function siteFor(known: boolean, purposes: ('required' | 'available')[], hardware: Architecture = 'x64') {
  const macs = ['52:54:00:77:00:10', '52:54:00:77:00:20', '52:54:00:77:00:30'];
  const devices = known
    ? macs.map((mac, i) => device(String(16777300 + i), { macs: [mac], smbiosGuid: `4b1d0000-7777-4000-8000-0000000000${mac.slice(-2)}`, architecture: hardware }))
    : [];
  const target = known ? 'PXP00C01' : 'SMS000US';
  return pxeSite({
    devices: [...devices, unknownObject('x86'), unknownObject('x64')],
    collections: [allSystems(), allUnknown({ directMemberIds: [X86_UNKNOWN_ID, X64_UNKNOWN_ID] }), collection('PXP00C01', { directMemberIds: devices.map((d) => d.id) })],
    taskSequences: [taskSequence('PXP00T01', { bootImageId: 'PXP00B01' }), taskSequence('PXP00T86', { bootImageId: 'PXP00B86' })],
    // One deployment per image, so every architecture finds its own (rule 79).
    deployments: purposes.flatMap((purpose, i) => [
      deployment(`PXP2${i}001`, { purpose, collection: target, ts: 'PXP00T01' }),
      deployment(`PXP2${i}086`, { purpose, collection: target, ts: 'PXP00T86' }),
    ]),
  });
}

type Branch = { known: boolean; purposes: ('required' | 'available')[]; when: 'ignore' | 'abort'; action: PxeDecision['action']; reasonCode: PxeDecision['reasonCode'] };
const BRANCHES: [string, Branch][] = [
  ['known, required', { known: true, purposes: ['required'], when: 'ignore', action: 'boot', reasonCode: 'required' }],
  ['known, available', { known: true, purposes: ['available'], when: 'ignore', action: 'boot-with-prompt', reasonCode: 'available' }],
  ['known, nothing (ignore)', { known: true, purposes: [], when: 'ignore', action: 'ignore', reasonCode: 'no-deployment' }],
  ['known, nothing (abort)', { known: true, purposes: [], when: 'abort', action: 'abort', reasonCode: 'no-deployment' }],
  ['unknown, required', { known: false, purposes: ['required'], when: 'ignore', action: 'boot', reasonCode: 'required' }],
  ['unknown, available', { known: false, purposes: ['available'], when: 'ignore', action: 'boot-with-prompt', reasonCode: 'available' }],
  ['unknown, nothing (abort)', { known: false, purposes: [], when: 'abort', action: 'abort', reasonCode: 'no-deployment' }],
];

describe.each(GOLDEN.map((g) => [g.name, g] as const))('decision for %s', (_, g) => {
  const req = pxeRequestFrom(packetOf(g), g.channel)!;
  it.each(BRANCHES)('%s', (_, b) => {
    const d = decidePxeBoot(req, context(siteFor(b.known, b.purposes), { whenNothingApplies: b.when }));
    expect(d).toMatchObject({ action: b.action, reasonCode: b.reasonCode });
    if (d.action === 'ignore') {
      expect(d).toMatchObject({ bootFile: null, http: false });
    } else {
      expect(d).toMatchObject({ bootFile: g.bootFile, http: g.http });
    }
    if (b.known) expect(d.deviceId).toBe(String(16777300 + ['10', '20', '30'].indexOf(g.mac.slice(-2))));
    else expect(d.unknownObjectId).toBe(g.code === 0 ? X86_UNKNOWN_ID : X64_UNKNOWN_ID); // BIOS: CPU width unknown → x86 object (rule 62)
    if (d.action === 'boot' || d.action === 'boot-with-prompt') {
      // Rule 79: UEFI x64 → x64 image; BIOS → x64 if its record says x64-capable, else x86.
      expect(d.bootImageArchitecture).toBe(g.code === 7 || b.known ? 'x64' : 'x86');
    }
  });

  it('unknown with unknown support off → not serviced', () => {
    const d = decidePxeBoot(req, context(siteFor(false, ['required']), { unknownComputerSupport: false }));
    expect(d).toMatchObject({ action: 'ignore', reasonCode: 'unknown-not-supported' });
  });

  it('required already delivered (rule 40) → abort when configured', () => {
    const snap = siteFor(true, ['required']);
    const rec = [...snap.devices.values()].find((d) => d.macs.includes(g.mac))!;
    const marked = pxeSite({
      devices: [...[...snap.devices.values()].filter((d) => d.id !== rec.id), { ...rec, pxe: { lastPxeDeploymentId: 'PXP20086', lastPxeDeploymentTime: null } }],
      collections: [...snap.collections.values()], taskSequences: [...snap.taskSequences.values()],
      deployments: [deployment('PXP20086', { purpose: 'required', ts: 'PXP00T86' })],
    });
    expect(decidePxeBoot(req, context(marked, { whenNothingApplies: 'abort' }))).toMatchObject({ action: 'abort', reasonCode: 'required-already-ran' });
  });

  it('MAC on the exclusion list → ignore', () => {
    expect(decidePxeBoot(req, context(siteFor(true, ['required']), { macIgnoreList: [g.mac] })).reasonCode).toBe('mac-ignored');
  });
});
