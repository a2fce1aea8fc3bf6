/**
 * The boot media registry (migration 6, src/app/media-service.ts): one JSON
 * MediaRecord per medium (the secret's SHA-256, never the secret) plus side
 * columns for listing. Listed newest first: what an administrator looks for is
 * the medium made last.
 */
import type Database from 'better-sqlite3';
import type { MediaRecord } from '../../media/types.js';
import { EntityTable } from './entity-table.js';

export class MediaTable extends EntityTable<MediaRecord> {
  readonly #newestFirst: Database.Statement<[], { doc: string }>;

  constructor(db: Database.Database) {
    super(db, {
      table: 'media',
      kind: 'media',
      sideColumns: [
        { column: 'type', value: (m) => m.type },
        { column: 'created_at', value: (m) => m.createdAt },
        { column: 'blocked', value: (m) => (m.blocked ? 1 : 0) },
      ],
    });
    this.#newestFirst = db.prepare('SELECT doc FROM media ORDER BY created_at DESC, id');
  }

  override list(): MediaRecord[] {
    return this.#newestFirst.all().map((r) => JSON.parse(r.doc) as MediaRecord);
  }
}
