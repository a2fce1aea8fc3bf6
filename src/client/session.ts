/**
 * One client session end to end, in the order WinPE does it (rule 114):
 * identify → read variables → retrieve policy assignments (retrying per rule 110)
 * → the wizard's selection → run the task sequence → final status.
 * The CLI command and the tests both drive this; it owns no process state.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isPxeError } from '../errors.js';
import type { IdentifyResponse, PolicyDeployment, PolicyResponse } from '../policy/client-api.js';
import { ClientApi, defaultSleep, type FetchLike } from './api.js';
import { TaskSequenceEnvironment } from './environment.js';
import { identifyRequest, type ClientIdentity } from './identity.js';
import { FileLog, type Level } from './log.js';
import { StatusReporter } from './reporter.js';
import { ContentCache } from './content.js';
import { preDownload, preDownloadable, type PreDownloadResult } from './pre-download.js';
import { downloadSettingsFrom, LOG_DIR, LOG_FILE, runTaskSequence, type RunResult, type StepRecord } from './runner.js';
import { assignmentRetry, chooseInteractively, EXIT, selectDeployment, type AskLine, type Selection } from './select.js';

export interface ClientSessionOptions {
  identity: ClientIdentity;
  targetDir: string;
  select?: string;
  unattended?: boolean;
  /** Reads the user's choice on the selection page; without it a needed choice stops the run. */
  ask?: AskLine;
  /** Human progress lines (the console). */
  write?: (text: string) => void;
  /** Echo every log line to the console as well. */
  echoLog?: (level: Level, text: string) => void;
  fetch?: FetchLike;
  apiTimeoutMs?: number;
  apiAttempts?: number;
  commandTimeoutMs?: number;
  fileTimeoutMs?: number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => Date;
  onStep?: (record: StepRecord) => void;
  /** Rule 16: pre-cache the content of Available deployments that ask for it, run nothing. */
  preDownload?: boolean;
}

export interface ClientSessionResult {
  exitCode: number;
  /** Why the session stopped before or instead of running (no task sequence, no choice, site error). */
  message: string | null;
  errorCode: string | null;
  identity: Pick<IdentifyResponse, 'deviceId' | 'deviceName' | 'unknownObjectId'> | null;
  offered: { deploymentId: string; taskSequenceName: string; purpose: string }[];
  excluded: PolicyResponse['excluded'];
  selection: { deploymentId: string; how: string } | null;
  run: RunResult | null;
  /** With `preDownload`: what was pre-cached per deployment. */
  preDownload: PreDownloadResult[] | null;
  logPath: string;
}

export async function runClientSession(opts: ClientSessionOptions): Promise<ClientSessionResult> {
  const targetDir = resolve(opts.targetDir);
  mkdirSync(targetDir, { recursive: true });
  const logPath = join(targetDir, LOG_DIR, LOG_FILE);
  const log = new FileLog(logPath, opts.echoLog ? { echo: opts.echoLog } : {});
  const write = opts.write ?? (() => undefined);
  const sleep = opts.sleep ?? defaultSleep;
  const { identity } = opts;
  const cred = identity.credential;
  if (cred) log.redact([cred.kind === 'pxe-token' ? cred.token : cred.kind === 'client-key' ? cred.key : cred.secret]);

  const result: ClientSessionResult = {
    exitCode: EXIT.ok, message: null, errorCode: null, identity: null, offered: [], excluded: [], selection: null, run: null, preDownload: null, logPath,
  };
  const stop = (exitCode: number, message: string, errorCode: string | null = null): ClientSessionResult => {
    (exitCode === EXIT.ok ? log.info : log.error).call(log, message);
    return Object.assign(result, { exitCode, message, errorCode });
  };

  const api = new ClientApi({
    siteUrl: identity.siteUrl,
    ...(opts.fetch ? { fetch: opts.fetch } : {}),
    ...(opts.apiTimeoutMs !== undefined ? { timeoutMs: opts.apiTimeoutMs } : {}),
    ...(opts.apiAttempts !== undefined ? { attempts: opts.apiAttempts } : {}),
    sleep,
  });

  log.info(`==== pxepoint reference client: site ${api.siteUrl}, boot ${identity.bootSource}, MAC ${identity.macs.join(',') || '-'}, SMBIOS GUID ${identity.smbiosGuid ?? '-'}, ${identity.architecture}`);
  const env = new TaskSequenceEnvironment();
  let policy: PolicyResponse;
  try {
    const who = await api.identify(identifyRequest(identity, (opts.now ?? (() => new Date()))()));
    log.redact([who.sessionToken]);
    result.identity = { deviceId: who.deviceId, deviceName: who.deviceName, unknownObjectId: who.unknownObjectId };
    const as = who.deviceId ? `known device ${who.deviceId}${who.deviceName ? ` (${who.deviceName})` : ''}` : `unknown computer (object ${who.unknownObjectId ?? '?'}, rule 62)`;
    log.info(`identified as ${as}`);
    write(`identified as ${as}\n`);

    // Precedence (rule 113): collection < device (merged by the site) < variables the client holds.
    const siteVars = (await api.variables()).variables ?? [];
    env.load(siteVars);
    env.load(identity.variables, { runTime: false });
    log.redact(env.secretValues());
    log.info(`variables: ${siteVars.length} from the site, ${identity.variables.length} held by the client`);
    if (identity.bootSource === 'pxe' && env.get('_SMSTSMediaType') === undefined) env.setEngine('_SMSTSMediaType', 'PXE');
    if (identity.bootSource === 'pxe' && env.get('_SMSTSLaunchMode') === undefined) env.setEngine('_SMSTSLaunchMode', 'PXE');

    // Rule 110: SMSTSAssignmentsDownloadRetry/Interval, 0 and 0 by default.
    const retry = assignmentRetry((n) => env.get(n));
    let attempt = 0;
    for (;;) {
      log.info('Retrieving Policy Assignments');
      policy = await api.policy();
      const nothing = !policy.autoRun && !policy.preferredError && policy.offered.length === 0;
      if (!nothing || attempt >= retry.retries) break;
      attempt++;
      log.warn(`no policy found; retry ${attempt} of ${retry.retries} in ${retry.intervalSeconds} s (SMSTSAssignmentsDownloadRetry/Interval, rule 110)`);
      await sleep(retry.intervalSeconds * 1000);
    }
  } catch (e) {
    if (!isPxeError(e)) throw e;
    return stop(EXIT.site, `the site refused or could not be reached: ${e.message} [${e.code}]`, e.code);
  }

  result.offered = policy.offered.map((d) => ({ deploymentId: d.deploymentId, taskSequenceName: d.taskSequenceName, purpose: d.purpose }));
  result.excluded = policy.excluded ?? [];
  for (const x of result.excluded) log.info(`deployment ${x.deploymentId} not offered: ${x.reason}`);
  log.info(`offered: ${result.offered.map((d) => d.deploymentId).join(', ') || '(none)'}; auto-run: ${policy.autoRun?.deploymentId ?? '(none)'}`);

  const contentHeaders = (url: string): Record<string, string> =>
    sameOrigin(url, api.siteUrl) && api.sessionToken ? { authorization: `Bearer ${api.sessionToken}` } : {};
  const fetchFn: FetchLike = opts.fetch ?? ((input, init) => fetch(input, init));
  const signingKey = policy.contentSigning ?? null;

  if (opts.preDownload) {
    const wanted = preDownloadable(policy, log);
    if (wanted.length === 0) return stop(EXIT.noTaskSequence, 'no offered deployment asks for pre-download (rule 16: Available deployments with "Pre-download content" set)');
    const cache = new ContentCache(targetDir, fetchFn, log, sleep, contentHeaders, { signingKey });
    const reporter = new StatusReporter(api, log, (env.get('SMSTSDisableStatusRetry') ?? '').toLowerCase() === 'true');
    result.preDownload = await preDownload(wanted, cache, downloadSettingsFrom(env, true, opts.fileTimeoutMs), reporter, log);
    for (const r of result.preDownload) write(`pre-download ${r.deploymentId}: ${r.ok ? 'complete' : 'INCOMPLETE'} (${r.packages.map((p) => `${p.packageId} ${p.ok ? 'ok' : 'failed'}`).join(', ')})\n`);
    result.exitCode = result.preDownload.every((r) => r.ok) ? EXIT.ok : EXIT.failed;
    return result;
  }

  const preferred = env.get('SMSTSPreferredAdvertID');
  let selection: Selection = selectDeployment(policy, {
    ...(opts.select !== undefined ? { select: opts.select } : {}),
    unattended: opts.unattended === true,
    ...(preferred !== undefined ? { preferredAdvertId: preferred } : {}),
  });
  if (selection.kind === 'choose') {
    if (!opts.ask) {
      selection = { kind: 'stop', exitCode: EXIT.noSelection, message: 'a choice is needed but there is no terminal to ask on; pass --select DEPLOYMENT_ID or --unattended' };
    } else {
      log.info('Running Wizard in Interactive mode: Select a task sequence to run');
      selection = await chooseInteractively(selection.offered, opts.ask, write);
    }
  }
  if (selection.kind === 'choose') selection = { kind: 'stop', exitCode: EXIT.noSelection, message: 'no choice was made' };
  if (selection.kind === 'stop') return stop(selection.exitCode, selection.message);

  const deployment: PolicyDeployment = selection.deployment;
  for (const w of selection.warnings) {
    log.warn(w);
    write(`warning: ${w}\n`);
  }
  result.selection = { deploymentId: deployment.deploymentId, how: selection.how };
  const how = { preferred: 'SMSTSPreferredAdvertID', required: 'required, no prompt', selected: 'selected' }[selection.how];
  write(`running ${deployment.deploymentId}: ${deployment.taskSequenceName} (${how})\n`);
  log.info(`selected deployment ${deployment.deploymentId} (${how})`);

  const disableStatusRetry = (env.get('SMSTSDisableStatusRetry') ?? '').toLowerCase() === 'true';
  const reporter = new StatusReporter(api, log, disableStatusRetry);
  result.run = await runTaskSequence({
    targetDir, deployment, env, reporter, log,
    fetch: fetchFn,
    bootSource: identity.bootSource,
    signingKey,
    ...(opts.commandTimeoutMs !== undefined ? { commandTimeoutMs: opts.commandTimeoutMs } : {}),
    ...(opts.fileTimeoutMs !== undefined ? { fileTimeoutMs: opts.fileTimeoutMs } : {}),
    ...(opts.now ? { now: opts.now } : {}),
    sleep,
    contentHeaders,
    ...(opts.onStep ? { onStep: opts.onStep } : {}),
  });
  result.exitCode = result.run.succeeded ? EXIT.ok : EXIT.failed;
  return result;
}

/** The session token goes only to the site itself, never to another distribution point. */
function sameOrigin(a: string, b: string): boolean {
  try {
    return new URL(a).origin === new URL(b).origin;
  } catch {
    return false;
  }
}
