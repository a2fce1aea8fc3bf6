/**
 * Real PXE firmware in QEMU, on a tap of the test LAN:
 *
 *   bios  SeaBIOS + the iPXE PXE option ROM (Debian ipxe-qemu pxe-e1000.rom) on an e1000:
 *         the ROM is iPXE itself, so it sends option 175 / user class "iPXE".
 *   uefi  OVMF with EDK2's own PXE stack on virtio-net (romfile= empty: no iPXE ROM),
 *         firmware code and a private copy of the variable store in the run directory.
 *
 * TCG only (`-accel tcg`): nested KVM crashed SeaBIOS/iPXE with "KVM internal error"
 * on the machines this was written on. Output: the serial console (SeaBIOS needs
 * fw_cfg etc/sercon-port to print there; OVMF prints there by itself) and the
 * firmware debug port 0x402. Every boot is bounded and QEMU is killed by PID.
 */
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestLan } from './netns.js';
import type { BgProcess } from './proc.js';

export type Firmware = 'bios' | 'uefi';

export const IPXE_DIR = process.env.PXP_E2E_IPXE_DIR ?? '/usr/lib/ipxe';
export const BIOS_NIC_ROM = join(IPXE_DIR, 'qemu', 'pxe-e1000.rom');
const OVMF_DIRS = [process.env.PXP_E2E_OVMF_DIR, '/usr/share/OVMF', '/usr/share/ovmf', '/usr/share/edk2/ovmf'].filter((d): d is string => !!d);
const OVMF_PAIRS: readonly [string, string][] = [
  ['OVMF_CODE_4M.fd', 'OVMF_VARS_4M.fd'],
  ['OVMF_CODE.fd', 'OVMF_VARS.fd'],
];

/** OVMF firmware code + variable-store template (not Secure Boot), or null when not installed. */
export function findOvmf(): { code: string; vars: string } | null {
  for (const dir of OVMF_DIRS) {
    for (const [code, vars] of OVMF_PAIRS) {
      if (existsSync(join(dir, code)) && existsSync(join(dir, vars))) return { code: join(dir, code), vars: join(dir, vars) };
    }
  }
  return null;
}

export interface GuestSpec {
  firmware: Firmware;
  /** 52:54:00:xx:xx:xx */
  mac: string;
  /** SMBIOS UUID (option 97); without it QEMU reports all zeros. */
  uuid: string;
  /** Tap in the server namespace (default the LAN's first). */
  tap?: string;
  /** Name for the log files (default `<firmware>-<mac>`). */
  name?: string;
  memoryMb?: number;
  /** Boot from this ISO image (boot media) instead of the network; the NIC stays attached. */
  cdrom?: string;
}

export interface Guest {
  readonly spec: GuestSpec;
  readonly name: string;
  readonly process: BgProcess;
  readonly serialLog: string;
  readonly firmwareLog: string;
  readonly startedAt: number;
  /** Serial console so far, CR and ANSI escapes removed. */
  serial(): string;
  stop(): Promise<void>;
}

export const macDashes = (mac: string): string => mac.toLowerCase().replace(/:/g, '-');

/** Strips what a firmware console adds around text (CR, ANSI/VT100 sequences, NULs). */
export function cleanConsole(text: string): string {
  return text
    .replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '')
    .replace(/\x1b[()][0-9A-Za-z]/g, '')
    .replace(/\x1b[=>c]/g, '')
    .replace(/[\r\0]/g, '');
}

export function qemuArgs(lan: TestLan, spec: GuestSpec, dir: string, name: string): string[] {
  const tap = spec.tap ?? lan.taps[0]!;
  const serialLog = join(dir, `${name}.serial.log`);
  const firmwareLog = join(dir, `${name}.fw.log`);
  const args = [
    '-accel', 'tcg', '-smp', '1', '-m', String(spec.memoryMb ?? 512), '-uuid', spec.uuid,
    '-nographic', '-nodefaults', '-no-reboot',
    '-serial', `file:${serialLog}`,
    '-chardev', `file,id=dbg,path=${firmwareLog}`, '-device', 'isa-debugcon,iobase=0x402,chardev=dbg',
    '-netdev', `tap,id=n0,ifname=${tap},script=no,downscript=no`,
  ];
  if (spec.firmware === 'bios') {
    // SeaBIOS has no display here; etc/sercon-port = 0x3f8 makes it (and the iPXE ROM,
    // which prints through int 10h) write the screen to the serial port.
    const sercon = join(dir, 'sercon-port.bin');
    writeFileSync(sercon, Buffer.from([0xf8, 0x03]));
    args.push('-fw_cfg', `name=etc/sercon-port,file=${sercon}`);
    // Booting media: no PXE option ROM, so a failed CD boot cannot fall through to the network.
    args.push('-device', `e1000,netdev=n0,mac=${spec.mac},romfile=${spec.cdrom ? '' : BIOS_NIC_ROM}`);
  } else {
    const ovmf = findOvmf();
    if (!ovmf) throw new Error(`OVMF not found in ${OVMF_DIRS.join(', ')} (Debian package: ovmf)`);
    const code = join(dir, `${name}.OVMF_CODE.fd`);
    const vars = join(dir, `${name}.OVMF_VARS.fd`);
    copyFileSync(ovmf.code, code);
    copyFileSync(ovmf.vars, vars);
    args.push('-drive', `if=pflash,format=raw,unit=0,readonly=on,file=${code}`);
    args.push('-drive', `if=pflash,format=raw,unit=1,file=${vars}`);
    // romfile= (empty): no iPXE option ROM, OVMF's own virtio-net driver and PXE stack.
    args.push('-device', `virtio-net-pci,netdev=n0,mac=${spec.mac},romfile=`);
  }
  if (spec.cdrom) {
    // Boot media (issue 7): the ISO on the first IDE CD drive, booted first; the NIC is still
    // there for what the medium does on the network.
    args.push('-drive', `file=${spec.cdrom},media=cdrom,readonly=on,format=raw`);
    args.push('-boot', 'order=d');
  } else {
    args.push('-boot', 'n');
  }
  return args;
}

/** Starts the guest inside the LAN's server namespace. The caller bounds the wait and calls stop(). */
export function bootGuest(lan: TestLan, spec: GuestSpec): Guest {
  const name = spec.name ?? `${spec.firmware}-${macDashes(spec.mac)}`;
  const dir = lan.workDir;
  const args = qemuArgs(lan, spec, dir, name);
  const serialLog = join(dir, `${name}.serial.log`);
  const firmwareLog = join(dir, `${name}.fw.log`);
  const startedAt = Date.now();
  const proc = lan.spawn(lan.srvNs, `qemu-${name}`, 'qemu-system-x86_64', args);
  return {
    spec,
    name,
    process: proc,
    serialLog,
    firmwareLog,
    startedAt,
    serial: () => (existsSync(serialLog) ? cleanConsole(readFileSync(serialLog, 'latin1')) : ''),
    stop: () => proc.stop(2000),
  };
}

/** The last `lines` non-empty lines of the console, for failure messages. */
export function consoleTail(text: string, lines = 25): string {
  return text
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l.trim() !== '')
    .slice(-lines)
    .join('\n');
}
