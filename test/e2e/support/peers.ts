/**
 * The other programs on the test LAN: a separate DHCP server that gives addresses only
 * (dnsmasq, for ProxyDHCP tests), IPv6 router advertisements (radvd: iPXE otherwise
 * waits ~13 s after each DHCP ACK for IPv6 autoconfiguration), and — for the harness
 * self-test only — dnsmasq as a complete PXE server with a tiny observer HTTP server.
 */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestLan } from './netns.js';
import { sleep, waitFor, type BgProcess } from './proc.js';
import { IPXE_DIR } from './qemu.js';

const DNSMASQ_COMMON = ['--no-daemon', '--conf-file=/dev/null', '--port=0', '--user=root', '--group=root', '--log-dhcp', '--bind-interfaces', '--no-ping'];

async function expectRunning(p: BgProcess, ms = 1000): Promise<void> {
  await sleep(ms);
  if (!p.running()) throw new Error(`${p.name} exited at start:\n${p.log()}`);
}

/**
 * dnsmasq on the peer host: DHCP addresses only (no PXE options, no TFTP, no DNS,
 * no router), `--no-ping` (its default ping check blocks up to 3 s per new address).
 */
export async function startAddressOnlyDhcp(lan: TestLan): Promise<BgProcess> {
  if (!lan.peerNs) throw new Error('the LAN has no peer namespace');
  const p = lan.spawn(lan.peerNs, 'dnsmasq-addresses', 'dnsmasq', [
    ...DNSMASQ_COMMON,
    `--interface=${lan.peerIf}`,
    `--dhcp-range=${lan.poolStart},${lan.poolEnd},${lan.netmask},1h`,
    '--dhcp-authoritative',
    '--dhcp-option=3', // no router
    '--dhcp-option=6', // no DNS server
    `--dhcp-leasefile=${join(lan.workDir, 'dnsmasq-addresses.leases')}`,
    `--pid-file=${join(lan.workDir, 'dnsmasq-addresses.pid')}`,
  ]);
  await expectRunning(p);
  return p;
}

/** radvd on the LAN bridge: announces fd77:77::/64 (on-link, SLAAC, not a default router). */
export async function startRadvd(lan: TestLan): Promise<BgProcess> {
  // radvd refuses to start unless forwarding is on; this is the namespace's own sysctl.
  lan.exec(lan.srvNs, 'sysctl', ['-qw', 'net.ipv6.conf.all.forwarding=1']);
  const conf = join(lan.workDir, 'radvd.conf');
  writeFileSync(
    conf,
    `interface ${lan.bridge} {\n  AdvSendAdvert on;\n  MinRtrAdvInterval 3;\n  MaxRtrAdvInterval 10;\n  AdvDefaultLifetime 0;\n` +
      `  prefix ${lan.prefix6} { AdvOnLink on; AdvAutonomous on; };\n};\n`,
  );
  const p = lan.spawn(lan.srvNs, 'radvd', 'radvd', ['--nodaemon', '-C', conf, '-p', join(lan.workDir, 'radvd.pid'), '-m', 'stderr']);
  await expectRunning(p);
  return p;
}

/** Copies the iPXE chain loaders where pxepoint's boot programs expect them (docs/dhcp.md). */
export function makeTftpRoot(dir: string): string {
  const bios = join(dir, 'boot', 'bios');
  const x64 = join(dir, 'boot', 'x64');
  mkdirSync(bios, { recursive: true });
  mkdirSync(x64, { recursive: true });
  copyFileSync(join(IPXE_DIR, 'undionly.kpxe'), join(bios, 'undionly.kpxe'));
  copyFileSync(join(IPXE_DIR, 'snponly.efi'), join(x64, 'snponly.efi'));
  return dir;
}

// ---------------------------------------------------------------------------------------
// Harness self-test only: dnsmasq as the whole PXE server + the observer.

export const OBSERVER_SCRIPT = fileURLToPath(new URL('./observer.ts', import.meta.url));

export interface Observer {
  process: BgProcess;
  url: string;
  logFile: string;
}

export async function startObserver(lan: TestLan, port = 8099): Promise<Observer> {
  const logFile = join(lan.workDir, 'observer.requests');
  writeFileSync(logFile, '');
  const p = lan.spawn(lan.srvNs, 'observer', process.execPath, ['--import', 'tsx', OBSERVER_SCRIPT, lan.serverIp, String(port), logFile]);
  await waitFor(() => /listening/.test(p.log()) || !p.running(), 15_000);
  if (!p.running()) throw new Error(`observer exited:\n${p.log()}`);
  return { process: p, url: `http://${lan.serverIp}:${port}`, logFile };
}

/** dnsmasq as full DHCP + TFTP PXE server: firmware gets the iPXE loader, iPXE gets `scriptUrl`. */
export async function startDnsmasqPxe(lan: TestLan, tftpRoot: string, scriptUrl: string): Promise<BgProcess> {
  const p = lan.spawn(lan.srvNs, 'dnsmasq-pxe', 'dnsmasq', [
    ...DNSMASQ_COMMON,
    `--interface=${lan.bridge}`,
    `--dhcp-range=${lan.poolStart},${lan.poolEnd},${lan.netmask},1h`,
    '--dhcp-authoritative',
    `--dhcp-leasefile=${join(lan.workDir, 'dnsmasq-pxe.leases')}`,
    `--pid-file=${join(lan.workDir, 'dnsmasq-pxe.pid')}`,
    '--enable-tftp',
    `--tftp-root=${tftpRoot}`,
    '--dhcp-match=set:ipxe,175',
    '--dhcp-match=set:efi64,option:client-arch,7',
    '--dhcp-match=set:efi64,option:client-arch,9',
    '--dhcp-boot=tag:!ipxe,tag:!efi64,boot/bios/undionly.kpxe',
    '--dhcp-boot=tag:!ipxe,tag:efi64,boot/x64/snponly.efi',
    `--dhcp-boot=tag:ipxe,${scriptUrl}`,
  ]);
  await expectRunning(p);
  return p;
}
