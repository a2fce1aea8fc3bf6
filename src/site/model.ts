/**
 * The site model: every entity the responder, the policy service and the content
 * servers read. Plain data (JSON-serialisable), no behaviour: decisions live in
 * deploy/, policy/ and pxe/, persistence in store/.
 *
 * Rule numbers refer to ../shared/spec/configmgr-rules.md.
 */

/** Processor architecture of hardware or of a boot image. */
export type Architecture = 'x86' | 'x64' | 'arm64';
export const ARCHITECTURES: readonly Architecture[] = ['x86', 'x64', 'arm64'];

/** A task sequence variable (rule 113: names case-insensitive, values up to 4,000 chars). */
export interface Variable {
  name: string;
  value: string;
  /** Masked in API output and logs ("Do not display this value in the console"). */
  secret?: boolean;
}

// ---------------------------------------------------------------------------
// Devices and the two built-in unknown-computer objects (rules 59–65)
// ---------------------------------------------------------------------------

export interface Device {
  /** Resource ID, decimal string (ConfigMgr resource IDs start at 16777216). */
  id: string;
  name: string;
  /** Normalised lower-case colon form, e.g. "52:54:00:77:00:10". */
  macs: string[];
  /** Normalised lower-case canonical UUID form, or null. */
  smbiosGuid: string | null;
  /** Highest architecture the hardware can run (x64 implies x86 capable, rule 62). */
  architecture: Architecture;
  /** The device hosts a site system role (rule 134/135). */
  isSiteSystem: boolean;
  /** The device runs a server OS (rule 135). */
  isServer: boolean;
  /**
   * Set on the two built-in objects of All Unknown Computers (rule 62); null for
   * every real device.
   */
  unknownObject: 'x86' | 'x64' | null;
  /**
   * An "Unknown" record: created when an unknown computer's deployment failed
   * (rule 64); the machine is treated as known on its next boot.
   */
  provisional: boolean;
  variables: Variable[];
  /** "Clear Required PXE Deployments" resets this (rules 40–41). */
  pxe: PxeMarker;
  createdAt: string;
  modifiedAt: string;
}

export interface PxeMarker {
  lastPxeDeploymentId: string | null;
  lastPxeDeploymentTime: string | null;
}

// ---------------------------------------------------------------------------
// Collections
// ---------------------------------------------------------------------------

export const ALL_SYSTEMS_ID = 'SMS00001';
export const ALL_UNKNOWN_COMPUTERS_ID = 'SMS000US';
/** Built-in unknown-computer objects (rule 62/63): fixed resource IDs and GUIDs. */
export const X86_UNKNOWN_ID = '2046820352';
export const X64_UNKNOWN_ID = '2046820353';

export type CollectionRule =
  /** Glob on the device name: `*` any run, `?` one character, case-insensitive. */
  | { kind: 'name'; pattern: string }
  /** Glob on any MAC of the device (normalised colon form). */
  | { kind: 'mac'; pattern: string }
  | { kind: 'architecture'; architecture: Architecture };

export interface Collection {
  id: string;
  name: string;
  comment: string;
  /** Built-in collections cannot be changed or removed; high-risk rule 133. */
  builtin: 'all-systems' | 'all-unknown' | null;
  directMemberIds: string[];
  rules: CollectionRule[];
  variables: Variable[];
  /** Default distribution point group (wizard General page, rule 3). */
  defaultDpGroupId: string | null;
  createdAt: string;
  modifiedAt: string;
}

// ---------------------------------------------------------------------------
// Content objects
// ---------------------------------------------------------------------------

export interface Package {
  id: string;
  name: string;
  description: string;
  /** Increments whenever the content changes (rule 17: references use the newest). */
  version: number;
  /** Folder the content was read from, if any. */
  sourcePath: string | null;
  /** "Copy the content in this package to a package share on distribution points" (rule 10). */
  copyToPackageShare: boolean;
  /** Packages this one depends on ("Automatically distribute content for dependencies"). */
  dependencyIds: string[];
  createdAt: string;
  modifiedAt: string;
}

export interface BootImage {
  id: string;
  name: string;
  architecture: Architecture;
  /** "Deploy this boot image from the PXE-enabled distribution point" (rule 75). */
  deployFromPxe: boolean;
  version: number;
  /** Path of the image file relative to the boot files root (e.g. "images/PXP00003/boot.wim"). */
  imagePath: string;
  createdAt: string;
  modifiedAt: string;
}

export type StepType = 'download-package' | 'run-command' | 'apply-image' | 'set-variable' | 'restart';
export const STEP_TYPES: readonly StepType[] = ['download-package', 'run-command', 'apply-image', 'set-variable', 'restart'];

export interface TaskSequenceStep {
  name: string;
  type: StepType;
  /** Content the step needs (download-package, run-command with a package, apply-image). */
  packageId?: string | null;
  commandLine?: string | null;
  variableName?: string | null;
  variableValue?: string | null;
  /** Apply OS Image's own "access content directly" (rule 117). */
  accessContentDirectly?: boolean;
  continueOnError?: boolean;
  disabled?: boolean;
}

export interface TaskSequence {
  id: string;
  name: string;
  description: string;
  /** "Use a boot image" (rule 81); null means not an OS deployment (rule 11). */
  bootImageId: string | null;
  /** "Disable this task sequence on computers where it is deployed" (rule 14). */
  disabled: boolean;
  steps: TaskSequenceStep[];
  createdAt: string;
  modifiedAt: string;
}

// ---------------------------------------------------------------------------
// Distribution points and boundary groups (§8)
// ---------------------------------------------------------------------------

export interface DistributionPoint {
  id: string;
  name: string;
  /** Base URL content is served from, e.g. "http://dp1.example:8080/". */
  url: string;
  /** Package share base (UNC-like or URL) for "access content directly". */
  shareUrl: string | null;
  pxeEnabled: boolean;
  /** DPs in maintenance are never returned as content locations. */
  maintenance: boolean;
  createdAt: string;
  modifiedAt: string;
}

export interface DistributionPointGroup {
  id: string;
  name: string;
  distributionPointIds: string[];
  createdAt: string;
  modifiedAt: string;
}

export type Boundary =
  | { kind: 'subnet'; cidr: string }
  | { kind: 'range'; from: string; to: string };

export interface NeighbourLink {
  boundaryGroupId: string;
  /** Failover time in minutes; task sequences do not wait for it (rule 124), only order by it. */
  failoverMinutes: number;
}

export interface BoundaryGroup {
  id: string;
  name: string;
  boundaries: Boundary[];
  distributionPointIds: string[];
  neighbours: NeighbourLink[];
  /** The site default boundary group (exactly one per site). */
  isSiteDefault: boolean;
  createdAt: string;
  modifiedAt: string;
}

// ---------------------------------------------------------------------------
// Deployments: every page of the deploy wizard
// ---------------------------------------------------------------------------

export type Purpose = 'available' | 'required';
export const PURPOSES: readonly Purpose[] = ['available', 'required'];

/** "Make available to the following" (rule 18) with the AdvertFlags bits of rule 21/22. */
export type AvailableTo = 'clients-only' | 'clients-media-pxe' | 'media-pxe' | 'media-pxe-hidden';
export const AVAILABLE_TO: readonly AvailableTo[] = ['clients-only', 'clients-media-pxe', 'media-pxe', 'media-pxe-hidden'];

export type RerunBehaviour = 'never' | 'always' | 'if-failed' | 'if-succeeded';
export const RERUN_BEHAVIOURS: readonly RerunBehaviour[] = ['never', 'always', 'if-failed', 'if-succeeded'];

export type DeploymentOption = 'download-when-needed' | 'download-all-first' | 'access-directly';
export const DEPLOYMENT_OPTIONS: readonly DeploymentOption[] = ['download-when-needed', 'download-all-first', 'access-directly'];

/** A date-time without offset ("2026-11-26T08:00:00"), read as UTC or client-local per `utc`. */
export interface ScheduledTime {
  at: string;
  utc: boolean;
}

export type Recurrence =
  | { kind: 'weekly'; everyWeeks: number; dayOfWeek: number /* 0 = Sunday */ }
  /** dayOfMonth 0 means the last day of the month. */
  | { kind: 'monthly-date'; everyMonths: number; dayOfMonth: number }
  /** week 1–4, or 0 for the last such weekday of the month. */
  | { kind: 'monthly-weekday'; everyMonths: number; week: number; dayOfWeek: number }
  | { kind: 'custom'; every: number; unit: 'minutes' | 'hours' | 'days' };

export type AssignmentSchedule =
  | { kind: 'at'; start: ScheduledTime }
  | { kind: 'recurring'; start: ScheduledTime; recurrence: Recurrence }
  | { kind: 'asap' }
  | { kind: 'logon' }
  | { kind: 'logoff' };

export interface DeploymentGeneral {
  /** "Use default distribution point groups associated to this collection". */
  useDefaultDpGroups: boolean;
  /** "Automatically distribute content for dependencies". */
  autoDistributeDependencies: boolean;
  /** "Pre-download content for this task sequence" (rule 16: Available only). */
  preDownload: boolean;
}

export interface DeploymentSettingsPage {
  purpose: Purpose;
  availableTo: AvailableTo;
  /** Required only (rule 6). */
  sendWakeUpPackets: boolean;
  /** Required only (rule 6). */
  allowMeteredDownloadAfterDeadline: boolean;
}

export interface SchedulingPage {
  available: ScheduledTime | null;
  expires: ScheduledTime | null;
  /** Required deployments only; several allowed (rule 30). */
  assignments: AssignmentSchedule[];
  rerun: RerunBehaviour;
}

export interface UserExperiencePage {
  /** Rule 7: always on for available deployments. */
  allowRunIndependently: boolean;
  showProgress: boolean;
  /** "Software installation" outside maintenance windows (not saved in templates, rule 4). */
  softwareInstallOutsideMaintenance: boolean;
  restartOutsideMaintenance: boolean;
  /** Write filter handling: commit changes at deadline / in a maintenance window. */
  commitWriteFilterChanges: boolean;
  allowOnInternet: boolean;
}

export interface AlertsPage {
  /** Alert when success falls below this percent after `successCheckAfter`; null = off. */
  successBelowPercent: number | null;
  successCheckAfter: string | null;
  /** Alert when failures exceed this percent; null = off. */
  failureAbovePercent: number | null;
  /** Generate an Operations Manager alert when the installation fails. */
  opsManagerAlertOnFailure: boolean;
  /** Disable Operations Manager alerts while the task sequence runs. */
  disableOpsManagerAlerts: boolean;
}

export interface DistributionPointsPage {
  deploymentOption: DeploymentOption;
  /** "Allow clients to use distribution points from the neighbor boundary group" (rule 12). */
  allowNeighbourFallback: boolean;
  /** "Allow clients to use distribution points from the default site boundary group" (rule 12). */
  allowDefaultSiteFallback: boolean;
}

/** Everything the wizard asks, page by page. */
export interface DeploymentSettings {
  general: DeploymentGeneral;
  deploymentSettings: DeploymentSettingsPage;
  scheduling: SchedulingPage;
  userExperience: UserExperiencePage;
  alerts: AlertsPage;
  distributionPoints: DistributionPointsPage;
}

export interface Deployment extends DeploymentSettings {
  /** Advertisement-style ID: site code + 5 hex digits, e.g. "PXP20001" (rule 24). */
  id: string;
  taskSequenceId: string;
  collectionId: string;
  comment: string;
  /** The template the wizard started from, if any. */
  templateId: string | null;
  /** High-risk verification as done at creation (rule 136: not re-evaluated). */
  highRisk: { warnings: string[]; accepted: boolean; memberCountAtCreation: number };
  createdBy: string;
  createdAt: string;
  modifiedAt: string;
}

/**
 * Deployment template: the wizard settings minus Software Installation, Scheduling
 * and Pre-download (rule 4), which are never stored.
 */
export interface TemplateSettings {
  general: Omit<DeploymentGeneral, 'preDownload'>;
  deploymentSettings: DeploymentSettingsPage;
  userExperience: Omit<UserExperiencePage, 'softwareInstallOutsideMaintenance'>;
  alerts: AlertsPage;
  distributionPoints: DistributionPointsPage;
}

export interface DeploymentTemplate {
  id: string;
  name: string;
  settings: TemplateSettings;
  createdAt: string;
  modifiedAt: string;
}

// ---------------------------------------------------------------------------
// Site settings, status, audit
// ---------------------------------------------------------------------------

export interface DeploymentVerificationSettings {
  /** Rule 131: default 100; 0 ignores it. */
  defaultSize: number;
  /** Rule 131: default 0 (ignore); when set must be greater than defaultSize. */
  maximumSize: number;
  /** Rule 134/135: collections with site system servers. */
  siteSystemCollections: 'block' | 'warn';
}

export interface SiteSettings {
  siteCode: string;
  siteName: string;
  deploymentVerification: DeploymentVerificationSettings;
}

export const DEFAULT_SITE_SETTINGS: SiteSettings = {
  siteCode: 'PXP',
  siteName: 'pxepoint site',
  deploymentVerification: { defaultSize: 100, maximumSize: 0, siteSystemCollections: 'warn' },
};

/** Rule 139: per-client deployment state (SMS_AdvertisementStatusInformation.MessageState). */
export const CLIENT_STATES = {
  AcceptedNoFurtherStatus: -1,
  NoStatus: 0,
  Accepted: 1,
  Rejected: 2,
  Expired: 3,
  WillNotRerun: 4,
  DownloadInProgress: 5,
  DownloadComplete: 6,
  Canceled: 7,
  Waiting: 8,
  Running: 9,
  Retrying: 10,
  Failed: 11,
  RebootPending: 12,
  Succeeded: 13,
} as const;
export type ClientState = (typeof CLIENT_STATES)[keyof typeof CLIENT_STATES];

/** Last state per device and deployment (SMS_ClientAdvertisementStatus). */
export interface ClientDeploymentStatus {
  deviceId: string;
  deploymentId: string;
  state: ClientState;
  lastMessageId: number | null;
  lastMessage: string;
  updatedAt: string;
}

export type MessageKind = 'status' | 'audit';
export type Severity = 'info' | 'warning' | 'error';

export interface StatusMessage {
  id: number;
  time: string;
  kind: MessageKind;
  severity: Severity;
  /** Component that produced it: "admin-api", "cli", "deploy", "pxe", "client"… */
  component: string;
  /** ConfigMgr-style message ID where one exists (e.g. 11171), else 0. */
  messageId: number;
  /** Who did it (token name, "cli:<user>", device id). */
  actor: string;
  text: string;
  deviceId: string | null;
  deploymentId: string | null;
  /** Structured details (entity kind, id, change). Secrets are never stored here. */
  data: Record<string, unknown>;
}

export interface ApiToken {
  id: string;
  name: string;
  /** SHA-256 of the token secret, hex. The secret itself is never stored. */
  hash: string;
  createdAt: string;
  lastUsedAt: string | null;
}

// ---------------------------------------------------------------------------
// Client credentials (the client API, docs/decisions/0007-client-authentication.md)
// ---------------------------------------------------------------------------

/** Where a client booted from (the same values as policy/types.ts `BootSource`). */
export type ClientBootSource = 'pxe' | 'media' | 'full-os';

/**
 * A one-time boot token: written into the PXE variables file (or onto boot
 * media built for one machine) and consumed by the machine's first
 * POST /client/identify. Bound to the machine it was issued for.
 */
export interface BootToken {
  /** Random id (not secret): names the token in audit messages. */
  id: string;
  /** SHA-256 of the secret, hex. The secret itself is never stored. */
  hash: string;
  /** Normalised MACs of the machine the token was issued for. */
  macs: string[];
  smbiosGuid: string | null;
  /** The device record the issuer resolved, when it knew one. */
  deviceId: string | null;
  bootSource: 'pxe' | 'media';
  /** Variables handed to the client with the token (the PXE variables file, media variables, rule 26). */
  variables: Variable[];
  issuedBy: string;
  issuedAt: string;
  expiresAt: string;
  /** Set, once, by the identify call that consumed it; a second use is a replay. */
  usedAt: string | null;
}

/** A key registered for a known device: how a full-OS client identifies itself. */
export interface ClientKey {
  id: string;
  hash: string;
  deviceId: string;
  createdBy: string;
  createdAt: string;
  lastUsedAt: string | null;
}

/**
 * What POST /client/identify hands out: a bearer secret bound to one machine.
 * Every later client call is answered for this identity only.
 */
export interface ClientSession {
  id: string;
  hash: string;
  /** The identity verified at identify (normalised). */
  macs: string[];
  smbiosGuid: string | null;
  architecture: Architecture;
  bootSource: ClientBootSource;
  /** The known record (a provisional one included, rule 64), or null while unknown. */
  deviceId: string | null;
  /** The unknown object used while deviceId is null (rule 62). */
  unknownObjectId: string | null;
  /**
   * For an unknown machine: the resource id its record will get (allocated at its
   * first status report), under which its statuses are kept meanwhile.
   */
  pendingDeviceId: string | null;
  /** Client variables: token/media variables, prestart variables, run-time variables reported. */
  variables: Variable[];
  utcOffsetMinutes: number;
  /** Deployments this session has reported status for (their content stays reachable, rule 40). */
  deploymentIds: string[];
  credential: { kind: 'pxe-token' | 'media' | 'client-key'; id: string };
  createdAt: string;
  expiresAt: string;
}

/**
 * A DHCP address lease of full DHCP mode (RFC 2131 §4.3), written before its ACK is
 * sent so a restart loses none. Offers are not stored: an unanswered offer is free
 * again after a restart, which RFC 2131 §4.3.1 allows (offers are not binding).
 */
export interface DhcpLease {
  /** The leased address; one row per address. */
  ip: string;
  /** Lower-case colon MAC (chaddr): the key pxepoint binds by. */
  mac: string;
  /** Option 61 as hex, when the client sent one. */
  clientId: string | null;
  /** Pool subnet in CIDR form ("10.77.0.0/24"). */
  subnet: string;
  /** bound: in use until expiresAt; released/expired: free, remembered for the same client; declined: quarantined until expiresAt. */
  state: 'bound' | 'released' | 'expired' | 'declined';
  /** Milliseconds since the epoch. */
  expiresAt: number;
  updatedAt: number;
  /** Option 12, when sent. */
  hostname: string | null;
  /** The relay (giaddr) and option 82 sub-options (hex) the lease was granted through. */
  relay: { giaddr: string; circuitId: string | null; remoteId: string | null } | null;
}

// ---------------------------------------------------------------------------
// Boot timeline (src/pxe/timeline.ts, docs/pxe.md)
// ---------------------------------------------------------------------------

/** The event a timeline entry comes from (src/events.ts names). */
export type BootEventKind = 'dhcp.decision' | 'tftp.transfer.end' | 'tftp.request.refused' | 'http.boot';

/** One step of a machine's boot: a DHCP decision, a TFTP transfer, an HTTP boot request. */
export interface BootEvent {
  /** Increasing, never reused (a cursor: `afterId`). */
  id: number;
  time: string;
  /** Normalised MAC of the machine (TFTP/HTTP events are mapped from the client address). */
  mac: string;
  kind: BootEventKind;
  /** The client's address when known. */
  clientIp: string | null;
  /** One line for people ("proxy boot-with-prompt (available) boot/x64/snponly.efi"). */
  summary: string;
  /** The event's fields (never secrets: no tokens, no variables-file names). */
  data: Record<string, unknown>;
}

// ---------------------------------------------------------------------------
// Content library (§8, src/content/)
// ---------------------------------------------------------------------------

/** One version of a package's content: its signed manifest (JSON of src/content/types.ts ContentManifest). */
export interface PackageContentVersion {
  packageId: string;
  version: number;
  createdAt: string;
  totalSize: number;
  fileCount: number;
  manifestJson: string;
}

/** pending: assigned, not there yet; verifying: being copied and checked; available: every file verified; failed: see detail. */
export type DpContentState = 'pending' | 'verifying' | 'available' | 'failed';
export const DP_CONTENT_STATES: readonly DpContentState[] = ['pending', 'verifying', 'available', 'failed'];

/** What one distribution point should hold of one package, and how far it got. */
export interface DpPackageState {
  distributionPointId: string;
  packageId: string;
  /** The version the DP should hold (the newest distributed, rule 17). */
  version: number;
  state: DpContentState;
  detail: string | null;
  updatedAt: string;
  /** Set by `pxepoint content validate`; cleared when the DP reports its next validation. */
  validateRequestedAt: string | null;
}
