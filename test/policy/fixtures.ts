/** Small sites for the policy tests: builders with sensible defaults and one-line overrides. */
import { defaultDeploymentSettings } from '../../src/deploy/defaults.js';
import {
  ALL_SYSTEMS_ID, ALL_UNKNOWN_COMPUTERS_ID, CLIENT_STATES, X64_UNKNOWN_ID, X86_UNKNOWN_ID,
  type AvailableTo, type ClientDeploymentStatus, type ClientState, type Collection, type Deployment, type Device,
  type Purpose, type RerunBehaviour, type SchedulingPage, type TaskSequence, type Variable,
} from '../../src/site/model.js';
import { buildPolicySnapshot, type PolicySiteData } from '../../src/policy/snapshot.js';
import { selectPolicy } from '../../src/policy/select.js';
import type { BootSource, PolicyDecision, PolicyRequest, PolicySnapshot } from '../../src/policy/types.js';

export const T0 = '2026-11-01T00:00:00.000Z';
export const NOW = new Date('2026-11-26T12:00:00.000Z');

export function device(id: string, over: Partial<Device> = {}): Device {
  return {
    id, name: `PC-${id}`, macs: [], smbiosGuid: null, architecture: 'x64', isSiteSystem: false, isServer: false,
    unknownObject: null, provisional: false, variables: [],
    pxe: { lastPxeDeploymentId: null, lastPxeDeploymentTime: null }, createdAt: T0, modifiedAt: T0, ...over,
  };
}

export function unknownObject(arch: 'x86' | 'x64'): Device {
  return device(arch === 'x86' ? X86_UNKNOWN_ID : X64_UNKNOWN_ID, { name: `${arch} Unknown Computer`, architecture: arch, unknownObject: arch });
}

export function collection(id: string, over: Partial<Collection> = {}): Collection {
  return {
    id, name: `Collection ${id}`, comment: '', builtin: null, directMemberIds: [], rules: [], variables: [],
    defaultDpGroupId: null, createdAt: T0, modifiedAt: T0, ...over,
  };
}

export const allSystems = (over: Partial<Collection> = {}): Collection =>
  collection(ALL_SYSTEMS_ID, { name: 'All Systems', builtin: 'all-systems', ...over });
export const allUnknown = (over: Partial<Collection> = {}): Collection =>
  collection(ALL_UNKNOWN_COMPUTERS_ID, { name: 'All Unknown Computers', builtin: 'all-unknown', ...over });

export function taskSequence(id: string, over: Partial<TaskSequence> = {}): TaskSequence {
  return {
    id, name: `TS ${id}`, description: '', bootImageId: 'PXP00B01', disabled: false, steps: [],
    createdAt: T0, modifiedAt: T0, ...over,
  };
}

export interface DeploymentSpec {
  ts?: string;
  collection?: string;
  purpose?: Purpose;
  availableTo?: AvailableTo;
  rerun?: RerunBehaviour;
  scheduling?: Partial<SchedulingPage>;
}

export function deployment(id: string, spec: DeploymentSpec = {}): Deployment {
  const s = defaultDeploymentSettings();
  s.deploymentSettings.purpose = spec.purpose ?? 'available';
  s.deploymentSettings.availableTo = spec.availableTo ?? 'clients-media-pxe';
  s.scheduling = { ...s.scheduling, rerun: spec.rerun ?? 'always', ...spec.scheduling };
  return {
    ...s, id, taskSequenceId: spec.ts ?? 'PXP00T01', collectionId: spec.collection ?? 'PXP00C01', comment: '',
    templateId: null, highRisk: { warnings: [], accepted: false, memberCountAtCreation: 0 },
    createdBy: 'test', createdAt: T0, modifiedAt: T0,
  };
}

export function status(deviceId: string, deploymentId: string, state: ClientState, updatedAt = '2026-11-20T00:00:00.000Z'): ClientDeploymentStatus {
  return { deviceId, deploymentId, state, lastMessageId: null, lastMessage: '', updatedAt };
}
export { CLIENT_STATES };

/** A site with one known device PC-1 (in PXP00C01 directly), both unknown objects, TS PXP00T01. */
export function site(over: Partial<PolicySiteData> = {}): PolicySnapshot {
  return buildPolicySnapshot({
    devices: [device('16777217'), unknownObject('x86'), unknownObject('x64')],
    collections: [allSystems(), allUnknown(), collection('PXP00C01', { directMemberIds: ['16777217'] })],
    deployments: [],
    taskSequences: [taskSequence('PXP00T01')],
    packages: [],
    bootImages: [],
    statuses: [],
    ...over,
  });
}

export function request(over: Partial<PolicyRequest> = {}): PolicyRequest {
  return {
    device: device('16777217'), architecture: 'x64', bootSource: 'pxe', clientVariables: [], now: NOW,
    clientUtcOffsetMinutes: 0, event: null, ...over,
  };
}

export const vars = (entries: Record<string, string>): Variable[] => Object.entries(entries).map(([name, value]) => ({ name, value }));

export const ask = (snap: PolicySnapshot, over: Partial<PolicyRequest> = {}): PolicyDecision => selectPolicy(request(over), snap);
export const offeredIds = (d: PolicyDecision): string[] => d.offered.map((o) => o.deploymentId);
export const reasonOf = (d: PolicyDecision, id: string): string | undefined => d.excluded.find((e) => e.deploymentId === id)?.reason;
export const BOOT_SOURCES: readonly BootSource[] = ['pxe', 'media', 'full-os'];
