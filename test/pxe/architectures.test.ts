import { describe, expect, it } from 'vitest';
import {
  ARCHITECTURE_TABLE,
  archFromVendorClass,
  architectureOf,
  architectureRow,
  bootImageArchitectures,
  bootProgramFor,
} from '../../src/pxe/architectures.js';
import {
  applyQuirks,
  ARCHITECTURE_QUIRKS,
  isQuirkEnabled,
  resolveClientArchitecture,
  type Quirk,
} from '../../src/pxe/quirks.js';
import { clientArchitectures, vendorClass } from '../../src/dhcp/options.js';
import { macAddress } from '../../src/dhcp/packet.js';
import { allCapturedDhcp } from '../dhcp/captures.js';

describe('architecture table (RFC 4578 §2.1, IANA processor architecture types)', () => {
  it.each([
    // code, firmware, cpu, http, boot program, images (rule 79)
    [0, 'bios', 'x86', false, 'boot/bios/undionly.kpxe', ['x86']],
    [6, 'uefi', 'x86', false, 'boot/x86/snponly.efi', ['x86']],
    [7, 'uefi', 'x64', false, 'boot/x64/snponly.efi', ['x64']],
    [9, 'uefi', 'x64', false, 'boot/x64/snponly.efi', ['x64']],
    [10, 'uefi', 'arm32', false, 'boot/arm32/snponly.efi', []],
    [11, 'uefi', 'arm64', false, 'boot/arm64/snponly.efi', ['arm64']],
    [15, 'uefi', 'x86', true, 'boot/x86/snponly.efi', ['x86']],
    [16, 'uefi', 'x64', true, 'boot/x64/snponly.efi', ['x64']],
    [18, 'uefi', 'arm32', true, 'boot/arm32/snponly.efi', []],
    [19, 'uefi', 'arm64', true, 'boot/arm64/snponly.efi', ['arm64']],
  ] as const)('code %i → %s %s http=%s %s', (code, firmware, cpu, http, bootProgram, images) => {
    expect(architectureRow(code)).toMatchObject({ code, firmware, cpu, http, bootProgram, images });
  });

  it('names every IANA code 0–41 for logs, once each, in order', () => {
    expect(ARCHITECTURE_TABLE.map((r) => r.code)).toEqual(Array.from({ length: 42 }, (_, k) => k));
    expect(new Set(ARCHITECTURE_TABLE.map((r) => r.name)).size).toBe(42);
    expect(architectureRow(41)?.name).toBe('ARM rpiboot');
    expect(architectureRow(27)?.name).toBe('RISC-V 64-bit UEFI');
  });

  it('only rows with a boot program are served, and every HTTP row is UEFI or BIOS HTTP', () => {
    const served = ARCHITECTURE_TABLE.filter((r) => r.bootProgram).map((r) => r.code);
    expect(served).toEqual([0, 6, 7, 9, 10, 11, 15, 16, 18, 19]);
  });
});

describe('architectureOf', () => {
  it('uses the first known option 93 code', () => {
    expect(architectureOf([7])).toMatchObject({ row: { code: 7 }, source: 'option-93', offered: [7] });
    expect(architectureOf([16, 7]).row.code).toBe(16);
    expect(architectureOf([4242, 11]).row.code).toBe(11);
  });

  it('reports unknown codes by number instead of guessing', () => {
    const r = architectureOf([4242]);
    expect(r.row).toMatchObject({ code: 4242, name: 'unknown (4242)', firmware: 'other', images: [] });
    expect(bootProgramFor(r)).toBeUndefined();
  });

  it('falls back to the vendor class, then to x86 BIOS', () => {
    expect(architectureOf(undefined, 'PXEClient:Arch:00007:UNDI:003000')).toMatchObject({ row: { code: 7 }, source: 'vendor-class' });
    expect(architectureOf([], 'HTTPClient:Arch:00016:UNDI:003001')).toMatchObject({ row: { code: 16, http: true }, source: 'vendor-class' });
    expect(architectureOf(undefined, 'PXEClient')).toMatchObject({ row: { code: 0 }, source: 'default' });
    expect(architectureOf(undefined)).toMatchObject({ row: { code: 0 }, source: 'default' });
    // Option 93 wins over a disagreeing vendor class.
    expect(architectureOf([0], 'PXEClient:Arch:00007:UNDI:003000').row.code).toBe(0);
  });

  it('parses the vendor class strictly', () => {
    expect(archFromVendorClass('PXEClient:Arch:00000:UNDI:002001')).toBe(0);
    expect(archFromVendorClass('PXEClient:Arch:00011')).toBe(11);
    expect(archFromVendorClass('PXEClient:Arch:7:UNDI:003000')).toBeUndefined();
    expect(archFromVendorClass('PXEClient:Arch:99999:UNDI:003000')).toBeUndefined();
    expect(archFromVendorClass('MSFT 5.0')).toBeUndefined();
    expect(archFromVendorClass(undefined)).toBeUndefined();
  });

  it('resolves every captured client as the firmware it is', () => {
    const seen = new Map<string, number>();
    for (const { packet } of allCapturedDhcp()) {
      if (packet.op !== 1) continue;
      const r = resolveClientArchitecture({ codes: clientArchitectures(packet), vendorClass: vendorClass(packet), mac: macAddress(packet) });
      seen.set(macAddress(packet)!, r.row.code);
    }
    expect(Object.fromEntries(seen)).toEqual({ '52:54:00:77:00:10': 0, '52:54:00:77:00:20': 7, '52:54:00:77:00:30': 7 });
  });
});

describe('boot programs and boot images', () => {
  it('configuration overrides the default per code; a quirk overrides both', () => {
    const x64 = architectureOf([7]);
    expect(bootProgramFor(x64)).toBe('boot/x64/snponly.efi');
    expect(bootProgramFor(x64, { 7: 'boot/x64/ipxe.efi' })).toBe('boot/x64/ipxe.efi');
    expect(bootProgramFor({ ...x64, bootProgram: 'quirk.efi' }, { 7: 'boot/x64/ipxe.efi' })).toBe('quirk.efi');
  });

  it('rule 79: BIOS runs x86, and x64 only when the CPU is known to be x64; UEFI only its own', () => {
    const bios = architectureRow(0)!;
    expect(bootImageArchitectures(bios)).toEqual(['x86']);
    expect(bootImageArchitectures(bios, false)).toEqual(['x86']);
    expect(bootImageArchitectures(bios, true)).toEqual(['x64', 'x86']);
    expect(bootImageArchitectures(architectureRow(7)!, true)).toEqual(['x64']);
    expect(bootImageArchitectures(architectureRow(6)!)).toEqual(['x86']);
    expect(bootImageArchitectures(architectureRow(11)!)).toEqual(['arm64']);
  });
});

describe('quirks', () => {
  const rpi = { codes: [0], vendorClass: 'PXEClient:Arch:00000:UNDI:002001', mac: '2c:cf:67:12:34:56' };

  it('Raspberry Pi reporting x86 BIOS boots as ARM64 UEFI, by default', () => {
    const r = resolveClientArchitecture(rpi);
    expect(r).toMatchObject({ row: { code: 11 }, source: 'quirk', quirk: 'raspberry-pi-reports-bios', offered: [0] });
    expect(bootProgramFor(r)).toBe('boot/arm64/snponly.efi');
  });

  it('can be switched off per id', () => {
    const r = resolveClientArchitecture(rpi, { switches: { 'raspberry-pi-reports-bios': { enabled: false } } });
    expect(r).toMatchObject({ row: { code: 0 }, source: 'option-93' });
    expect(r.quirk).toBeUndefined();
  });

  it('does not touch other MACs or other architectures', () => {
    expect(resolveClientArchitecture({ ...rpi, mac: '52:54:00:77:00:10' }).source).toBe('option-93');
    expect(resolveClientArchitecture({ ...rpi, codes: [11] }).quirk).toBeUndefined();
  });

  const custom: Quirk[] = [
    {
      id: 'test-vendor-boot-program', description: 'test', source: 'test',
      match: { vendorClassPrefix: 'PXEClient:Arch:00007:UNDI:003000' },
      set: { bootProgram: 'boot/x64/ipxe.efi' }, enabledByDefault: false,
    },
    {
      id: 'test-empty-match', description: 'a quirk with no criteria never matches', source: 'test',
      match: {}, set: { architecture: 6 }, enabledByDefault: true,
    },
  ];

  it('matches by vendor-class prefix and overrides the boot program, when enabled', () => {
    const ovmf = { codes: [7], vendorClass: 'PXEClient:Arch:00007:UNDI:003000', mac: '52:54:00:77:00:20' };
    expect(resolveClientArchitecture(ovmf, { quirks: custom }).quirk).toBeUndefined();
    const on = resolveClientArchitecture(ovmf, { quirks: custom, switches: { 'test-vendor-boot-program': { enabled: true } } });
    expect(on).toMatchObject({ row: { code: 7 }, quirk: 'test-vendor-boot-program', bootProgram: 'boot/x64/ipxe.efi' });
    expect(bootProgramFor(on, { 7: 'boot/x64/other.efi' })).toBe('boot/x64/ipxe.efi');
    // iPXE's vendor class ends in 003010: the prefix does not match.
    const ipxe = { ...ovmf, vendorClass: 'PXEClient:Arch:00007:UNDI:003010' };
    expect(applyQuirks(architectureOf([7]), ipxe, { quirks: custom, switches: { 'test-vendor-boot-program': { enabled: true } } }).quirk).toBeUndefined();
  });

  it('every shipped quirk has an id, a source and at least one criterion', () => {
    for (const q of ARCHITECTURE_QUIRKS) {
      expect(q.id).toMatch(/^[a-z0-9-]+$/);
      expect(q.source.length).toBeGreaterThan(5);
      expect(Object.keys(q.match).length).toBeGreaterThan(0);
      expect(isQuirkEnabled(q)).toBe(q.enabledByDefault);
    }
  });
});
