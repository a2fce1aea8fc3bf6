/**
 * Who may use the one better-sqlite3 connection, and when.
 *
 * The repository interface is async (so PostgreSQL can follow), the connection
 * is synchronous. A transaction's function awaits between statements; without a
 * gate, any other caller's statement issued during such an await would silently
 * run inside that transaction (and be committed or rolled back with it).
 *
 * - A transaction holds the FIFO mutex from BEGIN IMMEDIATE to COMMIT/ROLLBACK.
 * - A plain call (outside a transaction) waits for the mutex, then runs its one
 *   synchronous operation (atomic on its own: multi-row operations use a
 *   savepoint), so it never lands inside someone else's transaction.
 * - Calls through the transaction's handle run on the connection directly.
 * - A nested transaction joins the outer one. If it fails, the outer one is
 *   marked rollback-only: even if the caller catches the error, nothing of the
 *   transaction is committed (no half-written change).
 * - A call through the root repository made from inside one of its own
 *   transactions (recognised with AsyncLocalStorage) queues like any other: that
 *   is right for fire-and-forget work such as an event subscriber, which then
 *   runs after the commit. If the transaction awaits it, it would wait for itself
 *   forever; so such a call gives up after `selfWaitMs` with
 *   PXE_ERR_STORE_WRONG_HANDLE instead of hanging the store.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type Database from 'better-sqlite3';
import { AsyncMutex } from './mutex.js';
import { storeClosed, translateBusy, txAborted, txEnded, txRollbackOnly, wrongHandle } from './store-errors.js';

/** Runs one synchronous store operation at the right moment. */
export type RunOperation = <R>(op: () => R) => Promise<R>;

function settle<R>(op: () => R): Promise<R> {
  try {
    return Promise.resolve(op());
  } catch (e) {
    return Promise.reject(translateBusy(e));
  }
}

/** The state of one open transaction; its `run` is what the `tx` handle uses. */
export class OpenTransaction {
  #active = true;
  /** Why this transaction may no longer commit, if it may not. */
  #doomed: Error | undefined;

  constructor(private readonly db: Database.Database) {}

  get active(): boolean {
    return this.#active;
  }

  get doomed(): Error | undefined {
    return this.#doomed;
  }

  readonly run: RunOperation = (op) => {
    if (!this.#active) return Promise.reject(txEnded());
    // SQLite rolls a transaction back by itself on some errors (SQLITE_FULL,
    // SQLITE_IOERR, …); running on would autocommit each later statement.
    if (!this.db.inTransaction) {
      const error = txAborted();
      this.#doomed ??= error;
      return Promise.reject(error);
    }
    return settle(op);
  };

  async nested<T>(fn: () => Promise<T>): Promise<T> {
    if (!this.#active) throw txEnded();
    try {
      return await fn();
    } catch (error) {
      this.#doomed ??= txRollbackOnly(error);
      throw error;
    }
  }

  end(): void {
    this.#active = false;
  }
}

export interface TransactionGateOptions {
  /** How long a root call made from inside its own transaction may wait (see above). */
  selfWaitMs?: number;
}

export const DEFAULT_SELF_WAIT_MS = 5000;

export class TransactionGate {
  readonly #mutex = new AsyncMutex();
  readonly #current = new AsyncLocalStorage<OpenTransaction>();
  readonly #selfWaitMs: number;
  #closed = false;

  constructor(
    private readonly db: Database.Database,
    options: TransactionGateOptions = {},
  ) {
    this.#selfWaitMs = options.selfWaitMs ?? DEFAULT_SELF_WAIT_MS;
  }

  /**
   * Takes the connection. From inside one of our own running transactions the
   * wait is bounded, because that transaction may be awaiting this very call.
   */
  async #acquire(): Promise<void> {
    if (this.#closed) throw storeClosed();
    if (this.#current.getStore()?.active === true) {
      if (!(await this.#mutex.acquireWithin(this.#selfWaitMs))) throw wrongHandle(this.#selfWaitMs);
    } else {
      await this.#mutex.acquire();
    }
    if (this.#closed) {
      this.#mutex.release();
      throw storeClosed();
    }
  }

  /** A single operation outside any transaction: waits for the running one, if any. */
  readonly run: RunOperation = (op) => {
    if (this.#closed) return Promise.reject(storeClosed());
    // Nothing holds the connection: a synchronous op cannot interleave with anything.
    if (!this.#mutex.locked) return settle(op);
    return this.#acquire().then(() => {
      try {
        return settle(op);
      } finally {
        this.#mutex.release();
      }
    });
  };

  async transaction<T>(fn: (tx: OpenTransaction) => Promise<T>): Promise<T> {
    await this.#acquire();
    const tx = new OpenTransaction(this.db);
    try {
      // IMMEDIATE takes the write lock now (waiting up to busy_timeout for another
      // process) instead of failing with SQLITE_BUSY at the first write.
      this.db.exec('BEGIN IMMEDIATE');
    } catch (e) {
      tx.end();
      this.#mutex.release();
      throw translateBusy(e);
    }
    try {
      const result = await this.#current.run(tx, () => fn(tx));
      // fn caught a nested failure (or SQLite's own abort) and returned normally.
      if (tx.doomed !== undefined) throw tx.doomed;
      if (!this.db.inTransaction) throw txAborted();
      this.db.exec('COMMIT');
      return result;
    } catch (e) {
      if (this.db.inTransaction) {
        try {
          this.db.exec('ROLLBACK');
        } catch {
          // The original error matters more; SQLite has rolled back when ROLLBACK fails.
        }
      }
      throw e;
    } finally {
      tx.end();
      this.#mutex.release();
    }
  }

  /** Waits for the running transaction, checkpoints the WAL into the main file, closes. */
  async close(): Promise<void> {
    try {
      await this.#acquire();
    } catch (e) {
      if (this.#closed) return; // closed meanwhile by a call queued before ours
      throw e;
    }
    try {
      this.#closed = true;
      try {
        this.db.pragma('wal_checkpoint(TRUNCATE)');
      } catch {
        // Best effort: another process may be reading; SQLite checkpoints on its last close anyway.
      }
      this.db.close();
    } finally {
      this.#mutex.release();
    }
  }
}
