/**
 * The task sequence environment: the variables a running task sequence sees.
 *
 * Rule 113: names are case-insensitive, 1–256 characters of letters, digits, `_`
 * and `-`; user-defined names start with a letter and names starting with `_` are
 * read-only (only the engine sets them); a value holds at most 4,000 characters;
 * the whole environment is at most 8 KB; setting a value to empty deletes the
 * variable. Precedence collection < device < run time: the site sends the
 * collection/device merge, the client's own variables (PXE file, media,
 * prestart) and run-time steps are applied on top, in that order.
 */
import { PxeError } from '../errors.js';
import type { Variable } from '../site/model.js';
import { REFERENCE_CLIENT_ERRORS } from './error-codes.js';

export const MAX_NAME_LENGTH = 256;
export const MAX_VALUE_LENGTH = 4000;
/** Rule 113: the whole task sequence environment. Counted as UTF-8 bytes of names and values. */
export const MAX_ENVIRONMENT_BYTES = 8 * 1024;

const NAME = /^[A-Za-z0-9_-]{1,256}$/;
const USER_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,255}$/;

interface Entry {
  name: string;
  value: string;
  secret: boolean;
  /** Set by a step or the engine during this run (reported back to the site). */
  runTime: boolean;
}

const variableError = (message: string, name: string): PxeError =>
  new PxeError(REFERENCE_CLIENT_ERRORS.variable, message, 400, { field: name, rule: 113 });

export class TaskSequenceEnvironment {
  private readonly entries = new Map<string, Entry>();

  /** Loads variables the run starts with (site, then client-held); later loads win. No run-time limits apply. */
  load(variables: readonly Variable[], opts: { runTime?: boolean } = {}): void {
    for (const v of variables) {
      if (!NAME.test(v.name)) continue; // not a variable name: never exported to a shell
      if (v.value === '') this.entries.delete(v.name.toLowerCase());
      else this.entries.set(v.name.toLowerCase(), { name: v.name, value: v.value, secret: v.secret === true, runTime: opts.runTime === true });
    }
  }

  /** The engine sets its own read-only variables (`_SMSTSAdvertID`, …). */
  setEngine(name: string, value: string): void {
    if (value === '') this.entries.delete(name.toLowerCase());
    else this.entries.set(name.toLowerCase(), { name, value, secret: false, runTime: false });
  }

  /** A run-time set (Set Task Sequence Variable step): every rule 113 limit applies. */
  set(name: string, value: string, opts: { secret?: boolean } = {}): void {
    if (!NAME.test(name)) throw variableError(`"${name}" is not a variable name: 1–${MAX_NAME_LENGTH} letters, digits, _ or - (rule 113)`, name);
    if (name.startsWith('_')) throw variableError(`"${name}" is read-only: names starting with _ are set by the task sequence engine only (rule 113)`, name);
    if (!USER_NAME.test(name)) throw variableError(`"${name}" must start with a letter (rule 113)`, name);
    if (value.length > MAX_VALUE_LENGTH) throw variableError(`the value of ${name} has ${value.length} characters; at most ${MAX_VALUE_LENGTH} (rule 113)`, name);
    const key = name.toLowerCase();
    if (value === '') {
      // Rule 113: an empty value deletes the variable. Remember the deletion as a run-time change.
      this.entries.delete(key);
      return;
    }
    const previous = this.entries.get(key);
    const next: Entry = { name: previous?.name ?? name, value, secret: opts.secret ?? previous?.secret ?? false, runTime: true };
    const size = this.byteSize() - (previous ? entryBytes(previous) : 0) + entryBytes(next);
    if (size > MAX_ENVIRONMENT_BYTES) {
      throw variableError(`setting ${name} would make the task sequence environment ${size} bytes; at most ${MAX_ENVIRONMENT_BYTES} (rule 113)`, name);
    }
    this.entries.set(key, next);
  }

  get(name: string): string | undefined {
    return this.entries.get(name.toLowerCase())?.value;
  }

  isSecret(name: string): boolean {
    return this.entries.get(name.toLowerCase())?.secret === true;
  }

  /** Every variable, in insertion order. */
  all(): Variable[] {
    return [...this.entries.values()].map((e) => ({ name: e.name, value: e.value, ...(e.secret ? { secret: true } : {}) }));
  }

  /** Variables set at run time (reported to the site with the final status, e.g. OSDComputerName). */
  runTimeVariables(): Variable[] {
    return [...this.entries.values()].filter((e) => e.runTime).map((e) => ({ name: e.name, value: e.value, ...(e.secret ? { secret: true } : {}) }));
  }

  /** Values that must never reach a log. */
  secretValues(): string[] {
    return [...this.entries.values()].filter((e) => e.secret).map((e) => e.value);
  }

  /** The environment of a Run Command Line process: every variable by its name. */
  toProcessEnv(): Record<string, string> {
    return Object.fromEntries([...this.entries.values()].map((e) => [e.name, e.value]));
  }

  byteSize(): number {
    let n = 0;
    for (const e of this.entries.values()) n += entryBytes(e);
    return n;
  }
}

function entryBytes(e: { name: string; value: string }): number {
  return Buffer.byteLength(e.name) + Buffer.byteLength(e.value);
}
