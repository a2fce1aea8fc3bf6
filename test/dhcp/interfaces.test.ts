/**
 * Rule 49 proven on a real (namespaced) network: two bridges in a server namespace,
 * one client namespace on each. pxepoint configured with `--interface` = the first
 * bridge answers the DISCOVER broadcast on the first and stays silent on the second;
 * configured with both, it answers each with that bridge's own address (option 54),
 * so the receiving interface is known and replies leave through it.
 *
 * Needs root, `ip` and the native addon (npm ci builds it). Under CI=true it fails when
 * it cannot run; elsewhere it skips with the reason. Network safety: only namespaces
 * named pxp-t<pid>* are created (every link is made inside them, none on the host) and
 * they are deleted afterwards, on failure too; every child process and wait is bounded.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadNativeNet } from '../../src/native/udp-device.js';

const TAG = String(process.pid % 100000);
const NS = { srv: `pxp-t${TAG}s`, a: `pxp-t${TAG}a`, b: `pxp-t${TAG}b` };
const BR = { a: `pxta${TAG}`, b: `pxtb${TAG}` };
const VETH = { a0: `pxt${TAG}a0`, a1: `pxt${TAG}a1`, b0: `pxt${TAG}b0`, b1: `pxt${TAG}b1` };
const SERVER_SCRIPT = fileURLToPath(new URL('./interfaces-server.ts', import.meta.url));
const CLIENT_SCRIPT = fileURLToPath(new URL('./interfaces-client.ts', import.meta.url));

function whyCannotRun(): string | null {
  if (process.platform !== 'linux') return 'not Linux';
  if (process.getuid?.() !== 0) return 'not root (network namespaces need it)';
  if (spawnSync('ip', ['-V']).status !== 0) return '`ip` (iproute2) is not installed';
  const native = loadNativeNet();
  if (!native.addon) return native.error;
  return null;
}

const reason = whyCannotRun();
if (reason !== null && process.env.CI !== 'true') console.warn(`skipping the two-bridge interface test: ${reason}`);

const ip = (...args: string[]): void => {
  const r = spawnSync('ip', args, { encoding: 'utf8', timeout: 10_000 });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
};

function labUp(): void {
  for (const ns of Object.values(NS)) {
    ip('netns', 'add', ns);
    ip('-n', ns, 'link', 'set', 'lo', 'up');
  }
  for (const side of ['a', 'b'] as const) {
    const br = BR[side];
    const [inner, outer] = side === 'a' ? [VETH.a0, VETH.a1] : [VETH.b0, VETH.b1];
    const net = side === 'a' ? '10.79.1' : '10.79.2';
    // Every link is created inside the server namespace: nothing appears on the host.
    ip('-n', NS.srv, 'link', 'add', br, 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0');
    ip('-n', NS.srv, 'addr', 'add', `${net}.1/24`, 'dev', br);
    ip('-n', NS.srv, 'link', 'set', br, 'up');
    ip('-n', NS.srv, 'link', 'add', inner, 'type', 'veth', 'peer', 'name', outer);
    ip('-n', NS.srv, 'link', 'set', inner, 'master', br, 'up');
    ip('-n', NS.srv, 'link', 'set', outer, 'netns', NS[side]);
    ip('-n', NS[side], 'addr', 'add', `${net}.2/24`, 'dev', outer);
    ip('-n', NS[side], 'link', 'set', outer, 'up');
  }
}

function labDown(): void {
  for (const ns of Object.values(NS)) spawnSync('ip', ['netns', 'del', ns], { timeout: 10_000 });
}

const children = new Set<ChildProcess>();

async function startServer(interfaces: string[]): Promise<{ stop: () => Promise<void>; ready: string }> {
  const child = spawn('ip', ['netns', 'exec', NS.srv, process.execPath, '--import', 'tsx', SERVER_SCRIPT, JSON.stringify(interfaces)], { stdio: ['pipe', 'pipe', 'pipe'] });
  children.add(child);
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const line = await new Promise<string>((resolve) => {
    const t = setTimeout(() => resolve('timeout'), 20_000);
    createInterface({ input: child.stdout! }).once('line', (l) => {
      clearTimeout(t);
      resolve(l);
    });
    child.once('exit', () => resolve(`exited: ${stderr}`));
  });
  const stop = async (): Promise<void> => {
    child.stdin!.end();
    await new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      const t = setTimeout(() => {
        child.kill('SIGKILL');
        resolve();
      }, 5000);
      child.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
    });
    children.delete(child);
  };
  if (!line.startsWith('ready')) {
    await stop();
    throw new Error(`server did not start: ${line}`);
  }
  return { stop, ready: line };
}

async function discoverFrom(side: 'a' | 'b', mac: string): Promise<{ answered: boolean; serverId?: string; from?: string; file?: string }> {
  const dev = side === 'a' ? VETH.a1 : VETH.b1;
  const child = spawn('ip', ['netns', 'exec', NS[side], process.execPath, '--import', 'tsx', CLIENT_SCRIPT, dev, mac, '1500'], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  await new Promise<void>((resolve) => {
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      resolve();
    }, 20_000);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
  });
  children.delete(child);
  const line = out.trim().split('\n').at(-1) ?? '';
  if (!line.startsWith('{')) throw new Error(`client on ${side} printed nothing: ${err}`);
  return JSON.parse(line) as { answered: boolean; serverId?: string; from?: string; file?: string };
}

describe.skipIf(reason !== null && process.env.CI !== 'true')('answering only on configured interfaces (rule 49), two bridges', () => {
  beforeAll(() => {
    if (reason !== null) throw new Error(`the two-bridge interface test cannot run under CI: ${reason}`);
    labDown(); // leftovers of a killed run with the same pid
    try {
      labUp();
    } catch (e) {
      labDown();
      throw e;
    }
  }, 60_000);

  afterAll(() => {
    for (const c of children) c.kill('SIGKILL');
    labDown();
  });

  it('--interface <first bridge>: answers on the first, silent on the second', { timeout: 60_000 }, async () => {
    const server = await startServer([BR.a]);
    try {
      const [a, b] = await Promise.all([discoverFrom('a', '52:54:00:aa:00:01'), discoverFrom('b', '52:54:00:bb:00:01')]);
      expect(a).toMatchObject({ answered: true, serverId: '10.79.1.1', from: '10.79.1.1', file: 'boot/x64/snponly.efi' });
      expect(b).toEqual({ answered: false });
    } finally {
      await server.stop();
    }
  });

  it('both bridges: each client is answered with the address of its own bridge', { timeout: 60_000 }, async () => {
    const server = await startServer([BR.a, BR.b]);
    try {
      const [a, b] = await Promise.all([discoverFrom('a', '52:54:00:aa:00:02'), discoverFrom('b', '52:54:00:bb:00:02')]);
      expect(a).toMatchObject({ answered: true, serverId: '10.79.1.1' });
      expect(b).toMatchObject({ answered: true, serverId: '10.79.2.1' });
    } finally {
      await server.stop();
    }
  });

  it('an unknown interface is a clear configuration error', { timeout: 60_000 }, async () => {
    await expect(startServer(['pxt-nope0'])).rejects.toThrow(/interface "pxt-nope0" does not exist/);
  });
});
