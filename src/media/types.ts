/**
 * Boot media (issue 7, configmgr-rules.md §7, rules 91–118): the shared contract
 * between the builder (`pxepoint media create`), the site (registry, blocking,
 * the client API) and the reference client that reads media. One place, so the
 * three cannot drift. docs/media.md is the administrator's guide;
 * docs/decisions/0013-boot-media.md says why it is built this way.
 *
 * What is on a medium (paths inside the ISO or the mounted directory, always
 * '/'-separated, lower case):
 *
 *   MediaLabel.txt                     `label=<label>` (rule 94)
 *   boot/grub/grub.cfg                 GRUB: announce the boot to the site, start the boot image
 *   pxepoint/media.json                MediaDescriptor: public, never secret
 *   pxepoint/variables.dat             SealedFile holding MediaSecrets (rules 99, 100, 104)
 *   pxepoint/boot/…                    the boot image's files (wimboot, bootmgr, BCD, boot.sdi, boot.wim)
 *   pxepoint/standalone/policy.dat     stand-alone only: SealedFile holding StandalonePolicy
 *   pxepoint/content/<pkg>/v<ver>/…    stand-alone only: package files, hashed in the policy (rule 118)
 */
import type { Architecture, Variable } from '../site/model.js';
import type { PolicyStep } from '../policy/client-api.js';

export const MEDIA_FORMAT = 'pxepoint-media/1' as const;

export const MEDIA_PATHS = {
  label: 'MediaLabel.txt',
  grubConfig: 'boot/grub/grub.cfg',
  descriptor: 'pxepoint/media.json',
  variables: 'pxepoint/variables.dat',
  bootDir: 'pxepoint/boot',
  standalonePolicy: 'pxepoint/standalone/policy.dat',
  contentDir: 'pxepoint/content',
} as const;

/** Where a package version's files live on stand-alone media. */
export const mediaContentDir = (packageId: string, version: number): string => `${MEDIA_PATHS.contentDir}/${packageId}/v${version}`;

/** Rule 91: the two kinds pxepoint builds (capture and prestaged media are not built). */
export type MediaType = 'bootable' | 'standalone';
export const MEDIA_TYPES: readonly MediaType[] = ['bootable', 'standalone'];

/** Rule 107 `_SMSTSMediaType` of each kind. */
export const SMSTS_MEDIA_TYPE: Record<MediaType, 'BootMedia' | 'FullMedia'> = { bootable: 'BootMedia', standalone: 'FullMedia' };

/**
 * The media certificate (rules 101, 102): the site's Ed25519 signature over the
 * canonical JSON of `body`, with the site key's id. Every machine booting the
 * medium presents the same certificate; the site refuses it when blocked or
 * outside its dates.
 */
export interface MediaCertificateBody {
  mediaId: string;
  type: MediaType;
  /** ISO 8601; the certificate is refused before this… */
  notBefore: string;
  /** …and after this (rule 102). */
  notAfter: string;
  /**
   * Stand-alone media only (rule 103): media.json's validity range, signed here so that
   * editing media.json cannot extend it (the descriptor must repeat these exactly).
   * Absent on bootable media.
   */
  validFrom?: string | null;
  validUntil?: string | null;
}

export interface MediaCertificate {
  body: MediaCertificateBody;
  alg: 'ed25519';
  /** content/signing.ts keyIdOf(site public key). */
  keyId: string;
  /** base64 Ed25519 signature (certificate.ts certificateMessage: a domain prefix + canonical JSON of { alg, keyId, body }). */
  signature: string;
}

/** `pxepoint/media.json`: what anyone holding the medium may read (rule 98's TsmBootstrap.ini). */
export interface MediaDescriptor {
  format: typeof MEDIA_FORMAT;
  mediaId: string;
  type: MediaType;
  label: string;
  architecture: Architecture;
  bootImageId: string;
  /** Base URLs of the site (http://host:port), tried in order; empty only for stand-alone media. */
  siteUrls: string[];
  createdAt: string;
  createdBy: string;
  /** Rule 97: no prompts except the password. */
  unattended: boolean;
  /** Rule 98 PasswordRequired: the sealed files are encrypted and need the password. */
  passwordRequired: boolean;
  /** Rule 103, stand-alone only: the machine's clock must be inside [validFrom, validUntil]; null = open end. */
  validFrom: string | null;
  validUntil: string | null;
  certificate: MediaCertificate;
  /** The site's public key (SPKI PEM) the certificate and unencrypted sealed files verify with. */
  sitePublicKey: string;
}

/** The content of `pxepoint/variables.dat` once opened. */
export interface MediaSecrets {
  mediaId: string;
  /** The media credential's secret: `{ mediaId, secret }` is what POST /client/identify takes (mediaCredential). */
  secret: string;
  /** Media variables (rule 104, limits of rule 113), e.g. SMSTSPreferredAdvertID. */
  variables: Variable[];
  /** Rule 105: runs before the task sequence is selected; null: none. */
  prestart: { commandLine: string } | null;
}

/** A package on stand-alone media: its files and hashes (rule 118), under mediaContentDir(id, version). */
export interface StandalonePackage {
  id: string;
  name: string;
  version: number;
  files: { path: string; size: number; sha256: string }[];
}

/** The content of `pxepoint/standalone/policy.dat` once opened (rule 92: nothing from the network). */
export interface StandalonePolicy {
  mediaId: string;
  taskSequence: { id: string; name: string; steps: PolicyStep[] };
  packages: StandalonePackage[];
  /** Variables of the task sequence's deployment context that apply on media (rule 104). */
  variables: Variable[];
}

/** scrypt parameters of a password-sealed file (stored with it, so they can be raised later). */
export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

/**
 * A sealed file (variables.dat, policy.dat): JSON text.
 * - `signed`: no password — the payload is in the clear (base64 of JSON) and signed
 *   with the site key. Anyone holding the medium can READ it; nobody can change it
 *   unnoticed. Not secret (docs/media.md says so plainly).
 * - `password`: scrypt(password, salt) → 256-bit key; AES-256-GCM with a random
 *   96-bit nonce; the additional data binds the file to its medium and purpose.
 */
export type SealedFile =
  | { format: 'pxepoint-sealed/1'; purpose: SealPurpose; mediaId: string; protection: 'signed'; keyId: string; payload: string; signature: string }
  | { format: 'pxepoint-sealed/1'; purpose: SealPurpose; mediaId: string; protection: 'password'; kdf: { name: 'scrypt'; salt: string } & ScryptParams; cipher: 'aes-256-gcm'; nonce: string; ciphertext: string; tag: string };

/**
 * What a sealed file is for: media `variables` and stand-alone `policy` (issue 7), and
 * the per-boot PXE variables file sealed under the PXE password (`pxe-variables`,
 * rules 47/73/100; its mediaId is the boot token's id, see pxe/variables-file.ts).
 */
export type SealPurpose = 'variables' | 'policy' | 'pxe-variables';

/** Stable codes of media errors (server, builder and client share them). */
export const MEDIA_ERRORS = {
  /** media.json or a sealed file is not what pxepoint writes (corrupt, another format, truncated). */
  format: 'PXE_ERR_MEDIA_FORMAT',
  /** The medium is password-protected and no password was given (unattended media still ask, rule 97). */
  passwordRequired: 'PXE_ERR_MEDIA_PASSWORD_REQUIRED',
  /** The password does not open the medium. */
  wrongPassword: 'PXE_ERR_MEDIA_WRONG_PASSWORD',
  /** A signature or hash does not match: the medium was changed after it was built (rules 100, 118). */
  tampered: 'PXE_ERR_MEDIA_TAMPERED',
  /** The site blocked this medium (rule 102). */
  blocked: 'PXE_ERR_MEDIA_BLOCKED',
  /** The media certificate is outside its validity dates (rules 101, 102). */
  certificateExpired: 'PXE_ERR_MEDIA_CERTIFICATE_EXPIRED',
  certificateNotYetValid: 'PXE_ERR_MEDIA_CERTIFICATE_NOT_YET_VALID',
  /** Stand-alone media outside its date range (rule 103): it does not start. */
  outsideValidity: 'PXE_ERR_MEDIA_OUTSIDE_VALIDITY',
  /** A package file on the medium does not match its hash in the policy (rule 118). */
  contentHash: 'PXE_ERR_MEDIA_CONTENT_HASH',
  /** The builder cannot build: a missing tool (grub-mkrescue, xorriso, mformat), boot image files, content, a bad option. */
  build: 'PXE_ERR_MEDIA_BUILD',
  /** The site does not know this medium. */
  unknown: 'PXE_ERR_MEDIA_UNKNOWN',
} as const;

/** The site's registry record of a medium (rules 101–103): never the secret, only its hash. */
export interface MediaRecord {
  id: string;
  type: MediaType;
  label: string;
  architecture: Architecture;
  bootImageId: string;
  /** Stand-alone: the task sequence on it; bootable: null. */
  taskSequenceId: string | null;
  createdAt: string;
  createdBy: string;
  certificateNotBefore: string;
  certificateNotAfter: string;
  validFrom: string | null;
  validUntil: string | null;
  unattended: boolean;
  passwordRequired: boolean;
  /** Names of the media variables (values stay on the medium). */
  variableNames: string[];
  /** SHA-256 (hex) of the media secret. */
  secretHash: string;
  blocked: boolean;
  blockedAt: string | null;
  blockedBy: string | null;
  /** Where the builder wrote the image, and its SHA-256, once known (informational). */
  imagePath: string | null;
  imageSha256: string | null;
}
