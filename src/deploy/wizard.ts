/**
 * The Deploy Software Wizard for task sequences, as one pure function: the
 * caller (app/site-service) loads everything the wizard looks at into a
 * WizardContext; we return the settings to store, the warnings to show, and the
 * high-risk record — or throw the PxeError of the first rule that refuses.
 *
 * Order (docs/decisions/0002-deploy-wizard-rules.md):
 *  1. the task sequence exists and has no invalid reference (rule 1);
 *  2. the collection is an existing device collection (rule 2);
 *  3. the site's verification settings are consistent (rule 131);
 *  4. settings = defaults (or the deployment being changed) ← template ← input
 *     (rule 4: the template never supplies scheduling, pre-download, software
 *     installation), then shape/range checks (rule 18 among them);
 *  5. cross-field rules 3, 6, 7, 16, 11, 9, 10, scheduling; warning for 14;
 *  6. high-risk verification (130–136), skipped on updates that keep the
 *     collection and purpose (136).
 */
import { invalid, notFound, PxeError, wizardRule } from '../errors.js';
import { collectionMembers } from '../site/membership.js';
import type {
  BootImage, Collection, Deployment, DeploymentSettings, Device, Package, SiteSettings, TaskSequence, DeploymentTemplate,
} from '../site/model.js';
import { ALL_UNKNOWN_COMPUTERS_ID } from '../site/model.js';
import type { DeepPartial } from './defaults.js';
import { defaultDeploymentSettings, mergeSettings, pickSettings } from './defaults.js';
import { DEPLOY_ERRORS } from './error-codes.js';
import { validateVerificationSettings, verifyHighRisk } from './high-risk.js';
import { offeredAvailableTo, offeredDeploymentOptions } from './options.js';
import { findInvalidReferences, referencedPackages } from './references.js';
import { validateDeploymentSettings, wallClockMillis, withScheduleDefaults } from './settings-validation.js';
import { settingsFromTemplate } from './templates.js';

export interface WizardInput {
  taskSequenceId: string;
  collectionId: string;
  comment?: string;
  templateId?: string | null;
  /** What the admin chose, on top of the defaults (or the deployment being changed) and the template. */
  settings: DeepPartial<DeploymentSettings>;
  /** Consent to the high-risk warnings (rule 135). */
  acceptHighRisk?: boolean;
  /** "Hide collections with a member count greater than the site's minimum size" cleared (rule 132). */
  showCollectionsOverDefaultSize?: boolean;
}

export interface WizardContext {
  /** The task sequence named by `taskSequenceId`, or undefined if there is none. */
  taskSequence: TaskSequence | undefined;
  /** The collection named by `collectionId`, or undefined if there is none (rule 2). */
  collection: Collection | undefined;
  packages: ReadonlyMap<string, Package>;
  bootImages: ReadonlyMap<string, BootImage>;
  /** The collection's members now (devices outside it are filtered out). */
  members: readonly Device[];
  siteSettings: SiteSettings;
  /** The template named by `templateId`, resolved by the caller. */
  template?: DeploymentTemplate;
  /** The deployment being changed, for updates. */
  existing?: Deployment;
}

export interface WizardOutcome {
  settings: DeploymentSettings;
  /** Things the admin should know; none of them needs consent. */
  warnings: string[];
  /** Stored on the deployment as is (rule 136: never re-evaluated). */
  highRisk: { warnings: string[]; accepted: boolean; memberCountAtCreation: number };
}

/** ConfigMgr's built-in user collections: All Users, All User Groups, All Users and User Groups. */
const CONFIGMGR_USER_COLLECTION_IDS: ReadonlySet<string> = new Set(['SMS00002', 'SMS00003', 'SMS00004']);

function requireTaskSequence(input: WizardInput, ctx: WizardContext): TaskSequence {
  const ts = ctx.taskSequence;
  if (ts === undefined || ts.id !== input.taskSequenceId) throw notFound('task sequence', input.taskSequenceId);
  return ts;
}

/** Rule 1: Deploy isn't available while any reference is invalid. */
function assertNoInvalidReferences(ts: TaskSequence, ctx: WizardContext): void {
  const problems = findInvalidReferences(ts, ctx);
  if (problems.length === 0) return;
  throw new PxeError(
    DEPLOY_ERRORS.invalidReference,
    `task sequence "${ts.name}" (${ts.id}) can't be deployed: it has ${problems.length} invalid reference(s): ` +
      `${problems.map((p) => p.message).join('; ')}. Fix them, then deploy again`,
    422,
    { rule: 1, field: 'taskSequenceId', problems },
  );
}

/**
 * Rule 2: device collections only. pxepoint has no user collections, so a
 * collection that exists is a device collection; an id that doesn't exist is
 * refused, naming the ConfigMgr user-collection ids explicitly.
 */
function requireDeviceCollection(input: WizardInput, ctx: WizardContext): Collection {
  const c = ctx.collection;
  if (c !== undefined && c.id === input.collectionId) return c;
  const reachUnknown = `To reach computers that aren't known yet, deploy to All Unknown Computers (${ALL_UNKNOWN_COMPUTERS_ID})`;
  if (CONFIGMGR_USER_COLLECTION_IDS.has(input.collectionId.toUpperCase())) {
    throw wizardRule(
      DEPLOY_ERRORS.userCollection, 2,
      `collection "${input.collectionId}" is a ConfigMgr user collection; task sequences deploy only to device collections. Pick a device collection. ${reachUnknown}`,
      'collectionId',
    );
  }
  throw new PxeError(
    DEPLOY_ERRORS.unknownCollection,
    `device collection "${input.collectionId}" does not exist; task sequences deploy only to device collections (list them with \`pxepoint collection list\`). ${reachUnknown}`,
    404,
    { rule: 2, field: 'collectionId' },
  );
}

/** Rule 4, and the layering: base ← template ← explicit input. */
function composeSettings(input: WizardInput, ctx: WizardContext): DeploymentSettings {
  const { template } = ctx;
  if (input.templateId != null && template === undefined) {
    throw new PxeError(
      DEPLOY_ERRORS.templateNotFound,
      `deployment template "${input.templateId}" does not exist; list them with \`pxepoint template list\` or leave templateId out`,
      404,
      { rule: 4, field: 'templateId' },
    );
  }
  if (input.templateId != null && template !== undefined && template.id !== input.templateId) {
    throw invalid('templateId', `names template "${input.templateId}" but template "${template.id}" was supplied; pass the matching template`);
  }
  let settings = ctx.existing !== undefined ? pickSettings(ctx.existing) : defaultDeploymentSettings();
  // settingsFromTemplate copies field by field: scheduling, preDownload and
  // softwareInstallOutsideMaintenance can't come from a template (rule 4).
  if (template !== undefined) settings = mergeSettings(settings, settingsFromTemplate(template.settings));
  settings = withScheduleDefaults(mergeSettings(settings, input.settings ?? {}));
  validateDeploymentSettings(settings);
  return settings;
}

/** Rules 6, 7, 16: options that depend on the purpose. May change `settings` (rule 7). */
function applyPurposeRules(settings: DeploymentSettings, warnings: string[]): void {
  const required = settings.deploymentSettings.purpose === 'required';
  if (!required) {
    // Rule 6.
    for (const key of ['sendWakeUpPackets', 'allowMeteredDownloadAfterDeadline'] as const) {
      if (settings.deploymentSettings[key]) {
        throw wizardRule(
          DEPLOY_ERRORS.requiredOnlyOption, 6,
          `settings.deploymentSettings.${key} applies only to Required deployments; set it to false or make the purpose "required"`,
          `settings.deploymentSettings.${key}`,
        );
      }
    }
    // Rule 7: always on for available deployments.
    if (!settings.userExperience.allowRunIndependently) {
      settings.userExperience.allowRunIndependently = true;
      warnings.push(
        'userExperience.allowRunIndependently was set to true: users can always run an Available deployment independently of assignments (rule 7).',
      );
    }
  }
  // Rule 16.
  if (required && settings.general.preDownload) {
    throw wizardRule(
      DEPLOY_ERRORS.preDownloadNeedsAvailable, 16,
      'settings.general.preDownload (pre-cache content) needs an Available deployment; set it to false or make the purpose "available"',
      'settings.general.preDownload',
    );
  }
}

/** Rule 3: "Use default distribution point groups" is greyed out without a group on the collection. */
function checkGeneralPage(settings: DeploymentSettings, collection: Collection): void {
  if (settings.general.useDefaultDpGroups && collection.defaultDpGroupId === null) {
    throw wizardRule(
      DEPLOY_ERRORS.noDefaultDpGroup, 3,
      `settings.general.useDefaultDpGroups: collection "${collection.name}" (${collection.id}) has no default distribution point group; set one on the collection or set this to false`,
      'settings.general.useDefaultDpGroups',
    );
  }
}

/** Rules 11, 9, 10: only what the wizard would have offered. */
function checkTargetAndContent(settings: DeploymentSettings, ts: TaskSequence, packages: ReadonlyMap<string, Package>): void {
  const { availableTo } = settings.deploymentSettings;
  if (!offeredAvailableTo(ts).includes(availableTo)) {
    throw wizardRule(
      DEPLOY_ERRORS.mediaNeedsBootImage, 11,
      `settings.deploymentSettings.availableTo "${availableTo}": task sequence "${ts.name}" (${ts.id}) has no boot image, so it isn't an OS deployment and can only be made available to "clients-only"; choose a boot image in the task sequence or make it available to clients only`,
      'settings.deploymentSettings.availableTo',
    );
  }
  const option = settings.distributionPoints.deploymentOption;
  const pkgs = referencedPackages(ts, packages);
  if (offeredDeploymentOptions(availableTo, pkgs).includes(option)) return;
  if (option === 'download-all-first') {
    throw wizardRule(
      DEPLOY_ERRORS.downloadAllWithMedia, 9,
      `settings.distributionPoints.deploymentOption "download-all-first" isn't offered when the deployment is available to media and PXE ("${availableTo}"); use "download-when-needed", or make it available to "clients-only"`,
      'settings.distributionPoints.deploymentOption',
    );
  }
  const unshared = pkgs.filter((p) => !p.copyToPackageShare).map((p) => `${p.name} (${p.id})`);
  throw wizardRule(
    DEPLOY_ERRORS.accessDirectlyNeedsShare, 10,
    `settings.distributionPoints.deploymentOption "access-directly" needs every referenced package copied to a package share; not shared: ${unshared.join(', ')}. Enable "copy to package share" on them or use "download-when-needed"`,
    'settings.distributionPoints.deploymentOption',
  );
}

/**
 * Scheduling page. Assignment schedules belong to Required deployments (rule 30).
 * A Required deployment that full-OS clients see needs at least one; one made
 * available to media and PXE only may have none, because WinPE never evaluates
 * schedules (rule 28) — see the decision record.
 */
function checkScheduling(settings: DeploymentSettings, warnings: string[]): void {
  const { purpose, availableTo } = settings.deploymentSettings;
  const { available, expires, assignments } = settings.scheduling;
  if (purpose === 'available' && assignments.length > 0) {
    throw wizardRule(
      DEPLOY_ERRORS.assignmentSchedule, 30,
      'settings.scheduling.assignments apply only to Required deployments; remove them or make the purpose "required"',
      'settings.scheduling.assignments',
    );
  }
  const mediaOnly = availableTo === 'media-pxe' || availableTo === 'media-pxe-hidden';
  if (purpose === 'required' && !mediaOnly && assignments.length === 0) {
    throw wizardRule(
      DEPLOY_ERRORS.assignmentSchedule, 30,
      `settings.scheduling.assignments: a Required deployment available to Configuration Manager clients ("${availableTo}") needs at least one assignment schedule; add one (e.g. { "kind": "asap" })`,
      'settings.scheduling.assignments',
    );
  }
  if (available !== null && expires !== null && available.utc === expires.utc) {
    // Same reading (both UTC or both client-local): comparable. Mixed readings
    // depend on each client's time zone, so they aren't ordered here.
    if (wallClockMillis(expires.at)! <= wallClockMillis(available.at)!) {
      throw wizardRule(
        DEPLOY_ERRORS.expiresBeforeAvailable, 30,
        `settings.scheduling.expires (${expires.at}) must be after settings.scheduling.available (${available.at}); move the expiry later or clear it`,
        'settings.scheduling.expires',
      );
    }
  }
  if (mediaOnly && (available !== null || expires !== null || assignments.length > 0)) {
    warnings.push(
      'PXE and boot-media clients don\'t evaluate deployment schedules: the available time, expiry and assignments are ignored for this media/PXE-only deployment (rule 28).',
    );
  }
}

function highRiskRecord(
  input: WizardInput, ctx: WizardContext, ts: TaskSequence, collection: Collection, settings: DeploymentSettings,
): WizardOutcome['highRisk'] {
  const purpose = settings.deploymentSettings.purpose;
  const { existing } = ctx;
  // Rule 136: verified once, at creation. An update that keeps the collection
  // and the purpose keeps the verdict and the count it was made on.
  if (existing !== undefined && existing.collectionId === collection.id && existing.deploymentSettings.purpose === purpose) {
    return structuredClone(existing.highRisk);
  }
  const members = collectionMembers(collection, ctx.members);
  const verdict = verifyHighRisk({
    collection, members, purpose, ts,
    settings: ctx.siteSettings.deploymentVerification,
    showCollectionsOverDefaultSize: input.showCollectionsOverDefaultSize === true,
  });
  if (verdict.blocked !== undefined) throw verdict.blocked;
  if (verdict.warnings.length > 0 && input.acceptHighRisk !== true) {
    throw new PxeError(
      DEPLOY_ERRORS.highRiskNotAccepted,
      `this is a high-risk deployment (a required OS deployment, rule 130) and needs your agreement: ${verdict.warnings.join(' ')} ` +
        'Check the collection; to create the deployment anyway, repeat the request with acceptHighRisk: true',
      422,
      { rule: 135, field: 'acceptHighRisk', warnings: verdict.warnings },
    );
  }
  // `accepted` records consent that was actually needed, for the audit message.
  return { warnings: verdict.warnings, accepted: verdict.warnings.length > 0, memberCountAtCreation: members.length };
}

/** Runs every page's rules; throws the PxeError of the first one that refuses. */
export function runDeployWizard(input: WizardInput, ctx: WizardContext): WizardOutcome {
  const ts = requireTaskSequence(input, ctx);
  assertNoInvalidReferences(ts, ctx);
  const collection = requireDeviceCollection(input, ctx);
  if (ctx.existing !== undefined && ctx.existing.taskSequenceId !== ts.id) {
    throw new PxeError(
      DEPLOY_ERRORS.taskSequenceChange,
      `deployment ${ctx.existing.id} deploys task sequence "${ctx.existing.taskSequenceId}"; a deployment's task sequence can't be changed, create a new deployment instead`,
      422,
      { field: 'taskSequenceId' },
    );
  }
  validateVerificationSettings(ctx.siteSettings.deploymentVerification);

  const settings = composeSettings(input, ctx);
  const warnings: string[] = [];
  applyPurposeRules(settings, warnings);
  checkGeneralPage(settings, collection);
  checkTargetAndContent(settings, ts, ctx.packages);
  checkScheduling(settings, warnings);
  // Rule 14: allowed, but it won't run.
  if (ts.disabled) {
    warnings.push(
      `Task sequence "${ts.name}" (${ts.id}) is disabled: the deployment is created but won't run until the task sequence is enabled again (no redeployment needed then) (rule 14).`,
    );
  }

  const highRisk = highRiskRecord(input, ctx, ts, collection, settings);
  return { settings, warnings, highRisk };
}
