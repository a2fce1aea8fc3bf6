/**
 * The per-client deployment state machine (rule 139, SMS_ClientAdvertisementStatus):
 * which reported state may follow which, the ConfigMgr status message ids of
 * rule 140, and how states roll up into a deployment summary (rule 143).
 *
 * A run goes start → (download | wait | run)* → end. An ended run (succeeded,
 * failed, rejected, …) may only be followed by the start of a new attempt
 * (a rerun, or a PXE redelivery after Clear Required PXE Deployments): never by
 * another end, so a replayed "Succeeded" or a "Failed" turned into "Succeeded"
 * without a new run is refused. A running task sequence cannot be cancelled
 * (rule 35).
 */
import { PxeError } from '../errors.js';
import { CLIENT_STATES, type ClientState } from '../site/model.js';
import { CLIENT_ERRORS } from './client-errors.js';

const S = CLIENT_STATES;

export const STATE_NAMES: Readonly<Record<ClientState, string>> = Object.fromEntries(
  Object.entries(CLIENT_STATES).map(([name, value]) => [value, name]),
) as Record<ClientState, string>;

export const CLIENT_STATE_VALUES: readonly ClientState[] = Object.values(CLIENT_STATES);

/** States that end a run (SMS "Acceptance" refusals and the delivery outcomes). */
const ENDED: ReadonlySet<ClientState> = new Set<ClientState>([
  S.AcceptedNoFurtherStatus, S.Rejected, S.Expired, S.WillNotRerun, S.Canceled, S.Failed, S.Succeeded,
]);

/** Outcomes only a run in progress can report (a first report may say Failed/Canceled: it never started). */
const RUN_OUTCOMES: ReadonlySet<ClientState> = new Set<ClientState>([S.Succeeded, S.Failed, S.Canceled, S.AcceptedNoFurtherStatus]);

/** States a new run (or a first report) may begin with. */
const BEGIN: readonly ClientState[] = [
  S.Accepted, S.Rejected, S.Expired, S.WillNotRerun, S.DownloadInProgress, S.Waiting, S.Running,
  S.AcceptedNoFurtherStatus, S.Canceled, S.Failed,
];

/** What may follow each state of a run in progress (repeats of progress states are step reports). */
const NEXT: Readonly<Partial<Record<ClientState, readonly ClientState[]>>> = {
  [S.NoStatus]: BEGIN,
  [S.Accepted]: [S.DownloadInProgress, S.Waiting, S.Running, S.Canceled, S.Failed, S.Rejected, S.Expired, S.WillNotRerun, S.AcceptedNoFurtherStatus],
  [S.DownloadInProgress]: [S.DownloadInProgress, S.DownloadComplete, S.Retrying, S.Running, S.Canceled, S.Failed],
  [S.DownloadComplete]: [S.DownloadInProgress, S.Waiting, S.Running, S.Canceled, S.Failed],
  [S.Waiting]: [S.Waiting, S.DownloadInProgress, S.Running, S.Canceled, S.Failed],
  // Rule 35: once running, a task sequence cannot be cancelled.
  [S.Running]: [S.Running, S.DownloadInProgress, S.DownloadComplete, S.Retrying, S.RebootPending, S.Failed, S.Succeeded],
  [S.Retrying]: [S.Retrying, S.DownloadInProgress, S.Running, S.Failed],
  [S.RebootPending]: [S.RebootPending, S.Running, S.Failed, S.Succeeded],
};

export function isEnded(state: ClientState): boolean {
  return ENDED.has(state);
}

/** States in which a run has started on the device (the PXE marker is set on these, rules 40–41). */
export const STARTED: ReadonlySet<ClientState> = new Set<ClientState>([
  S.Accepted, S.DownloadInProgress, S.DownloadComplete, S.Waiting, S.Running, S.Retrying, S.RebootPending,
]);

export function allowedNext(previous: ClientState | undefined): readonly ClientState[] {
  if (previous === undefined) return BEGIN;
  // After an ended run: a new attempt, or a new evaluation's acceptance outcome — never the same end again.
  if (ENDED.has(previous)) return BEGIN.filter((s) => !RUN_OUTCOMES.has(s) && s !== previous);
  return NEXT[previous] ?? BEGIN;
}

/** Throws PXE_ERR_CLIENT_STATE (409) when `next` may not follow `previous` (rule 139). */
export function checkTransition(previous: ClientState | undefined, next: ClientState): void {
  const allowed = allowedNext(previous);
  if (allowed.includes(next)) return;
  const from = previous === undefined ? 'no status' : STATE_NAMES[previous];
  throw new PxeError(
    CLIENT_ERRORS.badTransition,
    `state ${STATE_NAMES[next]} (${next}) cannot follow ${from}; allowed next: ${allowed.map((s) => `${STATE_NAMES[s]} (${s})`).join(', ')} (rule 139)`,
    409,
    { rule: 139, from: previous ?? null, to: next },
  );
}

/** Rule 140: the ConfigMgr status message id each state is reported with. */
export const MESSAGE_IDS = {
  succeeded: 11171,
  failed: 11170,
  /** "…performed a system reboot initiated by an action"; the community mapping reads it as Running. */
  running: 11142,
  waiting: 10073,
  acceptedNoFurtherStatus: 65535,
} as const;

const DEFAULT_MESSAGE_ID: Partial<Record<ClientState, number>> = {
  [S.Succeeded]: MESSAGE_IDS.succeeded,
  [S.Failed]: MESSAGE_IDS.failed,
  [S.Running]: MESSAGE_IDS.running,
  [S.RebootPending]: MESSAGE_IDS.running,
  [S.Waiting]: MESSAGE_IDS.waiting,
  [S.AcceptedNoFurtherStatus]: MESSAGE_IDS.acceptedNoFurtherStatus,
};

/** The state a rule 140 message id stands for, where the mapping is one to one. */
const STATE_OF_MESSAGE: ReadonlyMap<number, readonly ClientState[]> = new Map<number, readonly ClientState[]>([
  [MESSAGE_IDS.succeeded, [S.Succeeded]],
  [MESSAGE_IDS.failed, [S.Failed]],
  [MESSAGE_IDS.running, [S.Running, S.RebootPending]],
  [MESSAGE_IDS.waiting, [S.Waiting]],
  [MESSAGE_IDS.acceptedNoFurtherStatus, [S.AcceptedNoFurtherStatus]],
]);

/** The message id to record: the client's (checked against the state), else the state's default, else 0. */
export function messageIdFor(state: ClientState, reported: number | undefined): number {
  if (reported === undefined) return DEFAULT_MESSAGE_ID[state] ?? 0;
  const states = STATE_OF_MESSAGE.get(reported);
  if (states !== undefined && !states.includes(state)) {
    throw new PxeError(
      'PXE_ERR_INVALID',
      `body.messageId: message ${reported} reports ${states.map((s) => STATE_NAMES[s]).join(' or ')}, not ${STATE_NAMES[state]} (rule 140)`,
      400,
      { field: 'body.messageId', rule: 140 },
    );
  }
  return reported;
}

export type SummaryBucket = 'success' | 'inProgress' | 'error' | 'unknown';

/** Rule 143: the console's groups. */
export function bucketOf(state: ClientState): SummaryBucket {
  switch (state) {
    case S.Succeeded:
    case S.AcceptedNoFurtherStatus:
    case S.WillNotRerun:
      return 'success';
    case S.Failed:
    case S.Rejected:
    case S.Expired:
    case S.Canceled:
      return 'error';
    case S.NoStatus:
      return 'unknown';
    default:
      return 'inProgress';
  }
}
