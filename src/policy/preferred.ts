/**
 * SMSTSPreferredAdvertID (rules 20, 24–26): the deployment a WinPE client must
 * run, with no prompt, overriding required deployments.
 *
 * Where it comes from: the merged environment (variables.ts), so the one rule
 * 113 precedence decides — collection < device < client (media variables, the
 * PXE variables file, prestart). Unknown machines see collection variables only
 * (rule 65). An empty value deletes it, so a media variable set to "" cancels a
 * collection's value.
 *
 * Full-OS clients ignore it: it is a WinPE variable, set "through a prestart
 * command from media or PXE" (rule 24); Software Center runs what the user or
 * the schedule picks.
 *
 * When it cannot be honoured, see docs/decisions/0006-preferred-advert-id.md.
 */
import type { Deployment } from '../site/model.js';
import { isMediaPxeEnabled } from './availability.js';
import { pxeAlreadyDelivered } from './rerun.js';
import { isTargeted, type Target } from './targeting.js';
import type { BootSource, PolicySnapshot, PreferredAdvertError, VariableSource } from './types.js';
import { findVariable, type MergedVariables } from './variables.js';

export const PREFERRED_ADVERT_VARIABLE = 'SMSTSPreferredAdvertID';

export interface PreferredRequest {
  id: string;
  source: VariableSource;
}

/** The requested deployment id and where it came from, or null when unset or not applicable. */
export function preferredRequest(env: MergedVariables, bootSource: BootSource): PreferredRequest | null {
  if (bootSource === 'full-os') return null;
  const v = findVariable(env.variables, PREFERRED_ADVERT_VARIABLE);
  if (v === undefined || v.value.trim() === '') return null;
  return { id: v.value.trim(), source: env.sources.get(PREFERRED_ADVERT_VARIABLE.toLowerCase()) ?? 'client' };
}

export type PreferredResolution =
  | { ok: true; deployment: Deployment }
  | { ok: false; reason: PreferredAdvertError; message: string };

export function resolvePreferred(
  request: PreferredRequest, target: Target, bootSource: BootSource, snap: PolicySnapshot,
): PreferredResolution {
  const fail = (reason: PreferredAdvertError, message: string): PreferredResolution => ({ ok: false, reason, message });
  const id = request.id;
  // Deployment ids are upper-case ("PXP20001"); a hand-typed media variable may not be.
  const deployment = snap.deployments.get(id) ?? snap.deployments.get(id.toUpperCase());
  const from = `SMSTSPreferredAdvertID (${request.source} variable)`;
  if (deployment === undefined) {
    return fail('unknown-deployment', `${from} names deployment "${id}", which does not exist: correct the variable or create the deployment`);
  }
  if (!isTargeted(deployment, target)) {
    const who = target.known ? `device ${target.device.id} ("${target.device.name}")` : `the ${target.device.name}`;
    return fail('not-targeted', `${from} names deployment ${deployment.id}, which is deployed to collection ${deployment.collectionId}; ${who} is not a member of it (rules 25, 61)`);
  }
  if (!isMediaPxeEnabled(deployment.deploymentSettings.availableTo)) {
    return fail('not-available-to-media-pxe', `${from} names deployment ${deployment.id}, which is available to Configuration Manager clients only: make it available to media and PXE (rule 19)`);
  }
  const ts = snap.taskSequences.get(deployment.taskSequenceId);
  if (ts === undefined) {
    return fail('task-sequence-missing', `${from} names deployment ${deployment.id}, whose task sequence ${deployment.taskSequenceId} no longer exists`);
  }
  if (ts.disabled) {
    return fail('task-sequence-disabled', `${from} names deployment ${deployment.id}, whose task sequence ${ts.id} ("${ts.name}") is disabled: enable it to run (rule 14)`);
  }
  if (bootSource === 'pxe' && target.known && deployment.deploymentSettings.purpose === 'required'
    && pxeAlreadyDelivered(deployment, target.device)) {
    return fail('pxe-already-delivered', `${from} names required deployment ${deployment.id}, already delivered to this device over PXE: run Clear Required PXE Deployments to deliver it again (rule 40)`);
  }
  return { ok: true, deployment };
}
