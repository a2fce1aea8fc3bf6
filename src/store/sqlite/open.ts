/**
 * Opening the embedded store: file, pragmas, migrations, built-ins.
 * See docs/decisions/0001-embedded-sqlite-store.md for the choices made here.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { PxeError, isPxeError } from '../../errors.js';
import type { SiteRepository } from '../../site/repository.js';
import { ensureBuiltins } from './builtins.js';
import { checkCompatible, migrate } from './migrations.js';
import { createSqliteRepository } from './repository.js';
import { prepareTables } from './tables.js';
import { TransactionGate } from './transaction-gate.js';

export const DB_FILE_NAME = 'pxepoint.db';

/** The CLI and the server may open the same file at once; writers wait this long for each other. */
export const BUSY_TIMEOUT_MS = 5000;

export type OpenSqliteOptions = ({ dataDir: string } | { file: string }) & {
  /**
   * NORMAL (default): every acknowledged commit survives kill -9 of the process;
   * the last commits may be lost on power loss or OS crash (never corrupted).
   * FULL: also survives power loss, at one fsync per commit (blocking the event loop).
   */
  synchronous?: 'NORMAL' | 'FULL';
};

/** `{ dataDir }` creates the directory and uses `<dataDir>/pxepoint.db`; `{ file: ':memory:' }` for tests. */
export async function openSqliteRepository(opts: OpenSqliteOptions): Promise<SiteRepository> {
  let file: string;
  if ('dataDir' in opts) {
    await mkdir(opts.dataDir, { recursive: true });
    file = join(opts.dataDir, DB_FILE_NAME);
  } else {
    file = opts.file;
  }
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { timeout: BUSY_TIMEOUT_MS });
    // Before anything writes: a file from a newer pxepoint (or another app) stays untouched.
    checkCompatible(db, file);
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.pragma('journal_mode = WAL'); // ':memory:' stays 'memory', which is fine for tests
    db.pragma(`synchronous = ${opts.synchronous === 'FULL' ? 'FULL' : 'NORMAL'}`);
    db.pragma('foreign_keys = ON');
    migrate(db, file);
    const tables = prepareTables(db);
    ensureBuiltins(db, tables);
    return createSqliteRepository(tables, new TransactionGate(db));
  } catch (e) {
    db?.close();
    throw isPxeError(e) ? e : cannotOpen(file, e);
  }
}

function cannotOpen(file: string, cause: unknown): PxeError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  const error = new PxeError(
    'PXE_ERR_STORE_OPEN',
    `cannot open the database "${file}": ${reason}; check that the data directory is a pxepoint one and is readable and writable`,
    500,
    { file },
  );
  error.cause = cause;
  return error;
}
