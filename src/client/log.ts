/**
 * The client's local log, `<target>/_SMSTSLog/smsts.log` (the file an
 * administrator reads first after a failed deployment, as in ConfigMgr), plus
 * an optional echo to the console. Secret values and tokens are redacted before
 * anything is written: the log is copied around for support (pino habit).
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export type Level = 'info' | 'warn' | 'error';

export interface RunLog {
  info(text: string): void;
  warn(text: string): void;
  error(text: string): void;
  /** Adds values to redact from now on (secret variables, session token). */
  redact(values: readonly string[]): void;
}

export interface FileLogOptions {
  /** Echo each line (without timestamp) to the console, e.g. process.stderr. */
  echo?: (level: Level, text: string) => void;
  now?: () => Date;
}

export const REDACTED = '********';

export class FileLog implements RunLog {
  private readonly secrets = new Set<string>();
  private readonly now: () => Date;

  constructor(readonly path: string | null, private readonly opts: FileLogOptions = {}) {
    this.now = opts.now ?? (() => new Date());
    if (path) mkdirSync(dirname(path), { recursive: true });
  }

  redact(values: readonly string[]): void {
    // Very short values would shred the log ("1" everywhere); they are not secrets worth the name.
    for (const v of values) if (v.length >= 4) this.secrets.add(v);
  }

  info(text: string): void {
    this.write('info', text);
  }

  warn(text: string): void {
    this.write('warn', text);
  }

  error(text: string): void {
    this.write('error', text);
  }

  private write(level: Level, text: string): void {
    let clean = text;
    for (const s of this.secrets) clean = clean.split(s).join(REDACTED);
    if (this.path) appendFileSync(this.path, `${this.now().toISOString()} ${level.toUpperCase().padEnd(5)} ${clean}\n`);
    this.opts.echo?.(level, clean);
  }
}

/** A log that keeps lines in memory (tests). */
export class MemoryLog implements RunLog {
  readonly lines: { level: Level; text: string }[] = [];
  info(text: string): void {
    this.lines.push({ level: 'info', text });
  }
  warn(text: string): void {
    this.lines.push({ level: 'warn', text });
  }
  error(text: string): void {
    this.lines.push({ level: 'error', text });
  }
  redact(): void {}
}
