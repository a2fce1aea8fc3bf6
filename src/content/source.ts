/**
 * What the DP routes (src/http/dp/) serve from: a content library plus the
 * knowledge of which versions are complete and shared. The site process and the
 * DP process each provide one.
 */
import type { ContentLibrary } from './library.js';
import type { ContentManifest, DpHeldPackage } from './types.js';

export interface ContentSource {
  readonly library: ContentLibrary;
  /** The site's signing public key (PEM), served at {base}content/site-key.pem. */
  publicKeyPem(): string;
  /** The manifest of a complete, verified version; undefined if not held. */
  manifest(packageId: string, version: number): Promise<ContentManifest | undefined>;
  /** Every complete version held. */
  held(): Promise<DpHeldPackage[]>;
  /** The newest held version of a package that has the package share flag (rule 10). */
  shared(packageId: string): Promise<ContentManifest | undefined>;
  /**
   * A client asked for a version not held: start fetching it (on-demand distribution,
   * rule 125). Returns seconds after which to retry, or null if it will never come.
   */
  onMissing?(packageId: string, version: number): Promise<number | null>;
}
