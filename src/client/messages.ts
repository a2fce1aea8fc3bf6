/**
 * Status message IDs and states the client reports (rules 139–141).
 *
 * 11142, 11170 and 11171 are the ones the spec digest maps (rule 140). The
 * per-step IDs are the task sequence execution messages of rule 141 with the
 * numbers ConfigMgr reporting uses for them ([COMMUNITY], like rule 141 itself):
 * a site that keys on them sees the same numbers as a ConfigMgr report would.
 */
import { CLIENT_STATES, type ClientState } from '../site/model.js';

export interface StatusKind {
  state: ClientState;
  messageId: number;
  text: string;
}

export const STATUS = {
  started: { state: CLIENT_STATES.Running, messageId: 11140, text: 'The task sequence execution engine started execution of a task sequence' },
  actionSucceeded: { state: CLIENT_STATES.Running, messageId: 11134, text: 'The task sequence execution engine successfully completed an action' },
  actionFailed: { state: CLIENT_STATES.Running, messageId: 11135, text: 'The task sequence execution engine failed executing an action' },
  actionFailureIgnored: { state: CLIENT_STATES.Running, messageId: 11138, text: 'The task sequence execution engine ignored execution failure of an action' },
  actionSkipped: { state: CLIENT_STATES.Running, messageId: 11128, text: 'The task sequence execution engine skipped a disabled action' },
  /** Rule 140: 11142 "performed a system reboot initiated by an action"; the state is Reboot Pending (rule 139). */
  reboot: { state: CLIENT_STATES.RebootPending, messageId: 11142, text: 'The task sequence execution engine performed a system reboot initiated by an action' },
  succeeded: { state: CLIENT_STATES.Succeeded, messageId: 11171, text: 'The task sequence manager successfully completed execution of the task sequence' },
  failed: { state: CLIENT_STATES.Failed, messageId: 11170, text: 'The task sequence manager could not successfully complete execution of the task sequence' },
} as const satisfies Record<string, StatusKind>;
