/**
 * Sealing of variables.dat / policy.dat (types.ts SealedFile). STUB: signatures are
 * the contract; the media-core engineer implements them.
 */
import type { SiteKey } from '../content/signing.js';
import type { ScryptParams, SealPurpose } from './types.js';

/** Default scrypt cost: ~100 ms and 64 MiB on a 2020s x86 core (raise with ScryptParams). */
export const DEFAULT_SCRYPT: ScryptParams = { N: 1 << 16, r: 8, p: 1 };

export interface SealOptions {
  purpose: SealPurpose;
  mediaId: string;
  /** With a password: encrypted (AES-256-GCM, scrypt key). Without: signed with siteKey. */
  password?: string | null;
  siteKey: SiteKey;
  scrypt?: ScryptParams;
}

/** Seals `payload` (JSON-serialisable) into the bytes of a sealed file. */
export function sealPayload(payload: unknown, opts: SealOptions): Buffer {
  void payload; void opts;
  throw new Error('not implemented');
}

export interface OpenOptions {
  purpose: SealPurpose;
  mediaId: string;
  password?: string | null;
  /** The site's public key (SPKI PEM) a signed file must verify with. */
  sitePublicKey: string;
}

/**
 * Opens a sealed file. Throws PxeError with MEDIA_ERRORS.format (not a sealed
 * file, wrong purpose/medium), passwordRequired, wrongPassword, tampered.
 */
export function openPayload<T>(bytes: Buffer, opts: OpenOptions): T {
  void bytes; void opts;
  throw new Error('not implemented');
}

/** Whether a sealed file needs a password (without opening it); throws MEDIA_ERRORS.format on garbage. */
export function isPasswordSealed(bytes: Buffer): boolean {
  void bytes;
  throw new Error('not implemented');
}
