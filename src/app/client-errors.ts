/**
 * Errors of the client API (PXE_ERR_CLIENT_*). Authentication failures share one
 * code and deliberately vague wording per credential kind: the client is told
 * *that* its credential was refused and what to do, never *why* (unknown, used,
 * expired, bound to another machine); the precise reason goes to the audit log.
 */
import { PxeError } from '../errors.js';
import { MEDIA_ERRORS } from '../media/types.js';

export const CLIENT_ERRORS = {
  /** The credential or session was refused (401); the audit log says why. */
  unauthenticated: 'PXE_ERR_CLIENT_UNAUTHENTICATED',
  /** A valid session asked for something that is not its machine's (403). */
  forbidden: 'PXE_ERR_CLIENT_FORBIDDEN',
  /** A status report that does not follow the rule 139 state machine (409). */
  badTransition: 'PXE_ERR_CLIENT_STATE',
  /** The machine's identifiers match several device records (409). */
  ambiguous: 'PXE_ERR_CLIENT_AMBIGUOUS',
  /** No such content file in the package (404). */
  contentNotFound: 'PXE_ERR_CONTENT_NOT_FOUND',
  /** A Range header the file cannot satisfy (416). */
  rangeNotSatisfiable: 'PXE_ERR_RANGE',
} as const;

export type CredentialKind = 'pxe-token' | 'media' | 'client-key' | 'session';

const AUTH_HINT: Record<CredentialKind, string> = {
  'pxe-token': 'the PXE boot token was refused; boot the machine from the network again to get a new one',
  media: 'the boot media credential was refused; use media created for this machine, or create new media',
  'client-key': 'the client key was refused; register a new key for this device (POST /api/devices/ID/client-key)',
  session: 'the session token was refused; identify again with POST /client/identify',
};

export const clientUnauthenticated = (kind: CredentialKind): PxeError =>
  new PxeError(CLIENT_ERRORS.unauthenticated, AUTH_HINT[kind], 401, { credential: kind });

/**
 * Registered boot media (rules 101–102): a blocked medium or one outside its
 * certificate dates is refused with 403 and its own code, so the person at the
 * machine learns that the medium, not the machine, must be replaced. The
 * reason is no secret: whoever holds the medium may learn its state. A wrong
 * secret stays the vague 401 of every credential.
 */
export type MediaRefusal = 'blocked-media' | 'media-certificate-expired' | 'media-certificate-not-yet-valid';

const MEDIA_REFUSALS: Record<MediaRefusal, { code: string; message: string }> = {
  'blocked-media': {
    code: MEDIA_ERRORS.blocked,
    message: 'the site has blocked this boot medium (rule 102); use another medium, or ask an administrator (`pxepoint media show ID`)',
  },
  'media-certificate-expired': {
    code: MEDIA_ERRORS.certificateExpired,
    message: 'the certificate of this boot medium has expired (rules 101–102); create new media (`pxepoint media create`)',
  },
  'media-certificate-not-yet-valid': {
    code: MEDIA_ERRORS.certificateNotYetValid,
    message: 'the certificate of this boot medium is not valid yet (rule 101); check the machine\'s clock, or wait for its start date',
  },
};

export const isMediaRefusal = (reason: string): reason is MediaRefusal => Object.hasOwn(MEDIA_REFUSALS, reason);

export const mediaRefused = (reason: MediaRefusal, mediaId: string): PxeError =>
  new PxeError(MEDIA_REFUSALS[reason].code, MEDIA_REFUSALS[reason].message, 403, { credential: 'media', mediaId });

export const clientForbidden = (what: string): PxeError =>
  new PxeError(CLIENT_ERRORS.forbidden, `${what} is not part of this machine's policy; GET /client/policy lists what it may use`, 403);

export const ambiguousIdentity = (ids: readonly string[]): PxeError =>
  new PxeError(
    CLIENT_ERRORS.ambiguous,
    `the machine's MACs and SMBIOS GUID match ${ids.length} device records (${ids.join(', ')}); ` +
      'an administrator must remove the duplicate identifiers before the machine can be served',
    409,
    { deviceIds: [...ids] },
  );

export const contentNotFound = (packageId: string, path: string): PxeError =>
  new PxeError(CLIENT_ERRORS.contentNotFound, `package ${packageId} has no file "${path}"; the policy lists its files`, 404, { packageId, path });
