/**
 * What the end-to-end suite needs from the machine. Under CI=true a missing piece is a
 * failure with the reason (a suite that silently skips proves nothing); elsewhere the
 * suite skips with the same message.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'vitest';
import { hasCommand } from './netns.js';
import { run } from './proc.js';
import { REPO_ROOT } from './pxepoint.js';
import { BIOS_NIC_ROM, findOvmf, IPXE_DIR } from './qemu.js';

export function missingPrerequisites(extra: { dnsmasq?: boolean; radvd?: boolean; nativeAddon?: boolean } = {}): string[] {
  const missing: string[] = [];
  if (process.platform !== 'linux') return ['Linux (network namespaces)'];
  if (process.getuid?.() !== 0) missing.push('root (network namespaces, taps, ports 67/69/4011)');
  if (!hasCommand('ip')) missing.push('ip (Debian package iproute2)');
  else if (process.getuid?.() === 0) {
    // Can we really make a namespace here (containers may forbid it)?
    const probe = `pxp-${process.pid}-probe`;
    const r = run('ip', ['netns', 'add', probe], { allowFail: true });
    if (r.status !== 0) missing.push(`permission to create network namespaces (ip netns add: ${r.stderr.trim()})`);
    else run('ip', ['netns', 'del', probe], { allowFail: true });
  }
  if (!hasCommand('qemu-system-x86_64')) missing.push('qemu-system-x86_64 (Debian package qemu-system-x86)');
  if (!findOvmf()) missing.push('OVMF firmware (Debian package ovmf)');
  if (!existsSync(BIOS_NIC_ROM)) missing.push(`${BIOS_NIC_ROM} (Debian package ipxe-qemu)`);
  for (const f of ['undionly.kpxe', 'snponly.efi']) if (!existsSync(join(IPXE_DIR, f))) missing.push(`${join(IPXE_DIR, f)} (Debian package ipxe)`);
  if (!hasCommand('tcpdump')) missing.push('tcpdump');
  if (extra.dnsmasq !== false && !hasCommand('dnsmasq')) missing.push('dnsmasq');
  if (extra.radvd !== false && !hasCommand('radvd')) missing.push('radvd');
  // `--interface` (SO_BINDTODEVICE) needs pxepoint's native addon, built by `npm ci` with a C toolchain.
  const addon = join(REPO_ROOT, 'build', 'Release', 'pxepoint_net.node');
  if (extra.nativeAddon && !existsSync(addon)) missing.push(`${addon} (run npm ci with build-essential and python3 installed)`);
  return missing;
}

/**
 * `describe` that runs when everything is there; otherwise fails under CI=true (with
 * the reason) or skips with a message.
 */
export function describeE2e(name: string, missing: string[], body: () => void): void {
  if (missing.length === 0) {
    describe.sequential(name, body);
    return;
  }
  const reason = `end-to-end prerequisites missing: ${missing.join('; ')} (see docs/testing.md)`;
  if (process.env.CI === 'true' || process.env.CI === '1') {
    describe(name, () => {
      it('has its prerequisites (CI must not skip end-to-end tests)', () => {
        throw new Error(reason);
      });
    });
  } else {
    process.stderr.write(`SKIPPING "${name}": ${reason}\n`);
    describe.skip(name, body);
  }
}
