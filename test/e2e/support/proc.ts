/**
 * Background processes for the end-to-end suite: started with their output in a
 * log file, remembered by PID, stopped by that PID only (SIGTERM, then SIGKILL).
 * A process-exit hook stops whatever a test left running and removes what
 * `onExit` registered (namespaces), so an aborted run leaves nothing behind.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';

export interface BgProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  readonly child: ChildProcess;
  /** Resolves with the exit code (or the signal name) once the process is gone. */
  readonly exited: Promise<number | string>;
  /** True while the process runs. */
  running(): boolean;
  /** The log so far ('' when there is none yet). */
  log(): string;
  /** SIGTERM, wait up to `graceMs`, then SIGKILL; by PID only. Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

const live = new Map<number, string>();
const exitHooks = new Set<() => void>();
let hooksInstalled = false;

function runExitHooks(): void {
  for (const pid of live.keys()) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  live.clear();
  for (const hook of [...exitHooks].reverse()) {
    try {
      hook();
    } catch {
      /* best effort on the way out */
    }
  }
  exitHooks.clear();
}

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.once('exit', runExitHooks);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      runExitHooks();
      process.exit(128 + (sig === 'SIGINT' ? 2 : sig === 'SIGTERM' ? 15 : 1));
    });
  }
}

/** Runs `fn` (synchronously) when the process exits, unless the returned function is called first. */
export function onExit(fn: () => void): () => void {
  installHooks();
  exitHooks.add(fn);
  return () => exitHooks.delete(fn);
}

/** Starts `cmd args` in the background, stdout and stderr appended to `logFile`. */
export function startBg(name: string, cmd: string, args: readonly string[], opts: { logFile: string; cwd?: string; env?: NodeJS.ProcessEnv }): BgProcess {
  installHooks();
  const fd = openSync(opts.logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', fd, fd] });
  } finally {
    closeSync(fd);
  }
  if (child.pid === undefined) throw new Error(`could not start ${name}: ${cmd} ${args.join(' ')}`);
  const pid = child.pid;
  live.set(pid, name);
  let done = false;
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => {
      done = true;
      live.delete(pid);
      resolve(code ?? signal ?? 'unknown');
    });
    child.once('error', (e) => {
      done = true;
      live.delete(pid);
      resolve(`spawn error: ${e.message}`);
    });
  });
  return {
    name,
    pid,
    logFile: opts.logFile,
    child,
    exited,
    running: () => !done,
    log: () => (existsSync(opts.logFile) ? readFileSync(opts.logFile, 'utf8') : ''),
    async stop(graceMs = 3000) {
      if (done) return;
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        return;
      }
      const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), graceMs).unref());
      if ((await Promise.race([exited, timer])) === 'timeout') {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
        await Promise.race([exited, new Promise((r) => setTimeout(r, 2000).unref())]);
      }
    },
  };
}

/** Runs a short command to completion; throws with its output when it fails. */
export function run(cmd: string, args: readonly string[], opts: { allowFail?: boolean; timeoutMs?: number; input?: string } = {}): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: opts.timeoutMs ?? 20_000, input: opts.input });
  const status = r.status ?? -1;
  if (!opts.allowFail && status !== 0) {
    const why = r.error ? r.error.message : `exit ${status}${r.signal ? ` (${r.signal})` : ''}`;
    throw new Error(`${cmd} ${args.join(' ')} failed: ${why}\n${r.stdout ?? ''}${r.stderr ?? ''}`);
  }
  return { status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `check` every `everyMs` until it returns a value (not undefined/false) or `timeoutMs` passes. */
export async function waitFor<T>(check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs: number, everyMs = 200): Promise<T | undefined> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() >= end) return undefined;
    await sleep(everyMs);
  }
}
