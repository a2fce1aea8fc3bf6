/** API tokens: looked up by the SHA-256 of the presented secret (unique index). */
import type Database from 'better-sqlite3';
import type { ApiToken } from '../../site/model.js';
import { EntityTable } from './entity-table.js';

export class TokenTable extends EntityTable<ApiToken> {
  readonly #byHash: Database.Statement<[string], { doc: string }>;

  constructor(db: Database.Database) {
    super(db, { table: 'api_tokens', kind: 'token', sideColumns: [{ column: 'hash', value: (t) => t.hash }] });
    this.#byHash = db.prepare('SELECT doc FROM api_tokens WHERE hash = ?');
  }

  findByHash(hash: string): ApiToken | undefined {
    const row = this.#byHash.get(hash);
    return row === undefined ? undefined : (JSON.parse(row.doc) as ApiToken);
  }
}
