/**
 * Picking the deployment like the WinPE task sequence wizard does.
 *
 * - `autoRun` (SMSTSPreferredAdvertID, or a required deployment): runs with no
 *   prompt (rules 24, 29, 60). `--select` cannot override it: in WinPE the user
 *   never sees a list then.
 * - `preferredError`: SMSTSPreferredAdvertID was set but the site cannot honour
 *   it. The client stops and prints the reason rather than run something the
 *   administrator did not name (open question 1; docs/client.md).
 * - `prompt`: the "Select a task sequence to run" page (rule 27) lists `offered`
 *   — never hidden deployments (rule 23). `--select ID` answers it; `--unattended`
 *   refuses to guess; otherwise the user picks on stdin.
 * - nothing at all: "no task sequence is available" (rule 60), exit code 3.
 */
import type { PolicyDeployment, PolicyResponse } from '../policy/client-api.js';

export const EXIT = {
  ok: 0,
  /** The task sequence ran and failed. */
  failed: 1,
  usage: 2,
  /** Rule 60: no deployed task sequence for this machine. */
  noTaskSequence: 3,
  /** A choice was needed and could not be made (unattended, --select not offered, preferred ID refused). */
  noSelection: 4,
  /** The site could not be reached, or refused the identity. */
  site: 5,
  /**
   * Boot media (issue 7): this medium cannot be used — wrong or missing password,
   * blocked by the site, media certificate expired or not yet valid, stand-alone
   * media outside its date range (rule 103), tampered with, or not a pxepoint medium.
   */
  media: 6,
  /** Boot media: the prestart command failed, timed out, or set a variable it may not (rules 105, 113). */
  prestart: 7,
} as const;

export type Selection =
  | { kind: 'run'; deployment: PolicyDeployment; how: 'preferred' | 'required' | 'selected'; warnings: string[] }
  | { kind: 'choose'; offered: PolicyDeployment[] }
  | { kind: 'stop'; exitCode: number; message: string };

export interface SelectOptions {
  /** `--select DEPLOYMENT_ID`. */
  select?: string;
  /** `--unattended`: never prompt. */
  unattended?: boolean;
  /** The client's SMSTSPreferredAdvertID, to tell a preferred auto-run from a required one. */
  preferredAdvertId?: string;
}

export const NO_TASK_SEQUENCE = 'no task sequence is available for this computer (rule 60): no deployment targets it, or none is available to PXE and media';

/** The pure decision: what the wizard would do with this policy. */
export function selectDeployment(policy: PolicyResponse, opts: SelectOptions = {}): Selection {
  if (policy.preferredError) {
    const e = policy.preferredError;
    return { kind: 'stop', exitCode: EXIT.noSelection, message: `SMSTSPreferredAdvertID ${e.id} cannot run (${e.reason}): ${e.message}` };
  }
  if (policy.autoRun) {
    const d = policy.autoRun;
    // The preferred ID may also have come with the boot token (site side): a hidden or an
    // available deployment that runs on its own can only have been named by it (rules 23–24).
    const preferred = (opts.preferredAdvertId !== undefined && opts.preferredAdvertId.toUpperCase() === d.deploymentId.toUpperCase())
      || d.availableTo === 'media-pxe-hidden' || d.purpose === 'available';
    const warnings = opts.select !== undefined && opts.select.toUpperCase() !== d.deploymentId.toUpperCase()
      ? [`--select ${opts.select} ignored: deployment ${d.deploymentId} runs without a prompt (${preferred ? 'SMSTSPreferredAdvertID' : 'required'})`]
      : [];
    return { kind: 'run', deployment: d, how: preferred ? 'preferred' : 'required', warnings };
  }
  if (policy.offered.length === 0) return { kind: 'stop', exitCode: EXIT.noTaskSequence, message: NO_TASK_SEQUENCE };
  if (opts.select !== undefined) {
    const picked = findOffered(policy.offered, opts.select);
    if (!picked) {
      return {
        kind: 'stop',
        exitCode: EXIT.noSelection,
        message: `deployment ${opts.select} is not offered to this computer (offered: ${policy.offered.map((d) => d.deploymentId).join(', ')}); a hidden deployment runs only through SMSTSPreferredAdvertID (rule 23)`,
      };
    }
    return { kind: 'run', deployment: picked, how: 'selected', warnings: [] };
  }
  if (opts.unattended) {
    return {
      kind: 'stop',
      exitCode: EXIT.noSelection,
      message: `a choice is needed and --unattended does not guess: ${policy.offered.length} task sequence(s) are offered (${policy.offered.map((d) => d.deploymentId).join(', ')}); pass --select DEPLOYMENT_ID, or make one required, or set SMSTSPreferredAdvertID`,
    };
  }
  return { kind: 'choose', offered: policy.offered };
}

export function findOffered(offered: readonly PolicyDeployment[], answer: string): PolicyDeployment | undefined {
  const a = answer.trim();
  if (/^\d+$/.test(a)) {
    const n = Number(a);
    if (n >= 1 && n <= offered.length) return offered[n - 1];
  }
  return offered.find((d) => d.deploymentId.toUpperCase() === a.toUpperCase());
}

/** The "Select a task sequence to run" page as text. */
export function formatOffered(offered: readonly PolicyDeployment[]): string {
  const lines = offered.map((d, i) => `  ${i + 1}) ${d.deploymentId}  ${d.taskSequenceName} (${d.taskSequenceId}, ${d.purpose})`);
  return ['Select a task sequence to run:', ...lines].join('\n');
}

/** Asks for a line; resolves null at end of input. */
export type AskLine = (question: string) => Promise<string | null>;

export const MAX_PROMPT_ATTEMPTS = 3;

/** The interactive pick: a number or a deployment ID, at most three tries. */
export async function chooseInteractively(offered: readonly PolicyDeployment[], ask: AskLine, write: (text: string) => void): Promise<Selection> {
  write(formatOffered(offered) + '\n');
  for (let attempt = 1; attempt <= MAX_PROMPT_ATTEMPTS; attempt++) {
    const answer = await ask(`Enter 1-${offered.length} or a deployment ID: `);
    if (answer === null) {
      return { kind: 'stop', exitCode: EXIT.noSelection, message: 'no choice was made (end of input); pass --select DEPLOYMENT_ID to pick without a prompt' };
    }
    const picked = findOffered(offered, answer);
    if (picked) return { kind: 'run', deployment: picked, how: 'selected', warnings: [] };
    write(`"${answer.trim()}" is not one of the listed task sequences\n`);
  }
  return { kind: 'stop', exitCode: EXIT.noSelection, message: `no valid choice after ${MAX_PROMPT_ATTEMPTS} tries` };
}

/** Rule 110: policy retrieval retries in WinPE, both 0 by default. Bounded so a typo cannot hang a machine. */
export function assignmentRetry(get: (name: string) => string | undefined): { retries: number; intervalSeconds: number } {
  const num = (name: string, max: number): number => {
    const v = get(name);
    if (v === undefined || !/^\d+$/.test(v.trim())) return 0;
    return Math.min(Number(v.trim()), max);
  };
  return { retries: num('SMSTSAssignmentsDownloadRetry', 100), intervalSeconds: num('SMSTSAssignmentsDownloadInterval', 3600) };
}
