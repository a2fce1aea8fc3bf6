/**
 * Starting `pxepoint serve` as a child process from the TypeScript sources (no
 * build needed) and waiting for the URL it prints.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const RUN = fileURLToPath(new URL('../../src/cli/run.ts', import.meta.url));

export interface ServerChild {
  child: ChildProcess;
  url: string;
  output: () => string;
}

/** Runs `pxepoint <args>` from source with tsx. */
export function spawnPxepoint(args: string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', RUN, ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
}

export async function startServeChild(args: string[], timeoutMs = 20_000): Promise<ServerChild> {
  const child = spawnPxepoint(['serve', ...args]);
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`pxepoint serve printed no URL within ${timeoutMs} ms:\n${out}`)), timeoutMs);
    const check = (): void => {
      const m = /admin API:\s+(http:\/\/\S+?)\/api\//.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout!.on('data', check);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`pxepoint serve exited with ${code}:\n${out}`));
    });
  });
  return { child, url, output: () => out };
}

export function waitForExit(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));
}

export interface PxepointRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `pxepoint <args>` from source to completion, feeding `input` on stdin
 * (then end of input), killed after `timeoutMs`.
 */
export function runPxepoint(args: string[], opts: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<PxepointRun> {
  const child = spawn(process.execPath, ['--import', 'tsx', RUN, ...args], { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'], env: opts.env ?? process.env });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  child.stdin!.end(opts.input ?? '');
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      stderr += `\n[runPxepoint: killed after ${opts.timeoutMs ?? 30_000} ms]`;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 30_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A JSON call to the admin API of a running server; throws with the status and body on failure. */
export async function adminApi<T = unknown>(baseUrl: string, token: string, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} → ${res.status}: ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}
