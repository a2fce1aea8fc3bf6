/**
 * Versioned schema migrations. Each one runs in its own IMMEDIATE transaction,
 * is recorded in `schema_migrations`, and moves `PRAGMA user_version` in step
 * (user_version is the authority: it lives in the file header and is cheap to
 * read before anything else is touched).
 *
 * Rules for adding one: append, never edit or reorder a released migration;
 * entity data lives in JSON `doc` columns, so most model changes need no
 * migration at all, only new side columns or indexes do.
 */
import type Database from 'better-sqlite3';
import { storeForeign, storeTooNew } from './store-errors.js';

export interface Migration {
  version: number;
  name: string;
  /** SQL run with `db.exec` inside the migration's transaction. */
  up: string;
}

/** "PXEP" — marks the file as ours so we never migrate someone else's database. */
export const APPLICATION_ID = 0x50584550;

/** A JSON-document table: the entity as JSON plus side columns for lookups. */
const documentTable = (name: string): string => `CREATE TABLE ${name} (id TEXT PRIMARY KEY NOT NULL, doc TEXT NOT NULL);`;

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    up: `
      PRAGMA application_id = ${APPLICATION_ID};

      CREATE TABLE devices (
        id TEXT PRIMARY KEY NOT NULL,
        doc TEXT NOT NULL,
        smbios_guid TEXT
      );
      -- Non-unique on purpose: duplicate GUIDs exist in real estates (cloned VMs, bad firmware).
      CREATE INDEX devices_smbios_guid ON devices (smbios_guid) WHERE smbios_guid IS NOT NULL;

      -- One row per MAC of a device; the pair is unique, the MAC alone is not (duplicates exist).
      CREATE TABLE device_macs (
        mac TEXT NOT NULL,
        device_id TEXT NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
        PRIMARY KEY (mac, device_id)
      ) WITHOUT ROWID;
      CREATE INDEX device_macs_device ON device_macs (device_id);

      ${documentTable('collections')}
      ${documentTable('packages')}
      ${documentTable('boot_images')}
      ${documentTable('task_sequences')}
      ${documentTable('distribution_points')}
      ${documentTable('dp_groups')}
      ${documentTable('boundary_groups')}
      ${documentTable('deployments')}
      ${documentTable('templates')}

      CREATE TABLE api_tokens (
        id TEXT PRIMARY KEY NOT NULL,
        doc TEXT NOT NULL,
        hash TEXT NOT NULL
      );
      CREATE UNIQUE INDEX api_tokens_hash ON api_tokens (hash);

      -- AUTOINCREMENT: ids are never reused, so "afterId" cursors stay valid after deletions.
      CREATE TABLE status_messages (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        time TEXT NOT NULL,
        kind TEXT NOT NULL,
        device_id TEXT,
        deployment_id TEXT,
        doc TEXT NOT NULL
      );
      CREATE INDEX status_messages_kind ON status_messages (kind, id);
      CREATE INDEX status_messages_device ON status_messages (device_id, id) WHERE device_id IS NOT NULL;
      CREATE INDEX status_messages_deployment ON status_messages (deployment_id, id) WHERE deployment_id IS NOT NULL;

      CREATE TABLE client_status (
        device_id TEXT NOT NULL,
        deployment_id TEXT NOT NULL,
        doc TEXT NOT NULL,
        PRIMARY KEY (device_id, deployment_id)
      ) WITHOUT ROWID;
      CREATE INDEX client_status_deployment ON client_status (deployment_id, device_id);

      CREATE TABLE settings (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        doc TEXT NOT NULL
      );

      CREATE TABLE sequences (
        kind TEXT PRIMARY KEY NOT NULL,
        value INTEGER NOT NULL
      );
    `,
  },
  {
    version: 2,
    name: 'client credentials',
    // The client API's credentials (docs/decisions/0007-client-authentication.md):
    // only SHA-256 hashes of secrets, each unique. A device's keys and sessions go
    // with the device (ON DELETE CASCADE).
    up: `
      CREATE TABLE boot_tokens (
        id TEXT PRIMARY KEY NOT NULL,
        doc TEXT NOT NULL,
        hash TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        used_at TEXT
      );
      CREATE UNIQUE INDEX boot_tokens_hash ON boot_tokens (hash);
      CREATE INDEX boot_tokens_expires ON boot_tokens (expires_at);

      CREATE TABLE client_keys (
        id TEXT PRIMARY KEY NOT NULL,
        doc TEXT NOT NULL,
        hash TEXT NOT NULL,
        device_id TEXT NOT NULL REFERENCES devices (id) ON DELETE CASCADE
      );
      CREATE UNIQUE INDEX client_keys_hash ON client_keys (hash);
      CREATE INDEX client_keys_device ON client_keys (device_id);

      CREATE TABLE client_sessions (
        id TEXT PRIMARY KEY NOT NULL,
        doc TEXT NOT NULL,
        hash TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        device_id TEXT REFERENCES devices (id) ON DELETE CASCADE
      );
      CREATE UNIQUE INDEX client_sessions_hash ON client_sessions (hash);
      CREATE INDEX client_sessions_expires ON client_sessions (expires_at);
      CREATE INDEX client_sessions_device ON client_sessions (device_id) WHERE device_id IS NOT NULL;
    `,
  },
  {
    version: 3,
    name: 'dhcp leases',
    // Full DHCP mode (src/dhcp/leases.ts): one row per leased address, written before
    // the ACK is sent. Plain columns, no JSON document: the listener writes here at
    // thousands of rows a second. Times are milliseconds since the epoch.
    up: `
      CREATE TABLE dhcp_leases (
        ip TEXT PRIMARY KEY NOT NULL,
        mac TEXT NOT NULL,
        client_id TEXT,
        subnet TEXT NOT NULL,
        state TEXT NOT NULL,
        expires_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        hostname TEXT,
        relay TEXT
      ) WITHOUT ROWID;
      CREATE INDEX dhcp_leases_mac ON dhcp_leases (mac);
    `,
  },
  {
    version: 4,
    name: 'boot timeline',
    // The per-machine boot timeline (src/pxe/timeline.ts): DHCP decisions, TFTP
    // transfers and HTTP boot requests, keyed by MAC. Append-only; AUTOINCREMENT so
    // "afterId" cursors stay valid after old rows are purged.
    up: `
      CREATE TABLE boot_events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        time TEXT NOT NULL,
        mac TEXT NOT NULL,
        kind TEXT NOT NULL,
        doc TEXT NOT NULL
      );
      CREATE INDEX boot_events_mac ON boot_events (mac, id);
      CREATE INDEX boot_events_time ON boot_events (time);
    `,
  },
  {
    version: 5,
    name: 'content library',
    // The content library (src/content/): one row per package version with its signed
    // manifest, and one row per (distribution point, package) with the version the DP
    // should hold and how far it got (pending → verifying → available | failed).
    up: `
      CREATE TABLE package_versions (
        package_id TEXT NOT NULL REFERENCES packages (id) ON DELETE CASCADE,
        version INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        total_size INTEGER NOT NULL,
        file_count INTEGER NOT NULL,
        manifest TEXT NOT NULL,
        PRIMARY KEY (package_id, version)
      ) WITHOUT ROWID;
      CREATE TABLE dp_package_state (
        dp_id TEXT NOT NULL REFERENCES distribution_points (id) ON DELETE CASCADE,
        package_id TEXT NOT NULL REFERENCES packages (id) ON DELETE CASCADE,
        version INTEGER NOT NULL,
        state TEXT NOT NULL,
        detail TEXT,
        updated_at TEXT NOT NULL,
        validate_requested_at TEXT,
        PRIMARY KEY (dp_id, package_id)
      ) WITHOUT ROWID;
      CREATE INDEX dp_package_state_package ON dp_package_state (package_id);
    `,
  },
  {
    version: 6,
    name: 'boot media',
    // Boot media the builder made (src/app/media-service.ts, issue 7, rules 101–103):
    // the MediaRecord as JSON (never the secret, only its SHA-256) plus side columns
    // for listing and for what an administrator filters on.
    up: `
      CREATE TABLE media (
        id TEXT PRIMARY KEY NOT NULL,
        doc TEXT NOT NULL,
        type TEXT NOT NULL,
        created_at TEXT NOT NULL,
        blocked INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX media_created ON media (created_at);
    `,
  },
  {
    version: 7,
    name: 'dhcp leases without the mac index',
    // No query reads leases by MAC (the listener keeps its own in-memory book, the store
    // is read whole at start), yet every lease write kept the index up to date: ~27% of
    // a lease write's cost at the full-mode rates of bench/dhcp.ts (2.8 → 2.0 µs a row).
    up: `
      DROP INDEX IF EXISTS dhcp_leases_mac;
    `,
  },
];

export const LATEST_SCHEMA_VERSION: number = MIGRATIONS.reduce((max, m) => Math.max(max, m.version), 0);

const CREATE_HISTORY = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  applied_at TEXT NOT NULL
)`;

export function schemaVersion(db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/**
 * Refuses files that are newer than this code or not ours. Runs before any write,
 * so a refused file is left exactly as it was.
 */
export function checkCompatible(db: Database.Database, file: string, migrations: readonly Migration[] = MIGRATIONS): void {
  const known = migrations.reduce((max, m) => Math.max(max, m.version), 0);
  const found = schemaVersion(db);
  if (found > known) throw storeTooNew(file, found, known);
  const appId = db.pragma('application_id', { simple: true }) as number;
  if (appId !== 0 && appId !== APPLICATION_ID) throw storeForeign(file, appId);
}

/**
 * Applies every migration newer than the file, one transaction each. Safe when
 * the CLI and the server open a fresh file at the same moment: the version is
 * re-read after the write lock is taken, so each migration runs exactly once.
 * Returns the versions applied by this call.
 */
export function migrate(db: Database.Database, file: string, migrations: readonly Migration[] = MIGRATIONS): number[] {
  checkCompatible(db, file, migrations);
  const ordered = [...migrations].sort((a, b) => a.version - b.version);
  const applied: number[] = [];
  for (const m of ordered) {
    if (m.version <= schemaVersion(db)) continue;
    db.exec('BEGIN IMMEDIATE');
    try {
      // Another process may have migrated while we waited for the lock.
      const current = schemaVersion(db);
      if (current > ordered[ordered.length - 1]!.version) throw storeTooNew(file, current, ordered[ordered.length - 1]!.version);
      if (m.version > current) {
        db.exec(CREATE_HISTORY);
        db.exec(m.up);
        db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
          m.version,
          m.name,
          new Date().toISOString(),
        );
        // PRAGMA arguments cannot be bound; the version is an integer from our own table above.
        db.pragma(`user_version = ${Math.trunc(m.version)}`);
        applied.push(m.version);
      }
      db.exec('COMMIT');
    } catch (e) {
      if (db.inTransaction) db.exec('ROLLBACK');
      throw e;
    }
  }
  return applied;
}
