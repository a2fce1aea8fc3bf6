/**
 * Errors the SQLite store raises (PXE_ERR_STORE_*), and the translation of
 * SQLite constraint failures into the shared PXE_ERR_CONFLICT.
 */
import { PxeError, conflict } from '../../errors.js';

export const storeTooNew = (file: string, found: number, known: number): PxeError =>
  new PxeError(
    'PXE_ERR_STORE_TOO_NEW',
    `database "${file}" has schema version ${found}, but this pxepoint knows only up to ${known}; ` +
      'upgrade pxepoint to the version that wrote it (or restore a backup taken before the upgrade)',
    500,
    { file, found, known },
  );

export const storeForeign = (file: string, applicationId: number): PxeError =>
  new PxeError(
    'PXE_ERR_STORE_FOREIGN',
    `"${file}" is an SQLite database of another application (application_id ${applicationId}); ` +
      'point --data-dir at a pxepoint data directory or an empty one',
    500,
    { file, applicationId },
  );

export const storeClosed = (): PxeError =>
  new PxeError('PXE_ERR_STORE_CLOSED', 'the repository has been closed; open it again before using it', 500);

export const txEnded = (): PxeError =>
  new PxeError(
    'PXE_ERR_STORE_TX_ENDED',
    'this transaction handle was used after its transaction ended; do all the work before the transaction function returns',
    500,
  );

export const wrongHandle = (waitedMs: number): PxeError =>
  new PxeError(
    'PXE_ERR_STORE_WRONG_HANDLE',
    `a call made through the repository from inside one of its own transactions waited ${waitedMs} ms for that transaction ` +
      '(if the transaction awaits the call, it waits for itself forever); use the `tx` handle passed to the transaction function',
    500,
    { waitedMs },
  );

export const txRollbackOnly = (cause: unknown): PxeError => {
  const e = new PxeError(
    'PXE_ERR_STORE_TX_ROLLBACK_ONLY',
    'a nested transaction failed, so the whole transaction was rolled back even though the error was caught; ' +
      'let the error propagate, or do the fallible work before starting the transaction',
    500,
  );
  e.cause = cause;
  return e;
};

export const txAborted = (): PxeError =>
  new PxeError(
    'PXE_ERR_STORE_TX_ABORTED',
    'SQLite aborted the transaction (disk full, I/O error or lock timeout); nothing of it was saved, retry the operation',
    503,
  );

/** SQLITE_BUSY after busy_timeout: another process (CLI or server) kept the write lock. */
export function translateBusy(e: unknown): unknown {
  if (!isSqliteError(e) || !e.code.startsWith('SQLITE_BUSY')) return e;
  const busy = new PxeError(
    'PXE_ERR_STORE_BUSY',
    'another pxepoint process (CLI or server) kept the database locked for longer than the busy timeout; retry, ' +
      'and look for a stuck `pxepoint` command if it keeps happening',
    503,
  );
  busy.cause = e;
  return busy;
}

interface SqliteError {
  code: string;
  message: string;
}

function isSqliteError(e: unknown): e is SqliteError {
  const code = e instanceof Error ? (e as Error & { code?: unknown }).code : undefined;
  return typeof code === 'string' && code.startsWith('SQLITE_');
}

/**
 * Turns a primary-key or unique-index violation into PXE_ERR_CONFLICT; rethrows
 * anything else untouched. `kind` is the CLI noun ("device", "token").
 */
export function translateConstraint(e: unknown, kind: string, id: string): never {
  if (isSqliteError(e)) {
    if (e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
      throw conflict(`${kind} "${id}" already exists; choose another id or update the existing ${kind}`, { kind, id });
    }
    if (e.code === 'SQLITE_CONSTRAINT_UNIQUE') {
      // Message form: "UNIQUE constraint failed: api_tokens.hash"
      const column = /failed: \w+\.(\w+)/.exec(e.message)?.[1] ?? 'a unique field';
      throw conflict(`${kind} "${id}": another ${kind} already has the same ${column}; change ${column}`, { kind, id, field: column });
    }
  }
  throw e;
}
