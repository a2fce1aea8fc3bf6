/**
 * How the reference client runs a command line (Run Command Line steps and the rule-105
 * prestart command): `/bin/sh -c <commandLine>` in `cwd`, with the environment it is
 * given and nothing else of the client's own (callers start from `hostEnv()`), bounded in
 * time: on timeout the whole process group is killed (sh and whatever it started). The
 * last OUTPUT_TAIL characters of each stream are kept for the log.
 */
import { spawn } from 'node:child_process';

/** The only variables of the client's own environment a command sees. */
const HOST_ENV = ['PATH', 'HOME', 'LANG', 'TMPDIR'];
/** Output kept for the log, per stream (the tail). */
const OUTPUT_TAIL = 16 * 1024;

/** PATH, HOME, LANG and TMPDIR from the host, where set: what a command's environment starts from. */
export function hostEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const k of HOST_ENV) if (process.env[k] !== undefined) env[k] = process.env[k]!;
  return env;
}

export interface ShellCommandResult {
  /** Exit code; null when a signal ended it (or it never started). */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Killed for running past `timeoutMs`. */
  timedOut: boolean;
  /** Tails of stdout and stderr. */
  out: string;
  err: string;
  /** /bin/sh could not be started at all. */
  spawnError?: string;
}

export function runShellCommand(commandLine: string, opts: { cwd: string; env: Record<string, string>; timeoutMs: number }): Promise<ShellCommandResult> {
  return new Promise((resolve) => {
    let out = '';
    let err = '';
    let timedOut = false;
    const child = spawn('/bin/sh', ['-c', commandLine], { cwd: opts.cwd, env: opts.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const tail = (s: string, b: Buffer): string => (s + b.toString()).slice(-OUTPUT_TAIL);
    child.stdout.on('data', (b: Buffer) => (out = tail(out, b)));
    child.stderr.on('data', (b: Buffer) => (err = tail(err, b)));
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL'); // the whole group: sh and whatever it started
      } catch {
        child.kill('SIGKILL');
      }
    }, opts.timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ code: null, signal: null, timedOut, out, err, spawnError: e.message });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, timedOut, out, err });
    });
  });
}
