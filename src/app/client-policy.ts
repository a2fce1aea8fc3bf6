/**
 * From a policy decision (policy/select.ts) to what the client API answers
 * (policy/client-api.ts): each offered deployment with its task sequence steps
 * and the packages they use, with file hashes and locations.
 */
import { contentLocations, dpPackageUrls, packageShareUrl } from '../content/locations.js';
import type { PolicyContentSource, PolicyDeployment, PolicyPackage, PolicyStep } from '../policy/client-api.js';
import type { OfferedDeployment, PolicySnapshot } from '../policy/types.js';
import type { BoundaryGroup, ClientDeploymentStatus, Deployment, DistributionPoint, Package, Variable } from '../site/model.js';
import type { ContentCatalogue } from './client-content.js';

/** What locating content needs besides the snapshot (issue 6, content/locations.ts). */
export interface ContentSites {
  /** The client's address as the site saw the policy request. */
  clientIp: string | null;
  boundaryGroups: readonly BoundaryGroup[];
  distributionPoints: readonly DistributionPoint[];
  /** The site's own content route: after every DP, only when no DP qualifies, or never. */
  siteUse: 'always' | 'last-resort' | 'never';
  /** Whether a DP holds a package version (the content library); undefined when not known. */
  packageAvailability?: (distributionPointId: string, packageId: string, version: number) => boolean | undefined;
}

/** Rule 120: the engine variables a deployment option implies. */
function engineVariablesOf(option: Deployment['distributionPoints']['deploymentOption']): Variable[] {
  if (option === 'download-when-needed') return [{ name: '_SMSTSDownloadOnDemand', value: 'true' }];
  if (option === 'access-directly') return [{ name: '_SMSTSRunFromDP', value: 'true' }];
  return [];
}

/** A package's locations in rule 124 order; without `sites`, the site's own route only (as before issue 6). */
function packageSources(pkg: Package, deployment: Deployment, contentBase: string, sites: ContentSites | undefined): PolicyContentSource[] {
  const siteFiles = `${contentBase}${encodeURIComponent(pkg.id)}/`;
  // The site serves the package's source folder as is: for "access directly" it is the share (docs/content.md).
  const siteSource: PolicyContentSource = {
    filesUrl: siteFiles, manifestUrl: null, shareUrl: pkg.copyToPackageShare ? siteFiles : null, distributionPointId: 'site', source: 'site',
  };
  if (!sites) return [siteSource];
  const dps = new Map(sites.distributionPoints.map((dp) => [dp.id, dp]));
  const availability = sites.packageAvailability;
  const locations = contentLocations({
    clientIp: sites.clientIp,
    boundaryGroups: sites.boundaryGroups,
    distributionPoints: sites.distributionPoints,
    deployment,
    ...(availability ? { packageAvailability: (dpId: string) => availability(dpId, pkg.id, pkg.version) } : {}),
    site: sites.siteUse === 'never' ? null : { url: contentBase, use: sites.siteUse },
  });
  return locations.map((l): PolicyContentSource => {
    if (l.source === 'site') return siteSource;
    const dp = dps.get(l.distributionPointId);
    return {
      ...dpPackageUrls(l.url, pkg.id, pkg.version),
      shareUrl: pkg.copyToPackageShare ? packageShareUrl(dp?.shareUrl ?? null, pkg.id) : null,
      distributionPointId: l.distributionPointId,
      source: l.source,
      ...(l.failoverMinutes !== undefined ? { failoverMinutes: l.failoverMinutes } : {}),
    };
  });
}

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
  o: OfferedDeployment, snap: PolicySnapshot, contentBase: string, content: ContentCatalogue, sites?: ContentSites,
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
    const sources = packageSources(pkg, deployment, contentBase, sites);
    packages.push({ id: pkg.id, name: pkg.name, version: pkg.version, files, locations: sources.map((x) => x.filesUrl), sources });
  }
  return {
    ...o,
    taskSequence: { id: ts.id, name: ts.name, bootImageId: ts.bootImageId, steps },
    packages,
    deploymentOption: deployment.distributionPoints.deploymentOption,
    // Rule 16: pre-caching needs an Available deployment.
    preDownload: deployment.general.preDownload && deployment.deploymentSettings.purpose === 'available',
    engineVariables: engineVariablesOf(deployment.distributionPoints.deploymentOption),
  };
}
