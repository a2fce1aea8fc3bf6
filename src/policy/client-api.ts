/**
 * The client API contract (HTTP, JSON, under /client/): what a booted machine —
 * WinPE from PXE or media, or a full OS — sends and receives. The server side
 * (http/client + app/client-service) and the reference client (client/) both
 * import these types, so they cannot drift.
 *
 * Authentication:
 *  1. POST /client/identify with ONE credential:
 *     - `pxeToken`: the one-time token of the PXE variables file (issued per boot,
 *       bound to the machine's MAC/SMBIOS GUID, short-lived, consumed here);
 *     - `mediaCredential`: the boot media's identity + secret (issue 7);
 *     - `clientKey`: a key registered for a known device (full-OS clients).
 *     The answer carries a `sessionToken` bound to this machine.
 *  2. Every other call sends `Authorization: Bearer <sessionToken>`; a session
 *     only ever sees its own machine's policy, variables and status:
 *     GET /client/policy, GET /client/variables, POST /client/status,
 *     GET /client/content/:packageId/<path> (only packages of its own policy).
 *
 * Errors: `{ code: 'PXE_ERR_…', message }` with 400/401/403/404/409.
 */
import type { Architecture, ClientState, StepType, Variable } from '../site/model.js';
import type { BootSource, ExclusionReason, OfferedDeployment, PreferredAdvertError } from './types.js';

export interface IdentifyRequest {
  macs: string[];
  smbiosGuid: string | null;
  architecture: Architecture;
  bootSource: BootSource;
  pxeToken?: string;
  mediaCredential?: { mediaId: string; secret: string };
  clientKey?: string;
  /** Minutes east of UTC, for client-local schedules (full OS). */
  utcOffsetMinutes?: number;
  /**
   * Variables the client already holds (PXE variables file, media variables,
   * prestart): how SMSTSPreferredAdvertID reaches the site (rules 24, 26).
   */
  variables?: Variable[];
}

export interface IdentifyResponse {
  sessionToken: string;
  /** Seconds the session stays valid. */
  expiresIn: number;
  /** The known record, or null when the machine runs as an unknown computer. */
  deviceId: string | null;
  deviceName: string | null;
  /** The unknown object used (rule 62) when deviceId is null. */
  unknownObjectId: string | null;
}

export interface PolicyStep {
  index: number;
  name: string;
  type: StepType;
  packageId: string | null;
  commandLine: string | null;
  variableName: string | null;
  variableValue: string | null;
  continueOnError: boolean;
  /** Apply OS Image's own "access content directly" (rule 117). */
  accessContentDirectly: boolean;
}

export interface PolicyTaskSequence {
  id: string;
  name: string;
  bootImageId: string | null;
  steps: PolicyStep[];
}

export interface ContentFile {
  /** Path inside the package, '/'-separated. */
  path: string;
  size: number;
  sha256: string;
}

export interface PolicyPackage {
  id: string;
  name: string;
  version: number;
  /** Files and hashes the client must verify (rule 116); empty until content is added. */
  files: ContentFile[];
  /**
   * Where to fetch from, in rule 124 order: for each location the absolute base
   * URL of the package's files (file URL = base + the '/'-separated path, each
   * segment URI-encoded). `sources[i]` says more about `locations[i]`.
   */
  locations: string[];
  /** Issue 6, parallel to `locations` (a site without it: no manifests, no shares). */
  sources?: PolicyContentSource[];
}

/** One content location of a package, in rule 124 order (content/locations.ts). */
export interface PolicyContentSource {
  /** The same URL as `locations[i]`: base of the package's files. */
  filesUrl: string;
  /** The signed manifest (content/types.ts ContentManifest); null where none is served (the site's own route). */
  manifestUrl: string | null;
  /** The package share of this DP ("access content directly", rules 10/117): file URL = base + path; null without a share. */
  shareUrl: string | null;
  /** The DP's id, or "site" for the site's own content route. */
  distributionPointId: string;
  /** Why it is in the list: current boundary group, neighbour, site default group, the site itself (rule 124). */
  source: 'current' | 'neighbour' | 'site-default' | 'site';
  /** Neighbours: the link's failover minutes (ordering only; a task sequence does not wait, rule 124). */
  failoverMinutes?: number;
}

/** The site's content-signing key: manifests from distribution points must verify with it (rule 116). */
export interface ContentSigningKey {
  alg: 'ed25519';
  /** Matches ContentManifest.signature.keyId. */
  keyId: string;
  /** The public key, SPKI PEM (content/signing.ts `publicKeyPem`). */
  publicKey: string;
}

export interface PolicyDeployment extends OfferedDeployment {
  taskSequence: PolicyTaskSequence;
  packages: PolicyPackage[];
  deploymentOption: 'download-when-needed' | 'download-all-first' | 'access-directly';
  /** "Pre-download content for this task sequence" (rule 16: available deployments only). Issue 6. */
  preDownload?: boolean;
  /**
   * Engine variables the deployment option implies (rule 120):
   * `_SMSTSDownloadOnDemand=true` (download when needed), `_SMSTSRunFromDP=true`
   * (access directly). Read-only on the client. Issue 6.
   */
  engineVariables?: Variable[];
}

export interface PolicyResponse {
  /** The list the WinPE wizard shows (never hidden deployments). */
  offered: PolicyDeployment[];
  /** Runs with no prompt (SMSTSPreferredAdvertID, or a required deployment). */
  autoRun: PolicyDeployment | null;
  prompt: boolean;
  preferredError: { id: string; reason: PreferredAdvertError; message: string } | null;
  excluded: { deploymentId: string; reason: ExclusionReason }[];
  /**
   * The key distribution point manifests are signed with; null when the site
   * signs none (then only the site's own content route and the SHA-256 of
   * policy apply). Issue 6.
   */
  contentSigning?: ContentSigningKey | null;
}

export interface VariablesResponse {
  variables: Variable[];
}

export interface StatusReport {
  deploymentId: string;
  /** Rule 139 state. */
  state: ClientState;
  /** ConfigMgr-style message id where one exists (11171 succeeded, 11170 failed, …). */
  messageId?: number;
  message: string;
  /** The step the report is about, if any. */
  stepIndex?: number;
  /** Variables set during the run (e.g. OSDComputerName) that the site should keep. */
  variables?: Variable[];
}

export interface StatusResponse {
  accepted: true;
  /** Set when a successful unknown-computer run created a device record (rule 64). */
  deviceId?: string | null;
}
