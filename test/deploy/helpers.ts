import type { PxeError } from '../../src/errors.js';
import { isPxeError } from '../../src/errors.js';
import type { DeepPartial } from '../../src/deploy/defaults.js';
import type { DeploymentSettings } from '../../src/site/model.js';

/** The PxeError `fn` throws; fails the test if it throws nothing or something else. */
export function thrown(fn: () => unknown): PxeError {
  try {
    fn();
  } catch (e) {
    if (isPxeError(e)) return e;
    throw e;
  }
  throw new Error('expected a PxeError, but nothing was thrown');
}

/** Required, made available to media and PXE only (no assignment schedule needed). */
export function requiredPxe(extra: DeepPartial<DeploymentSettings> = {}): DeepPartial<DeploymentSettings> {
  return { ...extra, deploymentSettings: { purpose: 'required', availableTo: 'media-pxe-hidden', ...extra.deploymentSettings } };
}
