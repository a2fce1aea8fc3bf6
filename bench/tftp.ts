/**
 * TFTP throughput: pxepoint against tftpd-hpa and atftpd, same 256 MiB file, same
 * real clients, on loopback only. Every server is started and stopped here, by PID.
 *
 *   npm run bench -- tftp
 *
 * Cases: atftp blksize 1468 windowsize 16, curl blksize 65464 (each against every
 * server, REPS runs, median), then 32 concurrent curl clients at blksize 1468 against
 * pxepoint with every byte count checked and the server's RSS sampled (the server runs
 * in a child process for that). Targets (issue "TFTP engine"): pxepoint ≥ 1.5× the
 * best peer at 1468/16, ≥ 0.8× tftpd-hpa at 65464, 32 clients without failure, RSS
 * under 150 MB.
 *
 * Env: REPS (3), BENCH_TFTP_MB (256), BENCH_TFTP_CONC (32), BENCH_TFTP_CONC_MB (32),
 * BENCH_TFTP_TIMEOUT_S (120 per client run), BENCH_TFTP_PLACEMENT (split | shared | none).
 *
 * Placement: on a small VM the scheduler decides whether client and server share a
 * core, and that alone moves loopback results by 2–3x (a cross-core wakeup is an IPI,
 * expensive under virtualisation; a same-core one is a plain context switch). So the
 * bench pins, with taskset, every server to CPU 0 and every client to CPU 1 ("split",
 * the default: like two machines, each woken by the other), or everything to CPU 0
 * ("shared"), identically for pxepoint and its peers. atftpd is looked up in .bench/bin (see
 * .ci/setup.d/tftp-atftpd.sh: Debian's atftpd conflicts with tftpd-hpa) and /usr/sbin.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { which } from '../test/support/tools.js';
import { benchPlacement, placed } from './placement.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..');
const REPS = Number(process.env.REPS ?? 3);
const FILE_MB = Number(process.env.BENCH_TFTP_MB ?? 256);
const CONC = Number(process.env.BENCH_TFTP_CONC ?? 32);
const CONC_MB = Number(process.env.BENCH_TFTP_CONC_MB ?? 32);
const RUN_TIMEOUT_MS = Number(process.env.BENCH_TFTP_TIMEOUT_S ?? 120) * 1000;
const BENCH_DEADLINE_MS = 20 * 60 * 1000;
const PLACEMENT = benchPlacement('BENCH_TFTP_PLACEMENT');

interface Server {
  name: string;
  port: number;
  pid: number;
  child: ChildProcess;
}

interface Case {
  label: string;
  client: 'atftp' | 'curl';
  blksize: number;
  windowsize?: number;
}

const CASES: Case[] = [
  { label: 'atftp 1468/w16', client: 'atftp', blksize: 1468, windowsize: 16 },
  { label: 'curl 65464', client: 'curl', blksize: 65464 },
];


async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function stop(s: Server): Promise<void> {
  if (!alive(s.pid)) return;
  s.child.stdin?.end();
  process.kill(s.pid, 'SIGTERM');
  for (let i = 0; i < 20 && alive(s.pid); i++) await sleep(100);
  if (alive(s.pid)) process.kill(s.pid, 'SIGKILL');
}

async function startPeer(name: string, bin: string, args: string[], port: number): Promise<Server> {
  const [cmd, argv] = placed(PLACEMENT.server, bin, args);
  const child = spawn(cmd, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  await sleep(500);
  if (child.pid === undefined || child.exitCode !== null) throw new Error(`${name} did not start: ${err.trim()}`);
  return { name, port, pid: child.pid, child };
}

async function startPxepoint(root: string): Promise<Server> {
  const [cmd, argv] = placed(PLACEMENT.server, process.execPath, ['--import', 'tsx', path.join(here, 'tftp-server.ts'), root]);
  const child = spawn(cmd, argv, {
    cwd: repo,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    let buf = '';
    const t = setTimeout(() => reject(new Error('pxepoint TFTP server did not start in 15 s')), 15_000);
    child.stdout?.on('data', (d: Buffer) => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(t);
        resolve(buf.slice(0, nl));
      }
    });
    child.on('exit', (code) => reject(new Error(`pxepoint TFTP server exited with ${code}`)));
  });
  const { port } = JSON.parse(line) as { port: number };
  return { name: 'pxepoint', port, pid: child.pid as number, child };
}

function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** CPU seconds used by a process and its reaped children (utime+stime+cutime+cstime). */
function cpuSeconds(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is the state (field 3); utime..cstime are fields 14..17
    return [11, 12, 13, 14].reduce((a, i) => a + Number(fields[i] ?? 0), 0) / 100;
  } catch {
    return Number.NaN;
  }
}

interface RunResult {
  ok: boolean;
  secs: number;
  bytes: number;
  err?: string;
}

function runClient(bin: string, c: Case, port: number, file: string, out: string, pin = true): Promise<RunResult> {
  const args =
    c.client === 'atftp'
      ? ['-g', '-r', file, '-l', out, '--option', `blksize ${c.blksize}`, ...(c.windowsize ? ['--option', `windowsize ${c.windowsize}`] : []), '127.0.0.1', String(port)]
      : ['-sS', '-o', out, '-w', '%{size_download}', '--tftp-blksize', String(c.blksize), `tftp://127.0.0.1:${port}/${file}`];
  const t0 = process.hrtime.bigint();
  return new Promise((resolve) => {
    const [cmd, argv] = placed(pin ? PLACEMENT.client : [], bin, args);
    execFile(cmd, argv, { timeout: RUN_TIMEOUT_MS, maxBuffer: 1 << 20 }, (error, stdout, stderr) => {
      const secs = Number(process.hrtime.bigint() - t0) / 1e9;
      let bytes = 0;
      if (out === '/dev/null') bytes = Number(String(stdout).trim()) || 0;
      else {
        try {
          bytes = fs.statSync(out).size;
        } catch {
          bytes = 0;
        }
      }
      if (error) resolve({ ok: false, secs, bytes, err: (error.killed ? 'timeout ' : '') + String(stderr).trim().slice(0, 160) });
      else resolve({ ok: true, secs, bytes });
    });
  });
}

function sha256File(p: string): string {
  const h = crypto.createHash('sha256');
  const fd = fs.openSync(p, 'r');
  const buf = Buffer.allocUnsafe(4 << 20);
  try {
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
    }
  } finally {
    fs.closeSync(fd);
  }
  return h.digest('hex');
}

function makeFile(p: string, mb: number): string {
  const h = crypto.createHash('sha256');
  const fd = fs.openSync(p, 'w', 0o644);
  try {
    for (let i = 0; i < mb; i++) {
      const b = crypto.randomBytes(1 << 20);
      h.update(b);
      fs.writeSync(fd, b);
    }
  } finally {
    fs.closeSync(fd);
  }
  return h.digest('hex');
}

const median = (xs: number[]): number | null => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)] as number;
};
const fmt = (x: number | null, unit = ''): string => (x === null ? 'n/a' : `${x.toFixed(1)}${unit}`);

export async function main(): Promise<number> {
  const started = Date.now();
  const overdue = (): boolean => Date.now() - started > BENCH_DEADLINE_MS;
  const atftp = which('atftp');
  const curl = which('curl');
  const inTftpd = which('in.tftpd');
  const atftpd = which('atftpd', [path.join(repo, '.bench', 'bin')]);
  const isRoot = process.getuid?.() === 0;
  const notes: string[] = [];
  if (!atftp) notes.push('atftp client missing (apt-get install atftp)');
  if (!curl) notes.push('curl missing (apt-get install curl)');
  if (!inTftpd) notes.push('tftpd-hpa missing (apt-get install tftpd-hpa)');
  if (!atftpd) notes.push('atftpd missing (bash .ci/setup.d/tftp-atftpd.sh unpacks it into .bench/bin)');
  if (!isRoot) notes.push('not root: tftpd-hpa and atftpd need root to drop privileges; peers skipped');

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pxepoint-bench-tftp-'));
  const root = path.join(dir, 'root');
  fs.mkdirSync(root);
  // tftpd-hpa and atftpd run as nobody: the tree must be world-readable.
  fs.chmodSync(dir, 0o755);
  fs.chmodSync(root, 0o755);
  const outDir = fs.existsSync('/dev/shm') ? fs.mkdtempSync('/dev/shm/pxepoint-bench-tftp-') : path.join(dir, 'out');
  fs.mkdirSync(outDir, { recursive: true });
  const servers: Server[] = [];
  let failures = 0;
  try {
    const where = PLACEMENT.describe();
    console.log(`# TFTP bench: ${FILE_MB} MiB file, REPS=${REPS}, loopback; ${os.cpus().length} CPUs, node ${process.version}; placement ${where}`);
    const bigName = `file${FILE_MB}m.bin`;
    const bigSha = makeFile(path.join(root, bigName), FILE_MB);
    const bigSize = FILE_MB * 1024 * 1024;
    const concName = `conc${CONC_MB}m.bin`;
    makeFile(path.join(root, concName), CONC_MB);
    const concSize = CONC_MB * 1024 * 1024;

    servers.push(await startPxepoint(root));
    if (isRoot && inTftpd) {
      const port = await freeUdpPort();
      servers.push(await startPeer('tftpd-hpa', inTftpd, ['--foreground', '--address', `127.0.0.1:${port}`, '--secure', '--user', 'nobody', root], port));
    }
    if (isRoot && atftpd) {
      const port = await freeUdpPort();
      servers.push(
        await startPeer('atftpd', atftpd, ['--daemon', '--no-fork', '--port', String(port), '--bind-address', '127.0.0.1', '--maxthread', '100', '--user', 'nobody.nogroup', '--logfile', '/dev/null', root], port),
      );
    }
    const pxe = servers[0] as Server;
    let maxRss = rssMb(pxe.pid);
    const sampler = setInterval(() => (maxRss = Math.max(maxRss, rssMb(pxe.pid))), 100);

    // results[case][server] = MB/s per rep
    const results = new Map<string, Map<string, number[]>>();
    const cpuUse = new Map<string, number[]>();
    const errors: string[] = [];
    for (let rep = 0; rep < REPS && !overdue(); rep++) {
      for (const c of CASES) {
        const bin = c.client === 'atftp' ? atftp : curl;
        if (!bin) continue;
        for (const s of servers) {
          const out = path.join(outDir, `${s.name}-${c.client}.bin`);
          fs.rmSync(out, { force: true });
          const cpu0 = cpuSeconds(s.pid);
          const r = await runClient(bin, c, s.port, bigName, out);
          await sleep(50); // let a forking server reap its child so its CPU is counted
          const cpu = cpuSeconds(s.pid) - cpu0;
          const good = r.ok && r.bytes === bigSize && (rep > 0 || sha256File(out) === bigSha);
          fs.rmSync(out, { force: true });
          const row = results.get(c.label) ?? new Map<string, number[]>();
          results.set(c.label, row);
          const list = row.get(s.name) ?? [];
          row.set(s.name, list);
          if (good) {
            list.push(bigSize / 1e6 / r.secs);
            const cl = cpuUse.get(`${c.label}|${s.name}`) ?? [];
            cl.push(cpu);
            cpuUse.set(`${c.label}|${s.name}`, cl);
          }
          else {
            errors.push(`${c.label} → ${s.name} rep ${rep + 1}: ${r.err ?? `got ${r.bytes} of ${bigSize} bytes or wrong content`}`);
            if (s.name === 'pxepoint') failures++;
          }
          console.log(`  ${c.label.padEnd(16)} ${s.name.padEnd(10)} rep ${rep + 1}: ${good ? `${(bigSize / 1e6 / r.secs).toFixed(1)} MB/s, server CPU ${cpu.toFixed(2)} s` : 'FAILED'}`);
        }
      }
    }

    // Concurrency: CONC curl clients at blksize 1468 against pxepoint.
    let concLine = 'skipped (curl missing)';
    let concOk = false;
    if (CONC <= 0) concLine = 'skipped (BENCH_TFTP_CONC=0)';
    else if (curl && !overdue()) {
      const c: Case = { label: 'curl 1468', client: 'curl', blksize: 1468 };
      const t0 = process.hrtime.bigint();
      // The clients are not pinned here: 32 processes on one CPU would measure that CPU.
      const runs = await Promise.all(Array.from({ length: CONC }, () => runClient(curl, c, pxe.port, concName, '/dev/null', false)));
      const secs = Number(process.hrtime.bigint() - t0) / 1e9;
      const okCount = runs.filter((r) => r.ok && r.bytes === concSize).length;
      concOk = okCount === CONC;
      if (!concOk) failures++;
      concLine = `${CONC} × curl 1468, ${CONC_MB} MiB each: ${okCount}/${CONC} complete with exact byte counts, aggregate ${((CONC * concSize) / 1e6 / secs).toFixed(1)} MB/s in ${secs.toFixed(1)} s`;
      for (const r of runs) if (!(r.ok && r.bytes === concSize)) errors.push(`concurrent: ${r.err ?? `${r.bytes} bytes`}`);
    }
    clearInterval(sampler);
    maxRss = Math.max(maxRss, rssMb(pxe.pid));

    // Table
    const names = servers.map((s) => s.name);
    console.log('');
    console.log(`| case (${FILE_MB} MiB): median MB/s [min–max] · server CPU s | ${names.join(' | ')} |`);
    console.log(`|---|${names.map(() => '---').join('|')}|`);
    const med = (label: string, server: string): number | null => median(results.get(label)?.get(server) ?? []);
    const cell = (label: string, server: string): string => {
      const xs = results.get(label)?.get(server) ?? [];
      if (xs.length === 0) return 'n/a';
      const cpu = median(cpuUse.get(`${label}|${server}`) ?? []);
      // A forking server whose transfer children are not reaped into its counters shows 0.
      return `${fmt(med(label, server))} [${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))}] · ${cpu === null || !(cpu > 0) ? 'n/a' : cpu.toFixed(2)}`;
    };
    for (const c of CASES) console.log(`| ${c.label} | ${names.map((n) => cell(c.label, n)).join(' | ')} |`);
    console.log('');
    console.log(`(server CPU = utime+stime of the server process and its reaped children per ${FILE_MB} MiB transfer: less sensitive to other load than MB/s)`);

    const verdict = (ok: boolean | null): string => (ok === null ? 'n/a' : ok ? 'MET' : 'MISSED');
    const p1468 = med('atftp 1468/w16', 'pxepoint');
    const peers1468 = names.filter((n) => n !== 'pxepoint').map((n) => [n, med('atftp 1468/w16', n)] as const).filter(([, v]) => v !== null);
    const best = peers1468.sort((a, b) => (b[1] as number) - (a[1] as number))[0];
    const r1 = p1468 !== null && best ? p1468 / (best[1] as number) : null;
    console.log(`ratio atftp 1468/w16: pxepoint / best peer (${best ? `${best[0]} ${fmt(best[1])}` : 'none'}) = ${fmt(r1, 'x')}  target ≥ 1.5x: ${verdict(r1 === null ? null : r1 >= 1.5)}`);
    const p65 = med('curl 65464', 'pxepoint');
    const h65 = med('curl 65464', 'tftpd-hpa');
    const r2 = p65 !== null && h65 !== null ? p65 / h65 : null;
    console.log(`ratio curl 65464: pxepoint / tftpd-hpa = ${fmt(r2, 'x')}  target ≥ 0.8x: ${verdict(r2 === null ? null : r2 >= 0.8)}`);
    console.log(`concurrency: ${concLine}  target no failures: ${verdict(curl && CONC > 0 ? concOk : null)}`);
    console.log(`pxepoint server RSS, max sampled over the whole bench: ${maxRss.toFixed(1)} MB  target < 150 MB: ${verdict(maxRss > 0 ? maxRss < 150 : null)}`);
    for (const n of notes) console.log(`note: ${n}`);
    for (const e of errors) console.log(`error: ${e}`);
    console.log(`# bench took ${((Date.now() - started) / 1000).toFixed(0)} s`);
  } finally {
    for (const s of servers) await stop(s);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(outDir, { recursive: true, force: true });
  }
  return failures > 0 ? 1 : 0;
}
