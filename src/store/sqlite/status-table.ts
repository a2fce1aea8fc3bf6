/**
 * Status and audit messages: append-only, read as a forward cursor. Rows carry
 * the queried fields as columns (kind, device_id, deployment_id, time) and the
 * whole message, minus its id, as JSON.
 */
import type Database from 'better-sqlite3';
import { invalid } from '../../errors.js';
import type { StatusMessage } from '../../site/model.js';
import type { StatusMessageQuery } from '../../site/repository.js';

type Row = { id: number; doc: string };

export class StatusTable {
  readonly #db: Database.Database;
  readonly #append: Database.Statement<[string, string, string | null, string | null, string]>;
  /** One prepared statement per combination of filters (at most 16). */
  readonly #queries = new Map<string, Database.Statement<unknown[], Row>>();

  constructor(db: Database.Database) {
    this.#db = db;
    this.#append = db.prepare(
      'INSERT INTO status_messages (time, kind, device_id, deployment_id, doc) VALUES (?, ?, ?, ?, ?)',
    );
  }

  append(message: Omit<StatusMessage, 'id'>): StatusMessage {
    // Strip a stray `id` a caller may have left on the object: the row id is the id.
    const { id: _ignored, ...doc } = message as Omit<StatusMessage, 'id'> & { id?: unknown };
    const json = JSON.stringify(doc);
    const result = this.#append.run(message.time, message.kind, message.deviceId ?? null, message.deploymentId ?? null, json);
    return { id: Number(result.lastInsertRowid), ...(JSON.parse(json) as Omit<StatusMessage, 'id'>) };
  }

  /** Oldest first (ascending id), so `afterId` + `limit` pages forward through the log; or newest first. */
  list(query: StatusMessageQuery = {}): StatusMessage[] {
    const where: string[] = [];
    const params: unknown[] = [];
    if (query.kind !== undefined) {
      where.push('kind = ?');
      params.push(query.kind);
    }
    if (query.deviceId !== undefined) {
      where.push('device_id = ?');
      params.push(query.deviceId);
    }
    if (query.deploymentId !== undefined) {
      where.push('deployment_id = ?');
      params.push(query.deploymentId);
    }
    if (query.afterId !== undefined) {
      where.push('id > ?');
      params.push(query.afterId);
    }
    let limit = -1; // SQLite: negative LIMIT means no limit
    if (query.limit !== undefined) {
      if (!Number.isInteger(query.limit) || query.limit < 0) throw invalid('limit', 'must be a whole number of 0 or more');
      limit = query.limit;
    }
    const sql = `SELECT id, doc FROM status_messages${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY id${query.newestFirst === true ? ' DESC' : ''} LIMIT ?`;
    let stmt = this.#queries.get(sql);
    if (stmt === undefined) {
      stmt = this.#db.prepare<unknown[], Row>(sql);
      this.#queries.set(sql, stmt);
    }
    return stmt.all(...params, limit).map((r) => ({ id: r.id, ...(JSON.parse(r.doc) as Omit<StatusMessage, 'id'>) }));
  }
}
