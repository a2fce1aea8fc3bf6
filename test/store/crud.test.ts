import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isPxeError } from '../../src/errors.js';
import { DEFAULT_SITE_SETTINGS, X64_UNKNOWN_ID, X86_UNKNOWN_ID, type Device } from '../../src/site/model.js';
import type { Entity, EntityStore, SiteRepository } from '../../src/site/repository.js';
import { openSqliteRepository } from '../../src/store/sqlite/open.js';
import {
  bootImage,
  boundaryGroup,
  collection,
  deployment,
  device,
  distributionPoint,
  dpGroup,
  pkg,
  statusMessage,
  taskSequence,
  template,
  token,
} from './helpers.js';

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (isPxeError(e)) return e.code;
    throw e;
  }
  throw new Error('expected a rejection');
}

let repo: SiteRepository;
beforeEach(async () => {
  repo = await openSqliteRepository({ file: ':memory:' });
});
afterEach(async () => {
  await repo.close();
});

interface Kind<T extends Entity> {
  name: string;
  store: (r: SiteRepository) => EntityStore<T>;
  make: (id: string) => T;
  /** Ids that exist from the start (built-ins). */
  preexisting: number;
}
const kind = <T extends Entity>(k: Kind<T>): Kind<Entity> => k as unknown as Kind<Entity>;

const KINDS: Kind<Entity>[] = [
  kind({ name: 'devices', store: (r) => r.devices, make: (id) => device(id, { macs: ['52:54:00:00:00:01'] }), preexisting: 2 }),
  kind({ name: 'collections', store: (r) => r.collections, make: (id) => collection(id), preexisting: 2 }),
  kind({ name: 'packages', store: (r) => r.packages, make: pkg, preexisting: 0 }),
  kind({ name: 'bootImages', store: (r) => r.bootImages, make: bootImage, preexisting: 0 }),
  kind({ name: 'taskSequences', store: (r) => r.taskSequences, make: taskSequence, preexisting: 0 }),
  kind({ name: 'distributionPoints', store: (r) => r.distributionPoints, make: distributionPoint, preexisting: 0 }),
  kind({ name: 'dpGroups', store: (r) => r.dpGroups, make: dpGroup, preexisting: 0 }),
  kind({ name: 'boundaryGroups', store: (r) => r.boundaryGroups, make: boundaryGroup, preexisting: 0 }),
  kind({ name: 'deployments', store: (r) => r.deployments, make: deployment, preexisting: 0 }),
  kind({ name: 'templates', store: (r) => r.templates, make: template, preexisting: 0 }),
  kind({ name: 'tokens', store: (r) => r.tokens, make: (id) => token(id), preexisting: 0 }),
];

describe.each(KINDS)('$name CRUD', (k) => {
  it('round-trips insert, get, list, update, count, delete', async () => {
    const s = k.store(repo);
    const a = k.make('PXP00101');
    const b = k.make('PXP00102');
    expect(await s.insert(a)).toEqual(a);
    await s.insert(b);
    expect(await s.get('PXP00101')).toEqual(a);
    expect(await s.get('nope')).toBeUndefined();
    expect(await s.count()).toBe(k.preexisting + 2);
    const listed = await s.list();
    expect(listed.filter((e) => e.id.startsWith('PXP001'))).toEqual([a, b]);

    const changed = { ...a, modifiedAt: '2026-12-01T00:00:00.000Z' };
    expect(await s.update(changed)).toEqual(changed);
    expect(await s.get('PXP00101')).toEqual(changed);

    expect(await s.delete('PXP00101')).toBe(true);
    expect(await s.delete('PXP00101')).toBe(false);
    expect(await s.get('PXP00101')).toBeUndefined();
    expect(await s.count()).toBe(k.preexisting + 1);
  });

  it('refuses a duplicate id with PXE_ERR_CONFLICT and an unknown id on update with PXE_ERR_NOT_FOUND', async () => {
    const s = k.store(repo);
    await s.insert(k.make('PXP00201'));
    const dup = k.make('PXP00201');
    expect(await codeOf(s.insert(dup))).toBe('PXE_ERR_CONFLICT');
    expect(await codeOf(s.update(k.make('PXP00999')))).toBe('PXE_ERR_NOT_FOUND');
    expect(await s.get('PXP00999')).toBeUndefined();
  });

  it('returns copies: mutating a result does not change the store', async () => {
    const s = k.store(repo);
    const a = k.make('PXP00301');
    const got = await s.insert(a);
    (got as unknown as { id: string }).id = 'mutated';
    const read = (await s.get('PXP00301')) as unknown as Record<string, unknown>;
    read['extra'] = 1;
    expect(await s.get('PXP00301')).toEqual(a);
  });
});

it('refuses an entity without a string id (SQLite would accept NULL in a TEXT primary key)', async () => {
  expect(await codeOf(repo.packages.insert({ ...pkg('x'), id: undefined as unknown as string }))).toBe('PXE_ERR_INVALID');
  expect(await codeOf(repo.packages.insert({ ...pkg('x'), id: '' }))).toBe('PXE_ERR_INVALID');
});

it('conflict and not-found errors name the kind so the message says what to fix', async () => {
  await repo.bootImages.insert(bootImage('PXP00003'));
  const err = await repo.bootImages.insert(bootImage('PXP00003')).catch((e: unknown) => e);
  expect(isPxeError(err) && err.status).toBe(409);
  expect(String((err as Error).message)).toContain('boot-image "PXP00003" already exists');
  const missing = await repo.taskSequences.update(taskSequence('PXP00077')).catch((e: unknown) => e);
  expect(isPxeError(missing) && missing.details).toMatchObject({ kind: 'task-sequence', id: 'PXP00077' });
});

describe('device lookups', () => {
  const MAC_A = '52:54:00:77:00:10';
  const MAC_B = '52:54:00:77:00:11';
  const GUID = '4b1d0000-7777-4000-8000-000000000010';

  it('finds devices by MAC and GUID, including duplicates', async () => {
    await repo.devices.insert(device('16777220', { macs: [MAC_A, MAC_B], smbiosGuid: GUID }));
    await repo.devices.insert(device('16777221', { macs: [MAC_A], smbiosGuid: GUID }));
    await repo.devices.insert(device('16777222', { macs: ['52:54:00:77:00:99'] }));

    expect((await repo.devices.findByMac(MAC_A)).map((d) => d.id)).toEqual(['16777220', '16777221']);
    expect((await repo.devices.findByMac(MAC_B)).map((d) => d.id)).toEqual(['16777220']);
    expect((await repo.devices.findBySmbiosGuid(GUID)).map((d) => d.id)).toEqual(['16777220', '16777221']);
    expect(await repo.devices.findByMac('00:00:00:00:00:00')).toEqual([]);
    expect(await repo.devices.findBySmbiosGuid('00000000-0000-0000-0000-000000000000')).toEqual([]);
  });

  it('compares identifiers in normalised form', async () => {
    await repo.devices.insert(device('16777230', { macs: [MAC_A], smbiosGuid: GUID }));
    expect((await repo.devices.findByMac('52-54-00-77-00-10')).map((d) => d.id)).toEqual(['16777230']);
    expect((await repo.devices.findByMac('525400770010')).map((d) => d.id)).toEqual(['16777230']);
    expect((await repo.devices.findBySmbiosGuid(`{${GUID.toUpperCase()}}`)).map((d) => d.id)).toEqual(['16777230']);
  });

  it('follows updates: an old MAC and GUID no longer find the device', async () => {
    const d = device('16777240', { macs: [MAC_A, MAC_B], smbiosGuid: GUID });
    await repo.devices.insert(d);
    const newGuid = '4b1d0000-7777-4000-8000-0000000000ff';
    await repo.devices.update({ ...d, macs: [MAC_B, '52:54:00:77:00:12'], smbiosGuid: newGuid });

    expect(await repo.devices.findByMac(MAC_A)).toEqual([]);
    expect((await repo.devices.findByMac(MAC_B))[0]?.smbiosGuid).toBe(newGuid);
    expect((await repo.devices.findByMac('52:54:00:77:00:12')).map((d) => d.id)).toEqual(['16777240']);
    expect(await repo.devices.findBySmbiosGuid(GUID)).toEqual([]);
    expect((await repo.devices.findBySmbiosGuid(newGuid)).map((x) => x.id)).toEqual(['16777240']);

    await repo.devices.update({ ...d, macs: [], smbiosGuid: null });
    expect(await repo.devices.findByMac(MAC_B)).toEqual([]);
    expect(await repo.devices.findBySmbiosGuid(newGuid)).toEqual([]);
  });

  it('forgets the MACs of a deleted device', async () => {
    await repo.devices.insert(device('16777250', { macs: [MAC_A] }));
    await repo.devices.delete('16777250');
    expect(await repo.devices.findByMac(MAC_A)).toEqual([]);
  });

  it('a refused duplicate insert leaves the MAC index of the existing device intact', async () => {
    await repo.devices.insert(device('16777260', { macs: [MAC_A] }));
    await expect(repo.devices.insert(device('16777260', { macs: [MAC_B] }))).rejects.toMatchObject({ code: 'PXE_ERR_CONFLICT' });
    expect((await repo.devices.findByMac(MAC_A)).map((d) => d.id)).toEqual(['16777260']);
    expect(await repo.devices.findByMac(MAC_B)).toEqual([]);
  });

  it('a device listing the same MAC twice is indexed once', async () => {
    await repo.devices.insert(device('16777270', { macs: [MAC_A, MAC_A] }));
    expect(await repo.devices.findByMac(MAC_A)).toHaveLength(1);
  });
});

describe('tokens', () => {
  it('finds a token by hash and refuses a second token with the same hash', async () => {
    await repo.tokens.insert(token('PXP00050', 'ab'.repeat(32)));
    expect((await repo.tokens.findByHash('ab'.repeat(32)))?.id).toBe('PXP00050');
    expect(await repo.tokens.findByHash('cd'.repeat(32))).toBeUndefined();
    const err = await repo.tokens.insert(token('PXP00051', 'ab'.repeat(32))).catch((e: unknown) => e);
    expect(isPxeError(err) && err.code).toBe('PXE_ERR_CONFLICT');
    expect((err as Error).message).toContain('hash');
    // Rotating the hash on update moves the index entry.
    await repo.tokens.update({ ...token('PXP00050'), hash: 'ef'.repeat(32) });
    expect(await repo.tokens.findByHash('ab'.repeat(32))).toBeUndefined();
    expect((await repo.tokens.findByHash('ef'.repeat(32)))?.id).toBe('PXP00050');
  });
});

describe('status messages', () => {
  it('assigns increasing ids and round-trips every field', async () => {
    const m = statusMessage({ deviceId: '16777220', deploymentId: 'PXP20001', data: { step: 3, nested: { ok: true } } });
    const a = await repo.statusMessages.append(m);
    const b = await repo.statusMessages.append(statusMessage());
    expect(b.id).toBeGreaterThan(a.id);
    expect(a).toEqual({ id: a.id, ...m });
    expect(await repo.statusMessages.list()).toEqual([a, b]);
  });

  it('filters by kind, device, deployment, afterId and limit (oldest first)', async () => {
    const rows = [
      statusMessage({ kind: 'audit', deviceId: null, deploymentId: 'PXP20001' }),
      statusMessage({ kind: 'status', deviceId: 'D1', deploymentId: 'PXP20001' }),
      statusMessage({ kind: 'status', deviceId: 'D2', deploymentId: 'PXP20001' }),
      statusMessage({ kind: 'status', deviceId: 'D1', deploymentId: 'PXP20002' }),
      statusMessage({ kind: 'audit', deviceId: 'D1', deploymentId: null }),
    ];
    const ids: number[] = [];
    for (const r of rows) ids.push((await repo.statusMessages.append(r)).id);
    const q = async (query: Parameters<SiteRepository['statusMessages']['list']>[0]): Promise<number[]> =>
      (await repo.statusMessages.list(query)).map((m) => ids.indexOf(m.id));

    expect(await q({})).toEqual([0, 1, 2, 3, 4]);
    expect(await q({ kind: 'audit' })).toEqual([0, 4]);
    expect(await q({ deviceId: 'D1' })).toEqual([1, 3, 4]);
    expect(await q({ deploymentId: 'PXP20001' })).toEqual([0, 1, 2]);
    expect(await q({ deviceId: 'D1', deploymentId: 'PXP20001' })).toEqual([1]);
    expect(await q({ kind: 'status', deviceId: 'D1' })).toEqual([1, 3]);
    expect(await q({ afterId: ids[1] })).toEqual([2, 3, 4]);
    expect(await q({ afterId: ids[1], limit: 2 })).toEqual([2, 3]);
    expect(await q({ deviceId: 'D1', afterId: ids[1], limit: 1 })).toEqual([3]);
    expect(await q({ limit: 0 })).toEqual([]);
    expect(await q({ deviceId: 'nobody' })).toEqual([]);
    await expect(repo.statusMessages.list({ limit: -1 })).rejects.toMatchObject({ code: 'PXE_ERR_INVALID' });
  });
});

describe('client status', () => {
  it('puts (insert or replace) and lists by deployment and device', async () => {
    const s = (deviceId: string, deploymentId: string, state: 9 | 11 | 13) => ({
      deviceId,
      deploymentId,
      state,
      lastMessageId: null,
      lastMessage: '',
      updatedAt: '2026-11-26T08:00:00.000Z',
    });
    await repo.clientStatus.put(s('D1', 'PXP20001', 9));
    await repo.clientStatus.put(s('D2', 'PXP20001', 11));
    await repo.clientStatus.put(s('D1', 'PXP20002', 9));
    await repo.clientStatus.put(s('D1', 'PXP20001', 13)); // replaces

    expect(await repo.clientStatus.get('D1', 'PXP20001')).toEqual(s('D1', 'PXP20001', 13));
    expect(await repo.clientStatus.get('D9', 'PXP20001')).toBeUndefined();
    expect(await repo.clientStatus.listByDeployment('PXP20001')).toEqual([s('D1', 'PXP20001', 13), s('D2', 'PXP20001', 11)]);
    expect(await repo.clientStatus.listByDevice('D1')).toEqual([s('D1', 'PXP20001', 13), s('D1', 'PXP20002', 9)]);
  });
});

describe('settings', () => {
  it('defaults to DEFAULT_SITE_SETTINGS and round-trips a put', async () => {
    const initial = await repo.getSettings();
    expect(initial).toEqual(DEFAULT_SITE_SETTINGS);
    initial.siteCode = 'MUT'; // a returned copy must not alias the shared default
    expect(DEFAULT_SITE_SETTINGS.siteCode).toBe('PXP');
    const next = { ...DEFAULT_SITE_SETTINGS, siteCode: 'LAB', deploymentVerification: { defaultSize: 50, maximumSize: 500, siteSystemCollections: 'block' as const } };
    await repo.putSettings(next);
    expect(await repo.getSettings()).toEqual(next);
    await repo.putSettings({ ...next, siteName: 'second' });
    expect((await repo.getSettings()).siteName).toBe('second');
  });
});

describe('sequences', () => {
  it('are monotonic per kind, independent across kinds, and unique under concurrency', async () => {
    expect(await repo.nextSequence('package')).toBe(1);
    expect(await repo.nextSequence('package')).toBe(2);
    expect(await repo.nextSequence('deployment')).toBe(1);
    const many = await Promise.all(Array.from({ length: 50 }, () => repo.nextSequence('device')));
    expect(new Set(many).size).toBe(50);
    expect([...many].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(await repo.nextSequence('package')).toBe(3);
  });
});

describe('built-ins', () => {
  it('has the two built-in collections and the two unknown-computer devices', async () => {
    const all = await repo.collections.list();
    expect(all.map((c) => [c.id, c.name, c.builtin])).toEqual([
      ['SMS00001', 'All Systems', 'all-systems'],
      ['SMS000US', 'All Unknown Computers', 'all-unknown'],
    ]);
    const x86 = (await repo.devices.get(X86_UNKNOWN_ID)) as Device;
    const x64 = (await repo.devices.get(X64_UNKNOWN_ID)) as Device;
    expect(x86).toMatchObject({ name: 'x86 Unknown Computer', architecture: 'x86', unknownObject: 'x86', macs: [], smbiosGuid: null, provisional: false });
    expect(x64).toMatchObject({ name: 'x64 Unknown Computer', architecture: 'x64', unknownObject: 'x64' });
    expect(x64.pxe).toEqual({ lastPxeDeploymentId: null, lastPxeDeploymentTime: null });
    expect(new Date(x64.createdAt).toISOString()).toBe(x64.createdAt);
  });
});
