/**
 * The policy snapshot: the site as selection reads it, indexed once so that a
 * decision costs microseconds at 100,000 devices / 5,000 collections / 1,000
 * deployments. Build it at start and again after a site change; it is
 * immutable, so requests may keep using the old one while a new one builds.
 */
import {
  X64_UNKNOWN_ID,
  X86_UNKNOWN_ID,
  type BootImage,
  type ClientDeploymentStatus,
  type Collection,
  type Deployment,
  type Device,
  type Package,
  type TaskSequence,
} from '../site/model.js';
import type { SiteRepository } from '../site/repository.js';
import { unknownComputerObject } from '../site/builtins.js';
import { MembershipIndex } from './membership-index.js';
import type { PolicySnapshot } from './types.js';

/** Everything a snapshot is built from (what `loadPolicySnapshot` reads). */
export interface PolicySiteData {
  devices: Device[];
  collections: Collection[];
  deployments: Deployment[];
  taskSequences: TaskSequence[];
  packages: Package[];
  bootImages: BootImage[];
  statuses: ClientDeploymentStatus[];
}

const byId = <T extends { id: string }>(items: readonly T[]): Map<string, T> => new Map(items.map((i) => [i.id, i]));

/** Stand-in for an unknown object missing from the data (a store always has both; test data may not). */
function placeholderUnknown(arch: 'x86' | 'x64'): Device {
  return unknownComputerObject(arch, '1970-01-01T00:00:00.000Z');
}

export function buildPolicySnapshot(data: PolicySiteData): PolicySnapshot {
  const devices = byId(data.devices);
  const collections = byId(data.collections);
  const membership = new MembershipIndex(data.collections);

  const deploymentsByCollection = new Map<string, Deployment[]>();
  const sortedDeployments = [...data.deployments].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  for (const d of sortedDeployments) {
    const list = deploymentsByCollection.get(d.collectionId);
    if (list === undefined) deploymentsByCollection.set(d.collectionId, [d]);
    else list.push(d);
  }

  const statuses = new Map<string, Map<string, ClientDeploymentStatus>>();
  for (const s of data.statuses) {
    let perDevice = statuses.get(s.deviceId);
    if (perDevice === undefined) statuses.set(s.deviceId, (perDevice = new Map()));
    perDevice.set(s.deploymentId, s);
  }

  const findUnknown = (arch: 'x86' | 'x64'): Device =>
    data.devices.find((d) => d.unknownObject === arch) ?? placeholderUnknown(arch);

  return {
    devices,
    deployments: byId(sortedDeployments),
    taskSequences: byId(data.taskSequences),
    packages: byId(data.packages),
    bootImages: byId(data.bootImages),
    collections,
    collectionIdsOf: (device) => membership.collectionIdsOf(device),
    deploymentsByCollection,
    unknownObjects: { x86: findUnknown('x86'), x64: findUnknown('x64') },
    statusOf: (deviceId, deploymentId) => statuses.get(deviceId)?.get(deploymentId),
  };
}

/**
 * Reads the whole site through the repository and builds the snapshot. Each
 * list is one statement (consistent on its own); a change landing between two
 * of them is picked up by the rebuild that change triggers.
 */
export async function loadPolicySnapshot(repo: SiteRepository): Promise<PolicySnapshot> {
  const [devices, collections, deployments, taskSequences, packages, bootImages] = await Promise.all([
    repo.devices.list(),
    repo.collections.list(),
    repo.deployments.list(),
    repo.taskSequences.list(),
    repo.packages.list(),
    repo.bootImages.list(),
  ]);
  // The status store is keyed for per-deployment and per-device reads only.
  const perDeployment = await Promise.all(deployments.map((d) => repo.clientStatus.listByDeployment(d.id)));
  return buildPolicySnapshot({
    devices, collections, deployments, taskSequences, packages, bootImages, statuses: perDeployment.flat(),
  });
}

/**
 * The snapshot with one device's execution history replaced by `statuses`
 * (e.g. from `repo.clientStatus.listByDevice(id)` read for this request), so a
 * status reported since the last rebuild counts at once (rules 36–39) without
 * rebuilding the whole snapshot. Cheap: everything else is shared.
 */
export function withDeviceStatuses(
  snap: PolicySnapshot, deviceId: string, statuses: readonly ClientDeploymentStatus[],
): PolicySnapshot {
  const mine = new Map(statuses.filter((s) => s.deviceId === deviceId).map((s) => [s.deploymentId, s]));
  return {
    ...snap,
    statusOf: (device, deployment) => (device === deviceId ? mine.get(deployment) : snap.statusOf(device, deployment)),
  };
}
