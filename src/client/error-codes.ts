/**
 * Stable codes of the errors the reference client raises itself (the site's own
 * client API codes are in app/client-errors.ts). Errors the site
 * answers with keep the site's own code (PXE_ERR_…), so a script greps one name
 * whether the refusal came from the server or from the client.
 */
export const REFERENCE_CLIENT_ERRORS = {
  /** The site could not be reached (connection refused, DNS, reset) after the bounded retries. */
  unreachable: 'PXE_ERR_CLIENT_UNREACHABLE',
  /** A request to the site took longer than its timeout, every attempt. */
  timeout: 'PXE_ERR_CLIENT_TIMEOUT',
  /** The site answered with an error that is not the `{ code, message }` JSON of the contract. */
  badReply: 'PXE_ERR_CLIENT_BAD_REPLY',
  /** The PXE variables file is missing, unreadable, or not `{ "variables": [...] }`. */
  varsFile: 'PXE_ERR_CLIENT_VARS_FILE',
  /** The identity is incomplete: no MAC and no SMBIOS GUID, no site URL, a bad architecture. */
  identity: 'PXE_ERR_CLIENT_IDENTITY',
  /** `--boot media` without `--media PATH`: a media identity comes from the medium only (issue 7). */
  mediaNotSupported: 'PXE_ERR_CLIENT_MEDIA_NOT_SUPPORTED',
  /**
   * The medium's prestart command (rule 105) exited non-zero, timed out, could not
   * start, or wrote a variable it may not set (rule 113). Media errors themselves
   * use the shared codes of src/media/types.ts MEDIA_ERRORS (PXE_ERR_MEDIA_…).
   */
  prestart: 'PXE_ERR_CLIENT_PRESTART',
  /** A variable could not be set: read-only, bad name, too long, environment full (rule 113). */
  variable: 'PXE_ERR_CLIENT_VARIABLE',
} as const;
