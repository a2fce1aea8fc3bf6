/**
 * High-risk deployment verification (configmgr-rules.md §9, rules 130–136).
 *
 * A high-risk deployment is automatically installed and can do damage: a
 * Required task sequence that deploys an OS (rule 130). The console limits the
 * collections it can target and makes the admin agree to warnings; we return
 * the same verdict as data: `blocked` (cannot continue) or `warnings` (the
 * caller must accept them). Membership is counted once, here, at creation
 * (rule 136); nobody re-runs this when membership changes later.
 *
 * Reading of rule 132 (the "Select Collection" window): the window lists
 * collections of at most `defaultSize` members; clearing "Hide collections with
 * a member count greater than the site's minimum size configuration" lists
 * those up to `maximumSize`; collections over `maximumSize` are never listed.
 * An API has no window, so:
 * - over `maximumSize` (when > 0): blocked, always;
 * - over `defaultSize` (when > 0) and the caller did not pass
 *   `showCollectionsOverDefaultSize: true` (the checkbox cleared): blocked, and
 *   the message says how to proceed;
 * - over `defaultSize` with that flag: the rule-135 warning, to be accepted.
 * "Over" means strictly greater (rule 131: "collections over this size").
 */
import type { PxeError } from '../errors.js';
import { wizardRule } from '../errors.js';
import type { Collection, Device, DeploymentVerificationSettings, Purpose, TaskSequence } from '../site/model.js';
import { DEPLOY_ERRORS } from './error-codes.js';

/** Rule 130: Required, and the task sequence deploys an OS (boot image, or any apply-image step, even a disabled one). */
export function isHighRisk(purpose: Purpose, ts: Pick<TaskSequence, 'bootImageId' | 'steps'>): boolean {
  return purpose === 'required' && (ts.bootImageId !== null || ts.steps.some((s) => s.type === 'apply-image'));
}

/** Rule 131: sizes are whole numbers ≥ 0 and a maximum, when set, exceeds the default. Throws PXE_ERR_VERIFICATION_SETTINGS. */
export function validateVerificationSettings(s: DeploymentVerificationSettings): void {
  const field = 'siteSettings.deploymentVerification';
  for (const key of ['defaultSize', 'maximumSize'] as const) {
    const v = s[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
      throw wizardRule(DEPLOY_ERRORS.verificationSettings, 131, `${field}.${key} must be a whole number ≥ 0 (0 ignores it); got ${String(v)}`, `${field}.${key}`);
    }
  }
  if (s.maximumSize !== 0 && s.maximumSize <= s.defaultSize) {
    throw wizardRule(
      DEPLOY_ERRORS.verificationSettings, 131,
      `${field}.maximumSize (${s.maximumSize}) must be greater than defaultSize (${s.defaultSize}), or 0 to ignore it; raise the maximum or lower the default size`,
      `${field}.maximumSize`,
    );
  }
  if (s.siteSystemCollections !== 'block' && s.siteSystemCollections !== 'warn') {
    throw wizardRule(
      DEPLOY_ERRORS.verificationSettings, 131,
      `${field}.siteSystemCollections must be "block" or "warn"; got ${JSON.stringify(s.siteSystemCollections)}`,
      `${field}.siteSystemCollections`,
    );
  }
}

export interface HighRiskCheck {
  collection: Collection;
  /** The collection's members now (rule 136: this count is final). */
  members: readonly Device[];
  settings: DeploymentVerificationSettings;
  purpose: Purpose;
  ts: Pick<TaskSequence, 'bootImageId' | 'steps'>;
  /** The console's "Hide collections with a member count greater than…" cleared (rule 132). */
  showCollectionsOverDefaultSize?: boolean;
}

export interface HighRiskVerdict {
  /** Set when the wizard can't continue (rules 132–134). */
  blocked?: PxeError;
  /** Rule 135: each needs the admin's agreement. Empty when not high-risk. */
  warnings: string[];
}

function nameList(devices: readonly Device[]): string {
  const shown = devices.slice(0, 5).map((d) => `${d.name} (${d.id})`);
  const more = devices.length - shown.length;
  return more > 0 ? `${shown.join(', ')} and ${more} more` : shown.join(', ');
}

export function verifyHighRisk(check: HighRiskCheck): HighRiskVerdict {
  const { collection, members, settings, purpose, ts } = check;
  if (!isHighRisk(purpose, ts)) return { warnings: [] };

  const label = `collection "${collection.name}" (${collection.id})`;
  const count = members.length;
  const warnings: string[] = [];
  const block = (code: string, rule: number, message: string): HighRiskVerdict => ({
    blocked: wizardRule(code, rule, message, 'collectionId'),
    warnings,
  });

  // Rule 133: only custom collections and All Unknown Computers.
  if (collection.builtin !== null && collection.builtin !== 'all-unknown') {
    return block(
      DEPLOY_ERRORS.builtinCollection, 133,
      `${label} is a built-in collection; a required OS deployment can target only collections you created or All Unknown Computers. Create a collection with just the computers to reinstall`,
    );
  }

  // Rule 132: never listed over the maximum size.
  if (settings.maximumSize > 0 && count > settings.maximumSize) {
    return block(
      DEPLOY_ERRORS.collectionTooLarge, 132,
      `${label} has ${count} members, more than the site's maximum size for high-risk deployments (${settings.maximumSize}); deploy to a smaller collection or raise the maximum size in the site's deployment verification settings`,
    );
  }

  const overDefault = settings.defaultSize > 0 && count > settings.defaultSize;
  // Rule 132: hidden over the default size unless the admin clears "Hide collections…".
  if (overDefault && check.showCollectionsOverDefaultSize !== true) {
    return block(
      DEPLOY_ERRORS.collectionHidden, 132,
      `${label} has ${count} members, more than the site's default size for high-risk deployments (${settings.defaultSize}), so it isn't offered by default; to deploy to it anyway pass showCollectionsOverDefaultSize: true and accept the resulting high-risk warning with acceptHighRisk: true`,
    );
  }

  // Rules 134/135: site system servers.
  const siteSystems = members.filter((d) => d.isSiteSystem);
  if (siteSystems.length > 0) {
    if (settings.siteSystemCollections === 'block') {
      return block(
        DEPLOY_ERRORS.siteSystemBlocked, 134,
        `${label} contains site system servers (${nameList(siteSystems)}) and the site blocks high-risk deployments to such collections; remove them from the collection or deploy to a collection without them`,
      );
    }
    warnings.push(
      `${label} contains site system servers: ${nameList(siteSystems)}. A required OS deployment runs on them like on any other member (rule 138).`,
    );
  }

  // Rule 135: over the default size (reachable only with the flag, see above).
  if (overDefault) {
    warnings.push(
      `${label} has ${count} members, more than the site's default size for high-risk deployments (${settings.defaultSize}).`,
    );
  }

  // Rule 135: servers.
  const servers = members.filter((d) => d.isServer);
  if (servers.length > 0) {
    warnings.push(`${label} contains servers: ${nameList(servers)}. A required OS deployment will reinstall them.`);
  }

  return { warnings };
}
