/**
 * Content serving: 16 concurrent clients download and verify a 1 GiB package file
 * from a pxepoint distribution point (`pxepoint serve --role dp`, a child process)
 * and the same bytes from nginx (Debian's nginx-light, started here on loopback with
 * a config in a temp dir, stopped by PID), in one run; printed as a ratio.
 *
 *   npm run bench -- content
 *
 * Setup (timed, reported, not part of the ratio): a 1 GiB file is generated in a temp
 * dir; an in-process site adds it to its content library (one read: SHA-256 + XXH64
 * chunks); the DP pulls it and verifies every chunk before reporting `available`.
 *
 * Verification on, identical on both sides: every client checks every XXH64 chunk
 * digest and the SHA-256 of the signed manifest (nginx serves the same bytes, so the
 * same manifest applies). The ratio therefore compares only the servers.
 *
 * Placement (like bench/tftp.ts): with taskset, both servers run on CPU 0 and the
 * client process on CPU 1 ("split", default), so neither server's CPU use is charged
 * to the clients' hashing; BENCH_CONTENT_PLACEMENT=none lets the scheduler decide.
 * nginx runs with `worker_processes 1` and sendfile on (one process, like the DP).
 *
 * Env: BENCH_CONTENT_MB (1024), BENCH_CONTENT_CLIENTS (16), BENCH_CONTENT_ROUNDS (2: alternating, best of each; the cores are shared),
 * BENCH_CONTENT_PLACEMENT (split | none). Bounded: every wait has a deadline and the
 * whole bench gives up after 10 minutes. Target: ratio ≥ 0.9, DP RSS < 200 MB.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { which } from '../test/support/tools.js';
import { benchPlacement, placed } from './placement.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..');
const CLIENT_FLAG = '--content-bench-client';

interface ClientJob {
  url: string;
  clients: number;
  file: { size: number; sha256: string; chunks: string[] };
  chunkSize: number;
}
interface ClientResult {
  ok: number;
  failed: string[];
  bytes: number;
  seconds: number;
}

// ---------------------------------------------------------------------------
// The client process: N concurrent downloads, each verified chunk by chunk.
// ---------------------------------------------------------------------------

async function runClients(job: ClientJob): Promise<ClientResult> {
  const { xxhashApi, Digester } = await import('../src/content/manifest.js');
  const xx = await xxhashApi();
  const one = (): Promise<number> => new Promise((resolve, reject) => {
    let bad: string | null = null;
    const d = new Digester(xx, job.chunkSize, (i, digest) => {
      if (bad === null && job.file.chunks[i] !== digest) bad = `chunk ${i} does not match`;
    });
    const req = get(job.url, { agent: false }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        return reject(new Error(`HTTP ${res.statusCode}`));
      }
      res.on('data', (b: Buffer) => {
        d.update(b);
        if (bad !== null) req.destroy(new Error(bad));
      });
      res.on('end', () => {
        const got = d.digest();
        if (got.size !== job.file.size) return reject(new Error(`${got.size} bytes, expected ${job.file.size}`));
        if (got.sha256 !== job.file.sha256) return reject(new Error('SHA-256 mismatch'));
        resolve(got.size);
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(120_000, () => req.destroy(new Error('client timeout')));
  });
  const start = process.hrtime.bigint();
  const results = await Promise.allSettled(Array.from({ length: job.clients }, one));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => String((r.reason as Error).message));
  const bytes = results.reduce((n, r) => n + (r.status === 'fulfilled' ? r.value : 0), 0);
  return { ok: results.length - failed.length, failed, bytes, seconds };
}

if (process.argv.includes(CLIENT_FLAG)) {
  const job = JSON.parse(readFileSync(process.argv[process.argv.indexOf(CLIENT_FLAG) + 1]!, 'utf8')) as ClientJob;
  runClients(job).then(
    (r) => {
      process.stdout.write(JSON.stringify(r) + '\n');
      process.exit(0);
    },
    (e: unknown) => {
      process.stderr.write(String(e) + '\n');
      process.exit(1);
    },
  );
}

// ---------------------------------------------------------------------------
// The orchestrator
// ---------------------------------------------------------------------------

const MB = Number(process.env.BENCH_CONTENT_MB ?? 1024);
const CLIENTS = Number(process.env.BENCH_CONTENT_CLIENTS ?? 16);
const ROUNDS = Number(process.env.BENCH_CONTENT_ROUNDS ?? 2);
const PLACEMENT = benchPlacement('BENCH_CONTENT_PLACEMENT', ['split', 'none']);
const DEADLINE = Date.now() + 10 * 60_000;

function nginxBinary(): string | null {
  for (const p of ['/usr/sbin/nginx', '/usr/local/sbin/nginx']) if (spawnSync(p, ['-v']).status === 0) return p;
  return which('nginx');
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function until<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs: number): Promise<T> {
  const end = Math.min(Date.now() + timeoutMs, DEADLINE);
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The largest RSS seen (MB), sampled every 100 ms from /proc. */
function sampleRss(pid: number): { stop(): number } {
  let max = 0;
  const read = (): void => {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) max = Math.max(max, Number(m[1]) / 1024);
    } catch {
      /* exited */
    }
  };
  read();
  const t = setInterval(read, 100);
  return { stop: () => (clearInterval(t), read(), max) };
}

async function stop(child: ChildProcess | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const done = new Promise<void>((r) => child.once('exit', () => r()));
  process.kill(child.pid, signal);
  const timer = setTimeout(() => child.pid !== undefined && child.exitCode === null && process.kill(child.pid, 'SIGKILL'), 5000);
  await done;
  clearTimeout(timer);
}

async function generate(file: string, mb: number): Promise<void> {
  const out = createWriteStream(file);
  const block = randomBytes(4 * 1024 * 1024);
  for (let i = 0; i < mb / 4; i++) {
    block.writeUInt32LE(i, 0); // every block differs: no chunk digest repeats
    if (!out.write(Buffer.from(block))) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
}

async function runClientProcess(tmp: string, job: ClientJob, serverPid: number): Promise<ClientResult & { rssMb: number }> {
  const jobFile = path.join(tmp, `job-${Date.now()}.json`);
  writeFileSync(jobFile, JSON.stringify(job));
  const [cmd, args] = placed(PLACEMENT.client, process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), CLIENT_FLAG, jobFile]);
  const child = spawn(cmd, args, { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
  const rss = sampleRss(serverPid);
  let out = '';
  let err = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (err += b.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), Math.max(1000, DEADLINE - Date.now()));
  const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  clearTimeout(timer);
  const rssMb = rss.stop();
  if (code !== 0) throw new Error(`client process failed (${code}): ${err}`);
  return { ...(JSON.parse(out.trim().split('\n').pop()!) as ClientResult), rssMb };
}

export async function main(): Promise<number> {
  const nginx = nginxBinary();
  if (!nginx) {
    console.error('bench content: nginx is not installed (apt-get install nginx-light; .ci/packages.d/content.txt)');
    return 1;
  }
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'pxp-bench-content-'));
  const children: ChildProcess[] = [];
  let closeSite: (() => Promise<void>) | null = null;
  try {
    chmodSync(tmp, 0o755); // nginx workers may run as another user
    const srcDir = path.join(tmp, 'src');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(srcDir);
    const file = path.join(srcDir, 'install.wim');
    let t = Date.now();
    await generate(file, MB);
    chmodSync(srcDir, 0o755);
    chmodSync(file, 0o644);
    console.log(`generated ${MB} MiB in ${((Date.now() - t) / 1000).toFixed(1)} s`);

    // The site, in this process (CPU 0 work only during setup).
    const { SiteService } = await import('../src/app/site-service.js');
    const { SiteContent } = await import('../src/content/site-content.js');
    const { buildHttpApp } = await import('../src/http/app.js');
    const { openSqliteRepository } = await import('../src/store/sqlite/open.js');
    const actor = { name: 'bench', component: 'bench' };
    const repoStore = await openSqliteRepository({ file: ':memory:' });
    const service = new SiteService(repoStore);
    const { secret } = await service.createToken({ name: 'bench-dp' }, actor);
    const siteDir = path.join(tmp, 'site');
    const content = await SiteContent.open(repoStore, siteDir);
    const app = await buildHttpApp({ service, content });
    await app.listen({ host: '127.0.0.1', port: 0 });
    closeSite = async () => {
      await app.close();
      await repoStore.close();
    };
    const siteUrl = `http://127.0.0.1:${(app.server.address() as { port: number }).port}/`;
    const dpPort = await freePort();
    const dp = await service.create('distribution-points', { name: 'bench-dp', url: `http://127.0.0.1:${dpPort}/` }, actor);
    const pkg = await service.create('packages', { name: 'bench-os' }, actor);
    t = Date.now();
    const added = await content.addContent(pkg.id, srcDir, actor);
    const importS = (Date.now() - t) / 1000;
    console.log(`content library: added ${pkg.id} v${added.version} in ${importS.toFixed(1)} s (${(MB / importS).toFixed(0)} MiB/s, one read: SHA-256 + XXH64 chunks)`);

    // The DP, a child process pinned to CPU 0.
    const dpDir = path.join(tmp, 'dp');
    writeFileSync(path.join(tmp, 'dp-token'), secret, { mode: 0o600 });
    writeFileSync(path.join(tmp, 'dp.json'), JSON.stringify({ dp: { siteUrl, id: dp.id, tokenFile: path.join(tmp, 'dp-token'), pollSeconds: 0.5, validateMinutes: 0 } }));
    const [dcmd, dargs] = placed(PLACEMENT.server, process.execPath, ['--import', 'tsx', path.join(repo, 'src/cli/run.ts'), 'serve', '--role', 'dp', '--config', path.join(tmp, 'dp.json'),
      '--data-dir', dpDir, '--listen', '127.0.0.1', '--http-port', String(dpPort), '--log-level', 'warn']);
    // exec: taskset replaces itself with node, so the PID is the DP's.
    const dpChild = spawn(dcmd, dargs, { cwd: repo, stdio: ['ignore', 'ignore', 'inherit'] });
    children.push(dpChild);
    const dpUrl = `http://127.0.0.1:${dpPort}/`;
    await until('the DP to listen', () => fetch(`${dpUrl}api/health`).then((r) => r.ok, () => false), 60_000);
    t = Date.now();
    const { distribute } = await import('../src/content/distribution.js');
    await distribute(repoStore, [pkg.id], [dp.id], actor, new Date().toISOString());
    await until('the DP to report the package available', async () => {
      const s = await repoStore.content.getDpState(dp.id, pkg.id);
      if (s?.state === 'failed') throw new Error(`distribution failed: ${s.detail}`);
      return s?.state === 'available';
    }, 5 * 60_000);
    const idle = sampleRss(dpChild.pid!).stop();
    console.log(`distribution: the DP pulled and verified ${MB} MiB in ${((Date.now() - t) / 1000).toFixed(1)} s before reporting available (DP RSS now ${idle.toFixed(0)} MB)`);
    const manifest = (await (await fetch(`${dpUrl}content/${pkg.id}/${added.version}/manifest.json`)).json()) as import('../src/content/types.js').ContentManifest;
    const mf = manifest.files[0]!;

    // nginx, pinned to CPU 0, serving the original file.
    const ngxPort = await freePort();
    const ngxDir = path.join(tmp, 'nginx');
    mkdirSync(ngxDir);
    writeFileSync(path.join(ngxDir, 'nginx.conf'), `
worker_processes 1;
daemon off;
master_process on;
pid ${ngxDir}/nginx.pid;
error_log ${ngxDir}/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_timeout 10;
  client_body_temp_path ${ngxDir}/body;
  proxy_temp_path ${ngxDir}/proxy;
  fastcgi_temp_path ${ngxDir}/fastcgi;
  uwsgi_temp_path ${ngxDir}/uwsgi;
  scgi_temp_path ${ngxDir}/scgi;
  types { application/octet-stream wim; }
  server {
    listen 127.0.0.1:${ngxPort};
    root ${srcDir};
  }
}
`);
    const [ncmd, nargs] = placed(PLACEMENT.server, nginx, ['-p', ngxDir, '-c', path.join(ngxDir, 'nginx.conf'), '-e', path.join(ngxDir, 'error.log')]);
    const ngxChild = spawn(ncmd, nargs, { stdio: ['ignore', 'ignore', 'inherit'] });
    children.push(ngxChild);
    const ngxUrl = `http://127.0.0.1:${ngxPort}/install.wim`;
    await until('nginx to listen', () => fetch(ngxUrl, { method: 'HEAD' }).then((r) => r.ok, () => false), 30_000);

    const job = (url: string): ClientJob => ({ url, clients: CLIENTS, file: { size: mf.size, sha256: mf.sha256, chunks: mf.chunks }, chunkSize: manifest.chunkSize });
    const pxpUrl = `${dpUrl}content/${pkg.id}/${added.version}/files/${mf.path}`;
    const results: { server: string; gbps: number; rssMb: number; seconds: number }[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      for (const [server, url, pid] of [['pxepoint DP', pxpUrl, dpChild.pid!], ['nginx', ngxUrl, ngxChild.pid!]] as const) {
        const r = await runClientProcess(tmp, job(url), pid);
        if (r.failed.length > 0) throw new Error(`${server}: ${r.failed.length} client(s) failed: ${r.failed.join('; ')}`);
        const gbps = r.bytes / r.seconds / 1e9;
        results.push({ server, gbps, rssMb: r.rssMb, seconds: r.seconds });
        console.log(`round ${round} ${server.padEnd(11)}: ${CLIENTS} clients × ${MB} MiB verified in ${r.seconds.toFixed(1)} s = ${(gbps * 1000).toFixed(0)} MB/s aggregate; server RSS max ${r.rssMb.toFixed(0)} MB`);
      }
    }
    const best = (s: string): { gbps: number; rssMb: number } => {
      const rs = results.filter((r) => r.server === s);
      return { gbps: Math.max(...rs.map((r) => r.gbps)), rssMb: Math.max(...rs.map((r) => r.rssMb)) };
    };
    const pxp = best('pxepoint DP');
    const ngx = best('nginx');
    const ratio = pxp.gbps / ngx.gbps;
    console.log(`\ncontent: pxepoint DP ${(pxp.gbps * 1000).toFixed(0)} MB/s vs nginx ${(ngx.gbps * 1000).toFixed(0)} MB/s = ${ratio.toFixed(2)}x nginx (target ≥ 0.9x), verification on (SHA-256 + XXH64 chunks, both)`);
    console.log(`DP RSS max ${pxp.rssMb.toFixed(0)} MB (target < 200 MB); placement ${PLACEMENT.describe()}`);
    return ratio >= 0.9 && pxp.rssMb < 200 ? 0 : 1;
  } finally {
    for (const c of children.reverse()) await stop(c, c.spawnfile.includes('nginx') ? 'SIGQUIT' : 'SIGTERM').catch(() => undefined);
    await closeSite?.().catch(() => undefined);
    rmSync(tmp, { recursive: true, force: true });
  }
}
