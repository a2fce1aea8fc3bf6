/**
 * Who a client claims to be, and whether its credential vouches for that claim.
 * Pure: the caller looks the devices up. See docs/decisions/0007-client-authentication.md.
 *
 * A credential is bound to a machine's identifiers (a boot token to the MAC and
 * SMBIOS GUID the PXE responder saw; a client key to its device's record). The
 * claim must share at least one bound identifier, and must not contradict the
 * bound SMBIOS GUID; otherwise it is another machine presenting the credential.
 * A claim may name more MACs than the credential knows (WinPE sees every NIC,
 * PXE only the one it booted from) — but none of those may belong to another
 * device record, or the "extra" MAC is a forged identity to read that device's
 * policy and variables.
 */
import { invalid } from '../errors.js';
import { normaliseGuid, normaliseMac } from '../site/identifiers.js';
import type { Architecture, ClientBootSource, Device } from '../site/model.js';

export interface Claim {
  macs: string[];
  smbiosGuid: string | null;
  architecture: Architecture;
  bootSource: ClientBootSource;
}

export interface BoundIdentity {
  macs: readonly string[];
  smbiosGuid: string | null;
}

/** Normalises a claim (400 on a malformed identifier); duplicates dropped. */
export function normaliseClaim(body: { macs: string[]; smbiosGuid?: string | null; architecture: Architecture; bootSource: ClientBootSource }): Claim {
  const macs = [...new Set(body.macs.map((m, i) => normaliseMac(m, `body.macs.${i}`)))];
  const guid = body.smbiosGuid === undefined || body.smbiosGuid === null || body.smbiosGuid === '' ? null : normaliseGuid(body.smbiosGuid, 'body.smbiosGuid');
  if (macs.length === 0 && guid === null) throw invalid('body.macs', 'give at least one MAC address or the SMBIOS GUID');
  return { macs, smbiosGuid: guid, architecture: body.architecture, bootSource: body.bootSource };
}

export type BindingCheck =
  | { ok: true; verifiedMacs: string[]; verifiedGuid: string | null }
  | { ok: false; reason: 'token-of-another-machine' | 'forged-identity' };

export function checkBinding(bound: BoundIdentity, claim: Claim): BindingCheck {
  const verifiedMacs = claim.macs.filter((m) => bound.macs.includes(m));
  const guidMatches = bound.smbiosGuid !== null && claim.smbiosGuid === bound.smbiosGuid;
  if (verifiedMacs.length === 0 && !guidMatches) return { ok: false, reason: 'token-of-another-machine' };
  // Something matched, so this is the machine's credential; its GUID must then agree (or be the same null).
  if (bound.smbiosGuid !== null && !guidMatches) return { ok: false, reason: 'forged-identity' };
  return { ok: true, verifiedMacs, verifiedGuid: guidMatches ? bound.smbiosGuid : null };
}

export type Resolution =
  | { kind: 'device'; device: Device }
  | { kind: 'unknown' }
  | { kind: 'ambiguous'; deviceIds: string[] }
  /** Claimed identifiers belong to other records than the credential's machine. */
  | { kind: 'forged'; deviceIds: string[] };

/**
 * Rule 59: the record matching the machine's MAC or SMBIOS GUID — unknown
 * objects never match (they have no identifiers). `verified` are the devices
 * found by identifiers the credential vouches for (or the credential's own
 * device), `claimed` those found by every identifier the client sent.
 */
export function resolveIdentity(verified: readonly Device[], claimed: readonly Device[]): Resolution {
  const real = (ds: readonly Device[]): Device[] => [...new Map(ds.filter((d) => d.unknownObject === null).map((d) => [d.id, d])).values()];
  const candidates = real(verified);
  if (candidates.length > 1) return { kind: 'ambiguous', deviceIds: candidates.map((d) => d.id).sort() };
  const device = candidates[0];
  const others = real(claimed).filter((d) => d.id !== device?.id);
  if (others.length > 0) return { kind: 'forged', deviceIds: others.map((d) => d.id).sort() };
  return device === undefined ? { kind: 'unknown' } : { kind: 'device', device };
}
