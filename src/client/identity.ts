/**
 * Who the client is and how it proves it: from command-line flags, or from a
 * PXE variables file (the file the PXE responder hands a booting machine, the
 * pxepoint analogue of `variables.dat`, rule 106). The format is documented in
 * docs/client.md. Boot media identities: `identityFromMedia`, fed by
 * client/media.ts from the medium (issue 7).
 */
import { readFileSync } from 'node:fs';
import { openPxeVariables } from './pxe-password.js';
import { PxeError } from '../errors.js';
import type { IdentifyWithVariables } from './api.js';
import type { BootSource } from '../policy/types.js';
import { ARCHITECTURES, type Architecture, type Variable } from '../site/model.js';
import { parseGuid, parseMac } from '../site/identifiers.js';
import { REFERENCE_CLIENT_ERRORS } from './error-codes.js';

/** Variable names of the PXE variables file (docs/client.md). */
export const PXE_VARS = {
  siteUrl: 'SMSTSSiteURL',
  /** ConfigMgr's management point variable; used when SMSTSSiteURL is absent. */
  managementPoint: '_SMSTSMP',
  mediaType: '_SMSTSMediaType',
  launchMode: '_SMSTSLaunchMode',
  clientMac: '_SMSTSClientMAC',
  /** ConfigMgr's list of the machine's MACs (comma-separated); accepted as well. */
  macAddresses: '_SMSTSMacAddresses',
  smbiosGuid: '_PXPSMBIOSGUID',
  architecture: '_PXPArchitecture',
  /** The one-time boot token: a credential, never exported to the task sequence environment. */
  bootToken: '_PXPBootToken',
} as const;

/** Variables the client keeps to itself: credentials are not variables of the run. */
const CREDENTIAL_VARIABLES = new Set([PXE_VARS.bootToken.toLowerCase()]);

export type Credential =
  | { kind: 'pxe-token'; token: string }
  | { kind: 'client-key'; key: string }
  | { kind: 'media'; mediaId: string; secret: string };

export interface ClientIdentity {
  siteUrl: string;
  macs: string[];
  smbiosGuid: string | null;
  architecture: Architecture;
  bootSource: BootSource;
  credential: Credential | null;
  /** Variables the client holds before policy: the PXE file, media, --var (rule 26). Never the credential. */
  variables: Variable[];
}

export interface IdentityFlags {
  site?: string;
  macs?: string[];
  guid?: string;
  arch?: string;
  boot?: string;
  token?: string;
  clientKey?: string;
  /** `--var NAME=VALUE`: run-time variables as a prestart command would set them. */
  variables?: Variable[];
}

const identityError = (message: string, field?: string): PxeError =>
  new PxeError(REFERENCE_CLIENT_ERRORS.identity, message, 400, field ? { field } : {});

const BOOT_SOURCES: readonly BootSource[] = ['pxe', 'media', 'full-os'];

function architectureOf(text: string | undefined, field: string): Architecture {
  if (text === undefined || text === '') return 'x64';
  const a = text.trim().toLowerCase() === 'amd64' ? 'x64' : text.trim().toLowerCase();
  if (!(ARCHITECTURES as readonly string[]).includes(a)) throw identityError(`${field} takes ${ARCHITECTURES.join(', ')}, not "${text}"`, field);
  return a as Architecture;
}

function macsOf(items: string[], field: string): string[] {
  const macs = items.flatMap((s) => s.split(/[,;\s]+/)).filter((s) => s !== '').map((s) => {
    const mac = parseMac(s);
    if (mac === null) throw identityError(`${field}: "${s}" is not a MAC address; write it like 52:54:00:77:00:10`, field);
    return mac;
  });
  return [...new Set(macs)];
}

function guidOf(text: string | undefined, field: string): string | null {
  if (text === undefined || text === '') return null;
  const g = parseGuid(text);
  if (g === null) throw identityError(`${field}: "${text}" is not an SMBIOS GUID; write it like 4b1d0000-7777-4000-8000-000000000010`, field);
  return g;
}

function credentialOf(flags: IdentityFlags): Credential | null {
  if (flags.token !== undefined && flags.clientKey !== undefined) throw identityError('give one credential: a boot token or a client key, not both');
  if (flags.token) return { kind: 'pxe-token', token: flags.token };
  if (flags.clientKey) return { kind: 'client-key', key: flags.clientKey };
  return null;
}

function check(identity: ClientIdentity): ClientIdentity {
  if (identity.macs.length === 0 && identity.smbiosGuid === null) {
    throw identityError('the client needs at least one MAC (--mac) or an SMBIOS GUID (--guid) to identify itself (rule 59)');
  }
  if (identity.bootSource === 'media' && identity.credential?.kind !== 'media') {
    throw new PxeError(REFERENCE_CLIENT_ERRORS.mediaNotSupported, 'a boot media identity comes from the medium itself: give --media PATH (the .iso file or a mounted/copied directory), not --boot media', 400, { field: 'boot' });
  }
  return identity;
}

/** Identity from `--site --mac… --guid --arch --boot [--token | --client-key] [--var…]`. */
export function identityFromFlags(flags: IdentityFlags): ClientIdentity {
  if (!flags.site) throw identityError('--site URL is required (or give --vars FILE holding SMSTSSiteURL)', 'site');
  const boot = flags.boot ?? 'pxe';
  if (!(BOOT_SOURCES as readonly string[]).includes(boot)) throw identityError(`--boot takes ${BOOT_SOURCES.join(', ')}, not "${boot}"`, 'boot');
  return check({
    siteUrl: flags.site,
    macs: macsOf(flags.macs ?? [], '--mac'),
    smbiosGuid: guidOf(flags.guid, '--guid'),
    architecture: architectureOf(flags.arch, '--arch'),
    bootSource: boot as BootSource,
    credential: credentialOf(flags),
    variables: withoutCredentials(flags.variables ?? []),
  });
}

/** Parses the JSON text of a PXE variables file: `{ "variables": [{ "name", "value" }…] }`. */
export function parseVariablesFile(text: string, source = 'variables file'): Variable[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new PxeError(REFERENCE_CLIENT_ERRORS.varsFile, `${source} is not JSON: ${(e as Error).message}`, 400);
  }
  const list = (doc as { variables?: unknown } | null)?.variables;
  if (typeof doc !== 'object' || doc === null || !Array.isArray(list)) {
    throw new PxeError(REFERENCE_CLIENT_ERRORS.varsFile, `${source} must be a JSON object { "variables": [{ "name": "…", "value": "…" }, …] }`, 400);
  }
  if (list.length > 1000) throw new PxeError(REFERENCE_CLIENT_ERRORS.varsFile, `${source} holds ${list.length} variables; at most 1000`, 400);
  return list.map((item, i) => {
    const v = item as { name?: unknown; value?: unknown } | null;
    if (typeof v?.name !== 'string' || typeof v.value !== 'string' || v.name === '') {
      throw new PxeError(REFERENCE_CLIENT_ERRORS.varsFile, `${source}: variables[${i}] needs a string "name" and a string "value"`, 400);
    }
    return { name: v.name, value: v.value };
  });
}

/**
 * Identity from a PXE variables file; flags given as well override the file
 * (e.g. `--site` when the file's URL is not reachable from where the client runs).
 */
export function identityFromVariablesFile(path: string, overrides: IdentityFlags = {}, pxePassword: string | null = null): ClientIdentity {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new PxeError(REFERENCE_CLIENT_ERRORS.varsFile, `cannot read the variables file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 400);
  }
  // Rules 73/115: a sealed file (PXE password set on the site) opens only with the PXE password.
  const fileVars = openPxeVariables(text, pxePassword, path);
  const get = (name: string): string | undefined => fileVars.find((v) => v.name.toLowerCase() === name.toLowerCase())?.value;

  const mediaType = get(PXE_VARS.mediaType);
  const bootFromFile = mediaType === undefined ? undefined : mediaType.toUpperCase() === 'PXE' ? 'pxe' : 'media'; // rule 107
  const boot = overrides.boot ?? bootFromFile ?? 'pxe';
  if (!(BOOT_SOURCES as readonly string[]).includes(boot)) throw identityError(`--boot takes ${BOOT_SOURCES.join(', ')}, not "${boot}"`, 'boot');

  const site = overrides.site ?? get(PXE_VARS.siteUrl) ?? get(PXE_VARS.managementPoint);
  if (!site) throw new PxeError(REFERENCE_CLIENT_ERRORS.varsFile, `${path} names no site: add ${PXE_VARS.siteUrl} (or ${PXE_VARS.managementPoint}), or give --site`, 400);

  const fileMacs = [get(PXE_VARS.clientMac), get(PXE_VARS.macAddresses)].filter((s): s is string => s !== undefined);
  const token = overrides.token ?? get(PXE_VARS.bootToken);
  return check({
    siteUrl: site,
    macs: macsOf(overrides.macs?.length ? overrides.macs : fileMacs, overrides.macs?.length ? '--mac' : PXE_VARS.clientMac),
    smbiosGuid: guidOf(overrides.guid ?? get(PXE_VARS.smbiosGuid), overrides.guid ? '--guid' : PXE_VARS.smbiosGuid),
    architecture: architectureOf(overrides.arch ?? get(PXE_VARS.architecture), overrides.arch ? '--arch' : PXE_VARS.architecture),
    bootSource: boot as BootSource,
    credential: credentialOf({ ...overrides, token }),
    // --var set on the command line wins over the file, like a prestart command's set (rule 105).
    variables: withoutCredentials([...fileVars, ...(overrides.variables ?? [])]),
  });
}

/** What a medium contributes to the identity (client/media.ts reads it from media.json and variables.dat). */
export interface MediaIdentityInput {
  mediaId: string;
  /** The media credential's secret (variables.dat): `{ mediaId, secret }` is what identify takes. */
  secret: string;
  /** The site URL to use (the descriptor's, in order; `--site` overrides). */
  siteUrl: string;
  /** The medium's boot image architecture: the default when `--arch` is not given (rule 33). */
  architecture: Architecture;
  /** Media variables, prestart-set and engine variables (rules 104–108), in precedence order. */
  variables: Variable[];
}

/**
 * Boot media (issue 7): the medium carries the identity's credential and
 * variables (rules 99–108); the machine's MACs and SMBIOS GUID still come from
 * the machine (flags). `--site` overrides the medium's site URL.
 */
export function identityFromMedia(medium: MediaIdentityInput, flags: IdentityFlags = {}): ClientIdentity {
  return check({
    siteUrl: flags.site ?? medium.siteUrl,
    macs: macsOf(flags.macs ?? [], '--mac'),
    smbiosGuid: guidOf(flags.guid, '--guid'),
    architecture: flags.arch !== undefined ? architectureOf(flags.arch, '--arch') : medium.architecture,
    bootSource: 'media',
    credential: { kind: 'media', mediaId: medium.mediaId, secret: medium.secret },
    variables: withoutCredentials(medium.variables),
  });
}

/**
 * Engine variables of a media boot the site is told about with identify (rules
 * 106–108): which medium, what kind, how it was started. Other `_` names stay on
 * the client.
 */
const MEDIA_SYSTEM_VARIABLES = new Set(['_smsmediaguid', '_smstsmediatype', '_smstslaunchmode']);

function withoutCredentials(variables: Variable[]): Variable[] {
  return variables.filter((v) => !CREDENTIAL_VARIABLES.has(v.name.toLowerCase()));
}

/** The identify request of the contract for this identity. */
export function identifyRequest(identity: ClientIdentity, now: Date = new Date()): IdentifyWithVariables {
  const c = identity.credential;
  return {
    macs: identity.macs,
    smbiosGuid: identity.smbiosGuid,
    architecture: identity.architecture,
    bootSource: identity.bootSource,
    ...(c?.kind === 'pxe-token' ? { pxeToken: c.token } : {}),
    ...(c?.kind === 'client-key' ? { clientKey: c.key } : {}),
    ...(c?.kind === 'media' ? { mediaCredential: { mediaId: c.mediaId, secret: c.secret } } : {}),
    // Minutes east of UTC (getTimezoneOffset is minutes west).
    utcOffsetMinutes: -now.getTimezoneOffset(),
    variables: variablesForSite(identity.variables, identity.bootSource === 'media'),
  };
}

/**
 * The client-held variables the site is told about: user-style names only
 * (rule 113: `_` names are the engine's own, read-only, and stay on the client —
 * except, from boot media, `_SMSMediaGuid`, `_SMSTSMediaType`, `_SMSTSLaunchMode`),
 * values within the 4,000-character limit, at most 200.
 */
export function variablesForSite(variables: readonly Variable[], media = false): Variable[] {
  const sent = (name: string): boolean => /^[A-Za-z][A-Za-z0-9_-]{0,255}$/.test(name) || (media && MEDIA_SYSTEM_VARIABLES.has(name.toLowerCase()));
  return variables.filter((v) => sent(v.name) && v.value.length <= 4000).slice(0, 200).map((v) => ({ name: v.name, value: v.value }));
}
