/**
 * kill -9 consistency: a child process commits transactions in a loop and is
 * killed with SIGKILL mid-loop. After reopening, the file must be intact, every
 * transaction the child acknowledged (printed after COMMIT) must be there, and no
 * transaction may be half applied.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { X64_UNKNOWN_ID, X86_UNKNOWN_ID } from '../../src/site/model.js';
import { openSqliteRepository } from '../../src/store/sqlite/open.js';
import { makeTempDir, type TempDir } from './helpers.js';

const WRITER = fileURLToPath(new URL('./crash-writer.ts', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CRASH_COLLECTION_ID = 'PXP09999';
const KILL_AFTER_MS = 300;
const MAX_TRANSACTIONS = 200_000;
const MAX_CHILD_MS = 15_000;

interface ChildRun {
  acknowledged: string[];
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** Runs the writer until KILL_AFTER_MS after its first commit, then SIGKILLs it. */
function runAndKill(file: string): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', WRITER, file, CRASH_COLLECTION_ID, String(MAX_TRANSACTIONS), String(MAX_CHILD_MS)], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const acknowledged: string[] = [];
    let pending = '';
    let stderr = '';
    let killTimer: NodeJS.Timeout | undefined;
    const guard = setTimeout(() => child.kill('SIGKILL'), 25_000); // never outlive the test
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop()!; // a line cut by the kill is not an acknowledgement
      acknowledged.push(...lines);
      killTimer ??= setTimeout(() => child.kill('SIGKILL'), KILL_AFTER_MS);
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (_code, signal) => {
      clearTimeout(guard);
      clearTimeout(killTimer);
      resolve({ acknowledged, signal, stderr });
    });
  });
}

async function verify(file: string, acknowledged: readonly string[]): Promise<void> {
  const db = new Database(file); // opening recovers from the WAL left by the killed writer
  try {
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(db.pragma('foreign_key_check')).toEqual([]);
  } finally {
    db.close();
  }

  const repo = await openSqliteRepository({ file });
  try {
    const devices = (await repo.devices.list()).filter((d) => d.id !== X86_UNKNOWN_ID && d.id !== X64_UNKNOWN_ID);
    const ids = new Set(devices.map((d) => d.id));
    // Durability: everything acknowledged is there.
    for (const id of acknowledged) expect(ids.has(id), `acknowledged device ${id} is missing`).toBe(true);
    // Atomicity: each transaction is all there or not at all.
    const messages = await repo.statusMessages.list({ kind: 'status' });
    expect(messages.map((m) => m.deviceId).sort()).toEqual([...ids].sort());
    const members = (await repo.collections.get(CRASH_COLLECTION_ID))!.directMemberIds;
    expect([...members].sort()).toEqual([...ids].sort());
    for (const d of devices) expect((await repo.devices.findByMac(d.macs[0]!)).map((x) => x.id)).toEqual([d.id]);
    // The sequence never goes back behind a committed id.
    expect(16777216 + (await repo.nextSequence('device'))).toBeGreaterThan(Math.max(...[...ids].map(Number)));
  } finally {
    await repo.close();
  }
}

let dir: TempDir;
beforeEach(() => {
  dir = makeTempDir('pxepoint-crash-');
});
afterEach(() => dir.remove());

it('survives SIGKILL mid-transaction twice in a row without losing or half-applying a commit', async () => {
  const file = join(dir.path, 'pxepoint.db');
  const acknowledged: string[] = [];
  for (let round = 0; round < 2; round++) {
    const run = await runAndKill(file);
    expect(run.stderr).toBe('');
    expect(run.signal).toBe('SIGKILL');
    expect(run.acknowledged.length).toBeGreaterThan(0);
    acknowledged.push(...run.acknowledged);
    await verify(file, acknowledged);
  }
}, 60_000);
