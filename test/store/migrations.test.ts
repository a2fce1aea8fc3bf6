import { existsSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isPxeError } from '../../src/errors.js';
import { ALL_SYSTEMS_ID, X86_UNKNOWN_ID } from '../../src/site/model.js';
import { APPLICATION_ID, LATEST_SCHEMA_VERSION, MIGRATIONS, migrate, type Migration } from '../../src/store/sqlite/migrations.js';
import { DB_FILE_NAME, openSqliteRepository } from '../../src/store/sqlite/open.js';
import { device, makeTempDir, type TempDir } from './helpers.js';

let dir: TempDir;
let file: string;
beforeEach(() => {
  dir = makeTempDir();
  file = join(dir.path, 'data', 'nested', DB_FILE_NAME);
});
afterEach(() => dir.remove());

function raw<T>(fn: (db: Database.Database) => T): T {
  const db = new Database(file);
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

const history = (db: Database.Database) => db.prepare('SELECT version, name FROM schema_migrations ORDER BY version').all();

async function openClose(): Promise<void> {
  const repo = await openSqliteRepository({ dataDir: join(dir.path, 'data', 'nested') });
  await repo.close();
}

describe('opening', () => {
  it('creates the data dir and a WAL database with the current schema', async () => {
    const repo = await openSqliteRepository({ dataDir: join(dir.path, 'data', 'nested') });
    expect(existsSync(file)).toBe(true);
    await repo.close();
    raw((db) => {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal'); // persistent in the file
      expect(db.pragma('user_version', { simple: true })).toBe(LATEST_SCHEMA_VERSION);
      expect(db.pragma('application_id', { simple: true })).toBe(APPLICATION_ID);
      expect(history(db)).toEqual(MIGRATIONS.map((m) => ({ version: m.version, name: m.name })));
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    });
    // close() checkpointed: the WAL is empty or gone.
    const wal = `${file}-wal`;
    if (existsSync(wal)) expect(statSync(wal).size).toBe(0);
  });

  it('is idempotent on reopen: no migration runs twice, built-ins exist once, data survives', async () => {
    const repo = await openSqliteRepository({ dataDir: join(dir.path, 'data', 'nested') });
    await repo.devices.insert(device('16777400', { macs: ['52:54:00:00:04:00'] }));
    await repo.collections.update({ ...(await repo.collections.get(ALL_SYSTEMS_ID))!, comment: 'kept' });
    await repo.close();
    await openClose();
    await openClose();

    const again = await openSqliteRepository({ file });
    expect(await again.collections.count()).toBe(2);
    expect((await again.devices.list()).map((d) => d.id)).toEqual(['16777400', '2046820352', '2046820353']);
    expect((await again.collections.get(ALL_SYSTEMS_ID))?.comment).toBe('kept'); // built-ins are never overwritten
    expect((await again.devices.findByMac('52:54:00:00:04:00')).map((d) => d.id)).toEqual(['16777400']);
    await again.close();
    raw((db) => expect(history(db)).toHaveLength(MIGRATIONS.length));
  });

  it('recreates a missing built-in at the next open', async () => {
    const repo = await openSqliteRepository({ file: join(dir.path, 'x.db') });
    await repo.devices.delete(X86_UNKNOWN_ID);
    await repo.close();
    const again = await openSqliteRepository({ file: join(dir.path, 'x.db') });
    expect((await again.devices.get(X86_UNKNOWN_ID))?.name).toBe('x86 Unknown Computer');
    await again.close();
  });

  it('lets two connections (server and CLI) share the file', async () => {
    const server = await openSqliteRepository({ file: join(dir.path, 'shared.db') });
    const cli = await openSqliteRepository({ file: join(dir.path, 'shared.db') });
    await cli.devices.insert(device('16777410'));
    await server.transaction(async (tx) => {
      await tx.devices.update(device('16777410', { name: 'renamed by server' }));
    });
    expect((await cli.devices.get('16777410'))?.name).toBe('renamed by server');
    expect(await server.collections.count()).toBe(2); // the second open did not add built-ins again
    await cli.close();
    await server.close();
  });
});

describe('refusing files it must not touch', () => {
  it('refuses a database newer than the code with PXE_ERR_STORE_TOO_NEW and leaves it untouched', async () => {
    await openClose();
    raw((db) => db.pragma(`user_version = ${LATEST_SCHEMA_VERSION + 1}`));
    const err = await openSqliteRepository({ file }).catch((e: unknown) => e);
    expect(isPxeError(err) && err.code).toBe('PXE_ERR_STORE_TOO_NEW');
    expect((err as Error).message).toMatch(/upgrade pxepoint/);
    expect((err as Error).message).toContain(`version ${LATEST_SCHEMA_VERSION + 1}`);
    raw((db) => {
      expect(db.pragma('user_version', { simple: true })).toBe(LATEST_SCHEMA_VERSION + 1);
      expect(history(db)).toHaveLength(MIGRATIONS.length);
    });
  });

  it("refuses another application's SQLite file with PXE_ERR_STORE_FOREIGN", async () => {
    const other = join(dir.path, 'other.db');
    const db = new Database(other);
    db.pragma('application_id = 42');
    db.exec('CREATE TABLE mine (x)');
    db.close();
    await expect(openSqliteRepository({ file: other })).rejects.toMatchObject({ code: 'PXE_ERR_STORE_FOREIGN' });
  });

  it('reports a file that is not a database with PXE_ERR_STORE_OPEN', async () => {
    const junk = join(dir.path, 'junk.db');
    writeFileSync(junk, 'this is not an SQLite database, just some text long enough to have a header '.repeat(20));
    const err = await openSqliteRepository({ file: junk }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'PXE_ERR_STORE_OPEN' });
    expect((err as Error).message).toContain(junk);
  });
});

describe('migrate()', () => {
  // These scenarios add their own version 2 on top of the first release's schema alone.
  const V1 = MIGRATIONS.filter((m) => m.version === 1);
  const v2: Migration = { version: 2, name: 'add thing', up: 'CREATE TABLE thing (id TEXT PRIMARY KEY);' };

  it('applies only newer migrations, each recorded once with user_version in step', () => {
    const db = new Database(':memory:');
    expect(migrate(db, ':memory:', V1)).toEqual([1]);
    expect(migrate(db, ':memory:', [...V1, v2])).toEqual([2]);
    expect(migrate(db, ':memory:', [...V1, v2])).toEqual([]);
    expect(db.pragma('user_version', { simple: true })).toBe(2);
    expect(history(db)).toEqual([
      { version: 1, name: 'initial schema' },
      { version: 2, name: 'add thing' },
    ]);
    // The old code now refuses this file.
    expect(() => migrate(db, ':memory:', V1)).toThrow(expect.objectContaining({ code: 'PXE_ERR_STORE_TOO_NEW' }));
    db.close();
  });

  it('migration 7 drops the unused dhcp_leases mac index from a version-6 file and keeps its leases', () => {
    const db = new Database(':memory:');
    migrate(db, ':memory:', MIGRATIONS.filter((m) => m.version <= 6));
    const indexes = (): unknown[] => db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'dhcp_leases' AND sql IS NOT NULL").all();
    expect(indexes()).toEqual([{ name: 'dhcp_leases_mac' }]);
    db.prepare("INSERT INTO dhcp_leases (ip, mac, subnet, state, expires_at, updated_at) VALUES ('10.77.0.100', '52:54:00:00:00:01', '10.77.0.0/24', 'bound', 1, 1)").run();
    expect(migrate(db, ':memory:')).toEqual(MIGRATIONS.filter((m) => m.version > 6).map((m) => m.version));
    expect(indexes()).toEqual([]);
    expect(db.prepare('SELECT ip, mac FROM dhcp_leases').all()).toEqual([{ ip: '10.77.0.100', mac: '52:54:00:00:00:01' }]);
    db.close();
  });

  it('rolls a failing migration back completely', () => {
    const db = new Database(':memory:');
    migrate(db, ':memory:', V1);
    const broken: Migration = { version: 2, name: 'broken', up: 'CREATE TABLE half (x); CREATE TABLE devices (x);' };
    expect(() => migrate(db, ':memory:', [...V1, broken])).toThrow(/already exists/);
    expect(db.pragma('user_version', { simple: true })).toBe(1);
    expect(history(db)).toHaveLength(1);
    expect(db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'half'").get()).toEqual({ n: 0 });
    db.close();
  });
});
