/**
 * Test support for the WinPE tests: finding Debian tools (libhivex-bin, wimtools,
 * listed in .ci/packages.d/winpe.txt) and reading a hive back with hivex, an
 * independent reader, so regf.ts is never checked only against itself.
 *
 * Under CI=true a missing tool fails the test; elsewhere the test is skipped with
 * a message naming the package to install.
 */
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { it } from 'vitest';
import { CI, itWithTools, which } from '../support/tools.js';

export { CI, itWithTools, which };

export const run = promisify(execFile);



export type HiveValue =
  | { type: 'string'; value: string }
  | { type: 'int32'; value: number }
  | { type: 'binary'; value: Buffer }
  | { type: 'string-list'; value: string[] }
  | { type: string; value: unknown };

export interface HiveNode {
  name: string;
  values: Map<string, HiveValue>;
  children: Map<string, HiveNode>;
}

const unescapeXml = (s: string): string =>
  s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');

const attr = (tag: string, name: string): string | undefined => {
  const m = new RegExp(`\\s${name}="([^"]*)"`).exec(tag);
  return m ? unescapeXml(m[1]!) : undefined;
};

/** The whole hive as hivex reads it (`hivexml`), as a tree. */
export async function readHiveWithHivex(file: string): Promise<HiveNode> {
  // hivexml opens /dev/stdout by name, which fails on node's socket-pair stdio: hand it a file.
  const out = `${file}.xml`;
  const fd = fs.openSync(out, 'w');
  try {
    await new Promise<void>((resolve, reject) => {
      const child = spawn('hivexml', [file], { stdio: ['ignore', fd, 'pipe'] });
      let err = '';
      child.stderr?.on('data', (d: Buffer) => { err += d.toString(); });
      child.on('error', reject);
      child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`hivexml ${file} exited ${code}: ${err.trim()}`))));
    });
  } finally {
    fs.closeSync(fd);
  }
  const stdout = fs.readFileSync(out, 'utf8');
  fs.rmSync(out, { force: true });
  const xml = stdout.replace(/<byte_runs>[\s\S]*?<\/byte_runs>/g, '').replace(/<mtime>[^<]*<\/mtime>/g, '');
  const stack: HiveNode[] = [];
  let root: HiveNode | null = null;
  let list: string[] | null = null;
  let listKey = '';
  const tokens = /<node\b[^>]*>|<\/node>|<value\b[^>]*>|<\/value>|<string>([\s\S]*?)<\/string>/g;
  for (const m of xml.matchAll(tokens)) {
    const tok = m[0];
    if (tok.startsWith('<node')) {
      const node: HiveNode = { name: attr(tok, 'name') ?? '', values: new Map(), children: new Map() };
      if (stack.length > 0) stack[stack.length - 1]!.children.set(node.name, node);
      else root = node;
      stack.push(node);
    } else if (tok === '</node>') {
      stack.pop();
    } else if (tok.startsWith('<value')) {
      const type = attr(tok, 'type') ?? '?';
      const key = attr(tok, 'key') ?? '';
      const raw = attr(tok, 'value');
      const owner = stack[stack.length - 1]!;
      if (type === 'string-list') {
        list = [];
        listKey = key;
        owner.values.set(key, { type, value: list });
      } else if (attr(tok, 'encoding') === 'base64') {
        owner.values.set(key, { type, value: Buffer.from((raw ?? '').replace(/\s+/g, ''), 'base64') });
      } else if (type === 'int32') {
        owner.values.set(key, { type, value: Number(raw) });
      } else {
        owner.values.set(key, { type, value: raw ?? '' });
      }
    } else if (tok === '</value>') {
      list = null;
    } else if (list !== null && m[1] !== undefined) {
      list.push(unescapeXml(m[1]));
      void listKey;
    }
  }
  if (root === null) throw new Error(`hivexml printed no root node for ${file}`);
  return root;
}

/** A node by its path of key names. */
export function nodeAt(root: HiveNode, ...names: string[]): HiveNode {
  let n = root;
  for (const name of names) {
    const next = n.children.get(name);
    if (next === undefined) throw new Error(`no key "${name}" under "${n.name}" (has: ${[...n.children.keys()].join(', ')})`);
    n = next;
  }
  return n;
}
