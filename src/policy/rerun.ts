/**
 * Whether a required deployment may run again on this device (rules 36–41).
 *
 * - Full OS and boot media: the rerun setting against the device's execution
 *   history (`statusOf`, rule 139 states). pxepoint keeps that history on the
 *   server, so media clients, which carry none of their own, use it too.
 * - PXE: the last-PXE-deployment marker instead (rules 40–41): a required
 *   deployment already delivered over PXE is not delivered again until "Clear
 *   Required PXE Deployments" resets the marker — whatever its rerun setting,
 *   which per rule 41 does not make PXE loop, and which clearing overrides
 *   ("reinstalls the most recent required deployments").
 * - Available deployments can always be rerun by the user (rule 37).
 * - Unknown machines have no history: the unknown object is shared by every
 *   unknown machine, so its history and marker say nothing about this one.
 */
import { CLIENT_STATES, type ClientState, type Deployment, type Device } from '../site/model.js';
import type { BootSource, ExclusionReason, PolicySnapshot } from './types.js';

/** States that mean the task sequence started on the device ("has previously run", rule 36). */
const STARTED: ReadonlySet<ClientState> = new Set<ClientState>([
  CLIENT_STATES.Running,
  CLIENT_STATES.Retrying,
  CLIENT_STATES.RebootPending,
  CLIENT_STATES.Failed,
  CLIENT_STATES.Succeeded,
]);

export function hasRun(state: ClientState | undefined): boolean {
  return state !== undefined && STARTED.has(state);
}

/** Rules 36–38 for one previous state; null when a (re)run is allowed. */
export function rerunExclusion(rerun: Deployment['scheduling']['rerun'], last: ClientState | undefined): ExclusionReason | null {
  if (!hasRun(last)) return null; // never ran: the first run is not a rerun
  switch (rerun) {
    case 'always': return null; // rule 37
    case 'never': return 'rerun-never'; // rule 36: even if it failed
    case 'if-failed': return last === CLIENT_STATES.Failed ? null : 'rerun-not-failed'; // rule 38
    case 'if-succeeded': return last === CLIENT_STATES.Succeeded ? null : 'rerun-not-succeeded'; // rule 38
  }
}

/** Rule 40: the device's last PXE deployment is this one. */
export function pxeAlreadyDelivered(deployment: Deployment, device: Device): boolean {
  return device.pxe.lastPxeDeploymentId !== null && device.pxe.lastPxeDeploymentId === deployment.id;
}

/**
 * Why a required deployment may not run again on a known device from this boot
 * source, or null. Callers pass only required deployments of known devices.
 */
export function repeatExclusion(
  deployment: Deployment, device: Device, bootSource: BootSource, snap: PolicySnapshot,
): ExclusionReason | null {
  if (bootSource === 'pxe') return pxeAlreadyDelivered(deployment, device) ? 'pxe-already-delivered' : null;
  return rerunExclusion(deployment.scheduling.rerun, snap.statusOf(device.id, deployment.id)?.state);
}
