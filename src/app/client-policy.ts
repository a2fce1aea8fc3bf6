/**
 * From a policy decision (policy/select.ts) to what the client API answers
 * (policy/client-api.ts): each offered deployment with its task sequence steps
 * and the packages they use, with file hashes and locations.
 */
import type { PolicyDeployment, PolicyPackage, PolicyStep } from '../policy/client-api.js';
import type { OfferedDeployment, PolicySnapshot } from '../policy/types.js';
import type { ClientDeploymentStatus } from '../site/model.js';
import type { ContentCatalogue } from './client-content.js';

/** The snapshot with one device's execution history replaced by a fresh read (rerun rules 36–39). */
export function withHistory(snap: PolicySnapshot, deviceId: string | null, history: readonly ClientDeploymentStatus[]): PolicySnapshot {
  if (deviceId === null) return snap;
  const own = new Map(history.map((s) => [s.deploymentId, s]));
  return {
    devices: snap.devices,
    deployments: snap.deployments,
    taskSequences: snap.taskSequences,
    packages: snap.packages,
    bootImages: snap.bootImages,
    collections: snap.collections,
    collectionIdsOf: (device) => snap.collectionIdsOf(device),
    deploymentsByCollection: snap.deploymentsByCollection,
    unknownObjects: snap.unknownObjects,
    statusOf: (dev, dep) => (dev === deviceId ? own.get(dep) : snap.statusOf(dev, dep)),
  };
}

/** Package ids a deployment's enabled steps use, in step order. */
export function packageIdsOf(deploymentId: string, snap: PolicySnapshot): string[] {
  const d = snap.deployments.get(deploymentId);
  const ts = d ? snap.taskSequences.get(d.taskSequenceId) : undefined;
  const ids = (ts?.steps ?? []).filter((s) => s.disabled !== true).map((s) => s.packageId ?? null);
  return [...new Set(ids.filter((id): id is string => id !== null))];
}

/** One offered deployment as the client receives it; null if its task sequence vanished meanwhile. */
export async function policyDeployment(
  o: OfferedDeployment, snap: PolicySnapshot, contentBase: string, content: ContentCatalogue,
): Promise<PolicyDeployment | null> {
  const deployment = snap.deployments.get(o.deploymentId);
  const ts = snap.taskSequences.get(o.taskSequenceId);
  if (!deployment || !ts) return null;
  const steps: PolicyStep[] = [];
  ts.steps.forEach((s, index) => {
    // A disabled step does not run; the others keep their index in the task sequence.
    if (s.disabled === true) return;
    steps.push({
      index,
      name: s.name,
      type: s.type,
      packageId: s.packageId ?? null,
      commandLine: s.commandLine ?? null,
      variableName: s.variableName ?? null,
      variableValue: s.variableValue ?? null,
      continueOnError: s.continueOnError ?? false,
      accessContentDirectly: s.accessContentDirectly ?? false,
    });
  });
  const packages: PolicyPackage[] = [];
  for (const id of packageIdsOf(o.deploymentId, snap)) {
    const pkg = snap.packages.get(id);
    if (!pkg) continue;
    let files: PolicyPackage['files'] = [];
    try {
      files = await content.filesOf(pkg);
    } catch {
      // Source folder missing or unreadable: nothing to verify yet (the content issue reports it).
    }
    packages.push({ id: pkg.id, name: pkg.name, version: pkg.version, files, locations: [`${contentBase}${encodeURIComponent(pkg.id)}/`] });
  }
  return {
    ...o,
    taskSequence: { id: ts.id, name: ts.name, bootImageId: ts.bootImageId, steps },
    packages,
    deploymentOption: deployment.distributionPoints.deploymentOption,
  };
}
