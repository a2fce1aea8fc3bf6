/**
 * The objects every site has from its first start: the two built-in collections
 * and the two unknown-computer devices of All Unknown Computers (rule 62).
 * Idempotent: run at every open; an object is created only when its id is absent,
 * an existing one is never overwritten.
 */
import type Database from 'better-sqlite3';
import {
  ALL_SYSTEMS_ID,
  ALL_UNKNOWN_COMPUTERS_ID,
  type Collection,
  type Device,
} from '../../site/model.js';
import { unknownComputerObject } from '../../site/builtins.js';
import type { SiteTables } from './tables.js';

export function builtinCollections(now: string): Collection[] {
  const collection = (id: string, name: string, builtin: Collection['builtin']): Collection => ({
    id,
    name,
    comment: '',
    builtin,
    directMemberIds: [],
    rules: [],
    variables: [],
    defaultDpGroupId: null,
    createdAt: now,
    modifiedAt: now,
  });
  return [
    collection(ALL_SYSTEMS_ID, 'All Systems', 'all-systems'),
    collection(ALL_UNKNOWN_COMPUTERS_ID, 'All Unknown Computers', 'all-unknown'),
  ];
}

export function unknownComputerDevices(now: string): Device[] {
  return [unknownComputerObject('x86', now), unknownComputerObject('x64', now)];
}

/** Returns the ids it created (empty on every open after the first). */
export function ensureBuiltins(db: Database.Database, tables: SiteTables, now: string = new Date().toISOString()): string[] {
  return db.transaction(() => {
    const created: string[] = [];
    for (const c of builtinCollections(now)) {
      if (tables.collections.get(c.id) === undefined) created.push(tables.collections.insert(c).id);
    }
    for (const d of unknownComputerDevices(now)) {
      if (tables.devices.get(d.id) === undefined) created.push(tables.devices.insert(d).id);
    }
    return created;
  }).immediate();
}
