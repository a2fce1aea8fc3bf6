/**
 * How each plain entity kind is built from input, changed, checked against the
 * rest of the site and removed. The site service applies these inside one
 * transaction per change; the rules here are about integrity (references exist,
 * built-ins stay built-in), not about the deploy wizard (that is deploy/).
 */
import { conflict, invalid, PxeError } from '../errors.js';
import { normaliseGuid, normaliseMac } from '../site/identifiers.js';
import type {
  BootImage, BoundaryGroup, Collection, Device, DistributionPoint, DistributionPointGroup, Package, TaskSequence,
} from '../site/model.js';
import type { Entity, EntityStore, IdKind, SiteRepository } from '../site/repository.js';
import { isIPv4, parseCidr } from './net.js';
import type { PlainKind } from './schemas.js';

type Input = Record<string, unknown>;

export interface KindHandler<T extends Entity> {
  /** Singular noun for messages ("device"). */
  noun: string;
  idKind: IdKind;
  store(repo: SiteRepository): EntityStore<T>;
  build(input: Input, id: string, now: string): T;
  /** Applies a partial change; refuses changes to read-only parts (built-ins). */
  merge(existing: T, patch: Input, now: string): T;
  /** Checks references to other entities; may fix up other rows (in the same transaction). */
  check(entity: T, tx: SiteRepository): Promise<void>;
  /** Refuses removal of something still in use, or removes dangling references to it. */
  beforeDelete(entity: T, tx: SiteRepository): Promise<void>;
}

const inUse = (noun: string, id: string, by: string): PxeError =>
  new PxeError('PXE_ERR_IN_USE', `${noun} "${id}" is still used by ${by}; remove that first`, 409, { id });

const readOnly = (noun: string, id: string, what: string): PxeError =>
  new PxeError('PXE_ERR_BUILTIN', `${noun} "${id}" is built in: ${what}`, 409, { id });

async function requireAll(store: EntityStore<Entity>, ids: readonly string[], field: string, noun: string): Promise<void> {
  for (const id of ids) {
    if (!(await store.get(id))) throw invalid(field, `${noun} "${id}" does not exist`);
  }
}

function pick<T>(patch: Input, key: string, fallback: T): T {
  return (key in patch ? patch[key] : fallback) as T;
}

function safeRelativePath(path: string, field: string): string {
  const p = path.replace(/\\/g, '/');
  if (p.startsWith('/') || /^[a-zA-Z]:/.test(p) || p.split('/').includes('..') || p.includes('\0')) {
    throw invalid(field, `"${path}" must be a path relative to the boot files root, without ".."`);
  }
  return p;
}

// --- devices ----------------------------------------------------------------

function deviceFields(input: Input, base: Device): Device {
  const macs = pick<string[]>(input, 'macs', base.macs).map((m, i) => normaliseMac(m, `body.macs.${i}`));
  if (new Set(macs).size !== macs.length) throw invalid('body.macs', 'lists the same MAC twice');
  const guid = pick<string | null>(input, 'smbiosGuid', base.smbiosGuid);
  return {
    ...base,
    name: pick(input, 'name', base.name),
    macs,
    smbiosGuid: guid === null || guid === '' ? null : normaliseGuid(guid, 'body.smbiosGuid'),
    architecture: pick(input, 'architecture', base.architecture),
    isSiteSystem: pick(input, 'isSiteSystem', base.isSiteSystem),
    isServer: pick(input, 'isServer', base.isServer),
    variables: pick(input, 'variables', base.variables),
  };
}

const devices: KindHandler<Device> = {
  noun: 'device',
  idKind: 'device',
  store: (r) => r.devices,
  build: (input, id, now) =>
    deviceFields(input, {
      id, name: '', macs: [], smbiosGuid: null, architecture: 'x64', isSiteSystem: false, isServer: false,
      unknownObject: null, provisional: false, variables: [],
      pxe: { lastPxeDeploymentId: null, lastPxeDeploymentTime: null }, createdAt: now, modifiedAt: now,
    }),
  merge(existing, patch, now) {
    if (existing.unknownObject !== null) {
      const allowed = new Set(['variables']);
      const bad = Object.keys(patch).find((k) => !allowed.has(k));
      if (bad) throw readOnly('device', existing.id, `only its variables can be changed, not "${bad}"`);
    }
    // A provisional "Unknown" record (rule 64) becomes a normal record once an admin edits its identity.
    return { ...deviceFields(patch, existing), modifiedAt: now };
  },
  async check(device, tx) {
    for (const mac of device.macs) {
      const other = (await tx.devices.findByMac(mac)).find((d) => d.id !== device.id);
      if (other) throw conflict(`MAC ${mac} already belongs to device "${other.name}" (${other.id}); each MAC identifies one device`, { field: 'body.macs' });
    }
    if (device.smbiosGuid) {
      const other = (await tx.devices.findBySmbiosGuid(device.smbiosGuid)).find((d) => d.id !== device.id);
      if (other) throw conflict(`SMBIOS GUID ${device.smbiosGuid} already belongs to device "${other.name}" (${other.id})`, { field: 'body.smbiosGuid' });
    }
  },
  async beforeDelete(device, tx) {
    if (device.unknownObject !== null) throw readOnly('device', device.id, 'the unknown-computer objects cannot be deleted');
    for (const c of await tx.collections.list()) {
      if (c.directMemberIds.includes(device.id)) {
        await tx.collections.update({ ...c, directMemberIds: c.directMemberIds.filter((id) => id !== device.id) });
      }
    }
  },
};

// --- collections --------------------------------------------------------------

const collections: KindHandler<Collection> = {
  noun: 'collection',
  idKind: 'collection',
  store: (r) => r.collections,
  build: (input, id, now) => ({
    id,
    name: input.name as string,
    comment: pick(input, 'comment', ''),
    builtin: null,
    directMemberIds: [...new Set(pick<string[]>(input, 'directMemberIds', []))],
    rules: pick(input, 'rules', []),
    variables: pick(input, 'variables', []),
    defaultDpGroupId: pick(input, 'defaultDpGroupId', null),
    createdAt: now,
    modifiedAt: now,
  }),
  merge(existing, patch, now) {
    if (existing.builtin !== null) {
      // Collection variables on All Unknown Computers are how unknown machines get settings (rule 65).
      const allowed = new Set(['variables', 'comment', 'defaultDpGroupId']);
      const bad = Object.keys(patch).find((k) => !allowed.has(k));
      if (bad) throw readOnly('collection', existing.id, `its membership and name are fixed; "${bad}" cannot be changed`);
    }
    return {
      ...existing,
      name: pick(patch, 'name', existing.name),
      comment: pick(patch, 'comment', existing.comment),
      directMemberIds: [...new Set(pick<string[]>(patch, 'directMemberIds', existing.directMemberIds))],
      rules: pick(patch, 'rules', existing.rules),
      variables: pick(patch, 'variables', existing.variables),
      defaultDpGroupId: pick(patch, 'defaultDpGroupId', existing.defaultDpGroupId),
      modifiedAt: now,
    };
  },
  async check(c, tx) {
    for (const id of c.directMemberIds) {
      const d = await tx.devices.get(id);
      if (!d) throw invalid('body.directMemberIds', `device "${id}" does not exist`);
      if (d.unknownObject !== null) throw invalid('body.directMemberIds', `"${d.name}" belongs only to All Unknown Computers`);
    }
    if (c.defaultDpGroupId !== null) await requireAll(tx.dpGroups, [c.defaultDpGroupId], 'body.defaultDpGroupId', 'distribution point group');
  },
  async beforeDelete(c, tx) {
    if (c.builtin !== null) throw readOnly('collection', c.id, 'built-in collections cannot be deleted');
    const d = (await tx.deployments.list()).find((x) => x.collectionId === c.id);
    if (d) throw inUse('collection', c.id, `deployment ${d.id}`);
  },
};

// --- packages, boot images, task sequences ------------------------------------

const packages: KindHandler<Package> = {
  noun: 'package',
  idKind: 'package',
  store: (r) => r.packages,
  build: (input, id, now) => ({
    id,
    name: input.name as string,
    description: pick(input, 'description', ''),
    version: 1,
    sourcePath: pick(input, 'sourcePath', null),
    copyToPackageShare: pick(input, 'copyToPackageShare', false),
    dependencyIds: [...new Set(pick<string[]>(input, 'dependencyIds', []))],
    createdAt: now,
    modifiedAt: now,
  }),
  merge: (e, p, now) => {
    const sourcePath = pick(p, 'sourcePath', e.sourcePath);
    return {
      ...e,
      name: pick(p, 'name', e.name),
      description: pick(p, 'description', e.description),
      sourcePath,
      // New content is a new version (rule 17: references use the newest).
      version: sourcePath !== e.sourcePath ? e.version + 1 : e.version,
      copyToPackageShare: pick(p, 'copyToPackageShare', e.copyToPackageShare),
      dependencyIds: [...new Set(pick<string[]>(p, 'dependencyIds', e.dependencyIds))],
      modifiedAt: now,
    };
  },
  async check(p, tx) {
    if (p.dependencyIds.includes(p.id)) throw invalid('body.dependencyIds', 'a package cannot depend on itself');
    await requireAll(tx.packages, p.dependencyIds, 'body.dependencyIds', 'package');
  },
  async beforeDelete(p, tx) {
    const ts = (await tx.taskSequences.list()).find((t) => t.steps.some((s) => s.packageId === p.id));
    if (ts) throw inUse('package', p.id, `task sequence ${ts.id} ("${ts.name}")`);
    const dep = (await tx.packages.list()).find((x) => x.dependencyIds.includes(p.id));
    if (dep) throw inUse('package', p.id, `package ${dep.id} as a dependency`);
  },
};

const bootImages: KindHandler<BootImage> = {
  noun: 'boot image',
  idKind: 'bootImage',
  store: (r) => r.bootImages,
  build: (input, id, now) => ({
    id,
    name: input.name as string,
    architecture: input.architecture as BootImage['architecture'],
    deployFromPxe: pick(input, 'deployFromPxe', true),
    version: 1,
    imagePath: safeRelativePath(input.imagePath as string, 'body.imagePath'),
    createdAt: now,
    modifiedAt: now,
  }),
  merge: (e, p, now) => {
    const imagePath = safeRelativePath(pick(p, 'imagePath', e.imagePath), 'body.imagePath');
    return {
      ...e,
      name: pick(p, 'name', e.name),
      architecture: pick(p, 'architecture', e.architecture),
      deployFromPxe: pick(p, 'deployFromPxe', e.deployFromPxe),
      imagePath,
      version: imagePath !== e.imagePath ? e.version + 1 : e.version,
      modifiedAt: now,
    };
  },
  check: async () => {},
  async beforeDelete(b, tx) {
    const ts = (await tx.taskSequences.list()).find((t) => t.bootImageId === b.id);
    if (ts) throw inUse('boot image', b.id, `task sequence ${ts.id} ("${ts.name}")`);
  },
};

const taskSequences: KindHandler<TaskSequence> = {
  noun: 'task sequence',
  idKind: 'taskSequence',
  store: (r) => r.taskSequences,
  build: (input, id, now) => ({
    id,
    name: input.name as string,
    description: pick(input, 'description', ''),
    bootImageId: pick(input, 'bootImageId', null),
    disabled: pick(input, 'disabled', false),
    steps: pick(input, 'steps', []),
    createdAt: now,
    modifiedAt: now,
  }),
  merge: (e, p, now) => ({
    ...e,
    name: pick(p, 'name', e.name),
    description: pick(p, 'description', e.description),
    bootImageId: pick(p, 'bootImageId', e.bootImageId),
    disabled: pick(p, 'disabled', e.disabled),
    steps: pick(p, 'steps', e.steps),
    modifiedAt: now,
  }),
  // References may be invalid (rule 1 only stops deploying it); `pxepoint ts check` lists them.
  check: async () => {},
  async beforeDelete(t, tx) {
    const d = (await tx.deployments.list()).find((x) => x.taskSequenceId === t.id);
    if (d) throw inUse('task sequence', t.id, `deployment ${d.id}`);
  },
};

// --- distribution points and boundary groups ------------------------------------

const distributionPoints: KindHandler<DistributionPoint> = {
  noun: 'distribution point',
  idKind: 'distributionPoint',
  store: (r) => r.distributionPoints,
  build: (input, id, now) => ({
    id,
    name: input.name as string,
    url: input.url as string,
    shareUrl: pick(input, 'shareUrl', null),
    pxeEnabled: pick(input, 'pxeEnabled', false),
    maintenance: pick(input, 'maintenance', false),
    createdAt: now,
    modifiedAt: now,
  }),
  merge: (e, p, now) => ({
    ...e,
    name: pick(p, 'name', e.name),
    url: pick(p, 'url', e.url),
    shareUrl: pick(p, 'shareUrl', e.shareUrl),
    pxeEnabled: pick(p, 'pxeEnabled', e.pxeEnabled),
    maintenance: pick(p, 'maintenance', e.maintenance),
    modifiedAt: now,
  }),
  check: async () => {},
  async beforeDelete(dp, tx) {
    for (const g of await tx.dpGroups.list()) {
      if (g.distributionPointIds.includes(dp.id)) {
        await tx.dpGroups.update({ ...g, distributionPointIds: g.distributionPointIds.filter((x) => x !== dp.id) });
      }
    }
    for (const b of await tx.boundaryGroups.list()) {
      if (b.distributionPointIds.includes(dp.id)) {
        await tx.boundaryGroups.update({ ...b, distributionPointIds: b.distributionPointIds.filter((x) => x !== dp.id) });
      }
    }
  },
};

const dpGroups: KindHandler<DistributionPointGroup> = {
  noun: 'distribution point group',
  idKind: 'dpGroup',
  store: (r) => r.dpGroups,
  build: (input, id, now) => ({
    id,
    name: input.name as string,
    distributionPointIds: [...new Set(pick<string[]>(input, 'distributionPointIds', []))],
    createdAt: now,
    modifiedAt: now,
  }),
  merge: (e, p, now) => ({
    ...e,
    name: pick(p, 'name', e.name),
    distributionPointIds: [...new Set(pick<string[]>(p, 'distributionPointIds', e.distributionPointIds))],
    modifiedAt: now,
  }),
  check: (g, tx) => requireAll(tx.distributionPoints, g.distributionPointIds, 'body.distributionPointIds', 'distribution point'),
  async beforeDelete(g, tx) {
    const c = (await tx.collections.list()).find((x) => x.defaultDpGroupId === g.id);
    if (c) throw inUse('distribution point group', g.id, `collection ${c.id} ("${c.name}") as its default group`);
  },
};

function checkBoundaries(b: BoundaryGroup): void {
  b.boundaries.forEach((x, i) => {
    if (x.kind === 'subnet' && !parseCidr(x.cidr)) throw invalid(`body.boundaries.${i}.cidr`, `"${x.cidr}" is not an IPv4 subnet like 10.1.0.0/16`);
    if (x.kind === 'range') {
      if (!isIPv4(x.from)) throw invalid(`body.boundaries.${i}.from`, `"${x.from}" is not an IPv4 address`);
      if (!isIPv4(x.to)) throw invalid(`body.boundaries.${i}.to`, `"${x.to}" is not an IPv4 address`);
    }
  });
}

const boundaryGroups: KindHandler<BoundaryGroup> = {
  noun: 'boundary group',
  idKind: 'boundaryGroup',
  store: (r) => r.boundaryGroups,
  build: (input, id, now) => ({
    id,
    name: input.name as string,
    boundaries: pick(input, 'boundaries', []),
    distributionPointIds: [...new Set(pick<string[]>(input, 'distributionPointIds', []))],
    neighbours: pick<BoundaryGroup['neighbours']>(input, 'neighbours', []).map((n) => ({ boundaryGroupId: n.boundaryGroupId, failoverMinutes: n.failoverMinutes ?? 120 })),
    isSiteDefault: pick(input, 'isSiteDefault', false),
    createdAt: now,
    modifiedAt: now,
  }),
  merge: (e, p, now) => ({
    ...e,
    name: pick(p, 'name', e.name),
    boundaries: pick(p, 'boundaries', e.boundaries),
    distributionPointIds: [...new Set(pick<string[]>(p, 'distributionPointIds', e.distributionPointIds))],
    neighbours: pick<BoundaryGroup['neighbours']>(p, 'neighbours', e.neighbours).map((n) => ({ boundaryGroupId: n.boundaryGroupId, failoverMinutes: n.failoverMinutes ?? 120 })),
    isSiteDefault: pick(p, 'isSiteDefault', e.isSiteDefault),
    modifiedAt: now,
  }),
  async check(b, tx) {
    checkBoundaries(b);
    await requireAll(tx.distributionPoints, b.distributionPointIds, 'body.distributionPointIds', 'distribution point');
    for (const n of b.neighbours) {
      if (n.boundaryGroupId === b.id) throw invalid('body.neighbours', 'a boundary group cannot be its own neighbour');
    }
    await requireAll(tx.boundaryGroups, b.neighbours.map((n) => n.boundaryGroupId), 'body.neighbours', 'boundary group');
    if (b.isSiteDefault) {
      // Exactly one site default group: the new default replaces the old one.
      for (const other of await tx.boundaryGroups.list()) {
        if (other.id !== b.id && other.isSiteDefault) await tx.boundaryGroups.update({ ...other, isSiteDefault: false });
      }
    }
  },
  async beforeDelete(b, tx) {
    for (const other of await tx.boundaryGroups.list()) {
      if (other.neighbours.some((n) => n.boundaryGroupId === b.id)) {
        await tx.boundaryGroups.update({ ...other, neighbours: other.neighbours.filter((n) => n.boundaryGroupId !== b.id) });
      }
    }
  },
};

/** The entity type each plain kind stores. */
export interface EntityByKind {
  devices: Device;
  collections: Collection;
  packages: Package;
  'boot-images': BootImage;
  'task-sequences': TaskSequence;
  'distribution-points': DistributionPoint;
  'dp-groups': DistributionPointGroup;
  'boundary-groups': BoundaryGroup;
}

export const HANDLERS: { [K in PlainKind]: KindHandler<Entity> } = {
  devices: devices as unknown as KindHandler<Entity>,
  collections: collections as unknown as KindHandler<Entity>,
  packages: packages as unknown as KindHandler<Entity>,
  'boot-images': bootImages as unknown as KindHandler<Entity>,
  'task-sequences': taskSequences as unknown as KindHandler<Entity>,
  'distribution-points': distributionPoints as unknown as KindHandler<Entity>,
  'dp-groups': dpGroups as unknown as KindHandler<Entity>,
  'boundary-groups': boundaryGroups as unknown as KindHandler<Entity>,
};
