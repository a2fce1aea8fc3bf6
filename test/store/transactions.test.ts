/**
 * The async transaction over one synchronous connection: prove that nothing
 * interleaves with a transaction that is awaiting, and that a failed transaction
 * leaves nothing behind.
 */
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SiteRepository } from '../../src/site/repository.js';
import { migrate } from '../../src/store/sqlite/migrations.js';
import { openSqliteRepository } from '../../src/store/sqlite/open.js';
import { createSqliteRepository } from '../../src/store/sqlite/repository.js';
import { prepareTables } from '../../src/store/sqlite/tables.js';
import { TransactionGate } from '../../src/store/sqlite/transaction-gate.js';
import { collection, device, makeTempDir, statusMessage, type TempDir } from './helpers.js';

const tick = (ms = 5): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A promise plus its resolve function: lets a test hold a transaction open. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return { opened, open };
}

let dir: TempDir;
let repo: SiteRepository;
beforeEach(async () => {
  dir = makeTempDir();
  repo = await openSqliteRepository({ dataDir: dir.path });
});
afterEach(async () => {
  await repo.close();
  dir.remove();
});

describe('transaction isolation on the one connection', () => {
  it('runs two concurrent transactions one after the other, never interleaved', async () => {
    const log: string[] = [];
    const body = (name: string, ids: string[]) => async (tx: SiteRepository) => {
      log.push(`${name} begin`);
      for (const id of ids) {
        await tx.devices.insert(device(id));
        await tick();
        log.push(`${name} wrote ${id}`);
        // Only this transaction's own rows are visible inside it.
        const mine = (await tx.devices.list()).filter((d) => d.id.startsWith('9'));
        expect(mine.every((d) => ids.includes(d.id) || d.id < ids[0]!)).toBe(true);
      }
      log.push(`${name} end`);
      return name;
    };
    const [a, b] = await Promise.all([
      repo.transaction(body('A', ['900', '901', '902'])),
      repo.transaction(body('B', ['910', '911', '912'])),
    ]);
    expect([a, b]).toEqual(['A', 'B']);
    expect(log).toEqual([
      'A begin', 'A wrote 900', 'A wrote 901', 'A wrote 902', 'A end',
      'B begin', 'B wrote 910', 'B wrote 911', 'B wrote 912', 'B end',
    ]);
    expect(await repo.devices.count()).toBe(2 + 6);
  });

  it('makes a plain call wait for the running transaction, so it sees only committed data', async () => {
    const hold = gate();
    const started = gate();
    const tx = repo.transaction(async (t) => {
      await t.devices.insert(device('16777300'));
      started.open();
      await hold.opened;
      await t.devices.update(device('16777300', { name: 'final' }));
    });
    await started.opened;
    let settled = false;
    const read = repo.devices.get('16777300').then((d) => {
      settled = true;
      return d;
    });
    await tick(20);
    expect(settled).toBe(false); // waiting for the transaction, not reading its uncommitted row
    hold.open();
    await tx;
    expect((await read)?.name).toBe('final');
  });

  it("keeps a plain write made during another caller's transaction out of that transaction", async () => {
    const hold = gate();
    const started = gate();
    const failing = repo.transaction(async (t) => {
      await t.devices.insert(device('16777310'));
      started.open();
      await hold.opened;
      throw new Error('boom');
    });
    await started.opened;
    // Issued while the failing transaction is open and awaiting: must not be rolled back with it.
    const plainWrite = repo.collections.insert(collection('PXP00400'));
    hold.open();
    await expect(failing).rejects.toThrow('boom');
    await plainWrite;
    expect(await repo.collections.get('PXP00400')).toBeDefined();
    expect(await repo.devices.get('16777310')).toBeUndefined();
  });

  it('serves waiting callers in arrival order', async () => {
    // The sequence values show the order in which the operations really ran.
    const hold = gate();
    const first = repo.transaction(async (tx) => {
      await hold.opened;
      return tx.nextSequence('device');
    });
    const plain1 = repo.nextSequence('device');
    const second = repo.transaction(async (tx) => tx.nextSequence('device'));
    const plain2 = repo.nextSequence('device');
    hold.open();
    expect(await Promise.all([first, plain1, second, plain2])).toEqual([1, 2, 3, 4]);
  });
});

describe('rollback', () => {
  it('leaves nothing behind when the function throws, and rethrows the same error', async () => {
    const failure = new Error('deploy rule failed');
    const seqBefore = await repo.nextSequence('collection');
    const caught = await repo
      .transaction(async (tx) => {
        await tx.devices.insert(device('16777320', { macs: ['52:54:00:00:03:20'], smbiosGuid: '4b1d0000-7777-4000-8000-000000000320' }));
        await tick();
        await tx.collections.update({ ...(await tx.collections.get('SMS00001'))!, comment: 'changed' });
        await tx.statusMessages.append(statusMessage({ deviceId: '16777320' }));
        await tx.clientStatus.put({ deviceId: '16777320', deploymentId: 'PXP20001', state: 9, lastMessageId: null, lastMessage: '', updatedAt: 'now' });
        await tx.putSettings({ ...(await tx.getSettings()), siteName: 'changed' });
        await tx.nextSequence('collection');
        throw failure;
      })
      .catch((e: unknown) => e);
    expect(caught).toBe(failure);
    expect(await repo.devices.get('16777320')).toBeUndefined();
    expect(await repo.devices.findByMac('52:54:00:00:03:20')).toEqual([]);
    expect(await repo.devices.findBySmbiosGuid('4b1d0000-7777-4000-8000-000000000320')).toEqual([]);
    expect((await repo.collections.get('SMS00001'))?.comment).toBe('');
    expect(await repo.statusMessages.list()).toEqual([]);
    expect(await repo.clientStatus.listByDevice('16777320')).toEqual([]);
    expect((await repo.getSettings()).siteName).toBe('pxepoint site');
    expect(await repo.nextSequence('collection')).toBe(seqBefore + 1);
  });

  it('commits everything when the function resolves, and returns its value', async () => {
    const result = await repo.transaction(async (tx) => {
      await tx.devices.insert(device('16777330'));
      await tick();
      const m = await tx.statusMessages.append(statusMessage({ deviceId: '16777330' }));
      return m.id;
    });
    expect(await repo.devices.get('16777330')).toBeDefined();
    expect((await repo.statusMessages.list({ deviceId: '16777330' }))[0]?.id).toBe(result);
  });

  it('lets the function recover from a refused single write (it was atomic on its own)', async () => {
    await repo.devices.insert(device('16777340', { macs: ['52:54:00:00:03:40'] }));
    await repo.transaction(async (tx) => {
      await expect(tx.devices.insert(device('16777340', { macs: ['52:54:00:00:03:41'] }))).rejects.toMatchObject({ code: 'PXE_ERR_CONFLICT' });
      await tx.devices.insert(device('16777341'));
    });
    expect(await repo.devices.get('16777341')).toBeDefined();
    expect(await repo.devices.findByMac('52:54:00:00:03:41')).toEqual([]);
  });
});

describe('nested transactions', () => {
  it('join the outer transaction: committed together', async () => {
    await repo.transaction(async (tx) => {
      await tx.devices.insert(device('16777350'));
      const inner = await tx.transaction(async (tx2) => {
        expect(await tx2.devices.get('16777350')).toBeDefined(); // sees the outer write
        await tx2.devices.insert(device('16777351'));
        return 'inner';
      });
      expect(inner).toBe('inner');
    });
    expect(await repo.devices.get('16777351')).toBeDefined();
  });

  it('roll back the outer transaction when they fail, even if the error is caught', async () => {
    const err = await repo
      .transaction(async (tx) => {
        await tx.devices.insert(device('16777360'));
        await tx
          .transaction(async (tx2) => {
            await tx2.devices.insert(device('16777361'));
            throw new Error('inner failed');
          })
          .catch(() => undefined);
        await tx.devices.insert(device('16777362'));
      })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'PXE_ERR_STORE_TX_ROLLBACK_ONLY' });
    expect((err as Error).cause).toMatchObject({ message: 'inner failed' });
    for (const id of ['16777360', '16777361', '16777362']) expect(await repo.devices.get(id)).toBeUndefined();
  });
});

describe('calls through the root handle from inside its own transaction', () => {
  it('queue behind the transaction when not awaited by it (e.g. an event subscriber)', async () => {
    let background: Promise<unknown> | undefined;
    await repo.transaction(async (tx) => {
      await tx.devices.insert(device('16777370'));
      // Fire and forget through the root handle: runs after the commit, outside the transaction.
      background = repo.statusMessages.append(statusMessage({ deviceId: '16777370' }));
      await tick(10);
    });
    await background;
    expect(await repo.statusMessages.list({ deviceId: '16777370' })).toHaveLength(1);
  });

  it('fail with PXE_ERR_STORE_WRONG_HANDLE instead of hanging when the transaction awaits them', async () => {
    const db = new Database(':memory:');
    migrate(db, ':memory:');
    const gateWithShortWait = new TransactionGate(db, { selfWaitMs: 50 });
    const own = createSqliteRepository(prepareTables(db), gateWithShortWait);
    const err = await own
      .transaction(async (tx) => {
        await tx.devices.insert(device('16777371'));
        await own.devices.get('16777371'); // wrong handle: waits for its own transaction
      })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'PXE_ERR_STORE_WRONG_HANDLE' });
    expect(await own.devices.get('16777371')).toBeUndefined(); // rolled back
    await expect(own.transaction(async () => own.transaction(async () => 1))).rejects.toMatchObject({
      code: 'PXE_ERR_STORE_WRONG_HANDLE',
    });
    // The store is still usable afterwards.
    await own.devices.insert(device('16777372'));
    expect(await own.devices.count()).toBe(1);
    await own.close();
  });

  it('refuse a tx handle used after its transaction ended', async () => {
    let leaked: SiteRepository | undefined;
    await repo.transaction(async (tx) => {
      leaked = tx;
    });
    await expect(leaked!.devices.insert(device('16777380'))).rejects.toMatchObject({ code: 'PXE_ERR_STORE_TX_ENDED' });
    expect(await repo.devices.get('16777380')).toBeUndefined();
  });

  it('refuse close() on a tx handle', async () => {
    await expect(repo.transaction(async (tx) => tx.close())).rejects.toMatchObject({ code: 'PXE_ERR_STORE_CLOSE_IN_TX' });
  });
});

describe('close', () => {
  it('waits for the running transaction, then refuses further use', async () => {
    const hold = gate();
    const tx = repo.transaction(async (t) => {
      await hold.opened;
      await t.devices.insert(device('16777390'));
    });
    const closing = repo.close();
    const afterClose = repo.devices.count();
    hold.open();
    await tx;
    await closing;
    await expect(afterClose).rejects.toMatchObject({ code: 'PXE_ERR_STORE_CLOSED' });
    await expect(repo.devices.count()).rejects.toMatchObject({ code: 'PXE_ERR_STORE_CLOSED' });
    await expect(repo.transaction(async () => 1)).rejects.toMatchObject({ code: 'PXE_ERR_STORE_CLOSED' });
    await repo.close(); // idempotent

    repo = await openSqliteRepository({ dataDir: dir.path });
    expect(await repo.devices.get('16777390')).toBeDefined();
  });
});

describe('another process holding the write lock', () => {
  it('turns SQLITE_BUSY after the busy timeout into PXE_ERR_STORE_BUSY and recovers afterwards', async () => {
    const file = `${dir.path}/busy.db`;
    const db = new Database(file, { timeout: 50 }); // short busy timeout so the test does not block 5 s
    db.pragma('journal_mode = WAL');
    migrate(db, file);
    const ours = createSqliteRepository(prepareTables(db), new TransactionGate(db));
    const otherProcess = new Database(file);
    otherProcess.exec('BEGIN IMMEDIATE');
    try {
      await expect(ours.transaction(async (tx) => tx.devices.insert(device('16777395')))).rejects.toMatchObject({ code: 'PXE_ERR_STORE_BUSY' });
      await expect(ours.devices.insert(device('16777396'))).rejects.toMatchObject({ code: 'PXE_ERR_STORE_BUSY' });
      expect(await ours.devices.count()).toBe(0); // readers are not blocked in WAL mode
    } finally {
      otherProcess.exec('ROLLBACK');
      otherProcess.close();
    }
    await ours.transaction(async (tx) => tx.devices.insert(device('16777395')));
    expect(await ours.devices.count()).toBe(1);
    await ours.close();
  });
});
