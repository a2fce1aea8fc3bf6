/** The credential store (migration 2, store/sqlite/credential-table.ts): hashes only, atomic one-time use, cascades. */
import { mkdtempSync, rmSync } from 'node:fs';
import { runCli } from '../support/cli.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { BootToken, ClientSession, Device } from '../../src/site/model.js';
import type { SiteRepository } from '../../src/site/repository.js';
import { LATEST_SCHEMA_VERSION, MIGRATIONS } from '../../src/store/sqlite/migrations.js';
import { openSqliteRepository } from '../../src/store/sqlite/open.js';

let repo: SiteRepository;
beforeEach(async () => {
  repo = await openSqliteRepository({ file: ':memory:' });
});
afterEach(() => repo.close());

const token = (id: string, over: Partial<BootToken> = {}): BootToken => ({
  id, hash: `hash-${id}`, macs: ['52:54:00:00:00:01'], smbiosGuid: null, deviceId: null, bootSource: 'pxe', variables: [],
  issuedBy: 'test', issuedAt: '2026-11-26T08:00:00.000Z', expiresAt: '2026-11-26T08:30:00.000Z', usedAt: null, ...over,
});

const device = (id: string): Device => ({
  id, name: `pc-${id}`, macs: [], smbiosGuid: null, architecture: 'x64', isSiteSystem: false, isServer: false, unknownObject: null,
  provisional: false, variables: [], pxe: { lastPxeDeploymentId: null, lastPxeDeploymentTime: null }, createdAt: 'now', modifiedAt: 'now',
});

const session = (id: string, deviceId: string | null): ClientSession => ({
  id, hash: `hash-${id}`, macs: [], smbiosGuid: null, architecture: 'x64', bootSource: 'pxe', deviceId, unknownObjectId: null, pendingDeviceId: null,
  variables: [], utcOffsetMinutes: 0, deploymentIds: [], credential: { kind: 'pxe-token', id: 't' }, createdAt: 'now', expiresAt: '2026-11-26T16:00:00.000Z',
});

describe('migration 2: client credentials', () => {
  it('is appended after the initial schema', () => {
    expect(MIGRATIONS.find((m) => m.name === 'client credentials')?.version).toBe(2);
    expect(LATEST_SCHEMA_VERSION).toBeGreaterThanOrEqual(2);
  });
});

describe('boot tokens', () => {
  it('are found by hash, and consumed exactly once', async () => {
    await repo.credentials.bootTokens.insert(token('a'));
    expect(await repo.credentials.bootTokens.findByHash('hash-a')).toMatchObject({ id: 'a', usedAt: null });
    expect(await repo.credentials.bootTokens.findByHash('hash-b')).toBeUndefined();
    expect(await repo.credentials.bootTokens.consume('a', '2026-11-26T08:01:00.000Z')).toMatchObject({ id: 'a', usedAt: '2026-11-26T08:01:00.000Z' });
    expect(await repo.credentials.bootTokens.consume('a', '2026-11-26T08:02:00.000Z')).toBeUndefined();
    expect((await repo.credentials.bootTokens.get('a'))!.usedAt).toBe('2026-11-26T08:01:00.000Z');
    expect(await repo.credentials.bootTokens.consume('nope', 'x')).toBeUndefined();
  });

  it('concurrent consumption: one winner', async () => {
    await repo.credentials.bootTokens.insert(token('a'));
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => repo.credentials.bootTokens.consume('a', `t${i}`)));
    expect(results.filter((r) => r !== undefined)).toHaveLength(1);
  });

  it('a consumption inside a failed transaction is rolled back', async () => {
    await repo.credentials.bootTokens.insert(token('a'));
    await expect(repo.transaction(async (tx) => {
      await tx.credentials.bootTokens.consume('a', 'now');
      throw new Error('boom');
    })).rejects.toThrow('boom');
    expect((await repo.credentials.bootTokens.get('a'))!.usedAt).toBeNull();
  });

  it('have unique hashes, and expired ones are purged', async () => {
    await repo.credentials.bootTokens.insert(token('a'));
    await expect(repo.credentials.bootTokens.insert(token('b', { hash: 'hash-a' }))).rejects.toMatchObject({ code: 'PXE_ERR_CONFLICT' });
    await repo.credentials.bootTokens.insert(token('old', { expiresAt: '2026-11-20T00:00:00.000Z' }));
    expect(await repo.credentials.bootTokens.purgeExpired('2026-11-25T00:00:00.000Z')).toBe(1);
    expect(await repo.credentials.bootTokens.count()).toBe(1);
  });
});

describe('client keys and sessions', () => {
  it('go with their device', async () => {
    await repo.devices.insert(device('16777300'));
    await repo.credentials.clientKeys.insert({ id: 'k', hash: 'hk', deviceId: '16777300', createdBy: 't', createdAt: 'now', lastUsedAt: null });
    await repo.credentials.sessions.insert(session('s', '16777300'));
    await repo.credentials.sessions.insert(session('u', null));
    expect(await repo.credentials.clientKeys.listByDevice('16777300')).toHaveLength(1);
    expect(await repo.credentials.sessions.findByHash('hash-s')).toMatchObject({ deviceId: '16777300' });
    await repo.devices.delete('16777300');
    expect(await repo.credentials.clientKeys.findByHash('hk')).toBeUndefined();
    expect(await repo.credentials.sessions.get('s')).toBeUndefined();
    expect(await repo.credentials.sessions.get('u')).toBeDefined();
  });

  it('a key for a device that does not exist is refused', async () => {
    await expect(repo.credentials.clientKeys.insert({ id: 'k', hash: 'hk', deviceId: '404', createdBy: 't', createdAt: 'now', lastUsedAt: null })).rejects.toThrow();
  });
});

describe('client status rows', () => {
  it('can be removed (a run\'s history moving to another record)', async () => {
    await repo.clientStatus.put({ deviceId: 'D', deploymentId: 'PXP20001', state: 9, lastMessageId: null, lastMessage: '', updatedAt: 'now' });
    expect(await repo.clientStatus.remove('D', 'PXP20001')).toBe(true);
    expect(await repo.clientStatus.remove('D', 'PXP20001')).toBe(false);
  });
});

describe('pxepoint boot-token issue', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'pxepoint-boot-token-'));
  });
  afterEach(() => {
    vi.restoreAllMocks();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const cli = (...argv: string[]) => runCli(dataDir, ...argv);

  it('prints a one-time token bound to the machine, stored hashed and audited', async () => {
    const r = await cli('boot-token', 'issue', '--mac', '52-54-00-77-00-10', '--mac', '52:54:00:77:00:11', '--guid', '4b1d0000-7777-4000-8000-000000000010', '--ttl', '600', '--json');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const issued = JSON.parse(r.out) as { token: string; id: string; expiresAt: string };
    expect(issued.token).toMatch(/^pxb_/);
    const store = await openSqliteRepository({ dataDir });
    try {
      const stored = (await store.credentials.bootTokens.get(issued.id))!;
      expect(stored).toMatchObject({ macs: ['52:54:00:77:00:10', '52:54:00:77:00:11'], smbiosGuid: '4b1d0000-7777-4000-8000-000000000010', bootSource: 'pxe' });
      expect(JSON.stringify(stored)).not.toContain(issued.token);
      expect((await store.statusMessages.list({ kind: 'audit' })).at(-1)).toMatchObject({ component: 'cli', data: { action: 'issue-boot-token', id: issued.id } });
    } finally {
      await store.close();
    }
    const plain = await cli('boot-token', 'issue', '--mac', '52:54:00:77:00:10', '--boot', 'media');
    expect(plain.out).toMatch(/^pxb_\S+\n\(one-time media boot token/);
  });

  it('refuses bad usage', async () => {
    expect((await cli('boot-token', 'issue')).code).toBe(2);
    expect((await cli('boot-token', 'issue', '--mac', '52:54:00:77:00:10', '--boot', 'full-os')).code).toBe(2);
    expect((await cli('boot-token', 'issue', '--mac', 'nonsense')).code).toBe(1);
    expect((await cli('boot-token', 'revoke')).code).toBe(2);
  });
});
