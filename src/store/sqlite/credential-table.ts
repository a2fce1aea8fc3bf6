/**
 * Client API credentials (docs/decisions/0007-client-authentication.md): one-time
 * boot tokens, registered client keys and sessions. Each is a JSON document plus
 * side columns for the lookups the API makes on every request (the SHA-256 hash
 * of the presented secret, unique) and for purging expired rows.
 */
import type Database from 'better-sqlite3';
import type { BootToken, ClientKey, ClientSession } from '../../site/model.js';
import { EntityTable } from './entity-table.js';

type Doc = { doc: string };

export class BootTokenTable extends EntityTable<BootToken> {
  readonly #byHash: Database.Statement<[string], Doc>;
  readonly #consume: Database.Statement<[string, string, string], Doc>;
  readonly #purge: Database.Statement<[string]>;

  constructor(db: Database.Database) {
    super(db, {
      table: 'boot_tokens',
      kind: 'boot-token',
      sideColumns: [
        { column: 'hash', value: (t) => t.hash },
        { column: 'expires_at', value: (t) => t.expiresAt },
        { column: 'used_at', value: (t) => t.usedAt },
      ],
    });
    this.#byHash = db.prepare('SELECT doc FROM boot_tokens WHERE hash = ?');
    // One statement: the check "unused" and the write cannot be separated, so a
    // concurrent second use (in this process or another) finds used_at set.
    this.#consume = db.prepare(
      `UPDATE boot_tokens SET used_at = ?, doc = json_set(doc, '$.usedAt', ?)
       WHERE id = ? AND used_at IS NULL RETURNING doc`,
    );
    this.#purge = db.prepare('DELETE FROM boot_tokens WHERE expires_at < ?');
  }

  findByHash(hash: string): BootToken | undefined {
    const row = this.#byHash.get(hash);
    return row === undefined ? undefined : (JSON.parse(row.doc) as BootToken);
  }

  consume(id: string, usedAt: string): BootToken | undefined {
    const row = this.#consume.get(usedAt, usedAt, id);
    return row === undefined ? undefined : (JSON.parse(row.doc) as BootToken);
  }

  purgeExpired(before: string): number {
    return this.#purge.run(before).changes;
  }
}

export class ClientKeyTable extends EntityTable<ClientKey> {
  readonly #byHash: Database.Statement<[string], Doc>;
  readonly #byDevice: Database.Statement<[string], Doc>;

  constructor(db: Database.Database) {
    super(db, {
      table: 'client_keys',
      kind: 'client-key',
      sideColumns: [
        { column: 'hash', value: (k) => k.hash },
        { column: 'device_id', value: (k) => k.deviceId },
      ],
    });
    this.#byHash = db.prepare('SELECT doc FROM client_keys WHERE hash = ?');
    this.#byDevice = db.prepare('SELECT doc FROM client_keys WHERE device_id = ? ORDER BY id');
  }

  findByHash(hash: string): ClientKey | undefined {
    const row = this.#byHash.get(hash);
    return row === undefined ? undefined : (JSON.parse(row.doc) as ClientKey);
  }

  listByDevice(deviceId: string): ClientKey[] {
    return this.#byDevice.all(deviceId).map((r) => JSON.parse(r.doc) as ClientKey);
  }
}

export class SessionTable extends EntityTable<ClientSession> {
  readonly #byHash: Database.Statement<[string], Doc>;
  readonly #purge: Database.Statement<[string]>;

  constructor(db: Database.Database) {
    super(db, {
      table: 'client_sessions',
      kind: 'client-session',
      sideColumns: [
        { column: 'hash', value: (s) => s.hash },
        { column: 'expires_at', value: (s) => s.expiresAt },
        { column: 'device_id', value: (s) => s.deviceId },
      ],
    });
    this.#byHash = db.prepare('SELECT doc FROM client_sessions WHERE hash = ?');
    this.#purge = db.prepare('DELETE FROM client_sessions WHERE expires_at < ?');
  }

  findByHash(hash: string): ClientSession | undefined {
    const row = this.#byHash.get(hash);
    return row === undefined ? undefined : (JSON.parse(row.doc) as ClientSession);
  }

  purgeExpired(before: string): number {
    return this.#purge.run(before).changes;
  }
}
