/**
 * Command-line parsing on node:util parseArgs (strict: an unknown flag is an
 * error that names it). Helpers turn flags into request bodies.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { readFileSync } from 'node:fs';
import { PxeError } from '../errors.js';

export type Options = NonNullable<ParseArgsConfig['options']>;
export type Values = Record<string, string | boolean | string[] | boolean[] | undefined>;

export const COMMON_OPTIONS: Options = {
  'data-dir': { type: 'string' },
  config: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

export function usageError(message: string, usage?: string): PxeError {
  return new PxeError('PXE_ERR_USAGE', usage ? `${message}\n\n${usage}` : message, 2);
}

export function parse(argv: string[], options: Options, usage: string): { values: Values; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args: argv, options: { ...COMMON_OPTIONS, ...options }, allowPositionals: true, strict: true });
    return { values: values as Values, positionals };
  } catch (e) {
    throw usageError((e as Error).message.replace(/^TypeError \[[A-Z_]+\]: /, ''), usage);
  }
}

export const str = (v: Values, k: string): string | undefined => (typeof v[k] === 'string' ? (v[k] as string) : undefined);
export const list = (v: Values, k: string): string[] => (Array.isArray(v[k]) ? (v[k] as string[]) : []);
export const flag = (v: Values, k: string): boolean | undefined => (typeof v[k] === 'boolean' ? (v[k] as boolean) : undefined);

export function int(v: Values, k: string): number | undefined {
  const s = str(v, k);
  if (s === undefined) return undefined;
  if (!/^-?\d+$/.test(s)) throw usageError(`--${k} takes a whole number, not "${s}"`);
  return Number(s);
}

/** `--var NAME=VALUE` → variables. */
export function variables(v: Values, k = 'var'): { name: string; value: string }[] | undefined {
  const items = list(v, k);
  if (items.length === 0) return undefined;
  return items.map((item) => {
    const eq = item.indexOf('=');
    if (eq <= 0) throw usageError(`--${k} takes NAME=VALUE, not "${item}"`);
    return { name: item.slice(0, eq), value: item.slice(eq + 1) };
  });
}

/** `--body JSON` or `--body-file FILE|-`: a whole request body, merged under the flags. */
export function bodyFrom(v: Values): Record<string, unknown> {
  const inline = str(v, 'body');
  const file = str(v, 'body-file');
  if (inline === undefined && file === undefined) return {};
  const text = inline ?? readFileSync(file === '-' ? 0 : file!, 'utf8');
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('expected a JSON object');
    return parsed as Record<string, unknown>;
  } catch (e) {
    throw usageError(`${inline !== undefined ? '--body' : '--body-file'} is not a JSON object: ${(e as Error).message}`);
  }
}

export const BODY_OPTIONS: Options = { body: { type: 'string' }, 'body-file': { type: 'string' } };

/** Drops undefined values so partial updates only carry what was given. */
export function defined<T extends Record<string, unknown>>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
