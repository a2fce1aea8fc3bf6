/**
 * What the wizard offers, given the task sequence and its packages. The console
 * hides options that don't apply (rule 8: "dynamic based upon other selections");
 * the admin API answers "what can I pick?" with the same functions, and the
 * wizard refuses anything outside them.
 */
import type { AvailableTo, DeploymentOption, Package, TaskSequence } from '../site/model.js';
import { AVAILABLE_TO } from '../site/model.js';

/** Rules 18–19: every value except "Only Configuration Manager clients" reaches media and PXE. */
export function targetsMediaOrPxe(availableTo: AvailableTo): boolean {
  return availableTo !== 'clients-only';
}

/** Rule 11: without a boot image a task sequence isn't an OS deployment, so clients only. */
export function offeredAvailableTo(ts: Pick<TaskSequence, 'bootImageId'>): AvailableTo[] {
  return ts.bootImageId === null ? ['clients-only'] : [...AVAILABLE_TO];
}

/**
 * Rules 9–10 (docs examples 1–3):
 * - "download when needed" is always offered;
 * - "download all first" only when no media/PXE target is chosen (rule 9);
 * - "access directly" only when every referenced package is copied to a package
 *   share (rule 10). With no packages at all, "every" holds and it is offered.
 */
export function offeredDeploymentOptions(availableTo: AvailableTo, packages: readonly Package[]): DeploymentOption[] {
  const offered: DeploymentOption[] = ['download-when-needed'];
  if (!targetsMediaOrPxe(availableTo)) offered.push('download-all-first');
  if (packages.every((p) => p.copyToPackageShare)) offered.push('access-directly');
  return offered;
}
