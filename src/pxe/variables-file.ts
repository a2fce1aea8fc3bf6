/**
 * The per-boot PXE variables file: pxepoint's `variables.dat` (rules 74, 87), in
 * the format the reference client reads (src/client/identity.ts, docs/client.md):
 *
 *   { "variables": [ { "name": "SMSTSSiteURL", "value": "http://10.77.0.2:8080" }, … ] }
 *
 * What it carries: where the site is, who the machine is (MAC, SMBIOS GUID,
 * architecture), that it booted from PXE, what the responder chose (rule 72's
 * OfferID / Mandatory / BootImageID), and the one-time boot token the client
 * trades for a session at POST /client/identify. It is served only under its
 * unguessable name (boot-sessions.ts), and never logged.
 */
import { PXE_VARS } from '../client/identity.js';
import type { Variable } from '../site/model.js';
import type { BootSession } from './boot-sessions.js';

/** pxepoint's names for rule 72's boot-action fields (SMSPXE's OfferID, Mandatory, BootImageID). */
export const PXE_DECISION_VARS = {
  deploymentId: '_PXPPXEDeploymentID',
  mandatory: '_PXPPXEMandatory',
  bootImageId: '_PXPPXEBootImageID',
  /** Rule 73: a PXE password is set; the client asks for it on its welcome page. */
  passwordRequired: '_PXPPXEPasswordRequired',
} as const;

export interface VariablesFileOptions {
  /** The site's base URL as the booting machine reaches it. */
  siteUrl: string;
  /** Rule 47/73: a PXE password is required (the password itself is never in the file). */
  passwordSet?: boolean;
}

export function variablesFor(session: BootSession, opts: VariablesFileOptions): Variable[] {
  const d = session.decision;
  const vars: Variable[] = [
    { name: PXE_VARS.siteUrl, value: opts.siteUrl },
    { name: PXE_VARS.mediaType, value: 'PXE' }, // rule 107
    { name: PXE_VARS.launchMode, value: 'PXE' },
    { name: PXE_VARS.clientMac, value: session.mac },
  ];
  if (session.smbiosGuid !== null) vars.push({ name: PXE_VARS.smbiosGuid, value: session.smbiosGuid });
  vars.push({ name: PXE_VARS.architecture, value: d.machineArchitecture ?? d.bootImageArchitecture ?? 'x64' });
  if (d.deploymentId !== null) vars.push({ name: PXE_DECISION_VARS.deploymentId, value: d.deploymentId });
  vars.push({ name: PXE_DECISION_VARS.mandatory, value: d.action === 'boot' ? '1' : '0' });
  if (d.bootImageId !== null) vars.push({ name: PXE_DECISION_VARS.bootImageId, value: d.bootImageId });
  if (opts.passwordSet === true) vars.push({ name: PXE_DECISION_VARS.passwordRequired, value: '1' });
  if (session.token !== null) vars.push({ name: PXE_VARS.bootToken, value: session.token.token });
  return vars;
}

/** The file's bytes (UTF-8 JSON, one variable per line so a human can read it). */
export function renderVariablesFile(session: BootSession, opts: VariablesFileOptions): string {
  const lines = variablesFor(session, opts).map((v) => `    ${JSON.stringify({ name: v.name, value: v.value })}`);
  return `{\n  "variables": [\n${lines.join(',\n')}\n  ]\n}\n`;
}
