/**
 * pxepoint under test: the site prepared through the CLI (the data commands work on
 * the data directory directly), then `pxepoint serve` from the TypeScript sources
 * inside the LAN's server namespace, on the real ports (67, 69, 4011) of that
 * namespace only. What pxepoint did is read back from what it recorded: its log
 * (pino JSON lines, including fastify's request/response lines) and, where it exists,
 * the boot timeline of the admin API, fetched from inside the namespace.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestLan } from './netns.js';
import { waitFor, type BgProcess } from './proc.js';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CLI = join(REPO_ROOT, 'src', 'cli', 'run.ts');

/** Runs a pxepoint data command (`--json`) against `dataDir` and returns its parsed output. */
export function pxepointCli(dataDir: string, args: readonly string[]): unknown {
  const r = spawnSync(process.execPath, ['--import', 'tsx', CLI, ...args, '--json', '--data-dir', dataDir], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`pxepoint ${args.join(' ')} failed (exit ${r.status ?? r.signal}):\n${r.stdout}${r.stderr}`);
  const text = r.stdout.trim();
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return text;
  }
}

const idOf = (v: unknown): string => {
  const o = v as { id?: unknown; deployment?: { id?: unknown } };
  const id = o?.id ?? o?.deployment?.id;
  if (typeof id !== 'string') throw new Error(`no id in CLI output: ${JSON.stringify(v).slice(0, 400)}`);
  return id;
};

export interface Machine {
  /** Device name; every name starting with E2E- joins the test collection. */
  name: string;
  mac: string;
  uuid: string;
}

export interface SiteIds {
  bootImageId: string;
  taskSequenceId: string;
  collectionId: string;
  deploymentId: string;
  deviceIds: Record<string, string>;
  adminToken: string;
}

/**
 * A site with one x64 boot image enabled for PXE, a task sequence using it, the known
 * machines (x64 devices named E2E-*), a collection of them by name rule, and a
 * REQUIRED deployment made available to media and PXE: known machines boot with no
 * prompt (rule 67). Nothing is deployed to All Unknown Computers.
 *
 * A required PXE deployment runs once per machine (rule 40: afterwards "already
 * delivered"), so every boot of the matrix uses a machine of its own.
 */
export function prepareSite(dataDir: string, machines: readonly Machine[]): SiteIds {
  mkdirSync(dataDir, { recursive: true });
  const stepsFile = join(dataDir, '..', 'e2e-steps.json');
  writeFileSync(stepsFile, JSON.stringify({ steps: [{ name: 'Restart', type: 'restart' }] }));
  const bootImageId = idOf(pxepointCli(dataDir, ['bootimage', 'create', '--name', 'E2E boot image (x64)', '--arch', 'x64', '--image-path', 'images/x64/boot.wim', '--pxe']));
  const taskSequenceId = idOf(pxepointCli(dataDir, ['ts', 'create', '--name', 'E2E OS deployment', '--boot-image', bootImageId, '--steps-file', stepsFile]));
  const deviceIds: Record<string, string> = {};
  for (const m of machines) {
    deviceIds[m.name] = idOf(pxepointCli(dataDir, ['device', 'create', '--name', m.name, '--mac', m.mac, '--guid', m.uuid, '--arch', 'x64']));
  }
  const collectionId = idOf(pxepointCli(dataDir, ['collection', 'create', '--name', 'E2E machines', '--rule-name', 'E2E-*']));
  const deploymentId = idOf(pxepointCli(dataDir, ['deploy', '--ts', taskSequenceId, '--collection', collectionId, '--purpose', 'required', '--available-to', 'media-pxe', '--assign', 'asap']));
  const token = pxepointCli(dataDir, ['token', 'create', 'e2e']) as { secret?: string };
  if (typeof token?.secret !== 'string') throw new Error(`token create printed no secret: ${JSON.stringify(token)}`);
  return { bootImageId, taskSequenceId, collectionId, deploymentId, deviceIds, adminToken: token.secret };
}

export interface ServeOptions {
  mode: 'full' | 'proxy';
  dataDir: string;
  tftpRoot: string;
  httpPort?: number;
  /** Extra keys for the JSON config file (address pool, PXE settings, …). */
  config?: Record<string, unknown>;
  /** Answer DHCP only on the LAN bridge (--interface). */
  bindInterface?: boolean;
  logLevel?: string;
  name?: string;
}

export interface LogLine {
  time?: number;
  level?: number;
  msg?: string;
  [k: string]: unknown;
}

export interface HttpHit {
  time: number;
  method: string;
  url: string;
  remoteAddress: string | undefined;
  statusCode: number | undefined;
}

export interface Pxepoint {
  readonly process: BgProcess;
  readonly baseUrl: string;
  readonly configFile: string;
  /** Every JSON log line so far. */
  logLines(): LogLine[];
  /** Requests as fastify logged them, joined with their response status. */
  httpHits(): HttpHit[];
  /** GET a path of pxepoint's HTTP listener from inside the namespace. */
  get(path: string, token?: string): Promise<{ status: number; body: string }>;
  stop(): Promise<void>;
}

/** fetch() from inside the server namespace (the test process itself is outside it). */
export function nsFetch(lan: TestLan, url: string, headers: Record<string, string> = {}): { status: number; body: string } {
  const script = `fetch(process.argv[1], { headers: JSON.parse(process.argv[2]), signal: AbortSignal.timeout(10000) })
    .then(async (r) => process.stdout.write(JSON.stringify({ status: r.status, body: await r.text() })))
    .catch((e) => process.stdout.write(JSON.stringify({ status: 0, body: String(e) })));`;
  const r = spawnSync('ip', ['netns', 'exec', lan.srvNs, process.execPath, '-e', script, url, JSON.stringify(headers)], { encoding: 'utf8', timeout: 20_000 });
  try {
    return JSON.parse(r.stdout) as { status: number; body: string };
  } catch {
    return { status: 0, body: `${r.stdout}${r.stderr}` };
  }
}

export function parseLogLines(text: string): LogLine[] {
  const out: LogLine[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      out.push(JSON.parse(line) as LogLine);
    } catch {
      /* not a log line */
    }
  }
  return out;
}

export function httpHitsFrom(lines: readonly LogLine[]): HttpHit[] {
  const status = new Map<string, number>();
  for (const l of lines) {
    const res = l.res as { statusCode?: number } | undefined;
    if (typeof l.reqId === 'string' && res?.statusCode !== undefined) status.set(l.reqId, res.statusCode);
  }
  const hits: HttpHit[] = [];
  for (const l of lines) {
    const req = l.req as { method?: string; url?: string; remoteAddress?: string } | undefined;
    if (!req?.url || !req.method) continue;
    hits.push({ time: Number(l.time ?? 0), method: req.method, url: req.url, remoteAddress: req.remoteAddress, statusCode: typeof l.reqId === 'string' ? status.get(l.reqId) : undefined });
  }
  return hits;
}

export async function startPxepoint(lan: TestLan, opts: ServeOptions): Promise<Pxepoint> {
  const httpPort = opts.httpPort ?? 8080;
  const name = opts.name ?? `pxepoint-${opts.mode}`;
  const configFile = join(lan.workDir, `${name}.config.json`);
  writeFileSync(configFile, JSON.stringify(opts.config ?? {}, null, 2));
  if (!existsSync(opts.tftpRoot)) throw new Error(`TFTP root ${opts.tftpRoot} does not exist`);
  const args = [
    '--import', 'tsx', CLI, 'serve',
    '--config', configFile,
    '--data-dir', opts.dataDir,
    '--listen', '0.0.0.0',
    '--http-port', String(httpPort),
    '--tftp-port', '69',
    '--tftp-root', opts.tftpRoot,
    '--dhcp-mode', opts.mode,
    '--log-level', opts.logLevel ?? 'debug',
    ...(opts.bindInterface ? ['--interface', lan.bridge] : []),
  ];
  const proc = lan.spawn(lan.srvNs, name, process.execPath, args, { cwd: REPO_ROOT });
  const started = await waitFor(() => /admin API:\s+http:\/\//.test(proc.log()) || !proc.running(), 60_000);
  if (!started || !proc.running()) {
    await proc.stop();
    throw new Error(`pxepoint serve did not start (${proc.running() ? 'no URL within 60 s' : 'exited'}):\n${proc.log().slice(-4000)}`);
  }
  const baseUrl = `http://${lan.serverIp}:${httpPort}`;
  const logLines = (): LogLine[] => parseLogLines(proc.log());
  return {
    process: proc,
    baseUrl,
    configFile,
    logLines,
    httpHits: () => httpHitsFrom(logLines()),
    get: async (path, token) => nsFetch(lan, baseUrl + path, token ? { authorization: `Bearer ${token}` } : {}),
    stop: () => proc.stop(5000),
  };
}

export function readText(file: string): string {
  return existsSync(file) ? readFileSync(file, 'utf8') : '';
}
