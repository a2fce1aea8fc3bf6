/**
 * A private LAN for one test run, made of network namespaces (root only):
 *
 *   pxp-<pid>-srv   bridge pxbr0 = 10.77.0.1/24 (+ fd77:77::1/64), the "LAN"; taps pxtap0..N
 *                   for QEMU (QEMU runs in this namespace and opens them by name);
 *                   pxepoint, radvd and the packet capture run here too.
 *   pxp-<pid>-peer  a second host on the LAN: veth pxv-peer1 = 10.77.0.2/24
 *                   (the separate DHCP server in ProxyDHCP tests).
 *
 * Every link is created inside our own namespaces (`ip netns exec <ours> ip link …`),
 * so the host's interfaces are never touched and nothing is routed out: the namespaces
 * have no link to the host at all. Teardown stops our processes by PID and deletes the
 * namespaces; it also runs on process exit.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onExit, run, startBg, type BgProcess } from './proc.js';

export interface LanOptions {
  /** Number of QEMU taps (default 1). */
  taps?: number;
  /** Create the peer namespace (default true). */
  peer?: boolean;
  /** Directory for logs, pcaps and configs (default: a new temp dir). */
  workDir?: string;
}

export interface TestLan {
  readonly id: string;
  readonly srvNs: string;
  readonly peerNs: string | null;
  readonly bridge: string;
  readonly taps: readonly string[];
  /** The peer's interface name (inside peerNs). */
  readonly peerIf: string;
  readonly serverIp: string;
  readonly peerIp: string;
  readonly prefixLength: number;
  readonly netmask: string;
  readonly subnet: string;
  /** Address range handed to guests (full mode pool, or the peer DHCP server's range). */
  readonly poolStart: string;
  readonly poolEnd: string;
  readonly serverIp6: string;
  readonly prefix6: string;
  readonly workDir: string;
  /** Runs a short command inside a namespace of this LAN. */
  exec(ns: string, cmd: string, args: readonly string[], opts?: { allowFail?: boolean; timeoutMs?: number }): ReturnType<typeof run>;
  /** Starts a background process inside a namespace of this LAN (tracked; stopped by `down`). */
  spawn(ns: string, name: string, cmd: string, args: readonly string[], opts?: { cwd?: string; env?: NodeJS.ProcessEnv; logFile?: string }): BgProcess;
  /** Stops every process started through `spawn` and deletes the namespaces. Idempotent. */
  down(): Promise<void>;
}

export function hasCommand(cmd: string): boolean {
  return run('sh', ['-c', `command -v ${cmd}`], { allowFail: true }).status === 0;
}

function netnsExists(name: string): boolean {
  return run('ip', ['netns', 'list'], { allowFail: true }).stdout.split('\n').some((l) => l.split(' ')[0] === name);
}

function deleteNetns(name: string): void {
  if (!netnsExists(name)) return;
  const left = run('ip', ['netns', 'pids', name], { allowFail: true }).stdout.trim();
  if (left) process.stderr.write(`e2e: processes still in ${name} (not started by this run? not killed): ${left.replace(/\n/g, ' ')}\n`);
  run('ip', ['netns', 'del', name], { allowFail: true });
}

export async function createLan(opts: LanOptions = {}): Promise<TestLan> {
  const id = `pxp-${process.pid}`;
  const srvNs = `${id}-srv`;
  const peerNs = opts.peer === false ? null : `${id}-peer`;
  const workDir = opts.workDir ?? mkdtempSync(join(tmpdir(), `pxp-e2e-${process.pid}-`));
  const ownTemp = opts.workDir === undefined;
  for (const ns of [srvNs, peerNs]) {
    if (ns && netnsExists(ns)) throw new Error(`network namespace ${ns} already exists (left by an earlier run with the same PID?); remove it with: ip netns del ${ns}`);
  }
  const bridge = 'pxbr0';
  const taps = Array.from({ length: opts.taps ?? 1 }, (_, i) => `pxtap${i}`);
  const procs: BgProcess[] = [];
  let isDown = false;

  const inNs = (ns: string, cmd: string, args: readonly string[], o: { allowFail?: boolean; timeoutMs?: number } = {}) =>
    run('ip', ['netns', 'exec', ns, cmd, ...args], o);

  const removeAll = (): void => {
    for (const p of procs) {
      if (p.running()) {
        try {
          process.kill(p.pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    }
    if (netnsExists(srvNs)) {
      for (const t of taps) inNs(srvNs, 'ip', ['link', 'del', t], { allowFail: true });
      inNs(srvNs, 'ip', ['link', 'del', bridge], { allowFail: true });
    }
    if (peerNs) deleteNetns(peerNs);
    deleteNetns(srvNs);
  };
  const offExit = onExit(removeAll);

  const lan: TestLan = {
    id,
    srvNs,
    peerNs,
    bridge,
    taps,
    peerIf: 'pxv-peer1',
    serverIp: '10.77.0.1',
    peerIp: '10.77.0.2',
    prefixLength: 24,
    netmask: '255.255.255.0',
    subnet: '10.77.0.0',
    poolStart: '10.77.0.100',
    poolEnd: '10.77.0.199',
    serverIp6: 'fd77:77::1',
    prefix6: 'fd77:77::/64',
    workDir,
    exec: inNs,
    spawn(ns, name, cmd, args, o = {}) {
      if (ns !== srvNs && ns !== peerNs) throw new Error(`namespace ${ns} is not part of this LAN`);
      const p = startBg(name, 'ip', ['netns', 'exec', ns, cmd, ...args], { logFile: o.logFile ?? join(workDir, `${name}.log`), cwd: o.cwd, env: o.env });
      procs.push(p);
      return p;
    },
    async down() {
      if (isDown) return;
      isDown = true;
      await Promise.all(procs.map((p) => p.stop()));
      removeAll();
      offExit();
      if (ownTemp && process.env.PXP_E2E_KEEP !== '1') rmSync(workDir, { recursive: true, force: true });
    },
  };

  try {
    run('ip', ['netns', 'add', srvNs]);
    if (peerNs) run('ip', ['netns', 'add', peerNs]);
    const srv = (...args: string[]) => inNs(srvNs, args[0]!, args.slice(1));
    srv('ip', 'link', 'set', 'lo', 'up');
    // The bridge is the LAN segment: no STP, no forward delay, so ports forward at once.
    srv('ip', 'link', 'add', bridge, 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0');
    srv('sysctl', '-qw', `net.ipv6.conf.${bridge}.accept_dad=0`);
    srv('ip', 'addr', 'add', `${lan.serverIp}/${lan.prefixLength}`, 'dev', bridge);
    srv('ip', '-6', 'addr', 'add', `${lan.serverIp6}/64`, 'dev', bridge, 'nodad');
    srv('ip', 'link', 'set', bridge, 'up');
    for (const t of taps) {
      srv('ip', 'tuntap', 'add', 'dev', t, 'mode', 'tap');
      srv('ip', 'link', 'set', t, 'master', bridge, 'up');
    }
    if (peerNs) {
      // One end on the bridge, the other created directly in the peer namespace.
      srv('ip', 'link', 'add', 'pxv-peer0', 'type', 'veth', 'peer', 'name', lan.peerIf, 'netns', peerNs);
      srv('ip', 'link', 'set', 'pxv-peer0', 'master', bridge, 'up');
      inNs(peerNs, 'ip', ['link', 'set', 'lo', 'up']);
      inNs(peerNs, 'ip', ['addr', 'add', `${lan.peerIp}/${lan.prefixLength}`, 'dev', lan.peerIf]);
      inNs(peerNs, 'ip', ['link', 'set', lan.peerIf, 'up']);
      // Linux fills UDP checksums late on veths (CHECKSUM_PARTIAL); with tx offload off
      // the capture shows the real checksum. Optional: only when ethtool is installed.
      if (hasCommand('ethtool')) {
        inNs(peerNs, 'ethtool', ['-K', lan.peerIf, 'tx', 'off'], { allowFail: true });
        inNs(srvNs, 'ethtool', ['-K', 'pxv-peer0', 'tx', 'off'], { allowFail: true });
        inNs(srvNs, 'ethtool', ['-K', bridge, 'tx', 'off'], { allowFail: true });
      }
    }
  } catch (e) {
    await lan.down();
    throw e;
  }
  return lan;
}
