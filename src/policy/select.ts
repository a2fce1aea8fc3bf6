/**
 * selectPolicy: what a client may run and why. Pure: the request carries the
 * machine, the boot source, its variables and the time; the snapshot carries
 * the site. Explained for administrators in docs/policy.md.
 *
 * Order of the checks for each targeted deployment (the first that fails is the
 * reported reason):
 *   1. availability target for the boot source (rules 18–23; hidden: rule 23)
 *   2. task sequence present and enabled (rule 14)
 *   3. full OS only: available / expired (rules 28–30)
 *   4. required only, known devices only: rerun history (full OS, media; rules
 *      36–38) or the last-PXE-deployment marker (PXE; rules 40–41)
 * Then: SMSTSPreferredAdvertID (rule 24) or the highest-id due required
 * deployment (rule 78 ordering) runs with no prompt; otherwise the user picks.
 */
import type { Deployment, TaskSequence } from '../site/model.js';
import { visibilityExclusion } from './availability.js';
import { preferredRequest, resolvePreferred } from './preferred.js';
import { hasRun, repeatExclusion } from './rerun.js';
import { instantOf, isAvailable, isDue, isExpired } from './schedule.js';
import { resolveTarget, targetedDeployments, type Target } from './targeting.js';
import type { ExclusionReason, OfferedDeployment, PolicyDecision, PolicyRequest, PolicySnapshot } from './types.js';
import { mergeVariables, type MergedVariables, type VariableLayer } from './variables.js';

/** Rules 65 and 113: collection variables (in collection order), then the device's, then the client's. */
export function environmentFor(target: Target, req: PolicyRequest, snap: PolicySnapshot): MergedVariables {
  const layers: VariableLayer[] = [];
  for (const id of target.collectionIds) {
    const c = snap.collections.get(id);
    if (c !== undefined && c.variables.length > 0) layers.push({ source: 'collection', collectionId: id, variables: c.variables });
  }
  // Rule 65: an unknown machine reads collection variables, not computer variables.
  if (target.known) layers.push({ source: 'device', variables: target.device.variables });
  layers.push({ source: 'client', variables: req.clientVariables });
  return mergeVariables(layers);
}

type Evaluation = { excluded: ExclusionReason } | { due: boolean };

function evaluate(d: Deployment, ts: TaskSequence | undefined, target: Target, req: PolicyRequest, snap: PolicySnapshot): Evaluation {
  const settings = d.deploymentSettings;
  const visibility = visibilityExclusion(settings.availableTo, req.bootSource);
  if (visibility !== null) return { excluded: visibility };
  if (ts === undefined) return { excluded: 'task-sequence-missing' };
  if (ts.disabled) return { excluded: 'task-sequence-disabled' };

  const required = settings.purpose === 'required';
  if (req.bootSource !== 'full-os') {
    // Rules 28–29: WinPE evaluates no schedule; "required" means "runs without a prompt".
    if (required && target.known) {
      const repeat = repeatExclusion(d, target.device, req.bootSource, snap);
      if (repeat !== null) return { excluded: repeat };
    }
    return { due: required };
  }

  const { available, expires, assignments } = d.scheduling;
  const offset = req.clientUtcOffsetMinutes;
  if (!isAvailable(available, req.now, offset)) return { excluded: 'not-yet-available' };
  if (isExpired(expires, req.now, offset)) return { excluded: 'expired' };
  if (!required) return { due: false }; // rule 37: the user can always (re)run available ones

  const last = target.known ? snap.statusOf(target.device.id, d.id) : undefined;
  if (target.known) {
    const repeat = repeatExclusion(d, target.device, req.bootSource, snap);
    if (repeat !== null) return { excluded: repeat };
  }
  const lastRunAt = last !== undefined && hasRun(last.state) ? Date.parse(last.updatedAt) : null;
  const due = isDue(assignments, {
    now: req.now,
    offsetMinutes: offset,
    event: req.event ?? null,
    lastRunAt: lastRunAt !== null && Number.isNaN(lastRunAt) ? null : lastRunAt,
    availableAt: available === null ? null : instantOf(available, offset),
  });
  return { due };
}

function offer(d: Deployment, ts: TaskSequence | undefined, due: boolean): OfferedDeployment {
  return {
    deploymentId: d.id,
    taskSequenceId: d.taskSequenceId,
    taskSequenceName: ts?.name ?? d.taskSequenceId,
    purpose: d.deploymentSettings.purpose,
    availableTo: d.deploymentSettings.availableTo,
    due,
  };
}

/** Display order: required first, then by task sequence name, then deployment id. */
function displayOrder(a: OfferedDeployment, b: OfferedDeployment): number {
  if (a.purpose !== b.purpose) return a.purpose === 'required' ? -1 : 1;
  const nameA = a.taskSequenceName.toLowerCase();
  const nameB = b.taskSequenceName.toLowerCase();
  if (nameA !== nameB) return nameA < nameB ? -1 : 1;
  return a.deploymentId < b.deploymentId ? -1 : a.deploymentId > b.deploymentId ? 1 : 0;
}

export function selectPolicy(req: PolicyRequest, snap: PolicySnapshot): PolicyDecision {
  const target = resolveTarget(req.device, req.architecture, snap);
  const env = environmentFor(target, req, snap);

  const preferred = preferredRequest(env, req.bootSource);
  const resolution = preferred === null ? null : resolvePreferred(preferred, target, req.bootSource, snap);
  const preferredId = resolution?.ok === true ? resolution.deployment.id : null;

  const offered: OfferedDeployment[] = [];
  const excluded: PolicyDecision['excluded'] = [];
  for (const d of targetedDeployments(target, snap)) {
    const ts = snap.taskSequences.get(d.taskSequenceId);
    const result = evaluate(d, ts, target, req, snap);
    if ('excluded' in result) {
      // The hidden deployment SMSTSPreferredAdvertID names runs; it is not "left out".
      if (d.id === preferredId) continue;
      excluded.push({ deploymentId: d.id, reason: result.excluded });
    } else {
      offered.push(offer(d, ts, result.due));
    }
  }
  offered.sort(displayOrder);

  let autoRun: OfferedDeployment | null = null;
  if (resolution?.ok === true) {
    const d = resolution.deployment;
    autoRun = offered.find((o) => o.deploymentId === d.id)
      ?? offer(d, snap.taskSequences.get(d.taskSequenceId), d.deploymentSettings.purpose === 'required');
  } else if (resolution === null) {
    // Rule 78 ordering (open question 2): the highest deployment id by string comparison.
    for (const o of offered) {
      if (o.purpose === 'required' && o.due && (autoRun === null || o.deploymentId > autoRun.deploymentId)) autoRun = o;
    }
  }
  // else: SMSTSPreferredAdvertID set but unusable → nothing runs on its own (decision 0006).

  return {
    offered,
    autoRun,
    prompt: autoRun === null && offered.length > 0,
    preferredError: resolution !== null && !resolution.ok && preferred !== null
      ? { id: preferred.id, reason: resolution.reason, message: resolution.message }
      : null,
    excluded,
    variables: env.variables,
    variableProblems: env.problems,
    preferredSource: preferred?.source ?? null,
    unknownObjectId: target.unknownObjectId,
  };
}
