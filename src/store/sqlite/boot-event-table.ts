/**
 * The boot timeline: append-only rows keyed by MAC, read as a forward cursor per
 * machine. The queried fields are columns (mac, kind, time); the entry, minus its
 * id, is JSON.
 */
import type Database from 'better-sqlite3';
import { invalid } from '../../errors.js';
import type { BootEvent } from '../../site/model.js';
import type { BootEventQuery } from '../../site/repository.js';

type Row = { id: number; doc: string };

export class BootEventTable {
  readonly #append: Database.Statement<[string, string, string, string]>;
  readonly #purge: Database.Statement<[string]>;
  readonly #list: Database.Statement<[string, number, number], Row>;
  readonly #listNewest: Database.Statement<[string, number, number], Row>;

  constructor(db: Database.Database) {
    this.#append = db.prepare('INSERT INTO boot_events (time, mac, kind, doc) VALUES (?, ?, ?, ?)');
    this.#purge = db.prepare('DELETE FROM boot_events WHERE time < ?');
    this.#list = db.prepare<[string, number, number], Row>('SELECT id, doc FROM boot_events WHERE mac = ? AND id > ? ORDER BY id LIMIT ?');
    this.#listNewest = db.prepare<[string, number, number], Row>('SELECT id, doc FROM boot_events WHERE mac = ? AND id > ? ORDER BY id DESC LIMIT ?');
  }

  append(event: Omit<BootEvent, 'id'>): BootEvent {
    const { id: _ignored, ...doc } = event as Omit<BootEvent, 'id'> & { id?: unknown };
    const json = JSON.stringify(doc);
    const result = this.#append.run(event.time, event.mac, event.kind, json);
    return { id: Number(result.lastInsertRowid), ...(JSON.parse(json) as Omit<BootEvent, 'id'>) };
  }

  list(query: BootEventQuery): BootEvent[] {
    let limit = -1; // SQLite: negative LIMIT means no limit
    if (query.limit !== undefined) {
      if (!Number.isInteger(query.limit) || query.limit < 0) throw invalid('limit', 'must be a whole number of 0 or more');
      limit = query.limit;
    }
    const stmt = query.newestFirst === true ? this.#listNewest : this.#list;
    return stmt.all(query.mac, query.afterId ?? 0, limit).map((r) => ({ id: r.id, ...(JSON.parse(r.doc) as Omit<BootEvent, 'id'>) }));
  }

  purgeBefore(before: string): number {
    return this.#purge.run(before).changes;
  }
}
