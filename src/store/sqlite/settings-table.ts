/** Site settings: a single row (id = 1); DEFAULT_SITE_SETTINGS until first written. */
import type Database from 'better-sqlite3';
import { DEFAULT_SITE_SETTINGS, type SiteSettings } from '../../site/model.js';

export class SettingsTable {
  readonly #get: Database.Statement<[], { doc: string }>;
  readonly #put: Database.Statement<[string]>;

  constructor(db: Database.Database) {
    this.#get = db.prepare('SELECT doc FROM settings WHERE id = 1');
    this.#put = db.prepare('INSERT INTO settings (id, doc) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET doc = excluded.doc');
  }

  get(): SiteSettings {
    const row = this.#get.get();
    return row === undefined ? structuredClone(DEFAULT_SITE_SETTINGS) : (JSON.parse(row.doc) as SiteSettings);
  }

  put(settings: SiteSettings): void {
    this.#put.run(JSON.stringify(settings));
  }
}
