/**
 * Per-kind counters. One statement increments and reads, so concurrent callers
 * (or another process on the same file) can never get the same value. The first
 * value of a kind is 1; mapping it to an id format is the caller's business.
 */
import type Database from 'better-sqlite3';
import type { IdKind } from '../../site/repository.js';

export class SequenceTable {
  readonly #next: Database.Statement<[string], { value: number }>;

  constructor(db: Database.Database) {
    this.#next = db.prepare(
      `INSERT INTO sequences (kind, value) VALUES (?, 1)
       ON CONFLICT (kind) DO UPDATE SET value = value + 1
       RETURNING value`,
    );
  }

  next(kind: IdKind): number {
    return this.#next.get(kind)!.value;
  }
}
