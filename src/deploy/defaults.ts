/**
 * The wizard's starting values (what the ConfigMgr console pre-selects) and the
 * merge that layers a template and the caller's choices on top of them.
 */
import { invalid } from '../errors.js';
import type { DeploymentSettings } from '../site/model.js';

/**
 * A recursive Partial. Arrays (assignment schedules) are replaced whole, never
 * merged element by element: "the schedules" is one choice on the Scheduling page.
 */
export type DeepPartial<T> = T extends readonly unknown[]
  ? T
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> }
    : T;

/** ConfigMgr's defaults, page by page. A fresh object on every call. */
export function defaultDeploymentSettings(): DeploymentSettings {
  return {
    general: {
      useDefaultDpGroups: false,
      // Checked by default in the console.
      autoDistributeDependencies: true,
      preDownload: false,
    },
    deploymentSettings: {
      purpose: 'available',
      availableTo: 'clients-only',
      sendWakeUpPackets: false,
      allowMeteredDownloadAfterDeadline: false,
    },
    scheduling: {
      // null = available as soon as the deployment exists; never expires.
      available: null,
      expires: null,
      assignments: [],
      // Rule 37: "Always rerun program" is the default.
      rerun: 'always',
    },
    userExperience: {
      // Rule 7: always on for available deployments (the default purpose).
      allowRunIndependently: true,
      showProgress: true,
      softwareInstallOutsideMaintenance: false,
      restartOutsideMaintenance: false,
      // Console default: commit write-filter changes at the deadline / in a window.
      commitWriteFilterChanges: true,
      allowOnInternet: false,
    },
    alerts: {
      successBelowPercent: null,
      successCheckAfter: null,
      failureAbovePercent: null,
      opsManagerAlertOnFailure: false,
      disableOpsManagerAlerts: false,
    },
    distributionPoints: {
      // Rule 9: the one option that is always offered.
      deploymentOption: 'download-when-needed',
      allowNeighbourFallback: false,
      allowDefaultSiteFallback: false,
    },
  };
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function mergeValue(base: unknown, patch: unknown, path: string): unknown {
  if (patch === undefined) return structuredClone(base);
  if (isPlainObject(base) && isPlainObject(patch)) {
    const result: Record<string, unknown> = structuredClone(base);
    for (const key of Object.keys(patch)) {
      // Only keys the base already has: a misspelt setting must not be dropped
      // silently, and "__proto__" from parsed JSON must never be assigned.
      if (!Object.hasOwn(base, key)) {
        throw invalid(
          path === '' ? key : `${path}.${key}`,
          `unknown setting; the settings here are: ${Object.keys(base).join(', ')}`,
        );
      }
      result[key] = mergeValue(base[key], patch[key], path === '' ? key : `${path}.${key}`);
    }
    return result;
  }
  // Leaves, arrays, and objects replacing null (e.g. an available time): taken whole.
  // Their shape is checked afterwards by validateDeploymentSettings.
  return structuredClone(patch);
}

/**
 * `base` with every value present in `partial` replaced. Does not modify either
 * argument. Throws PXE_ERR_INVALID for a key that is not a wizard setting.
 */
export function mergeSettings(base: DeploymentSettings, partial: DeepPartial<DeploymentSettings>): DeploymentSettings {
  if (!isPlainObject(partial)) throw invalid('settings', 'must be an object of wizard pages (general, deploymentSettings, …)');
  return mergeValue(base, partial, '') as DeploymentSettings;
}

/** The six wizard pages of a deployment (or anything that carries them), copied. */
export function pickSettings(source: DeploymentSettings): DeploymentSettings {
  return structuredClone({
    general: source.general,
    deploymentSettings: source.deploymentSettings,
    scheduling: source.scheduling,
    userExperience: source.userExperience,
    alerts: source.alerts,
    distributionPoints: source.distributionPoints,
  });
}
