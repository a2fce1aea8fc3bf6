/**
 * Small fixture builders for the deploy-wizard tests. Every builder returns a
 * fresh object; pass overrides for what the test is about.
 */
import type {
  BootImage, Collection, Deployment, DeploymentTemplate, Device, Package, SiteSettings, TaskSequence, TaskSequenceStep,
} from '../../src/site/model.js';
import { ALL_SYSTEMS_ID, ALL_UNKNOWN_COMPUTERS_ID, X64_UNKNOWN_ID, X86_UNKNOWN_ID } from '../../src/site/model.js';
import type { WizardContext, WizardInput } from '../../src/deploy/wizard.js';
import { defaultDeploymentSettings } from '../../src/deploy/defaults.js';
import { templateSettingsFrom } from '../../src/deploy/templates.js';
import { deviceRecord } from '../support/devices.js';

const T = '2026-11-01T00:00:00.000Z';
let serial = 0;

export function device(over: Partial<Device> = {}): Device {
  serial += 1;
  const n = serial;
  return deviceRecord(String(16777216 + n), `PC${String(n).padStart(4, '0')}`, {
    macs: [`52:54:00:77:${(n >> 8).toString(16).padStart(2, '0')}:${(n & 0xff).toString(16).padStart(2, '0')}`],
    ...over,
  }, T);
}

export const devices = (count: number, over: Partial<Device> = {}): Device[] => Array.from({ length: count }, () => device(over));

/** The two built-in objects of All Unknown Computers (rule 62). */
export function unknownObjects(): Device[] {
  return [
    device({ id: X86_UNKNOWN_ID, name: 'x86 Unknown Computer (x86 Unknown Computer)', macs: [], architecture: 'x86', unknownObject: 'x86' }),
    device({ id: X64_UNKNOWN_ID, name: 'x64 Unknown Computer (x64 Unknown Computer)', macs: [], architecture: 'x64', unknownObject: 'x64' }),
  ];
}

/** A custom collection with the given devices as direct members. */
export function collection(members: readonly Device[] = [], over: Partial<Collection> = {}): Collection {
  return {
    id: 'PXP00010',
    name: 'Lab reinstall',
    comment: '',
    builtin: null,
    directMemberIds: members.map((d) => d.id),
    rules: [],
    variables: [],
    defaultDpGroupId: null,
    createdAt: T,
    modifiedAt: T,
    ...over,
  };
}

export const allSystems = (): Collection => collection([], { id: ALL_SYSTEMS_ID, name: 'All Systems', builtin: 'all-systems' });
export const allUnknownComputers = (): Collection =>
  collection([], { id: ALL_UNKNOWN_COMPUTERS_ID, name: 'All Unknown Computers', builtin: 'all-unknown' });

export function pkg(id: string, over: Partial<Package> = {}): Package {
  return {
    id, name: `Package ${id}`, description: '', version: 1, sourcePath: null,
    copyToPackageShare: false, dependencyIds: [], createdAt: T, modifiedAt: T, ...over,
  };
}

export const sharedPkg = (id: string, over: Partial<Package> = {}): Package => pkg(id, { copyToPackageShare: true, ...over });

export function bootImage(id = 'PXP00003', over: Partial<BootImage> = {}): BootImage {
  return {
    id, name: 'Boot image (x64)', architecture: 'x64', deployFromPxe: true, version: 1,
    imagePath: `images/${id}/boot.wim`, createdAt: T, modifiedAt: T, ...over,
  };
}

export const step = (over: Partial<TaskSequenceStep> & Pick<TaskSequenceStep, 'type'>): TaskSequenceStep => ({ name: `${over.type} step`, ...over });

/** OS deployment: boot image PXP00003, applies the image in package PXP00020. */
export function osTaskSequence(over: Partial<TaskSequence> = {}): TaskSequence {
  return {
    id: 'PXP00100', name: 'Windows 11 wipe-and-load', description: '',
    bootImageId: 'PXP00003', disabled: false,
    steps: [
      step({ name: 'Apply Windows', type: 'apply-image', packageId: 'PXP00020' }),
      step({ name: 'Drivers', type: 'download-package', packageId: 'PXP00021' }),
      step({ name: 'Set locale', type: 'set-variable', variableName: 'OSDUILanguage', variableValue: 'en-GB' }),
      step({ name: 'Restart', type: 'restart' }),
    ],
    createdAt: T, modifiedAt: T, ...over,
  };
}

/** Docs example 3: no boot image, only script packages. */
export function scriptTaskSequence(over: Partial<TaskSequence> = {}): TaskSequence {
  return {
    id: 'PXP00101', name: 'Admin scripts', description: '', bootImageId: null, disabled: false,
    steps: [
      step({ name: 'Script A', type: 'download-package', packageId: 'PXP00030' }),
      step({ name: 'Run A', type: 'run-command', packageId: 'PXP00030', commandLine: 'cmd /c a.cmd' }),
    ],
    createdAt: T, modifiedAt: T, ...over,
  };
}

export const byId = <X extends { id: string }>(...xs: X[]): Map<string, X> => new Map(xs.map((x) => [x.id, x]));

/** Packages of osTaskSequence (no share) and scriptTaskSequence (shared), and boot image PXP00003. */
export function lookups(): { packages: Map<string, Package>; bootImages: Map<string, BootImage> } {
  return {
    packages: byId(pkg('PXP00020', { name: 'Windows 11 image' }), pkg('PXP00021', { name: 'Drivers' }), sharedPkg('PXP00030', { name: 'Scripts' })),
    bootImages: byId(bootImage()),
  };
}

export function siteSettings(verification: Partial<SiteSettings['deploymentVerification']> = {}): SiteSettings {
  return {
    siteCode: 'PXP', siteName: 'test site',
    deploymentVerification: { defaultSize: 100, maximumSize: 0, siteSystemCollections: 'warn', ...verification },
  };
}

export function template(settings = templateSettingsFrom(defaultDeploymentSettings()), over: Partial<DeploymentTemplate> = {}): DeploymentTemplate {
  return { id: 'PXP00200', name: 'Lab template', settings, createdAt: T, modifiedAt: T, ...over };
}

/** A wizard run: OS task sequence to a custom collection of three workstations, available. */
export function wizardCase(
  input: Partial<WizardInput> = {},
  ctx: Partial<WizardContext> = {},
): [WizardInput, WizardContext] {
  const ts = ctx.taskSequence ?? osTaskSequence();
  const members = ctx.members ?? devices(3);
  const coll = ctx.collection === undefined && 'collection' in ctx ? undefined : (ctx.collection ?? collection(members));
  const fullInput: WizardInput = {
    taskSequenceId: ts.id,
    collectionId: coll?.id ?? 'PXP09999',
    settings: {},
    ...input,
  };
  const fullCtx: WizardContext = {
    ...lookups(),
    siteSettings: siteSettings(),
    ...ctx,
    taskSequence: ts,
    collection: coll,
    members,
  };
  return [fullInput, fullCtx];
}

/** A stored deployment as the wizard would have produced it. */
export function deployment(over: Partial<Deployment> = {}): Deployment {
  return {
    ...defaultDeploymentSettings(),
    id: 'PXP20001', taskSequenceId: 'PXP00100', collectionId: 'PXP00010', comment: '', templateId: null,
    highRisk: { warnings: [], accepted: false, memberCountAtCreation: 3 },
    createdBy: 'test', createdAt: T, modifiedAt: T, ...over,
  };
}
