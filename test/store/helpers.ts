/** Shared helpers for the store tests: temp dirs and minimal valid entities. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type {
  ApiToken,
  BootImage,
  BoundaryGroup,
  Collection,
  Deployment,
  DeploymentTemplate,
  Device,
  DistributionPoint,
  DistributionPointGroup,
  Package,
  StatusMessage,
  TaskSequence,
} from '../../src/site/model.js';
import { deviceRecord } from '../support/devices.js';

const T0 = '2026-11-26T08:00:00.000Z';

export interface TempDir {
  path: string;
  remove(): void;
}

export function makeTempDir(prefix = 'pxepoint-store-'): TempDir {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export function device(id: string, over: Partial<Device> = {}): Device {
  return deviceRecord(id, `PC-${id}`, over, T0);
}

export function collection(id: string, over: Partial<Collection> = {}): Collection {
  return {
    id,
    name: `Collection ${id}`,
    comment: '',
    builtin: null,
    directMemberIds: [],
    rules: [{ kind: 'name', pattern: 'LAB-*' }],
    variables: [{ name: 'OSDComputerName', value: 'x' }],
    defaultDpGroupId: null,
    createdAt: T0,
    modifiedAt: T0,
    ...over,
  };
}

export const pkg = (id: string): Package => ({
  id,
  name: `Package ${id}`,
  description: 'drivers',
  version: 1,
  sourcePath: null,
  copyToPackageShare: false,
  dependencyIds: [],
  createdAt: T0,
  modifiedAt: T0,
});

export const bootImage = (id: string): BootImage => ({
  id,
  name: 'Boot image (x64)',
  architecture: 'x64',
  deployFromPxe: true,
  version: 3,
  imagePath: `images/${id}/boot.wim`,
  createdAt: T0,
  modifiedAt: T0,
});

export const taskSequence = (id: string): TaskSequence => ({
  id,
  name: 'Windows 11',
  description: '',
  bootImageId: 'PXP00003',
  disabled: false,
  steps: [{ name: 'Apply', type: 'apply-image', packageId: 'PXP00004', accessContentDirectly: false }],
  createdAt: T0,
  modifiedAt: T0,
});

export const distributionPoint = (id: string): DistributionPoint => ({
  id,
  name: 'dp1',
  url: 'http://dp1.example:8080/',
  shareUrl: null,
  pxeEnabled: true,
  maintenance: false,
  createdAt: T0,
  modifiedAt: T0,
});

export const dpGroup = (id: string): DistributionPointGroup => ({
  id,
  name: 'All DPs',
  distributionPointIds: ['PXP00005'],
  createdAt: T0,
  modifiedAt: T0,
});

export const boundaryGroup = (id: string): BoundaryGroup => ({
  id,
  name: 'HQ',
  boundaries: [{ kind: 'subnet', cidr: '10.0.0.0/24' }, { kind: 'range', from: '10.0.1.1', to: '10.0.1.99' }],
  distributionPointIds: ['PXP00005'],
  neighbours: [{ boundaryGroupId: 'PXP00009', failoverMinutes: 120 }],
  isSiteDefault: false,
  createdAt: T0,
  modifiedAt: T0,
});

const settingsPages = {
  deploymentSettings: { purpose: 'available', availableTo: 'clients-media-pxe', sendWakeUpPackets: false, allowMeteredDownloadAfterDeadline: false },
  alerts: { successBelowPercent: null, successCheckAfter: null, failureAbovePercent: null, opsManagerAlertOnFailure: false, disableOpsManagerAlerts: false },
  distributionPoints: { deploymentOption: 'download-when-needed', allowNeighbourFallback: true, allowDefaultSiteFallback: true },
} as const;

export const deployment = (id: string): Deployment => ({
  id,
  taskSequenceId: 'PXP00006',
  collectionId: 'PXP00010',
  comment: '',
  templateId: null,
  highRisk: { warnings: [], accepted: false, memberCountAtCreation: 3 },
  createdBy: 'cli:test',
  createdAt: T0,
  modifiedAt: T0,
  general: { useDefaultDpGroups: false, autoDistributeDependencies: true, preDownload: false },
  deploymentSettings: { ...settingsPages.deploymentSettings },
  scheduling: { available: { at: '2026-11-26T08:00:00', utc: true }, expires: null, assignments: [], rerun: 'if-failed' },
  userExperience: {
    allowRunIndependently: true,
    showProgress: true,
    softwareInstallOutsideMaintenance: false,
    restartOutsideMaintenance: false,
    commitWriteFilterChanges: true,
    allowOnInternet: false,
  },
  alerts: { ...settingsPages.alerts },
  distributionPoints: { ...settingsPages.distributionPoints },
});

export const template = (id: string): DeploymentTemplate => ({
  id,
  name: 'Lab rollout',
  settings: {
    general: { useDefaultDpGroups: false, autoDistributeDependencies: true },
    deploymentSettings: { ...settingsPages.deploymentSettings },
    userExperience: { allowRunIndependently: true, showProgress: true, restartOutsideMaintenance: false, commitWriteFilterChanges: true, allowOnInternet: false },
    alerts: { ...settingsPages.alerts },
    distributionPoints: { ...settingsPages.distributionPoints },
  },
  createdAt: T0,
  modifiedAt: T0,
});

export const token = (id: string, hash = `hash-${id}`): ApiToken => ({ id, name: `token ${id}`, hash, createdAt: T0, lastUsedAt: null });

export function statusMessage(over: Partial<Omit<StatusMessage, 'id'>> = {}): Omit<StatusMessage, 'id'> {
  return {
    time: T0,
    kind: 'status',
    severity: 'info',
    component: 'client',
    messageId: 11171,
    actor: 'test',
    text: 'step done',
    deviceId: null,
    deploymentId: null,
    data: {},
    ...over,
  };
}
