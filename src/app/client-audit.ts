/**
 * The audit trail of the client API: every refused authentication or
 * out-of-policy request becomes a warning audit message with the claimed
 * identity and the reason — never a secret (docs/decisions/0007).
 */
import type { ClientSession, StatusMessage } from '../site/model.js';
import type { CredentialKind } from './client-errors.js';
import type { Claim } from './client-identity.js';

/** The component named in every message the client API writes. */
export const CLIENT_API_COMPONENT = 'client-api';

/** Why an authentication (or a session's request) was refused: the audit's `data.reason`. */
export type RefusalReason =
  | 'unknown-token' | 'replayed-token' | 'expired-token' | 'wrong-boot-source'
  | 'token-of-another-machine' | 'forged-identity'
  | 'unknown-client-key' | 'unknown-session' | 'expired-session'
  | 'not-in-policy'
  // Registered boot media (src/app/media-service.ts, rules 101–102).
  | 'bad-media-secret' | 'blocked-media' | 'media-certificate-expired' | 'media-certificate-not-yet-valid';

const REASON_TEXT: Record<RefusalReason, string> = {
  'unknown-token': 'no such token (never issued, or purged)',
  'replayed-token': 'the one-time token was already used (replay)',
  'expired-token': 'the token has expired',
  'wrong-boot-source': 'the credential was presented for another boot source than it was issued for',
  'token-of-another-machine': 'the credential belongs to another machine',
  'forged-identity': 'the claimed identity contradicts the credential or names another device\'s identifiers',
  'unknown-client-key': 'no such client key (never registered, or its device was deleted)',
  'unknown-session': 'no such session',
  'expired-session': 'the session has expired',
  'not-in-policy': 'the session asked for something outside its machine\'s policy',
  'bad-media-secret': 'the media credential\'s secret does not match the registered medium',
  'blocked-media': 'the medium is blocked (rule 102)',
  'media-certificate-expired': 'the media certificate has expired (rules 101–102)',
  'media-certificate-not-yet-valid': 'the media certificate is not valid yet (rule 101)',
};

/** Where a request came from, for the audit trail. */
export interface RequestOrigin {
  remoteAddress?: string;
}

/** Ids (never secrets) that say what the refused request was about. */
export interface RefusalDetails {
  credentialId?: string;
  deviceId?: string | null;
  /** Other records whose identifiers the client claimed. */
  deviceIds?: string[];
  deploymentId?: string;
  packageId?: string;
}

export function claimData(c: Claim): Record<string, unknown> {
  return { macs: c.macs, smbiosGuid: c.smbiosGuid, architecture: c.architecture, bootSource: c.bootSource };
}

/** The identity a session was verified for, as a claim. */
export function sessionClaim(s: ClientSession): Claim {
  return { macs: s.macs, smbiosGuid: s.smbiosGuid, architecture: s.architecture, bootSource: s.bootSource };
}

/** The actor of what a session does: its device, or its machine while unknown. */
export function sessionActor(s: ClientSession): string {
  return s.deviceId !== null ? `device:${s.deviceId}` : `unknown:${s.macs[0] ?? s.smbiosGuid ?? s.id}`;
}

export function refusalMessage(
  time: string, kind: CredentialKind, reason: RefusalReason, claim: Claim | null, origin: RequestOrigin, details: RefusalDetails,
): Omit<StatusMessage, 'id'> {
  const who = claim === null ? 'an unidentified client' : [...claim.macs, claim.smbiosGuid].filter(Boolean).join(', ');
  return {
    time,
    kind: 'audit',
    severity: 'warning',
    component: CLIENT_API_COMPONENT,
    messageId: 0,
    actor: claim === null ? 'client:unidentified' : `client:${claim.macs[0] ?? claim.smbiosGuid}`,
    text: `refused ${kind} from ${who}: ${REASON_TEXT[reason]}`,
    deviceId: details.deviceId ?? null,
    deploymentId: details.deploymentId ?? null,
    data: {
      action: 'client-auth-refused',
      reason,
      credential: kind,
      credentialId: details.credentialId ?? null,
      claimed: claim === null ? null : claimData(claim),
      ...(details.deviceIds ? { otherDeviceIds: details.deviceIds } : {}),
      ...(details.packageId ? { packageId: details.packageId } : {}),
      remoteAddress: origin.remoteAddress ?? null,
    },
  };
}
