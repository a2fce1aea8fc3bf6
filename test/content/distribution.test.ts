import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { requestValidation } from '../../src/content/distribution.js';
import { DpNode } from '../../src/content/dp-node.js';
import { buildDpApp } from '../../src/http/dp/app.js';
import type { DpPackageState } from '../../src/site/model.js';
import { ACTOR, bytes, makeFolder, startSite, tempDir, waitFor, type Site } from './helpers.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

let site: Site;
let dpId: string;
let dpDir: string;
let node: DpNode | null = null;
const data = bytes(2 * 1024 * 1024 + 99, 5);

beforeEach(async () => {
  site = await startSite();
  dpId = (await site.service.create('distribution-points', { name: 'DP1', url: 'http://127.0.0.1:1/' }, ACTOR)).id;
  dpDir = tempDir('pxp-dp-');
  dirs.push(dpDir);
});
afterEach(async () => {
  await node?.close();
  node = null;
  await site.close();
});

async function addPackage(files: Record<string, string | Buffer>, extra: Record<string, unknown> = {}): Promise<{ id: string; version: number }> {
  const src = makeFolder(files);
  dirs.push(src);
  const id = (await site.service.create('packages', { name: `P${Math.random()}`, ...extra }, ACTOR)).id;
  const { version } = await site.content.addContent(id, src, ACTOR);
  return { id, version };
}

async function openNode(): Promise<DpNode> {
  node = await DpNode.open({ dataDir: dpDir, siteUrl: site.url, dpId, token: site.token, pollMs: 60_000, validateMs: 0 });
  return node;
}

const stateOf = async (pkg: string): Promise<DpPackageState | undefined> => site.repo.content.getDpState(dpId, pkg);

describe('distribution to a DP (pull)', () => {
  it('pulls, verifies every file, then reports available; the states go pending → verifying → available', async () => {
    const p = await addPackage({ 'big.bin': data, 'small.txt': 'x' });
    // What the DP reports, in order (and the site state right after each report).
    const seen: string[] = [];
    const realFetch = globalThis.fetch;
    globalThis.fetch = async (input, init) => {
      const res = await realFetch(input, init);
      if (init?.method === 'PUT') seen.push(`${(JSON.parse(String(init.body)) as { state: string }).state}:${(await stateOf(p.id))?.state}`);
      return res;
    };
    const dist = await site.app.inject({ method: 'POST', url: `/api/content/packages/${p.id}/distribute`, headers: { authorization: `Bearer ${site.token}` }, payload: { distributionPointIds: [dpId] } });
    expect(dist.statusCode).toBe(200);
    const n = await openNode();
    expect((await n.held())).toEqual([]);
    expect((await stateOf(p.id))?.state).toBe('pending');
    try {
      await n.poll();
    } finally {
      globalThis.fetch = realFetch;
    }
    expect(seen).toEqual(['verifying:verifying', 'available:available']);
    expect(await n.held()).toEqual([{ packageId: p.id, version: p.version, share: false }]);
    const m = await n.manifest(p.id, p.version);
    expect((await n.library.verifyObject(m!.files[0]!)).ok).toBe(true);
  });

  it('a file tampered on the way is never reported available', async () => {
    const p = await addPackage({ 'big.bin': data });
    const m = (await site.content.manifest(p.id, p.version))!;
    // Flip one byte of the site's stored object: the bytes served no longer match the signed manifest.
    const obj = site.content.library.objectPath(m.files[0]!.sha256);
    const buf = readFileSync(obj);
    buf[1_500_000] = buf[1_500_000]! ^ 0xff;
    writeFileSync(obj, buf);
    await site.app.inject({ method: 'POST', url: `/api/content/packages/${p.id}/distribute`, headers: { authorization: `Bearer ${site.token}` }, payload: { distributionPointIds: [dpId] } });
    const n = await openNode();
    await n.poll();
    const st = await stateOf(p.id);
    expect(st?.state).toBe('failed');
    expect(st?.detail).toMatch(/chunk 1 has XXH64/);
    expect(await n.held()).toEqual([]);
    expect(await n.library.hasObject(m.files[0]!.sha256)).toBe(false);
    const msgs = await site.repo.statusMessages.list({ kind: 'status' });
    expect(msgs.some((x) => x.text.includes(`failed package ${p.id}`))).toBe(true);
  });

  it('scheduled validation finds a flipped byte in the DP copy, reports failed, and redistributes', async () => {
    const p = await addPackage({ 'big.bin': data });
    await site.app.inject({ method: 'POST', url: `/api/content/packages/${p.id}/distribute`, headers: { authorization: `Bearer ${site.token}` }, payload: { distributionPointIds: [dpId] } });
    const n = await openNode();
    await n.poll();
    expect((await stateOf(p.id))?.state).toBe('available');
    const m = (await n.manifest(p.id, p.version))!;
    const obj = n.library.objectPath(m.files[0]!.sha256);
    const buf = readFileSync(obj);
    buf[10] = buf[10]! ^ 0x01;
    writeFileSync(obj, buf);

    const results = await n.validateAll();
    expect(results).toEqual([{ packageId: p.id, version: p.version, ok: false, problems: [expect.stringMatching(/chunk 0/)] }]);
    expect((await stateOf(p.id))?.state).toBe('failed');
    expect(await n.held()).toEqual([]);
    // Redistribute: the next poll pulls it again.
    await n.poll();
    expect((await stateOf(p.id))?.state).toBe('available');
    expect((await n.library.verifyObject(m.files[0]!)).ok).toBe(true);
  });

  it('validation also runs on its own schedule (dp.validateMinutes)', async () => {
    const p = await addPackage({ 'f.txt': 'scheduled' });
    await site.app.inject({ method: 'POST', url: `/api/content/packages/${p.id}/distribute`, headers: { authorization: `Bearer ${site.token}` }, payload: { distributionPointIds: [dpId] } });
    node = await DpNode.open({ dataDir: dpDir, siteUrl: site.url, dpId, token: site.token, pollMs: 60_000, validateMs: 300 });
    const n = node;
    await n.poll();
    const m = (await n.manifest(p.id, p.version))!;
    writeFileSync(n.library.objectPath(m.files[0]!.sha256), 'scheduleX');
    const failed: string[] = [];
    const { subscribe } = await import('../../src/events.js');
    const off = subscribe('content.verify.fail', (e) => failed.push(String(e.packageId)));
    try {
      n.start();
      await waitFor(() => failed.includes(p.id), 'the scheduled validation to find the damage');
      await waitFor(async () => (await n.library.verifyObject(m.files[0]!)).ok && (await stateOf(p.id))?.state === 'available', 'redistribution');
    } finally {
      off();
    }
  });

  it('`content validate --dp` makes the DP validate at its next poll', async () => {
    const p = await addPackage({ 'f.txt': 'hello' });
    await site.app.inject({ method: 'POST', url: `/api/content/packages/${p.id}/distribute`, headers: { authorization: `Bearer ${site.token}` }, payload: { distributionPointIds: [dpId] } });
    const n = await openNode();
    await n.poll();
    const m = (await n.manifest(p.id, p.version))!;
    writeFileSync(n.library.objectPath(m.files[0]!.sha256), 'jello');
    expect(await requestValidation(site.repo, dpId, ACTOR, new Date().toISOString())).toBe(1);
    expect((await stateOf(p.id))?.validateRequestedAt).not.toBeNull();
    await n.poll();
    const st = await stateOf(p.id);
    expect(st?.state).toBe('available'); // found damaged, withdrawn, pulled again
    expect(st?.validateRequestedAt).toBeNull();
    const msgs = await site.repo.statusMessages.list({ kind: 'status' });
    expect(msgs.some((x) => x.text.includes('validation'))).toBe(true);
  });

  it('on-demand: a request for content the DP lacks starts a pull (503 + Retry-After), then it is served', async () => {
    const p = await addPackage({ 'f.txt': 'on demand' }, { copyToPackageShare: true });
    const n = await openNode();
    const app = await buildDpApp({ source: n });
    try {
      const first = await app.inject({ method: 'GET', url: `/content/${p.id}/${p.version}/files/f.txt` });
      expect(first.statusCode).toBe(503);
      expect(first.headers['retry-after']).toBe('5');
      await waitFor(async () => (await stateOf(p.id))?.state === 'available', 'on-demand pull');
      await n.poll(); // settle share flags
      const r = await app.inject({ method: 'GET', url: `/content/${p.id}/${p.version}/files/f.txt` });
      expect(r.statusCode).toBe(200);
      expect(r.body).toBe('on demand');
      const share = await app.inject({ method: 'GET', url: `/share/${p.id}/f.txt` });
      expect(share.body).toBe('on demand');
      // A version the site does not have: 404, no pull.
      expect((await app.inject({ method: 'GET', url: `/content/${p.id}/99/manifest.json` })).statusCode).toBe(404);
    } finally {
      await app.close();
    }
  });

  it('a new version goes to the DPs that held the package (rule 17)', async () => {
    const src = makeFolder({ 'a.txt': 'v1' });
    dirs.push(src);
    const id = (await site.service.create('packages', { name: 'App' }, ACTOR)).id;
    const v1 = (await site.content.addContent(id, src, ACTOR)).version;
    await site.app.inject({ method: 'POST', url: `/api/content/packages/${id}/distribute`, headers: { authorization: `Bearer ${site.token}` }, payload: { distributionPointIds: [dpId] } });
    const n = await openNode();
    await n.poll();
    writeFileSync(`${src}/a.txt`, 'v2');
    const r2 = await site.content.addContent(id, src, ACTOR);
    expect(r2.redistributedTo).toEqual([dpId]);
    expect(await stateOf(id)).toMatchObject({ version: v1 + 1, state: 'pending' });
    await n.poll();
    expect(await stateOf(id)).toMatchObject({ version: v1 + 1, state: 'available' });
  });
});

describe('automatically distribute content for dependencies', () => {
  it('a deployment with the flag sends its packages and their dependencies (transitively) to the DPs', async () => {
    const grp = await site.service.create('dp-groups', { name: 'G', distributionPointIds: [dpId] }, ACTOR);
    const c = await addPackage({ 'c.txt': 'c' });
    const bId = (await site.service.create('packages', { name: 'B', dependencyIds: [c.id] }, ACTOR)).id;
    const srcB = makeFolder({ 'b.txt': 'b' });
    dirs.push(srcB);
    await site.content.addContent(bId, srcB, ACTOR);
    const aId = (await site.service.create('packages', { name: 'A', dependencyIds: [bId] }, ACTOR)).id;
    const srcA = makeFolder({ 'a.txt': 'a' });
    dirs.push(srcA);
    await site.content.addContent(aId, srcA, ACTOR);
    const bi = await site.service.create('boot-images', { name: 'WinPE', architecture: 'x64', imagePath: 'images/x64/boot.wim' }, ACTOR);
    const ts = await site.service.create('task-sequences', { name: 'OSD', bootImageId: bi.id, steps: [{ name: 'apply', type: 'apply-image', packageId: aId }] }, ACTOR);
    const dev = await site.service.create('devices', { name: 'LAB-1', macs: ['52:54:00:00:00:01'] }, ACTOR);
    const col = await site.service.create('collections', { name: 'Lab', directMemberIds: [dev.id], defaultDpGroupId: grp.id }, ACTOR);

    await site.service.createDeployment({ taskSequenceId: ts.id, collectionId: col.id, settings: { deploymentSettings: { purpose: 'available', availableTo: 'media-pxe' } } }, ACTOR);
    expect(await site.repo.content.listDpStates({ distributionPointId: dpId })).toEqual([]);

    await site.service.createDeployment({
      taskSequenceId: ts.id, collectionId: col.id,
      settings: { general: { autoDistributeDependencies: true, useDefaultDpGroups: true }, deploymentSettings: { purpose: 'available', availableTo: 'media-pxe' } },
    }, ACTOR);
    const states = await site.repo.content.listDpStates({ distributionPointId: dpId });
    expect(states.map((s) => s.packageId).sort()).toEqual([aId, bId, c.id].sort());
    expect(states.every((s) => s.state === 'pending')).toBe(true);
  });
});
