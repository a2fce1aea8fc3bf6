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
import { sealPayloadWithKey, type DerivedSealKey } from '../media/seal.js';
import type { Variable } from '../site/model.js';
import type { BootSession } from './boot-sessions.js';
import type { PxePasswordLookup } from './pxe-password.js';

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
  /**
   * The PXE password state (pxe/pxe-password.ts), asked at each request: with a
   * password set, boot-files.ts serves the sealed file (sealVariablesFile) and
   * `passwordSet` is implied.
   */
  pxePassword?: PxePasswordLookup;
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

/**
 * The file sealed under the PXE password's derived key (rules 47, 73, 100): a
 * `pxepoint-sealed/1` envelope, purpose 'pxe-variables', whose payload is exactly
 * the clear file's `{ "variables": [...] }`. Without the password nobody reads the
 * boot token or the variables (client: src/client/pxe-password.ts openPxeVariables).
 * One AES-GCM pass per boot; the scrypt cost was paid once when the password was set.
 *
 * The envelope's "mediaId" (the id a sealed file is bound to, in its header and its
 * AAD) is the boot token's id — the boot session's id when there is no token — so the
 * header of one boot's file cannot be relabelled as another's.
 */
export function sealVariablesFile(session: BootSession, opts: VariablesFileOptions & { derived: DerivedSealKey }): string {
  const variables = variablesFor(session, { ...opts, passwordSet: true });
  const mediaId = session.token?.id ?? `session-${session.id}`;
  return sealPayloadWithKey({ variables }, { purpose: 'pxe-variables', mediaId, derived: opts.derived }).toString('utf8');
}
