/**
 * The task sequence engine of the reference client: runs the chosen
 * deployment's steps in order in the target directory and reports status.
 *
 * - Start: Running (9) / 11140. Each step: 11134 done, 11135 failed, 11138
 *   failure ignored (continueOnError), 11128 disabled and skipped, restart →
 *   Reboot Pending (12) / 11142. End: Succeeded (13) / 11171 or Failed (11) /
 *   11170, with the variables set at run time (e.g. OSDComputerName) so the site
 *   can keep them (rule 64: naming the record of an unknown computer).
 * - Rule 145: the task sequence fails on its first failed step unless that step
 *   has "continue on error".
 * - Rule 35: once started it runs to the end; a status that cannot be sent does
 *   not stop it (reporter.ts).
 */
import { join } from 'node:path';
import type { ContentSigningKey, PolicyDeployment, PolicyPackage, PolicyStep } from '../policy/client-api.js';
import type { BootSource } from '../policy/types.js';
import type { StatusReport } from '../policy/client-api.js';
import type { Variable } from '../site/model.js';
import type { FetchLike } from './api.js';
import { defaultSleep } from './api.js';
import { ContentCache, type DownloadSettings } from './content.js';
import type { TaskSequenceEnvironment } from './environment.js';
import type { RunLog } from './log.js';
import { STATUS, type StatusKind } from './messages.js';
import type { StatusReporter } from './reporter.js';
import { STEP_RUNNERS } from './steps/index.js';
import type { PackageSource, StepContext, StepOutcome } from './steps/types.js';

export const LOG_DIR = '_SMSTSLog';
export const LOG_FILE = 'smsts.log';

export type StepResultKind = 'succeeded' | 'failed' | 'failed-ignored' | 'skipped' | 'not-run';

export interface StepRecord {
  index: number;
  name: string;
  type: string;
  result: StepResultKind;
  message: string;
  failure?: string;
  durationMs: number;
}

export interface RunResult {
  deploymentId: string;
  taskSequenceId: string;
  taskSequenceName: string;
  succeeded: boolean;
  steps: StepRecord[];
  /** Packages used without hash verification (rule 117). */
  unverifiedPackages: string[];
  restartRequested: boolean;
  /** Variables set during the run, as reported with the final status. */
  variables: Variable[];
  /** From the site's answer to the final status: the record a successful unknown run created (rule 64). */
  deviceId: string | null;
  statusSent: number;
  statusFailed: number;
}

export interface RunOptions {
  targetDir: string;
  deployment: PolicyDeployment;
  env: TaskSequenceEnvironment;
  /** Status to the site; stand-alone media give one that writes to the run log (nothing can be sent). */
  reporter: Pick<StatusReporter, 'send' | 'sent' | 'failed'>;
  log: RunLog;
  fetch: FetchLike;
  /** Where package content comes from; default: the network (ContentCache with `fetch`). Stand-alone media: the medium. */
  content?: PackageSource;
  /** Stand-alone media: there is no deployment, `_SMSTSAdvertID` is not set (rule 109). */
  standalone?: boolean;
  /** Bound on one Run Command Line. Default 1 hour. */
  commandTimeoutMs?: number;
  /** Bound on one file download from one location. Default 30 minutes. */
  fileTimeoutMs?: number;
  now?: () => Date;
  sleep?: (ms: number) => Promise<void>;
  /** Request headers for a content URL (see ContentCache). */
  contentHeaders?: (url: string) => Record<string, string>;
  /** Called after each step (console progress). */
  onStep?: (record: StepRecord) => void;
  /** Where the machine booted from: "download all content first" is for full-OS clients only (rule 9). Default pxe. */
  bootSource?: BootSource;
  /** The site's content-signing key from policy (DP manifests must verify with it). */
  signingKey?: ContentSigningKey | null;
}

function intVar(env: TaskSequenceEnvironment, name: string, fallback: number, max: number): number {
  const v = env.get(name);
  if (v === undefined || !/^\d+$/.test(v.trim())) return fallback;
  return Math.min(Number(v.trim()), max);
}

/** Rule 122: SMSTSDownloadRetryCount (default 2) and SMSTSDownloadRetryDelay (default 15 s) from the run's variables. */
export function downloadSettingsFrom(env: TaskSequenceEnvironment, verify: boolean, fileTimeoutMs?: number): DownloadSettings {
  return {
    verify,
    retryCount: intVar(env, 'SMSTSDownloadRetryCount', 2, 10),
    retryDelayMs: intVar(env, 'SMSTSDownloadRetryDelay', 15, 600) * 1000,
    fileTimeoutMs: fileTimeoutMs ?? 30 * 60_000,
  };
}

/** Steps come from policy; a `disabled` flag is honoured if the site sends one (rule: disabled steps never run). */
const isDisabled = (step: PolicyStep): boolean => (step as PolicyStep & { disabled?: boolean }).disabled === true;

export async function runTaskSequence(opts: RunOptions): Promise<RunResult> {
  const { deployment: d, env, log, reporter, targetDir } = opts;
  const now = opts.now ?? (() => new Date());
  const ts = d.taskSequence;
  const content: PackageSource = opts.content
    ?? new ContentCache(targetDir, opts.fetch, log, opts.sleep ?? defaultSleep, opts.contentHeaders, { signingKey: opts.signingKey ?? null });
  const bootSource = opts.bootSource ?? 'pxe';

  // Engine variables (read-only, rule 113), rules 109 and 120: as the site sends them, else from the option.
  if (!opts.standalone) env.setEngine('_SMSTSAdvertID', d.deploymentId);
  env.setEngine('_SMSTSPackageID', ts.id);
  env.setEngine('_SMSTSPackageName', ts.name);
  env.setEngine('_SMSTSLogPath', join(targetDir, LOG_DIR));
  env.setEngine('_PXPTargetDir', targetDir);
  const optionVariables = d.engineVariables
    ?? (d.deploymentOption === 'access-directly' ? [{ name: '_SMSTSRunFromDP', value: 'true' }]
      : d.deploymentOption === 'download-when-needed' ? [{ name: '_SMSTSDownloadOnDemand', value: 'true' }] : []);
  for (const v of optionVariables) if (v.name === '_SMSTSRunFromDP' || v.name === '_SMSTSDownloadOnDemand') env.setEngine(v.name, v.value);

  const downloadSettings = (accessDirectly: boolean): DownloadSettings => downloadSettingsFrom(env, !accessDirectly, opts.fileTimeoutMs);
  const ctx: StepContext = {
    targetDir, deployment: d, env, content, log, downloadSettings,
    commandTimeoutMs: opts.commandTimeoutMs ?? 60 * 60_000,
    now,
  };

  const report = (kind: StatusKind, message: string, extra: Partial<StatusReport> = {}): ReturnType<StatusReporter['send']> =>
    reporter.send({ deploymentId: d.deploymentId, state: kind.state, messageId: kind.messageId, message, ...extra });

  log.info(`==== task sequence ${ts.id} "${ts.name}" from deployment ${d.deploymentId} (${d.purpose}, ${d.deploymentOption}), ${ts.steps.length} step(s), target ${targetDir}`);
  const direct = d.deploymentOption === 'access-directly';
  const directNote = direct ? ' — WARNING: access content directly from a distribution point: package hashes are NOT verified (rule 117)' : '';
  if (direct) log.warn('!!! deployment option "access content directly from a distribution point": package hashes are NOT verified for this run (rule 117)');
  await report(STATUS.started, `${STATUS.started.text}: ${ts.name} (${ts.id})${directNote}`);

  const records: StepRecord[] = [];
  const unverified = new Set<string>();
  let restartRequested = false;
  let failedAt: StepRecord | null = null;
  const steps = [...ts.steps].sort((a, b) => a.index - b.index);

  // "Download all content locally before starting" (rules 9, 123): every package first; any failure fails the run before step 1.
  if (d.deploymentOption === 'download-all-first') {
    const before = await downloadAllFirst(d, steps, content, downloadSettings, bootSource, log);
    if (before !== null) {
      failedAt = { index: -1, name: 'Download all content', type: 'download-all-first', result: 'failed', message: before.message, failure: before.failure, durationMs: 0 };
      log.error(before.message);
    }
  }

  for (const step of steps) {
    if (failedAt) {
      records.push({ index: step.index, name: step.name, type: step.type, result: 'not-run', message: 'not run: an earlier step failed (rule 145)', durationMs: 0 });
      continue;
    }
    const started = Date.now();
    if (isDisabled(step)) {
      const rec: StepRecord = { index: step.index, name: step.name, type: step.type, result: 'skipped', message: 'disabled: skipped', durationMs: 0 };
      records.push(rec);
      log.info(`step ${step.index} "${step.name}" (${step.type}): disabled, skipped`);
      opts.onStep?.(rec);
      await report(STATUS.actionSkipped, `${STATUS.actionSkipped.text}: ${step.name}`, { stepIndex: step.index });
      continue;
    }
    env.setEngine('_SMSTSCurrentActionName', step.name);
    log.info(`---- step ${step.index} "${step.name}" (${step.type}${step.continueOnError ? ', continue on error' : ''})`);
    let outcome: StepOutcome;
    const runner = STEP_RUNNERS[step.type];
    try {
      outcome = runner
        ? await runner(step, ctx)
        : { ok: false, failure: 'unknown-step-type', message: `step type "${String(step.type)}" is not known to this client` };
    } catch (e) {
      outcome = { ok: false, failure: 'error', message: `the step raised an error: ${(e as Error).message}` };
    }
    for (const p of outcome.unverifiedPackages ?? []) unverified.add(p);
    env.setEngine('_SMSTSLastActionName', step.name);
    env.setEngine('_SMSTSLastActionRetCode', String(outcome.exitCode ?? (outcome.ok ? 0 : 1)));
    env.setEngine('_SMSTSLastActionSucceeded', outcome.ok ? 'true' : 'false');

    const result: StepResultKind = outcome.ok ? 'succeeded' : step.continueOnError ? 'failed-ignored' : 'failed';
    const rec: StepRecord = {
      index: step.index, name: step.name, type: step.type, result, message: outcome.message,
      ...(outcome.failure ? { failure: outcome.failure } : {}), durationMs: Date.now() - started,
    };
    records.push(rec);
    (outcome.ok ? log.info : log.error).call(log, `step ${step.index} "${step.name}": ${result}: ${outcome.message}`);
    opts.onStep?.(rec);

    if (outcome.ok && outcome.status === 'reboot') {
      restartRequested = true;
      await report(STATUS.reboot, `${STATUS.reboot.text}: ${step.name}`, { stepIndex: step.index });
    } else if (outcome.ok) {
      await report(STATUS.actionSucceeded, `${STATUS.actionSucceeded.text}: ${step.name}: ${outcome.message}`, { stepIndex: step.index });
    } else if (step.continueOnError) {
      await report(STATUS.actionFailureIgnored, `${STATUS.actionFailureIgnored.text}: ${step.name}: ${outcome.message}`, { stepIndex: step.index });
    } else {
      failedAt = rec;
      await report(STATUS.actionFailed, `${STATUS.actionFailed.text}: ${step.name}: ${outcome.message}`, { stepIndex: step.index });
    }
  }

  const variables = env.runTimeVariables();
  if (failedAt?.index === -1) {
    // Nothing ran: the run failed while getting its content (rule 123).
    const final = await report(STATUS.failed, `${STATUS.failed.text}: ${failedAt.message}`, { variables });
    log.info(`==== task sequence ${ts.id} FAILED before its first step: ${failedAt.message}`);
    return {
      deploymentId: d.deploymentId, taskSequenceId: ts.id, taskSequenceName: ts.name, succeeded: false, steps: records,
      unverifiedPackages: [], restartRequested: false, variables, deviceId: final?.deviceId ?? null, statusSent: reporter.sent, statusFailed: reporter.failed,
    };
  }
  const unverifiedNote = unverified.size ? `; content used WITHOUT hash verification (rule 117): ${[...unverified].join(', ')}` : '';
  const final = failedAt
    ? await report(STATUS.failed, `${STATUS.failed.text}: step ${failedAt.index} "${failedAt.name}" failed: ${failedAt.message}${unverifiedNote}`, { stepIndex: failedAt.index, variables })
    : await report(STATUS.succeeded, `${STATUS.succeeded.text}: ${ts.name} (${ts.id})${unverifiedNote}`, { variables });
  log.info(`==== task sequence ${ts.id} ${failedAt ? `FAILED at step ${failedAt.index} "${failedAt.name}"` : 'succeeded'}${unverifiedNote}`);
  if (final?.deviceId) log.info(`the site created device record ${final.deviceId} for this machine (rule 64): it is known from its next boot`);

  return {
    deploymentId: d.deploymentId,
    taskSequenceId: ts.id,
    taskSequenceName: ts.name,
    succeeded: failedAt === null,
    steps: records,
    unverifiedPackages: [...unverified],
    restartRequested,
    variables,
    deviceId: final?.deviceId ?? null,
    statusSent: reporter.sent,
    statusFailed: reporter.failed,
  };
}

/**
 * Rule 9: "download all content first" is not offered to media and PXE; a
 * WinPE client that gets it anyway refuses. Otherwise every package the
 * enabled steps use is fetched (verified) before the first step, except images
 * an Apply OS Image step reads directly (its own rule 117 option). Null when
 * all is there; else why not.
 */
async function downloadAllFirst(
  d: PolicyDeployment, steps: PolicyStep[], content: PackageSource, settings: (accessDirectly: boolean) => DownloadSettings,
  bootSource: BootSource, log: RunLog,
): Promise<{ failure: string; message: string } | null> {
  if (bootSource !== 'full-os') {
    return {
      failure: 'option-not-allowed',
      message: `deployment ${d.deploymentId} says "download all content locally before starting", which is not offered to ${bootSource === 'pxe' ? 'PXE' : 'boot media'} clients (rule 9); nothing was run. Change the deployment option to "download content locally when needed"`,
    };
  }
  const used = new Map<string, PolicyPackage>();
  for (const step of steps) {
    if (isDisabled(step) || !step.packageId) continue;
    if (step.type === 'apply-image' && step.accessContentDirectly) continue; // read directly when its step runs
    const pkg = d.packages.find((p) => p.id === step.packageId);
    if (pkg) used.set(pkg.id, pkg);
  }
  log.info(`download all content before starting: ${used.size} package(s): ${[...used.keys()].join(', ') || '(none)'}`);
  for (const pkg of used.values()) {
    const r = await content.ensure(pkg, settings(false));
    if (!r.ok) return { failure: r.reason, message: `download all content before starting: ${r.message}` };
  }
  return null;
}
