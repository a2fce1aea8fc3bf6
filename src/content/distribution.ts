/**
 * Site side of distribution (docs/decisions/0010-content-distribution.md): which
 * version of which package each distribution point should hold, and the state the
 * DP reports back. DPs *pull*: they poll their assignments, copy and verify, and
 * report `verifying` / `available` / `failed`. The site never marks a DP
 * `available` itself.
 */
import { invalid, notFound } from '../errors.js';
import { publish } from '../events.js';
import type { Deployment, DpContentState, DpPackageState, StatusMessage } from '../site/model.js';
import type { SiteRepository } from '../site/repository.js';

export interface ContentActor {
  name: string;
  component: string;
}

async function audit(tx: SiteRepository, actor: ContentActor, now: string, text: string, data: Record<string, unknown>, extra: Partial<StatusMessage> = {}): Promise<void> {
  await tx.statusMessages.append({
    time: now, kind: 'audit', severity: 'info', component: actor.component, messageId: 0, actor: actor.name,
    text, deviceId: null, deploymentId: null, data, ...extra,
  });
  publish('site.change', { actor: actor.name, text, ...data });
}

/** The packages and, transitively, the packages they depend on ("Automatically distribute content for dependencies"). */
export async function withDependencies(repo: SiteRepository, packageIds: readonly string[]): Promise<string[]> {
  const seen = new Set<string>();
  const queue = [...packageIds];
  // Bounded: every package enters the set at most once.
  while (queue.length > 0) {
    const id = queue.shift()!;
    if (seen.has(id)) continue;
    const pkg = await repo.packages.get(id);
    if (!pkg) continue;
    seen.add(id);
    queue.push(...pkg.dependencyIds.filter((d) => !seen.has(d)));
  }
  return [...seen];
}

/**
 * Assigns the newest version of each package to each DP. A DP that already holds
 * (or is getting) that version keeps its state; one with an older version goes
 * back to `pending` for the new one. Packages without content are skipped and named.
 */
export async function distribute(
  repo: SiteRepository, packageIds: readonly string[], dpIds: readonly string[], actor: ContentActor, now: string,
): Promise<{ assigned: DpPackageState[]; withoutContent: string[] }> {
  return repo.transaction(async (tx) => {
    const assigned: DpPackageState[] = [];
    const withoutContent: string[] = [];
    for (const dpId of dpIds) if (!(await tx.distributionPoints.get(dpId))) throw notFound('dp', dpId);
    for (const packageId of packageIds) {
      if (!(await tx.packages.get(packageId))) throw notFound('package', packageId);
      const latest = await tx.content.latestVersion(packageId);
      if (!latest) {
        withoutContent.push(packageId);
        continue;
      }
      for (const dpId of dpIds) {
        const cur = await tx.content.getDpState(dpId, packageId);
        if (cur && cur.version === latest.version && cur.state !== 'failed') continue;
        const next: DpPackageState = {
          distributionPointId: dpId, packageId, version: latest.version, state: 'pending', detail: null, updatedAt: now,
          validateRequestedAt: cur?.validateRequestedAt ?? null,
        };
        await tx.content.putDpState(next);
        assigned.push(next);
      }
    }
    if (assigned.length > 0) {
      await audit(tx, actor, now, `distributed ${[...new Set(assigned.map((a) => a.packageId))].join(', ')} to ${[...new Set(assigned.map((a) => a.distributionPointId))].join(', ')}`,
        { action: 'distribute', entity: 'content', packages: [...new Set(assigned.map((a) => a.packageId))], distributionPoints: [...dpIds] });
    }
    return { assigned, withoutContent };
  });
}

/** Every DP that holds or is assigned some version of the package: "update distribution points" after a new version. */
export async function redistributeNewVersion(tx: SiteRepository, packageId: string, version: number, now: string): Promise<string[]> {
  const moved: string[] = [];
  for (const s of await tx.content.listDpStates({ packageId })) {
    if (s.version >= version) continue;
    await tx.content.putDpState({ ...s, version, state: 'pending', detail: null, updatedAt: now });
    moved.push(s.distributionPointId);
  }
  return moved;
}

/** DP ids of a group list. */
async function dpsOfGroups(repo: SiteRepository, groupIds: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const id of groupIds) {
    const g = await repo.dpGroups.get(id);
    if (!g) throw notFound('dp-group', id);
    out.push(...g.distributionPointIds);
  }
  return [...new Set(out)];
}

export async function resolveTargets(repo: SiteRepository, dpIds: readonly string[], groupIds: readonly string[]): Promise<string[]> {
  const all = [...new Set([...dpIds, ...(await dpsOfGroups(repo, groupIds))])];
  if (all.length === 0) throw invalid('distributionPoints', 'name at least one distribution point (--dp) or distribution point group (--group)');
  return all;
}

/**
 * "Automatically distribute content for dependencies" (rule 3), run after a deployment
 * is written: the packages its task sequence uses and, transitively, their
 * dependencies go to (a) the DPs that already hold or are assigned any of those
 * packages and (b) with "Use default distribution point groups associated to this
 * collection", the collection's default DP group. Nothing happens without the flag.
 */
export async function distributeForDeployment(repo: SiteRepository, deployment: Deployment, actor: ContentActor, now: string): Promise<DpPackageState[]> {
  if (!deployment.general.autoDistributeDependencies) return [];
  const ts = await repo.taskSequences.get(deployment.taskSequenceId);
  if (!ts) return [];
  const used = [...new Set(ts.steps.filter((s) => s.disabled !== true && s.packageId).map((s) => s.packageId!))];
  const packages = await withDependencies(repo, used);
  const targets = new Set<string>();
  for (const p of packages) for (const s of await repo.content.listDpStates({ packageId: p })) targets.add(s.distributionPointId);
  if (deployment.general.useDefaultDpGroups) {
    const c = await repo.collections.get(deployment.collectionId);
    if (c?.defaultDpGroupId) for (const id of await dpsOfGroups(repo, [c.defaultDpGroupId]).catch(() => [])) targets.add(id);
  }
  if (targets.size === 0 || packages.length === 0) return [];
  return (await distribute(repo, packages, [...targets], actor, now)).assigned;
}

/** What a DP should hold (its poll). */
export interface DpAssignment {
  packageId: string;
  version: number;
  state: DpContentState;
  /** The package's "copy to a package share" flag (rule 10). */
  share: boolean;
  validateRequested: boolean;
}

export async function assignmentsOf(repo: SiteRepository, dpId: string): Promise<DpAssignment[]> {
  if (!(await repo.distributionPoints.get(dpId))) throw notFound('dp', dpId);
  const out: DpAssignment[] = [];
  for (const s of await repo.content.listDpStates({ distributionPointId: dpId })) {
    const pkg = await repo.packages.get(s.packageId);
    out.push({ packageId: s.packageId, version: s.version, state: s.state, share: pkg?.copyToPackageShare ?? false, validateRequested: s.validateRequestedAt !== null });
  }
  return out;
}

/**
 * A DP's report. Only reports about the version the DP should hold count (a late
 * report about an older version is ignored); `validated` clears a validation request.
 */
export async function recordReport(
  repo: SiteRepository, dpId: string, packageId: string, report: { version: number; state: DpContentState; detail?: string | null; validated?: boolean }, now: string,
): Promise<DpPackageState | null> {
  return repo.transaction(async (tx) => {
    if (!(await tx.distributionPoints.get(dpId))) throw notFound('dp', dpId);
    const cur = await tx.content.getDpState(dpId, packageId);
    if (!cur || cur.version !== report.version) return null;
    const next: DpPackageState = {
      ...cur, state: report.state, detail: report.detail ?? null, updatedAt: now,
      validateRequestedAt: report.validated === true ? null : cur.validateRequestedAt,
    };
    await tx.content.putDpState(next);
    if (report.state === 'failed' && cur.state !== 'failed') {
      await tx.statusMessages.append({
        time: now, kind: 'status', severity: 'error', component: 'distribution-point', messageId: 0, actor: `dp:${dpId}`,
        text: `distribution point ${dpId} failed package ${packageId} version ${report.version}: ${report.detail ?? 'no detail'}`,
        deviceId: null, deploymentId: null, data: { action: 'content-failed', distributionPointId: dpId, packageId, version: report.version },
      });
      publish('content.verify.fail', { distributionPointId: dpId, packageId, version: report.version, detail: report.detail ?? null });
    }
    return next;
  });
}

/** On-demand distribution (rule 125): a DP asked for a package it lacks; assign the newest version to it. */
export async function requestOnDemand(repo: SiteRepository, dpId: string, packageId: string, now: string): Promise<DpPackageState | null> {
  return repo.transaction(async (tx) => {
    if (!(await tx.distributionPoints.get(dpId))) throw notFound('dp', dpId);
    const latest = await tx.content.latestVersion(packageId);
    if (!latest) return null;
    const cur = await tx.content.getDpState(dpId, packageId);
    if (cur && cur.version === latest.version) return cur;
    const next: DpPackageState = { distributionPointId: dpId, packageId, version: latest.version, state: 'pending', detail: 'on demand', updatedAt: now, validateRequestedAt: null };
    await tx.content.putDpState(next);
    return next;
  });
}

/** `pxepoint content validate --dp ID`: the DP re-hashes what it holds at its next poll. */
export async function requestValidation(repo: SiteRepository, dpId: string, actor: ContentActor, now: string): Promise<number> {
  return repo.transaction(async (tx) => {
    if (!(await tx.distributionPoints.get(dpId))) throw notFound('dp', dpId);
    const states = await tx.content.listDpStates({ distributionPointId: dpId });
    for (const s of states) await tx.content.putDpState({ ...s, validateRequestedAt: now });
    await audit(tx, actor, now, `requested content validation on distribution point ${dpId}`, { action: 'validate', entity: 'content', distributionPointId: dpId });
    return states.length;
  });
}

/** For content locations (rule 125 "a DP that has the content"): true available, false known missing/failed, undefined not assigned. */
export async function availabilityOf(repo: SiteRepository, packageId: string, version: number): Promise<Map<string, boolean>> {
  const out = new Map<string, boolean>();
  for (const s of await repo.content.listDpStates({ packageId })) out.set(s.distributionPointId, s.version === version && s.state === 'available');
  return out;
}
