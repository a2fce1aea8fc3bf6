/**
 * Issue 6, done-when (locations and verification): on loopback, the real site
 * (`pxepoint serve --role site`), three REAL distribution point processes
 * (`pxepoint serve --role dp`, each its own data directory, pulling and
 * verifying the package from the site) and the reference client
 * (`pxepoint client`), all from source.
 *
 * Boundary groups: CURRENT holds the client's address (127.0.0.0/8) and dp-a;
 * NEIGHBOUR (dp-b) is its neighbour; DEFAULT (dp-c) is the site default group.
 * Then:
 *  - the policy lists locations in rule 124 order, with the deployment's
 *    neighbour / default checkboxes on and off (the site's own route last);
 *  - a byte flipped in dp-a's copy is caught, the chunk comes from dp-b (next in
 *    rule 124 order) and the run completes;
 *  - a forged manifest from dp-a (altered in transit by a proxy in front of
 *    it) is refused and dp-b is used;
 *  - with no good copy anywhere the step fails with a hash mismatch and nothing
 *    of the bad copies is kept;
 *  - "access content directly" runs unverified and says so in log and status.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHUNK_SIZE, type ContentManifest } from '../../src/content/types.js';
import type { PolicyContentSource, PolicyResponse } from '../../src/policy/client-api.js';
import { REPO_ROOT, runPxepoint, startServeChild, waitForExit, type ServerChild, adminApi } from '../support/child.js';

const root = mkdtempSync(join(tmpdir(), 'pxepoint-content-flow-'));
const siteData = join(root, 'site');
const source = join(root, 'package-source');
let site: ServerChild | null = null;
let admin = '';

interface Dp { name: string; id: string; port: number; url: string; dataDir: string; child: ChildProcess | null; output: string }
/** dp-a is reached through this proxy (its URL in the site): it can alter dp-a's manifest in transit. */
let proxy: { url: string; forge: { on: boolean }; close(): Promise<void> } | null = null;
const dps: Dp[] = [];
const dpNamed = (name: string): Dp => dps.find((d) => d.name === name)!;

// A 2.5-chunk file (so a flipped byte in chunk 1 shows the Range re-fetch) and a script that uses it.
const BIG = Buffer.alloc(2 * CHUNK_SIZE + CHUNK_SIZE / 2);
for (let i = 0; i < BIG.length; i++) BIG[i] = (i * 2654435761) >>> 24;
const FLIP_AT = CHUNK_SIZE + 4242;
const CHECK = 'wc -c < big.bin | tr -d " " > "$_PXPTargetDir/used.txt"\n';

let pkgId = '';
let version = 0;
let bigSha = '';
const deployments = { off: '', neighbour: '', defaults: '', both: '', direct: '', pre: '' };
let collection = '';
let machineNo = 0;

const api = <T = unknown>(method: string, path: string, body?: unknown): Promise<T> => adminApi<T>(site!.url, admin, method, path, body);

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** A transparent HTTP proxy to `upstream` that, with `forge.on`, alters manifests after they were signed. */
async function startForgingProxy(upstream: string): Promise<NonNullable<typeof proxy>> {
  const app = Fastify({ logger: false });
  const forge = { on: false };
  app.get('/*', async (req, reply) => {
    const res = await fetch(upstream + req.url.slice(1), { headers: req.headers.range ? { range: req.headers.range } : {} });
    const body = Buffer.from(await res.arrayBuffer());
    if (forge.on && res.ok && req.url.endsWith('/manifest.json')) {
      const m = JSON.parse(body.toString('utf8')) as ContentManifest;
      m.createdAt = '2020-01-01T00:00:00.000Z'; // any change after signing
      return reply.code(res.status).type('application/json').send(JSON.stringify(m));
    }
    for (const h of ['content-type', 'content-range', 'accept-ranges', 'etag']) {
      const v = res.headers.get(h);
      if (v !== null) void reply.header(h, v);
    }
    return reply.code(res.status).send(body);
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  return { url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/`, forge, close: () => app.close() };
}

async function until<T>(what: string, probe: () => Promise<T | null>, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => null);
    if (v !== null) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

function startDp(dp: Dp): void {
  const config = join(root, `${dp.name}.json`);
  writeFileSync(config, JSON.stringify({ dp: { siteUrl: `${site!.url}/`, id: dp.id, tokenFile: join(siteData, 'admin-token'), pollSeconds: 0.5, validateMinutes: 0 } }));
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'src/cli/run.ts'), 'serve', '--config', config, '--role', 'dp',
    '--data-dir', dp.dataDir, '--listen', '127.0.0.1', '--http-port', String(dp.port), '--log-level', 'warn'], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (b: Buffer) => (dp.output += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (dp.output += b.toString()));
  dp.child = child;
}

/** The DP's stored copy of a file (its content-addressed object). */
const objectOf = (dp: Dp, sha256: string): string => join(dp.dataDir, 'content', 'objects', sha256.slice(0, 2), sha256);
function flip(file: string, offset = FLIP_AT): void {
  const b = readFileSync(file);
  b[offset] = b[offset]! ^ 0xff;
  writeFileSync(file, b);
}

/** A new machine in the test collection, with a boot token. */
async function newMachine(): Promise<{ id: string; mac: string; guid: string; token: string }> {
  machineNo++;
  const hex = machineNo.toString(16).padStart(2, '0');
  const mac = `52:54:00:66:00:${hex}`;
  const guid = `6b1d0000-6666-4000-8000-0000000000${hex}`;
  const device = await api<{ id: string }>('POST', '/api/devices', { name: `CONTENT-PC-${machineNo}`, macs: [mac], smbiosGuid: guid, architecture: 'x64' });
  const c = await api<{ directMemberIds: string[] }>('GET', `/api/collections/${collection}`);
  await api('PATCH', `/api/collections/${collection}`, { directMemberIds: [...c.directMemberIds, device.id] });
  const { token } = await api<{ token: string }>('POST', '/api/boot-tokens', { macs: [mac], smbiosGuid: guid, bootSource: 'pxe' });
  return { id: device.id, mac, guid, token };
}

function varsFile(m: { mac: string; guid: string; token: string }): string {
  const file = join(mkdtempSync(join(root, 'vars-')), 'variables.json');
  writeFileSync(file, JSON.stringify({ variables: [
    { name: 'SMSTSSiteURL', value: site!.url },
    { name: '_SMSTSClientMAC', value: m.mac },
    { name: '_PXPSMBIOSGUID', value: m.guid },
    { name: '_PXPArchitecture', value: 'x64' },
    { name: '_PXPBootToken', value: m.token },
    // Rule 122, made small for the test.
    { name: 'SMSTSDownloadRetryCount', value: '1' },
    { name: 'SMSTSDownloadRetryDelay', value: '0' },
  ] }), { mode: 0o600 });
  return file;
}

interface ClientJson {
  exitCode: number;
  run: { succeeded: boolean; unverifiedPackages: string[]; steps: { name: string; result: string; failure?: string; message: string }[] } | null;
  logPath: string;
}

async function runClient(deploymentId: string): Promise<{ code: number | null; json: ClientJson; log: string; target: string; machine: string }> {
  const m = await newMachine();
  const target = mkdtempSync(join(root, 'target-'));
  const r = await runPxepoint(['client', '--json', '--vars', varsFile(m), '--target', target, '--select', deploymentId], { timeoutMs: 90_000 });
  let json: ClientJson;
  try {
    json = JSON.parse(r.stdout) as ClientJson;
  } catch {
    throw new Error(`pxepoint client printed no JSON (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
  return { code: r.code, json, log: readFileSync(json.logPath, 'utf8'), target, machine: m.id };
}

/** The policy as a machine at 127.0.0.1 gets it (client API, one-time token). */
async function policyFor(): Promise<PolicyResponse> {
  const m = await newMachine();
  const who = await fetch(`${site!.url}/client/identify`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ macs: [m.mac], smbiosGuid: m.guid, architecture: 'x64', bootSource: 'pxe', pxeToken: m.token }),
  });
  const { sessionToken } = (await who.json()) as { sessionToken: string };
  const res = await fetch(`${site!.url}/client/policy`, { headers: { authorization: `Bearer ${sessionToken}` } });
  return (await res.json()) as PolicyResponse;
}

beforeAll(async () => {
  site = await startServeChild(['--data-dir', siteData, '--sample-site', '--role', 'site', '--listen', '127.0.0.1', '--http-port', '0', '--dhcp-mode', 'off', '--log-level', 'warn']);
  admin = readFileSync(join(siteData, 'admin-token'), 'utf8').trim();

  // The package: created, then its content added to the site's library (signed manifest), before anything else
  // changes in the site, so the site's next policy snapshot has the new version.
  mkdirSync(source);
  writeFileSync(join(source, 'big.bin'), BIG);
  writeFileSync(join(source, 'check.sh'), CHECK);
  pkgId = (await api<{ id: string }>('POST', '/api/packages', { name: 'Content flow payload', sourcePath: source, copyToPackageShare: true })).id;
  const added = await runPxepoint(['package', 'add-content', pkgId, '--source', source, '--data-dir', siteData], { timeoutMs: 60_000 });
  if (added.code !== 0) throw new Error(`pxepoint package add-content failed (${added.code}):\n${added.stdout}\n${added.stderr}`);

  for (const name of ['dp-a', 'dp-b', 'dp-c']) {
    const port = await freePort();
    if (name === 'dp-a') proxy = await startForgingProxy(`http://127.0.0.1:${port}/`);
    const url = name === 'dp-a' ? proxy!.url : `http://127.0.0.1:${port}/`;
    const created = await api<{ id: string }>('POST', '/api/distribution-points', { name, url, shareUrl: `${url}share/` });
    dps.push({ name, id: created.id, port, url, dataDir: join(root, name), child: null, output: '' });
  }
  const neighbour = await api<{ id: string }>('POST', '/api/boundary-groups', { name: 'NEIGHBOUR', boundaries: [{ kind: 'subnet', cidr: '10.66.0.0/16' }], distributionPointIds: [dpNamed('dp-b').id] });
  await api('POST', '/api/boundary-groups', { name: 'DEFAULT', boundaries: [{ kind: 'subnet', cidr: '10.67.0.0/16' }], distributionPointIds: [dpNamed('dp-c').id], isSiteDefault: true });
  await api('POST', '/api/boundary-groups', {
    name: 'CURRENT', boundaries: [{ kind: 'subnet', cidr: '127.0.0.0/8' }], distributionPointIds: [dpNamed('dp-a').id],
    neighbours: [{ boundaryGroupId: neighbour.id, failoverMinutes: 30 }],
  });

  for (const dp of dps) startDp(dp);
  await api('POST', `/api/content/packages/${pkgId}/distribute`, { distributionPointIds: dps.map((d) => d.id) });
  const status = await until('the three DPs to pull and verify the package', async () => {
    const s = await api<{ versions: { version: number }[]; distributionPoints: { distributionPointId: string; state: string; version: number }[] }>('GET', `/api/content/status?packageId=${pkgId}`);
    const ok = dps.every((d) => s.distributionPoints.some((x) => x.distributionPointId === d.id && x.state === 'available'));
    return ok ? s : null;
  }, 90_000).catch((e: Error) => {
    throw new Error(`${e.message}\n${dps.map((d) => `--- ${d.name}:\n${d.output}`).join('\n')}`);
  });
  version = Math.max(...status.versions.map((v) => v.version));
  const manifest = JSON.parse(readFileSync(join(dpNamed('dp-a').dataDir, 'content', 'manifests', pkgId, `${version}.json`), 'utf8')) as ContentManifest;
  bigSha = manifest.files.find((f) => f.path === 'big.bin')!.sha256;

  const bootImages = await api<{ id: string; architecture: string }[]>('GET', '/api/boot-images');
  const ts = await api<{ id: string }>('POST', '/api/task-sequences', {
    name: 'Content flow', bootImageId: bootImages.find((b) => b.architecture === 'x64')!.id,
    steps: [
      { name: 'Download content', type: 'download-package', packageId: pkgId },
      { name: 'Record location', type: 'run-command', commandLine: 'printf "%s" "$_SMSTSLastContentDownloadLocation" > where.txt' },
      { name: 'Use content', type: 'run-command', packageId: pkgId, commandLine: 'sh check.sh' },
    ],
  });
  collection = (await api<{ id: string }>('POST', '/api/collections', { name: 'Content flow machines', directMemberIds: [] })).id;
  const deploy = async (distributionPoints: Record<string, unknown>, general: Record<string, unknown> = {}): Promise<string> => (await api<{ deployment: { id: string } }>('POST', '/api/deployments', {
    taskSequenceId: ts.id, collectionId: collection,
    settings: { general, deploymentSettings: { purpose: 'available', availableTo: 'clients-media-pxe' }, distributionPoints },
  })).deployment.id;
  deployments.off = await deploy({ allowNeighbourFallback: false, allowDefaultSiteFallback: false });
  deployments.neighbour = await deploy({ allowNeighbourFallback: true, allowDefaultSiteFallback: false });
  deployments.defaults = await deploy({ allowNeighbourFallback: false, allowDefaultSiteFallback: true });
  deployments.both = await deploy({ allowNeighbourFallback: true, allowDefaultSiteFallback: true });
  deployments.direct = await deploy({ deploymentOption: 'access-directly', allowNeighbourFallback: true, allowDefaultSiteFallback: true });
  deployments.pre = await deploy({ allowNeighbourFallback: true, allowDefaultSiteFallback: true }, { preDownload: true });
}, 180_000);

afterAll(async () => {
  for (const p of [...dps.map((d) => d.child), site?.child]) {
    if (p && p.exitCode === null) {
      p.kill('SIGTERM');
      await waitForExit(p);
    }
  }
  await proxy?.close();
  rmSync(root, { recursive: true, force: true });
}, 30_000);

describe('content locations and verification end to end (site + three real DPs + client, loopback)', () => {
  it('rule 124: the policy lists current → neighbour → site default, each gated by its checkbox; the site itself last', async () => {
    const policy = await policyFor();
    expect(policy.contentSigning).toMatchObject({ alg: 'ed25519', keyId: expect.stringMatching(/^[0-9a-f]{16}$/) });
    const where = (deploymentId: string): string[] => {
      const d = policy.offered.find((o) => o.deploymentId === deploymentId)!;
      const p = d.packages.find((x) => x.id === pkgId)!;
      return p.sources!.map((s: PolicyContentSource) => (s.source === 'site' ? 'site' : `${s.source}:${dps.find((x) => x.id === s.distributionPointId)!.name}`));
    };
    expect(where(deployments.off)).toEqual(['current:dp-a', 'site']);
    expect(where(deployments.neighbour)).toEqual(['current:dp-a', 'neighbour:dp-b', 'site']);
    expect(where(deployments.defaults)).toEqual(['current:dp-a', 'site-default:dp-c', 'site']);
    expect(where(deployments.both)).toEqual(['current:dp-a', 'neighbour:dp-b', 'site-default:dp-c', 'site']);
    // The DP URL layout of content/types.ts, and the plain `locations` kept in the same order.
    const both = policy.offered.find((o) => o.deploymentId === deployments.both)!.packages.find((x) => x.id === pkgId)!;
    expect(both.sources![1]).toMatchObject({
      filesUrl: `${dpNamed('dp-b').url}content/${pkgId}/${version}/files/`, manifestUrl: `${dpNamed('dp-b').url}content/${pkgId}/${version}/manifest.json`,
      shareUrl: `${dpNamed('dp-b').url}share/${pkgId}/`, failoverMinutes: 30,
    });
    expect(both.locations).toEqual(both.sources!.map((s) => s.filesUrl));
    expect(policy.offered.find((o) => o.deploymentId === deployments.direct)!.engineVariables).toEqual([{ name: '_SMSTSRunFromDP', value: 'true' }]);

    // Rule 125: a DP in maintenance is not returned.
    await api('PATCH', `/api/distribution-points/${dpNamed('dp-b').id}`, { maintenance: true });
    try {
      const p2 = await policyFor();
      const sources = p2.offered.find((o) => o.deploymentId === deployments.both)!.packages.find((x) => x.id === pkgId)!.sources!;
      expect(sources.map((s) => s.distributionPointId)).not.toContain(dpNamed('dp-b').id);
    } finally {
      await api('PATCH', `/api/distribution-points/${dpNamed('dp-b').id}`, { maintenance: false });
    }
  }, 60_000);

  it('a byte flipped in dp-a\'s copy is detected; the chunk comes from dp-b (next in rule 124 order) and the run completes', async () => {
    const object = objectOf(dpNamed('dp-a'), bigSha);
    flip(object);
    try {
      const r = await runClient(deployments.both);
      expect(r.code, r.log).toBe(0);
      expect(r.json.run!.steps.map((s) => s.result)).toEqual(['succeeded', 'succeeded', 'succeeded']);
      expect(readFileSync(join(r.target, '_SMSTSPackages', pkgId, 'big.bin')).equals(BIG)).toBe(true);
      expect(readFileSync(join(r.target, 'used.txt'), 'utf8').trim()).toBe(String(BIG.length));
      expect(r.log).toMatch(new RegExp(`big\\.bin from ${dpNamed('dp-a').url}\\S*: hash mismatch in chunk 1 .*good bytes kept up to ${CHUNK_SIZE}`));
      // The rest came from dp-b (the next location in rule 124 order), resumed at the bad chunk — not from dp-c.
      expect(r.log).toMatch(new RegExp(`big\\.bin: bytes ${CHUNK_SIZE}–${BIG.length - 1} from ${dpNamed('dp-b').url}\\S* \\(location 2 of 4, rule 124 order, resumed with a Range request\\)`));
      expect(r.log).not.toContain(dpNamed('dp-c').url);
    } finally {
      flip(object);
    }
  }, 120_000);

  it('a forged manifest from dp-a is refused: dp-a is not used, dp-b\'s signed manifest and content are', async () => {
    proxy!.forge.on = true;
    try {
      const r = await runClient(deployments.neighbour);
      expect(r.code, r.log).toBe(0);
      expect(r.log).toMatch(new RegExp(`REFUSED location ${dpNamed('dp-a').id} .*does not verify with the site key`));
      expect(readFileSync(join(r.target, 'where.txt'), 'utf8')).toBe(`${dpNamed('dp-b').url}content/${pkgId}/${version}/files/`);
      expect(readFileSync(join(r.target, '_SMSTSPackages', pkgId, 'big.bin')).equals(BIG)).toBe(true);
    } finally {
      proxy!.forge.on = false;
    }
  }, 120_000);

  it('"access content directly" reads the package share unverified, and says so in the log and in status (rule 117)', async () => {
    const object = objectOf(dpNamed('dp-a'), bigSha);
    flip(object);
    try {
      const r = await runClient(deployments.direct);
      expect(r.code, r.log).toBe(0);
      expect(r.json.run!.unverifiedPackages).toEqual([pkgId]);
      // Not verified: dp-a's altered copy was used as is.
      expect(readFileSync(join(r.target, '_SMSTSPackages', pkgId, 'big.bin')).equals(BIG)).toBe(false);
      expect(r.log).toMatch(/!!! UNVERIFIED CONTENT: package \w+ .*WITHOUT hash verification/);
      expect(r.log).toMatch(/UNVERIFIED .*big\.bin.*DOES NOT match policy; not checked, rule 117/);
      const messages = await api<{ messageId: number; text: string }[]>('GET', `/api/messages?deviceId=${r.machine}&deploymentId=${deployments.direct}`);
      expect(messages.find((m) => m.messageId === 11140)!.text).toMatch(/NOT verified \(rule 117\)/);
      expect(messages.find((m) => m.messageId === 11171)!.text).toMatch(new RegExp(`content used WITHOUT hash verification \\(rule 117\\): ${pkgId}`));
    } finally {
      flip(object);
    }
  }, 120_000);

  it('rule 16: a full-OS client pre-downloads an Available deployment\'s content; the later run uses it even when no DP has a good copy any more', async () => {
    const m = await newMachine();
    const { key } = await api<{ key: string }>('POST', `/api/devices/${m.id}/client-key`);
    const target = mkdtempSync(join(root, 'target-'));
    const identity = ['--site', site!.url, '--mac', m.mac, '--guid', m.guid, '--boot', 'full-os', '--client-key', key, '--target', target, '--json'];
    const pre = await runPxepoint(['client', ...identity, '--pre-download'], { timeoutMs: 90_000 });
    expect(pre.code, pre.stderr).toBe(0);
    expect(JSON.parse(pre.stdout)).toMatchObject({ run: null, preDownload: [{ deploymentId: deployments.pre, ok: true }] });
    expect(await api('GET', `/api/devices/${m.id}/status`)).toEqual([expect.objectContaining({ deploymentId: deployments.pre, state: 6 })]);

    const bad = [...dps.map((d) => objectOf(d, bigSha)), join(source, 'big.bin')];
    for (const f of bad) flip(f);
    try {
      const run = await runPxepoint(['client', ...identity, '--select', deployments.pre], { timeoutMs: 90_000 });
      expect(run.code, run.stdout + run.stderr).toBe(0);
      const json = JSON.parse(run.stdout) as ClientJson;
      expect(readFileSync(json.logPath, 'utf8')).toMatch(/using the copy verified earlier in this target \(pre-cached, rule 16\)/);
      expect(readFileSync(join(target, 'used.txt'), 'utf8').trim()).toBe(String(BIG.length));
      expect(await api('GET', `/api/devices/${m.id}/status`)).toEqual([expect.objectContaining({ deploymentId: deployments.pre, state: 13 })]);
    } finally {
      for (const f of bad) flip(f);
    }
  }, 120_000);

  it('no location has a good copy: the step fails with a hash mismatch and nothing of the bad copies is kept', async () => {
    const bad = [...dps.map((d) => objectOf(d, bigSha)), join(source, 'big.bin')]; // the three DPs and the site's own route
    for (const f of bad) flip(f);
    try {
      const r = await runClient(deployments.both);
      expect(r.code).toBe(1);
      expect(r.json.run!.steps.map((s) => s.result)).toEqual(['failed', 'not-run', 'not-run']);
      expect(r.json.run!.steps[0]).toMatchObject({ failure: 'hash-mismatch' });
      expect(readdirSync(join(r.target, '_SMSTSPackages'))).toEqual([]);
      expect(existsSync(join(r.target, 'used.txt'))).toBe(false);
      // Each DP was tried in rule 124 order, then the site.
      const order = [...r.log.matchAll(/big\.bin from (\S+): (hash|size) mismatch/g)].map((m) => m[1]);
      expect(order.slice(0, 3)).toEqual(['dp-a', 'dp-b', 'dp-c'].map((n) => `${dpNamed(n).url}content/${pkgId}/${version}/files/`));
      const [row] = (await api<{ deploymentId: string; state: number; lastMessageId: number; lastMessage: string }[]>('GET', `/api/devices/${r.machine}/status`));
      expect(row).toMatchObject({ deploymentId: deployments.both, state: 11, lastMessageId: 11170 });
      expect(row!.lastMessage).toMatch(/Download content.*SHA-256 \(rule 116\)/);
    } finally {
      for (const f of bad) flip(f);
    }
  }, 120_000);
});
