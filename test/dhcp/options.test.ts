import { describe, expect, it } from 'vitest';
import type { DhcpOption } from '../../src/dhcp/packet.js';
import {
  clientArchitectures,
  clientIdentifier,
  clientMachineId,
  clientNdi,
  guidFromWire,
  guidToWire,
  malformedOptions,
  maxMessageSize,
  messageType,
  parameterRequestList,
  relayAgentInfo,
  requestedIpAddress,
  serverIdentifier,
  tftpServerName,
  userClass,
  vendorClass,
  wdsBcdPath,
  wdsClientRequest,
  wdsVariablesFile,
  withOption,
  withoutOption,
  writeSubOptions,
} from '../../src/dhcp/options.js';
import { decodePxeVendorOptions, DiscoveryControl, encodePxeVendorOptions, pxeVendorOptions } from '../../src/dhcp/pxe-options.js';
import { decodeIpxeOptions, ipxeFeatureCode, isIpxe } from '../../src/dhcp/ipxe-options.js';
import { messageTypeName, optionName } from '../../src/dhcp/option-codes.js';

const pkt = (...options: Array<[number, number[] | string]>): { options: DhcpOption[] } => ({
  options: options.map(([code, v]) => ({ code, data: typeof v === 'string' ? Buffer.from(v, 'latin1') : Buffer.from(v) })),
});

describe('RFC 2132 accessors', () => {
  it('read 53, 54, 50, 55, 57, 60, 61, 66', () => {
    const p = pkt([53, [3]], [54, [10, 77, 0, 2]], [50, [10, 77, 0, 9]], [55, [1, 3, 43, 60, 66, 67]], [57, [0x05, 0xc0]],
      [60, 'PXEClient:Arch:00007:UNDI:003000'], [61, [1, 0x52, 0x54, 0, 0x77, 0, 0x10]], [66, 'tftp.lan\0']);
    expect(messageType(p)).toBe(3);
    expect(serverIdentifier(p)).toBe('10.77.0.2');
    expect(requestedIpAddress(p)).toBe('10.77.0.9');
    expect(parameterRequestList(p)).toEqual([1, 3, 43, 60, 66, 67]);
    expect(maxMessageSize(p)).toBe(1472);
    expect(vendorClass(p)).toBe('PXEClient:Arch:00007:UNDI:003000');
    expect(clientIdentifier(p)).toMatchObject({ type: 1, mac: '52:54:00:77:00:10' });
    expect(tftpServerName(p)).toBe('tftp.lan');
  });

  it('treats malformed shapes as absent and lists them', () => {
    const p = pkt([53, [1, 2]], [54, [10, 0]], [57, [0x01, 0x00]], [61, [1]], [93, [0]], [94, [1, 2]], [97, [0, 1, 2]]);
    expect(messageType(p)).toBeUndefined();
    expect(serverIdentifier(p)).toBeUndefined();
    expect(maxMessageSize(p)).toBeUndefined(); // 256 < 576
    expect(clientIdentifier(p)).toBeUndefined();
    expect(clientArchitectures(p)).toBeUndefined();
    expect(clientNdi(p)).toBeUndefined();
    expect(clientMachineId(p)).toEqual({ type: 0, raw: Buffer.from([0, 1, 2]) });
    expect(malformedOptions(p)).toEqual([53, 54, 57, 61, 93, 94, 97]);
  });

  it('non-Ethernet client ids keep the raw id', () => {
    expect(clientIdentifier(pkt([61, [0, 0x61, 0x62]]))).toEqual({ type: 0, id: Buffer.from('ab') });
  });

  it('withOption replaces in place or appends; withoutOption removes', () => {
    const list = pkt([53, [1]], [60, 'a']).options;
    expect(withOption(list, 53, Buffer.from([2])).map((o) => [o.code, o.data[0]])).toEqual([[53, 2], [60, 0x61]]);
    expect(withOption(list, 54, Buffer.from([1, 2, 3, 4])).map((o) => o.code)).toEqual([53, 60, 54]);
    expect(withoutOption(list, 53).map((o) => o.code)).toEqual([60]);
  });

  it('names codes and message types for logs', () => {
    expect(optionName(93)).toBe('ClientSystemArchitecture(93)');
    expect(optionName(200)).toBe('option-200');
    expect(messageTypeName(1)).toBe('DISCOVER');
    expect(messageTypeName(undefined)).toBe('BOOTP');
    expect(messageTypeName(42)).toBe('TYPE-42');
  });
});

describe('option 77 user class', () => {
  it('reads iPXE\'s bare string as raw', () => {
    expect(userClass(pkt([77, 'iPXE']))).toEqual({ form: 'raw', classes: ['iPXE'] });
    expect(isIpxe(pkt([77, 'iPXE']))).toBe(true);
  });
  it('reads RFC 3004 instances', () => {
    expect(userClass(pkt([77, [4, ...Buffer.from('iPXE'), 3, ...Buffer.from('lab')]]))).toEqual({ form: 'rfc3004', classes: ['iPXE', 'lab'] });
    expect(isIpxe(pkt([77, [4, ...Buffer.from('iPXE')]]))).toBe(true);
  });
  it('falls back to raw when the instances do not frame exactly', () => {
    expect(userClass(pkt([77, [3, 0x61, 0x62]]))).toEqual({ form: 'raw', classes: ['\x03ab'] });
    expect(userClass(pkt([77, [0, 0x61]]))?.form).toBe('raw');
    expect(userClass(pkt([77, []]))).toBeUndefined();
  });
  it('option 175 alone also marks iPXE (FlexBoot and forks omit 77)', () => {
    expect(isIpxe(pkt([175, [0xeb, 3, 1, 0, 0]]))).toBe(true);
    expect(isIpxe(pkt([60, 'PXEClient']))).toBe(false);
  });
});

describe('option 82 relay agent information', () => {
  it('exposes circuit and remote id and keeps every sub-option raw', () => {
    const info = relayAgentInfo(pkt([82, [1, 3, 0x65, 0x74, 0x31, 2, 2, 0xaa, 0xbb, 9, 1, 0x07]]));
    expect(info?.circuitId).toEqual(Buffer.from('et1'));
    expect(info?.remoteId).toEqual(Buffer.from([0xaa, 0xbb]));
    expect(info?.subOptions.map((s) => s.code)).toEqual([1, 2, 9]);
  });
  it('reads framing errors as undefined', () => {
    expect(relayAgentInfo(pkt([82, [1, 9, 0x65]]))).toBeUndefined();
    expect(malformedOptions(pkt([82, [1]]))).toEqual([82]);
  });
});

describe('RFC 4578 options 93, 94, 97', () => {
  it('93 is a list of uint16 in preference order', () => {
    expect(clientArchitectures(pkt([93, [0, 7]]))).toEqual([7]);
    expect(clientArchitectures(pkt([93, [0, 16, 0, 7]]))).toEqual([16, 7]);
    expect(clientArchitectures(pkt([93, [0, 7, 1]]))).toBeUndefined();
  });
  it('94 is type, major, minor', () => {
    expect(clientNdi(pkt([94, [1, 3, 10]]))).toEqual({ type: 1, major: 3, minor: 10 });
  });
  it('97 type 0 is an SMBIOS GUID with its first three fields little-endian', () => {
    const wire = [0, 0x00, 0x00, 0x1d, 0x4b, 0x77, 0x77, 0x00, 0x40, 0x80, 0x00, 0, 0, 0, 0, 0, 0x10];
    expect(clientMachineId(pkt([97, wire]))?.guid).toBe('4b1d0000-7777-4000-8000-000000000010');
    expect(guidFromWire(guidToWire('00112233-4455-6677-8899-aabbccddeeff'))).toBe('00112233-4455-6677-8899-aabbccddeeff');
    expect(guidToWire('4b1d0000-7777-4000-8000-000000000010')).toEqual(Buffer.from(wire.slice(1)));
  });
});

describe('WDS / ConfigMgr options', () => {
  it('252 reads as the BCD path; 243 and 250 stay raw', () => {
    const p = pkt([252, 'SMSTemp\\2026.11.26.04.00.00.0001.{GUID}.boot.bcd\0'], [243, [2, 9, 9]], [250, [0x0c, 1, 1]]);
    expect(wdsBcdPath(p)).toBe('SMSTemp\\2026.11.26.04.00.00.0001.{GUID}.boot.bcd');
    expect(wdsVariablesFile(p)).toEqual(Buffer.from([2, 9, 9]));
    expect(wdsClientRequest(p)).toEqual(Buffer.from([0x0c, 1, 1]));
  });
});

describe('option 43 PXE sub-options', () => {
  it('encodes 6, 8, 9, 10, 71 and decodes them back', () => {
    const input = {
      discoveryControl: DiscoveryControl.NoMulticast | DiscoveryControl.NoBroadcast,
      bootServers: [{ type: 0x8002, addresses: ['10.77.0.2', '10.77.0.3'] }],
      bootMenu: [{ type: 0x8002, description: 'pxepoint' }, { type: 0, description: 'Local boot' }],
      menuPrompt: { timeout: 5, prompt: 'Press F8' },
      bootItem: { type: 0x8002, layer: 0 },
    };
    const bytes = encodePxeVendorOptions(input);
    expect(bytes.at(-1)).toBe(255);
    const back = decodePxeVendorOptions(bytes);
    expect(back).toMatchObject(input);
    expect(back?.subOptions.map((s) => s.code)).toEqual([6, 8, 9, 10, 71]);
  });

  it('writes the exact bytes dnsmasq sends for a boot item', () => {
    expect(encodePxeVendorOptions({ bootItem: { type: 0x8002, layer: 0 } })).toEqual(Buffer.from([71, 4, 0x80, 2, 0, 0, 255]));
  });

  it('leaves malformed known sub-options raw and breaks on bad framing', () => {
    const odd = decodePxeVendorOptions(Buffer.from([8, 2, 0x80, 0x02, 71, 1, 9, 255]));
    expect(odd?.bootServers).toBeUndefined();
    expect(odd?.bootItem).toBeUndefined();
    expect(odd?.subOptions).toHaveLength(2);
    expect(decodePxeVendorOptions(Buffer.from([6, 5, 1]))).toBeUndefined();
    expect(pxeVendorOptions(pkt([60, 'PXEClient']))).toBeUndefined();
  });

  it('refuses sub-options over 255 bytes', () => {
    expect(() => writeSubOptions([{ code: 9, data: Buffer.alloc(256) }], true)).toThrow(/255/);
  });
});

describe('option 175 iPXE encapsulated options', () => {
  it('decodes features, version, bus id, priority and no-pxedhcp', () => {
    const d = decodeIpxeOptions(Buffer.from([0xb1, 5, 1, 0x80, 0x86, 0x10, 0x0e, 0xeb, 3, 1, 0, 0, 0x13, 1, 1, 0x24, 1, 1,
      0x4f, 1, 2, 0x01, 1, 0xff, 0xb0, 1, 1]));
    expect(d).toMatchObject({
      version: '1.0.0',
      busId: { type: 1, vendor: 0x8086, device: 0x100e },
      features: { http: 1, efi: 1, 'feature-0x4f': 2 },
      priority: -1,
      noPxeDhcp: true,
    });
    expect(ipxeFeatureCode('https')).toBe(0x14);
    expect(decodeIpxeOptions(Buffer.from([0x13, 4, 1]))).toBeUndefined();
  });
});
