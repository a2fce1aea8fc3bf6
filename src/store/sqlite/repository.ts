/**
 * The async SiteRepository facade over the synchronous tables. The same tables
 * back two kinds of handle that differ only in *when* an operation may run:
 * the root handle (through the gate: waits for a running transaction) and a
 * transaction's `tx` handle (runs inside it).
 */
import type { SiteSettings } from '../../site/model.js';
import type { CredentialStore, DeviceStore, Entity, EntityStore, IdKind, SiteRepository, TokenStore } from '../../site/repository.js';
import type { EntityTable } from './entity-table.js';
import { PxeError } from '../../errors.js';
import type { SiteTables } from './tables.js';
import type { OpenTransaction, RunOperation, TransactionGate } from './transaction-gate.js';

function entityStore<T extends Entity>(table: EntityTable<T>, run: RunOperation): EntityStore<T> {
  return {
    list: () => run(() => table.list()),
    get: (id) => run(() => table.get(id)),
    insert: (value) => run(() => table.insert(value)),
    update: (value) => run(() => table.update(value)),
    delete: (id) => run(() => table.delete(id)),
    count: () => run(() => table.count()),
  };
}

interface Scope {
  run: RunOperation;
  transaction<T>(fn: (tx: SiteRepository) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

function bindRepository(t: SiteTables, scope: Scope): SiteRepository {
  const { run } = scope;
  const devices: DeviceStore = {
    ...entityStore(t.devices, run),
    findByMac: (mac) => run(() => t.devices.findByMac(mac)),
    findBySmbiosGuid: (guid) => run(() => t.devices.findBySmbiosGuid(guid)),
  };
  const tokens: TokenStore = {
    ...entityStore(t.tokens, run),
    findByHash: (hash) => run(() => t.tokens.findByHash(hash)),
  };
  const credentials: CredentialStore = {
    bootTokens: {
      ...entityStore(t.bootTokens, run),
      findByHash: (hash) => run(() => t.bootTokens.findByHash(hash)),
      consume: (id, usedAt) => run(() => t.bootTokens.consume(id, usedAt)),
      purgeExpired: (before) => run(() => t.bootTokens.purgeExpired(before)),
    },
    clientKeys: {
      ...entityStore(t.clientKeys, run),
      findByHash: (hash) => run(() => t.clientKeys.findByHash(hash)),
      listByDevice: (deviceId) => run(() => t.clientKeys.listByDevice(deviceId)),
    },
    sessions: {
      ...entityStore(t.sessions, run),
      findByHash: (hash) => run(() => t.sessions.findByHash(hash)),
      purgeExpired: (before) => run(() => t.sessions.purgeExpired(before)),
    },
  };
  return {
    devices,
    collections: entityStore(t.collections, run),
    packages: entityStore(t.packages, run),
    bootImages: entityStore(t.bootImages, run),
    taskSequences: entityStore(t.taskSequences, run),
    distributionPoints: entityStore(t.distributionPoints, run),
    dpGroups: entityStore(t.dpGroups, run),
    boundaryGroups: entityStore(t.boundaryGroups, run),
    deployments: entityStore(t.deployments, run),
    templates: entityStore(t.templates, run),
    tokens,
    statusMessages: {
      append: (message) => run(() => t.statusMessages.append(message)),
      list: (query) => run(() => t.statusMessages.list(query)),
    },
    clientStatus: {
      get: (deviceId, deploymentId) => run(() => t.clientStatus.get(deviceId, deploymentId)),
      put: (status) => run(() => t.clientStatus.put(status)),
      listByDeployment: (deploymentId) => run(() => t.clientStatus.listByDeployment(deploymentId)),
      listByDevice: (deviceId) => run(() => t.clientStatus.listByDevice(deviceId)),
      remove: (deviceId, deploymentId) => run(() => t.clientStatus.remove(deviceId, deploymentId)),
    },
    credentials,
    leases: {
      list: () => run(() => t.leases.list()),
      get: (ip) => run(() => t.leases.get(ip)),
      putMany: (leases) => run(() => t.leases.putMany(leases)),
      purge: (before) => run(() => t.leases.purge(before)),
    },
    bootEvents: {
      append: (event) => run(() => t.bootEvents.append(event)),
      list: (query) => run(() => t.bootEvents.list(query)),
      purgeBefore: (before) => run(() => t.bootEvents.purgeBefore(before)),
    },
    content: {
      insertVersion: (v) => run(() => t.content.insertVersion(v)),
      getVersion: (packageId, version) => run(() => t.content.getVersion(packageId, version)),
      latestVersion: (packageId) => run(() => t.content.latestVersion(packageId)),
      listVersions: (packageId) => run(() => t.content.listVersions(packageId)),
      putDpState: (state) => run(() => t.content.putDpState(state)),
      getDpState: (dpId, packageId) => run(() => t.content.getDpState(dpId, packageId)),
      listDpStates: (query) => run(() => t.content.listDpStates(query)),
      removeDpState: (dpId, packageId) => run(() => t.content.removeDpState(dpId, packageId)),
    },
    media: {
      list: () => run(() => t.media.list()),
      get: (id) => run(() => t.media.get(id)),
      insert: (record) => run(() => t.media.insert(record)),
      update: (record) => run(() => t.media.update(record)),
    },
    getSettings: () => run(() => t.settings.get()),
    putSettings: (settings: SiteSettings) => run(() => t.settings.put(settings)),
    nextSequence: (kind: IdKind) => run(() => t.sequences.next(kind)),
    transaction: (fn) => scope.transaction(fn),
    close: () => scope.close(),
  };
}

function transactionHandle(tables: SiteTables, tx: OpenTransaction): SiteRepository {
  const handle: SiteRepository = bindRepository(tables, {
    run: tx.run,
    // Nested: join the outer transaction (a failure dooms the whole of it).
    transaction: (fn) => tx.nested(() => fn(handle)),
    close: () =>
      Promise.reject(
        new PxeError('PXE_ERR_STORE_CLOSE_IN_TX', 'close() was called on a transaction handle; close the repository after the transaction', 500),
      ),
  });
  return handle;
}

/** The root repository: every call goes through the gate. */
export function createSqliteRepository(tables: SiteTables, gate: TransactionGate): SiteRepository {
  return bindRepository(tables, {
    run: gate.run,
    transaction: (fn) => gate.transaction((tx) => fn(transactionHandle(tables, tx))),
    close: () => gate.close(),
  });
}
