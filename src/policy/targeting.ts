/**
 * Who is asking, and which deployments are aimed at it (rules 59–64).
 * - A record (found by MAC or SMBIOS GUID by the caller, rule 59) → the
 *   deployments to the collections it belongs to, All Systems included. A
 *   provisional "Unknown" record left by a failed unknown install is a record
 *   like any other (rule 64).
 * - No record → the unknown object matching the hardware (rule 62) and the
 *   deployments to its collections, i.e. All Unknown Computers (rule 60). A
 *   known device never gets those (rule 61): it is not a member.
 *
 * ARM64 (open question 6, our choice): the site has only the two objects of
 * rule 62, both "describe the hardware"; an ARM64 machine is 64-bit and is
 * matched to the x64 Unknown Computer. Deployments to All Unknown Computers
 * reach both objects anyway; the choice only names the object reported.
 */
import type { Architecture, Deployment, Device } from '../site/model.js';
import type { PolicySnapshot } from './types.js';

export interface Target {
  /** The known record, or the unknown object standing in for the machine. */
  device: Device;
  /** A real record (provisional ones included), not an unknown object. */
  known: boolean;
  /** Set when the machine is represented by an unknown object. */
  unknownObjectId: string | null;
  /** Collections of `device`, in variable-precedence order. */
  collectionIds: readonly string[];
}

/** Rule 62: x86-only hardware → x86 Unknown Computer; x64-capable (and ARM64) → x64. */
export function unknownObjectFor(architecture: Architecture, snap: PolicySnapshot): Device {
  return architecture === 'x86' ? snap.unknownObjects.x86 : snap.unknownObjects.x64;
}

export function resolveTarget(device: Device | null, architecture: Architecture, snap: PolicySnapshot): Target {
  // A caller may pass an unknown object itself instead of null: same meaning.
  const subject = device ?? unknownObjectFor(architecture, snap);
  const known = subject.unknownObject === null;
  return {
    device: subject,
    known,
    unknownObjectId: known ? null : subject.id,
    collectionIds: snap.collectionIdsOf(subject),
  };
}

/** Deployments to any of the target's collections, by ascending deployment id. */
export function targetedDeployments(target: Target, snap: PolicySnapshot): Deployment[] {
  const result: Deployment[] = [];
  for (const id of target.collectionIds) {
    const list = snap.deploymentsByCollection.get(id);
    if (list !== undefined) result.push(...list);
  }
  return result.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** True when `deployment` is aimed at the target (rule 25: "a specific targeted deployment"). */
export function isTargeted(deployment: Deployment, target: Target): boolean {
  return target.collectionIds.includes(deployment.collectionId);
}
