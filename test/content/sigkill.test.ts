/**
 * A DP killed with SIGKILL in the middle of a distribution never reports a partial
 * package as available after restart. The DP is a real child process
 * (`pxepoint serve --role dp`); between it and the site sits a proxy that stalls
 * the second file after 3 MiB, so the kill lands mid-file, with the first file
 * already stored.
 */
import { existsSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as netServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnPxepoint, waitForExit } from '../support/child.js';
import type { ChildProcess } from 'node:child_process';
import { ACTOR, bytes, makeFolder, startSite, tempDir, waitFor, type Site } from './helpers.js';

const STALL_AFTER = 3 * 1024 * 1024;
const dirs: string[] = [];
const children: ChildProcess[] = [];
let site: Site | undefined;
let proxy: Server | undefined;
afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) {
    c.kill('SIGKILL');
    await waitForExit(c);
  }
  await new Promise<void>((r) => (proxy ? proxy.close(() => r()) : r()));
  await site?.close();
  dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = netServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Forwards to the site; while `stalling`, responses for `stallPath` stop after STALL_AFTER bytes. */
function startProxy(target: URL, stallPath: string): Promise<{ server: Server; url: string; stalledBytes(): number; release(): void; requests(): number; held(): number; ranges: string[] }> {
  let stalling = true;
  let stalled = 0;
  let requests = 0;
  const held: ServerResponse[] = [];
  const ranges: string[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const up = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      if (!stalling || !req.url?.endsWith(stallPath)) return void upRes.pipe(res);
      requests++;
      ranges.push(String(req.headers.range ?? ''));
      let sent = 0;
      upRes.on('end', () => res.end());
      upRes.on('data', (b: Buffer) => {
        if (!stalling) return void res.write(b); // released while this response was under way
        if (sent >= STALL_AFTER) return;
        const part = b.subarray(0, STALL_AFTER - sent);
        sent += part.length;
        res.write(part);
        if (sent >= STALL_AFTER) {
          stalled = sent;
          upRes.destroy();
          held.push(res);
        }
      });
    });
    // The DP end is killed on purpose: every socket of the proxy may see a reset.
    up.on('error', () => res.destroy());
    up.on('socket', (sock) => sock.on('error', () => undefined));
    req.on('error', () => up.destroy());
    req.socket.on('error', () => undefined);
    res.on('error', () => undefined);
    req.pipe(up);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    server,
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}/`,
    stalledBytes: () => stalled,
    requests: () => requests,
    held: () => held.length,
    ranges,
    release() {
      stalling = false;
      for (const r of held) r.destroy();
    },
  })));
}

async function startDp(configFile: string, dataDir: string, port: number): Promise<{ child: ChildProcess; url: string; out: () => string }> {
  const child = spawnPxepoint(['serve', '--role', 'dp', '--config', configFile, '--data-dir', dataDir, '--listen', '127.0.0.1', '--http-port', String(port), '--log-level', 'info']);
  children.push(child);
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  const url = `http://127.0.0.1:${port}/`;
  await waitFor(async () => {
    if (child.exitCode !== null) throw new Error(`the DP exited:\n${out}`);
    return fetch(`${url}api/health`).then((r) => r.ok, () => false);
  }, `the DP to listen:\n${out}`, 30_000);
  return { child, url, out: () => out };
}

describe('SIGKILL mid-distribution', () => {
  it('never reports a partial package as available after restart', async () => {
    site = await startSite();
    const dpId = (await site.service.create('distribution-points', { name: 'DP1', url: 'http://127.0.0.1:1/' }, ACTOR)).id;
    const big = bytes(8 * 1024 * 1024, 3);
    const src = makeFolder({ 'a-first.bin': bytes(1024 * 1024, 2), 'b-second.wim': big });
    const dpDir = tempDir('pxp-dp-kill-');
    const cfgDir = tempDir('pxp-dp-cfg-');
    dirs.push(src, dpDir, cfgDir);
    const pkgId = (await site.service.create('packages', { name: 'OS' }, ACTOR)).id;
    const { version } = await site.content.addContent(pkgId, src, ACTOR);

    const p = await startProxy(new URL(site.url), '/b-second.wim');
    proxy = p.server;
    const tokenFile = join(cfgDir, 'dp-token');
    writeFileSync(tokenFile, site.token, { mode: 0o600 });
    const configFile = join(cfgDir, 'dp.json');
    writeFileSync(configFile, JSON.stringify({ dp: { siteUrl: p.url, id: dpId, tokenFile, pollSeconds: 0.2, validateMinutes: 0 } }));
    const port = await freePort();

    const dp1 = await startDp(configFile, dpDir, port);
    await site.app.inject({ method: 'POST', url: `/api/content/packages/${pkgId}/distribute`, headers: { authorization: `Bearer ${site.token}` }, payload: { distributionPointIds: [dpId] } });
    await waitFor(() => p.stalledBytes() >= STALL_AFTER, `the second file to stall\n${dp1.out()}`, 30_000);
    // The proxy's 3 MiB may still sit in socket buffers: kill only once the DP has written
    // two whole chunks of the second file, so there is something verified to resume after.
    const partialDir = join(dpDir, 'content', 'partial');
    const sizeOf = (f: string): number => {
      try {
        return statSync(join(partialDir, f)).size;
      } catch {
        return 0; // published (renamed away) between readdir and stat
      }
    };
    const partialBytes = (): number => (existsSync(partialDir) ? readdirSync(partialDir).reduce((n, f) => n + sizeOf(f), 0) : 0);
    await waitFor(() => partialBytes() >= 2 * 1024 * 1024, `the DP to write 2 MiB of the second file\n${dp1.out()}`, 30_000);
    expect((await site.repo.content.getDpState(dpId, pkgId))?.state).toBe('verifying');

    dp1.child.kill('SIGKILL');
    await waitForExit(dp1.child);
    expect(dp1.child.signalCode).toBe('SIGKILL');
    // On disk: the first object may be there, the half file only as a partial download, and no manifest.
    expect(existsSync(join(dpDir, 'content', 'manifests', pkgId, `${version}.json`))).toBe(false);
    expect(readdirSync(join(dpDir, 'content', 'partial')).length).toBe(1);

    // Restart while the site still stalls the second file.
    const heldBefore = p.held();
    const dp2 = await startDp(configFile, dpDir, port);
    await waitFor(() => p.held() > heldBefore, 'the restarted DP to resume the pull (and stall again)', 30_000);
    // It resumed after the whole chunks it had verified before the kill (a Range request).
    const resumed = /^bytes=(\d+)-$/.exec(p.ranges[p.ranges.length - 1]!);
    expect(resumed).not.toBeNull();
    expect(Number(resumed![1]) % (1024 * 1024)).toBe(0);
    const held = (await (await fetch(`${dp2.url}dp/packages`)).json()) as { packages: unknown[] };
    expect(held.packages).toEqual([]);
    const file = await fetch(`${dp2.url}content/${pkgId}/${version}/files/a-first.bin`);
    expect(file.status).not.toBe(200);
    await file.arrayBuffer();
    expect((await site.repo.content.getDpState(dpId, pkgId))?.state).not.toBe('available');

    // Let it finish: now, and only now, available; the bytes are the package's.
    p.release();
    await waitFor(async () => (await site!.repo.content.getDpState(dpId, pkgId))?.state === 'available', `available after release\n${dp2.out()}`, 30_000);
    const heldNow = (await (await fetch(`${dp2.url}dp/packages`)).json()) as { packages: unknown[] };
    expect(heldNow.packages).toEqual([{ packageId: pkgId, version, share: false }]);
    const got = Buffer.from(await (await fetch(`${dp2.url}content/${pkgId}/${version}/files/b-second.wim`)).arrayBuffer());
    expect(got.equals(big)).toBe(true);

    dp2.child.kill('SIGTERM');
    await waitForExit(dp2.child);
  }, 120_000);
});
