/**
 * The content contract shared by the content library (site side), the
 * distribution point role (serving), the policy service (locations) and the
 * reference client (verification). Rules 116–124 of configmgr-rules.md.
 *
 * URL layout on a distribution point (base = DistributionPoint.url):
 *   GET {base}content/{packageId}/{version}/manifest.json   the signed manifest
 *   GET {base}content/{packageId}/{version}/files/{path}     a file (Range, strong ETag, Repr-Digest)
 *   GET {base}dp/packages                                    what this DP holds and verified (JSON)
 * Package share ("access content directly", rule 10/117): {DistributionPoint.shareUrl}{packageId}/{path}
 */

/** Chunk size for XXH64 chunk digests: small enough to re-fetch cheaply, large enough to hash fast. */
export const CHUNK_SIZE = 1024 * 1024;

export interface ManifestFile {
  /** Path inside the package, '/'-separated, no '..', no leading '/'. */
  path: string;
  size: number;
  /** SHA-256 of the whole file, hex: the integrity guarantee (rule 116). */
  sha256: string;
  /** XXH64 of each CHUNK_SIZE chunk, hex, in order: early detection, resumable downloads. */
  chunks: string[];
}

export interface ContentManifestBody {
  packageId: string;
  version: number;
  chunkSize: number;
  createdAt: string;
  files: ManifestFile[];
}

export interface ContentManifest extends ContentManifestBody {
  /** Ed25519 signature by the site over the canonical JSON of the body (keys sorted, no whitespace). */
  signature: { alg: 'ed25519'; keyId: string; value: string /* base64 */ };
}

/** Where a client may fetch a package, in rule 124 order, with why it is in the list. */
export interface ContentLocation {
  distributionPointId: string;
  /** DP base URL (content/{packageId}/{version}/… hangs below it). */
  url: string;
  source: 'current' | 'neighbour' | 'site-default' | 'site';
  /** For neighbours: the link's failover minutes (ordering only; task sequences don't wait, rule 124). */
  failoverMinutes?: number;
}

// ---------------------------------------------------------------------------
// Added by the content library / DP role (additive).
// ---------------------------------------------------------------------------

/**
 * The site's manifest-signing public key (SPKI PEM), served by the site and by every
 * DP at {base}content/site-key.pem. A verifier should pin it (the DP pins the key it
 * got over the authenticated site API; clients get it with their policy or media).
 */
export const SITE_KEY_PATH = 'content/site-key.pem';

/** XXH64 chunk digests: seed 0, 16 lowercase hex digits; ceil(size / chunkSize) chunks (none for an empty file). */
export const XXH64_SEED = 0n;

const seg = (s: string): string => encodeURIComponent(s);
/** `base` ends with '/'. */
export const manifestUrl = (base: string, packageId: string, version: number): string =>
  `${base}content/${seg(packageId)}/${version}/manifest.json`;
export const fileUrl = (base: string, packageId: string, version: number, path: string): string =>
  `${base}content/${seg(packageId)}/${version}/files/${path.split('/').map(seg).join('/')}`;

/** Strong ETag of a file: its SHA-256 (identical bytes, identical tag, on every DP). */
export const etagOf = (sha256Hex: string): string => `"sha256:${sha256Hex}"`;

/** One entry of GET {base}dp/packages: a version this DP holds with every file verified. */
export interface DpHeldPackage {
  packageId: string;
  version: number;
  /** Served under the package share too ({shareUrl}{packageId}/{path}, rule 10). */
  share: boolean;
}
