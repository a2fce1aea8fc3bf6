/**
 * The generic JSON-document table: `id TEXT PRIMARY KEY, doc TEXT` plus optional
 * side columns derived from the document for indexed lookups. Synchronous (as
 * better-sqlite3 is); the async repository facade decides when it may run.
 *
 * Values are returned as fresh copies (parsed from JSON), so a caller mutating a
 * result never changes what is stored.
 */
import type Database from 'better-sqlite3';
import { invalid, notFound } from '../../errors.js';
import type { Entity } from '../../site/repository.js';
import { translateConstraint } from './store-errors.js';

export interface SideColumn<T> {
  /** Column name in the table (created by a migration). */
  column: string;
  value: (entity: T) => string | number | null;
}

export interface EntityTableSpec<T> {
  table: string;
  /** CLI noun used in error messages ("device", "boot-image"). */
  kind: string;
  sideColumns?: readonly SideColumn<T>[];
  /**
   * Writes rows of side tables after the entity row was written. When present,
   * insert/update run in a (nested) SQLite transaction so both land or neither.
   */
  afterWrite?: (entity: T) => void;
}

export class EntityTable<T extends Entity> {
  readonly #kind: string;
  readonly #sideColumns: readonly SideColumn<T>[];
  readonly #list: Database.Statement<[], { doc: string }>;
  readonly #get: Database.Statement<[string], { doc: string }>;
  readonly #count: Database.Statement<[], { n: number }>;
  readonly #delete: Database.Statement<[string]>;
  readonly #insert: (entity: T) => void;
  readonly #update: (entity: T) => boolean;

  constructor(db: Database.Database, spec: EntityTableSpec<T>) {
    const { table, kind, afterWrite } = spec;
    this.#kind = kind;
    this.#sideColumns = spec.sideColumns ?? [];
    const cols = this.#sideColumns.map((c) => c.column);
    this.#list = db.prepare(`SELECT doc FROM ${table} ORDER BY id`);
    this.#get = db.prepare(`SELECT doc FROM ${table} WHERE id = ?`);
    this.#count = db.prepare(`SELECT count(*) AS n FROM ${table}`);
    this.#delete = db.prepare(`DELETE FROM ${table} WHERE id = ?`);
    const insert = db.prepare<unknown[]>(
      `INSERT INTO ${table} (id, doc${cols.map((c) => `, ${c}`).join('')}) VALUES (?, ?${cols.map(() => ', ?').join('')})`,
    );
    const update = db.prepare<unknown[]>(`UPDATE ${table} SET doc = ?${cols.map((c) => `, ${c} = ?`).join('')} WHERE id = ?`);

    const insertRow = (e: T): void => {
      insert.run(e.id, JSON.stringify(e), ...this.#sideValues(e));
      afterWrite?.(e);
    };
    const updateRow = (e: T): boolean => {
      if (update.run(JSON.stringify(e), ...this.#sideValues(e), e.id).changes === 0) return false;
      afterWrite?.(e);
      return true;
    };
    // db.transaction() uses a SAVEPOINT when already inside a transaction.
    this.#insert = afterWrite ? (e) => db.transaction(insertRow).immediate(e) : insertRow;
    this.#update = afterWrite ? (e) => db.transaction(updateRow).immediate(e) : updateRow;
  }

  #sideValues(e: T): Array<string | number | null> {
    return this.#sideColumns.map((c) => c.value(e));
  }

  #checkId(e: T): void {
    // SQLite lets a TEXT PRIMARY KEY hold NULL or numbers; refuse them here.
    if (typeof e?.id !== 'string' || e.id === '') throw invalid('id', `a ${this.#kind} needs a non-empty string id`);
  }

  list(): T[] {
    return this.#list.all().map((r) => JSON.parse(r.doc) as T);
  }

  get(id: string): T | undefined {
    const row = this.#get.get(id);
    return row === undefined ? undefined : (JSON.parse(row.doc) as T);
  }

  insert(entity: T): T {
    this.#checkId(entity);
    try {
      this.#insert(entity);
    } catch (e) {
      translateConstraint(e, this.#kind, entity.id);
    }
    return JSON.parse(JSON.stringify(entity)) as T;
  }

  update(entity: T): T {
    this.#checkId(entity);
    let found: boolean;
    try {
      found = this.#update(entity);
    } catch (e) {
      translateConstraint(e, this.#kind, entity.id);
    }
    if (!found) throw notFound(this.#kind, entity.id);
    return JSON.parse(JSON.stringify(entity)) as T;
  }

  delete(id: string): boolean {
    return this.#delete.run(id).changes > 0;
  }

  count(): number {
    return this.#count.get()!.n;
  }
}
