/**
 * Client system architectures (DHCP option 93) as data.
 *
 * Codes and names: RFC 4578 §2.1 and the IANA "Processor Architecture Types" registry
 * (https://www.iana.org/assignments/dhcpv6-parameters, shared by DHCPv4 option 93 and
 * DHCPv6 option 61). RFC 4578 printed 7 as "EFI BC" and 9 as "EFI x86-64"; the RFC
 * errata and IANA swapped them (7 = x64 UEFI, 9 = EBC), dnsmasq followed in 2.76, and
 * some x64 firmware still sends 9 — so 7 and 9 both boot as x64 (peers.md appendix).
 *
 * Boot programs are pxepoint's defaults, relative to the TFTP/HTTP root (`bootfiles/`):
 * iPXE builds that use the firmware's own network driver (undionly.kpxe on BIOS,
 * snponly.efi on UEFI). They can be overridden per code, see `bootProgramFor`.
 *
 * `images` is rule 79 (configmgr-rules.md §5e): which boot-image architectures the
 * client can run, exact match first. UEFI runs only the matching architecture. A BIOS
 * client reports 0 whether its CPU is 32- or 64-bit, so x64 is only offered when the
 * caller knows the CPU is x64-capable (see `bootImageArchitectures`); that is why
 * ConfigMgr insists on an x86 boot image for BIOS clients (rules 76, 77).
 */
import type { Architecture } from '../site/model.js';

export type Firmware = 'bios' | 'uefi' | 'other';
export type Cpu =
  | 'x86' | 'x64' | 'ia64' | 'ebc' | 'arm32' | 'arm64' | 'ppc' | 'riscv32' | 'riscv64' | 'riscv128'
  | 's390' | 'mips32' | 'mips64' | 'sw32' | 'sw64' | 'loongarch32' | 'loongarch64' | 'other';

export interface ArchitectureRow {
  readonly code: number;
  /** Registry name, for logs. */
  readonly name: string;
  readonly firmware: Firmware;
  readonly cpu: Cpu;
  /** UEFI HTTP Boot: the client wants a URL and option 60 "HTTPClient" in the reply. */
  readonly http: boolean;
  /** pxepoint's default boot program; undefined = we ship none and do not answer by default. */
  readonly bootProgram?: string;
  /** Boot-image architectures the client can run, exact match first (rule 79). */
  readonly images: readonly Architecture[];
  /** Why this row is special, when it is. */
  readonly note?: string;
}

const BIOS_X86 = 'boot/bios/undionly.kpxe';
const UEFI_X86 = 'boot/x86/snponly.efi';
const UEFI_X64 = 'boot/x64/snponly.efi';
const UEFI_ARM32 = 'boot/arm32/snponly.efi';
const UEFI_ARM64 = 'boot/arm64/snponly.efi';

type Row = ArchitectureRow;
const row = (
  code: number, name: string, firmware: Firmware, cpu: Cpu, http: boolean,
  bootProgram: string | undefined, images: Architecture[], note?: string,
): Row => ({
  code, name, firmware, cpu, http, images,
  ...(bootProgram !== undefined ? { bootProgram } : {}),
  ...(note !== undefined ? { note } : {}),
});

//                 code  IANA name                                firmware  cpu        http   boot program  images
export const ARCHITECTURE_TABLE: readonly ArchitectureRow[] = [
  row(0,  'x86 BIOS',                                'bios',  'x86',         false, BIOS_X86,   ['x86'],
    'Intel x86PC; also sent by x64 BIOS machines, by UEFI in legacy (CSM) mode and by Raspberry Pi 5 (see quirks)'),
  row(1,  'NEC/PC98 (deprecated)',                   'bios',  'other',       false, undefined,  []),
  row(2,  'Itanium',                                 'uefi',  'ia64',        false, undefined,  []),
  row(3,  'DEC Alpha (deprecated)',                  'other', 'other',       false, undefined,  []),
  row(4,  'Arc x86 (deprecated)',                    'other', 'other',       false, undefined,  []),
  row(5,  'Intel Lean Client (deprecated)',          'other', 'other',       false, undefined,  []),
  row(6,  'x86 UEFI',                                'uefi',  'x86',         false, UEFI_X86,   ['x86']),
  row(7,  'x64 UEFI',                                'uefi',  'x64',         false, UEFI_X64,   ['x64'],
    'RFC 4578 printed "EFI BC"; errata/IANA: x64. Essentially all x64 UEFI firmware sends 7'),
  row(8,  'EFI Xscale (deprecated)',                 'uefi',  'other',       false, undefined,  []),
  row(9,  'EBC (x64 UEFI in practice)',              'uefi',  'x64',         false, UEFI_X64,   ['x64'],
    'RFC 4578 printed "EFI x86-64"; some x64 firmware (and older iPXE) sends 9, so it boots as x64'),
  row(10, 'ARM 32-bit UEFI',                         'uefi',  'arm32',       false, UEFI_ARM32, []),
  row(11, 'ARM 64-bit UEFI',                         'uefi',  'arm64',       false, UEFI_ARM64, ['arm64']),
  row(12, 'PowerPC Open Firmware',                   'other', 'ppc',         false, undefined,  []),
  row(13, 'PowerPC ePAPR',                           'other', 'ppc',         false, undefined,  []),
  row(14, 'POWER OPAL v3',                           'other', 'ppc',         false, undefined,  []),
  row(15, 'x86 UEFI HTTP',                           'uefi',  'x86',         true,  UEFI_X86,   ['x86']),
  row(16, 'x64 UEFI HTTP',                           'uefi',  'x64',         true,  UEFI_X64,   ['x64']),
  row(17, 'EBC UEFI HTTP',                           'uefi',  'ebc',         true,  undefined,  []),
  row(18, 'ARM 32-bit UEFI HTTP',                    'uefi',  'arm32',       true,  UEFI_ARM32, []),
  row(19, 'ARM 64-bit UEFI HTTP',                    'uefi',  'arm64',       true,  UEFI_ARM64, ['arm64']),
  row(20, 'x86 BIOS HTTP',                           'bios',  'x86',         true,  undefined,  ['x86']),
  row(21, 'ARM 32-bit U-Boot',                       'other', 'arm32',       false, undefined,  []),
  row(22, 'ARM 64-bit U-Boot',                       'other', 'arm64',       false, undefined,  []),
  row(23, 'ARM 32-bit U-Boot HTTP',                  'other', 'arm32',       true,  undefined,  []),
  row(24, 'ARM 64-bit U-Boot HTTP',                  'other', 'arm64',       true,  undefined,  []),
  row(25, 'RISC-V 32-bit UEFI',                      'uefi',  'riscv32',     false, undefined,  []),
  row(26, 'RISC-V 32-bit UEFI HTTP',                 'uefi',  'riscv32',     true,  undefined,  []),
  row(27, 'RISC-V 64-bit UEFI',                      'uefi',  'riscv64',     false, undefined,  []),
  row(28, 'RISC-V 64-bit UEFI HTTP',                 'uefi',  'riscv64',     true,  undefined,  []),
  row(29, 'RISC-V 128-bit UEFI',                     'uefi',  'riscv128',    false, undefined,  []),
  row(30, 'RISC-V 128-bit UEFI HTTP',                'uefi',  'riscv128',    true,  undefined,  []),
  row(31, 's390 Basic',                              'other', 's390',        false, undefined,  []),
  row(32, 's390 Extended',                           'other', 's390',        false, undefined,  []),
  row(33, 'MIPS 32-bit UEFI',                        'uefi',  'mips32',      false, undefined,  []),
  row(34, 'MIPS 64-bit UEFI',                        'uefi',  'mips64',      false, undefined,  []),
  row(35, 'Sunway 32-bit UEFI',                      'uefi',  'sw32',        false, undefined,  []),
  row(36, 'Sunway 64-bit UEFI',                      'uefi',  'sw64',        false, undefined,  []),
  row(37, 'LoongArch 32-bit UEFI',                   'uefi',  'loongarch32', false, undefined,  []),
  row(38, 'LoongArch 32-bit UEFI HTTP',              'uefi',  'loongarch32', true,  undefined,  []),
  row(39, 'LoongArch 64-bit UEFI',                   'uefi',  'loongarch64', false, undefined,  []),
  row(40, 'LoongArch 64-bit UEFI HTTP',              'uefi',  'loongarch64', true,  undefined,  []),
  row(41, 'ARM rpiboot',                             'other', 'arm64',       false, undefined,  []),
];

const BY_CODE: ReadonlyMap<number, ArchitectureRow> = new Map(ARCHITECTURE_TABLE.map((r) => [r.code, r]));

export const architectureRow = (code: number): ArchitectureRow | undefined => BY_CODE.get(code);

export type ArchitectureSource = 'option-93' | 'vendor-class' | 'default' | 'quirk';

export interface ResolvedArchitecture {
  /** The row that decides; for unknown codes a synthetic 'other' row named "unknown (n)". */
  readonly row: ArchitectureRow;
  /** Where the code came from, for the decision log. */
  readonly source: ArchitectureSource;
  /** Every code the client offered (option 93 may list several, RFC 4578 §2.1). */
  readonly offered: readonly number[];
  /** Id of the quirk that changed the result, if any. */
  readonly quirk?: string;
  /** Boot program a quirk forces, overriding the row's default. */
  readonly bootProgram?: string;
}

const unknownRow = (code: number): ArchitectureRow =>
  ({ code, name: `unknown (${code})`, firmware: 'other', cpu: 'other', http: false, images: [] });

/**
 * "PXEClient:Arch:00007:UNDI:003000" (PXE 2.1 §2.2.1; HTTP Boot sends "HTTPClient:Arch:…").
 * Returns the architecture code, or undefined if the string does not carry one.
 */
export function archFromVendorClass(vendorClass: string | undefined): number | undefined {
  if (!vendorClass) return undefined;
  const m = /^(?:PXEClient|HTTPClient):Arch:(\d{5})(?::|$)/.exec(vendorClass);
  if (!m) return undefined;
  const code = Number(m[1]);
  return code <= 0xffff ? code : undefined;
}

/**
 * The client's architecture: the first option 93 code we know (RFC 4578 §2.1 lists codes
 * in the client's order of preference), else the first code offered, else the code in
 * the vendor class (some old ROMs send no 93), else x86 BIOS (a PXE 2.0 client that sends
 * neither is a BIOS ROM; netboot issue #132).
 */
export function architectureOf(codes: readonly number[] | undefined, vendorClass?: string): ResolvedArchitecture {
  const offered = codes ?? [];
  if (offered.length > 0) {
    const known = offered.find((c) => BY_CODE.has(c));
    const code = known ?? offered[0]!;
    return { row: BY_CODE.get(code) ?? unknownRow(code), source: 'option-93', offered };
  }
  const fromVendor = archFromVendorClass(vendorClass);
  if (fromVendor !== undefined) {
    return { row: BY_CODE.get(fromVendor) ?? unknownRow(fromVendor), source: 'vendor-class', offered: [fromVendor] };
  }
  return { row: BY_CODE.get(0)!, source: 'default', offered: [] };
}

/** Per-code boot program overrides from configuration, e.g. { 7: 'boot/x64/ipxe.efi' }. */
export type BootProgramOverrides = Readonly<Record<number, string>>;

/** The boot program to hand out: quirk, then configuration override, then the table default. */
export function bootProgramFor(arch: ResolvedArchitecture, overrides: BootProgramOverrides = {}): string | undefined {
  return arch.bootProgram ?? overrides[arch.row.code] ?? arch.row.bootProgram;
}

/**
 * Rule 79 for one client: the boot-image architectures it can run, exact match first.
 * `x64Capable` tells a BIOS client's CPU apart (iPXE can test it with `cpuid --ext 29`);
 * unknown means x86 only, the conservative reading of rules 76–77.
 */
export function bootImageArchitectures(row: ArchitectureRow, x64Capable?: boolean): readonly Architecture[] {
  if (row.firmware === 'bios' && row.cpu === 'x86') return x64Capable ? ['x64', 'x86'] : ['x86'];
  return row.images;
}
