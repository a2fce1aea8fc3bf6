/**
 * The contract between the client API (http/client, app/client-service) and the
 * pure policy selection (policy/select). The API identifies the machine and
 * builds a `PolicyRequest`; `selectPolicy(request, snapshot)` answers what the
 * machine may run and why, with no I/O and no clock of its own.
 *
 * Rule numbers refer to ../shared/spec/configmgr-rules.md.
 */
import type {
  ClientDeploymentStatus, Collection, Deployment, Device, Package, TaskSequence, Variable, BootImage, Architecture,
} from '../site/model.js';

/** Where the client booted from: WinPE from PXE, WinPE from boot media, or a full OS (Software Center). */
export type BootSource = 'pxe' | 'media' | 'full-os';

export interface PolicyRequest {
  /** The known record (including a provisional "Unknown" record, rule 64), or null when unknown. */
  device: Device | null;
  /** Hardware capability of the machine; chooses the unknown object when `device` is null (rule 62). */
  architecture: Architecture;
  bootSource: BootSource;
  /**
   * Variables the client already holds: media variables, prestart-set variables,
   * the PXE variables file (rule 26). SMSTSPreferredAdvertID may be among them.
   */
  clientVariables: Variable[];
  /** Now, as an instant. */
  now: Date;
  /** The client's offset from UTC in minutes (e.g. +60 for CET), for client-local schedules (rule 30). */
  clientUtcOffsetMinutes: number;
  /** Full-OS only: the event that triggered the evaluation, for logon/logoff assignments. */
  event?: 'logon' | 'logoff' | null;
}

/**
 * The site as the policy service sees it: everything selection reads, with the
 * indexes that keep a decision fast at 100,000 devices / 5,000 collections /
 * 1,000 deployments (build it once per site change, not per request).
 */
export interface PolicySnapshot {
  /** Every device record, unknown objects included (by resource ID). */
  devices: ReadonlyMap<string, Device>;
  deployments: ReadonlyMap<string, Deployment>;
  taskSequences: ReadonlyMap<string, TaskSequence>;
  packages: ReadonlyMap<string, Package>;
  bootImages: ReadonlyMap<string, BootImage>;
  collections: ReadonlyMap<string, Collection>;
  /**
   * Collection ids a device (or unknown object) is a member of, evaluated on the
   * record given (so a fresher record than the snapshot's is honoured), in the
   * variable-precedence order: built-in collections first, then ascending id.
   */
  collectionIdsOf(device: Device): readonly string[];
  /** Deployments targeted at a collection. */
  deploymentsByCollection: ReadonlyMap<string, readonly Deployment[]>;
  /** The two unknown-computer objects (rule 62). */
  unknownObjects: { x86: Device; x64: Device };
  /** Execution history: last state per device and deployment (rules 36–39). */
  statusOf(deviceId: string, deploymentId: string): ClientDeploymentStatus | undefined;
}

/** Why a targeted deployment is not offered: every exclusion is explained, for logs and the API. */
export type ExclusionReason =
  | 'clients-only'              // not available to media/PXE (rule 19)
  | 'media-pxe-only'            // not for full-OS clients (rule 23)
  | 'hidden'                    // only through SMSTSPreferredAdvertID (rule 23)
  | 'task-sequence-disabled'    // rule 14
  | 'not-yet-available'         // full OS only (rule 30)
  | 'expired'                   // full OS only (rule 30)
  | 'rerun-never'               // rules 36–39
  | 'rerun-not-failed'
  | 'rerun-not-succeeded'
  | 'pxe-already-delivered'     // rule 40: required PXE deployment ran; Clear Required PXE Deployments resets
  | 'task-sequence-missing';    // the deployment names a task sequence the site no longer has

export interface OfferedDeployment {
  deploymentId: string;
  taskSequenceId: string;
  taskSequenceName: string;
  purpose: Deployment['deploymentSettings']['purpose'];
  availableTo: Deployment['deploymentSettings']['availableTo'];
  /**
   * Required deployments only. Full OS: an assignment is due now (schedule
   * evaluated, rule 30). PXE/media: always true for required ones, since WinPE
   * evaluates no schedule and "required" means "runs without a prompt" (rule 29).
   * Available deployments: false.
   */
  due: boolean;
}

/** SMSTSPreferredAdvertID problems (docs/decisions/0006-preferred-advert-id.md). */
export type PreferredAdvertError =
  | 'unknown-deployment'
  | 'not-targeted'
  | 'not-available-to-media-pxe'
  | 'task-sequence-disabled'
  /** The deployment's task sequence no longer exists. */
  | 'task-sequence-missing'
  /** PXE only: the named required deployment is this device's last PXE deployment (rule 40). */
  | 'pxe-already-delivered';

/** Where a variable came from (rule 113 precedence: collection < device < client). */
export type VariableSource = 'collection' | 'device' | 'client';

/** A variable left out of the environment, or an environment over the rule 113 limit. */
export interface VariableProblem {
  source: VariableSource | 'environment';
  /** The variable's name as written ('' for the environment as a whole). */
  name: string;
  /** For collection variables: the collection that holds it. */
  collectionId: string | null;
  problem: 'invalid-name' | 'read-only-name' | 'value-too-long' | 'environment-too-large';
  /** Says what to fix; never contains a value. */
  message: string;
}

export interface PolicyDecision {
  /** Deployments the WinPE wizard / Software Center lists (never hidden ones), in display order. */
  offered: OfferedDeployment[];
  /**
   * The deployment that runs with no prompt: the one SMSTSPreferredAdvertID names
   * (rule 24, overrides required), else the required one (highest deployment ID
   * when several, by string comparison — the rule 78 ordering), else null.
   */
  autoRun: OfferedDeployment | null;
  /** True when the user must pick from `offered` (nothing runs on its own). */
  prompt: boolean;
  /** When SMSTSPreferredAdvertID was set but cannot be honoured. */
  preferredError: { id: string; reason: PreferredAdvertError; message: string } | null;
  /** Targeted deployments left out, with the reason (for logs and `pxepoint policy explain`). */
  excluded: { deploymentId: string; reason: ExclusionReason }[];
  /**
   * Variables for the run, merged collection < device < run time (rule 113);
   * unknown machines get collection variables only (rule 65).
   */
  variables: Variable[];
  /**
   * Variables dropped for breaking rule 113 (bad name, value over 4,000 chars),
   * and 'environment-too-large' when the merged environment exceeds 8 KB. Nothing
   * is truncated: the API decides whether to refuse the run (see docs/policy.md).
   */
  variableProblems: VariableProblem[];
  /** Where SMSTSPreferredAdvertID came from when it was set, for logs. */
  preferredSource: VariableSource | null;
  /** The unknown object used when the machine has no record, else null. */
  unknownObjectId: string | null;
}
