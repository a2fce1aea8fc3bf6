/**
 * `pxepoint client`: the reference client. Boots "like a machine would" from a
 * PXE variables file or an identity on the command line, picks a deployment
 * like the WinPE wizard, runs it in a target directory and reports status.
 * docs/client.md is the administrator's guide; exit codes are EXIT in client/select.ts.
 */
import { createInterface } from 'node:readline';
import { isPxeError } from '../../errors.js';
import { REFERENCE_CLIENT_ERRORS } from '../../client/error-codes.js';
import { identityFromFlags, identityFromVariablesFile, type ClientIdentity, type IdentityFlags } from '../../client/identity.js';
import type { StepRecord } from '../../client/runner.js';
import type { AskLine } from '../../client/select.js';
import { EXIT } from '../../client/select.js';
import { runClientSession, type ClientSessionOptions, type ClientSessionResult } from '../../client/session.js';
import { MEDIA_PASSWORD_ENV, runFromMedia, type MediaRunResult } from '../../client/media.js';
import { PXE_PASSWORD_ENV, pxePasswordFor } from '../../client/pxe-password.js';
import { MEDIA_ERRORS } from '../../media/types.js';
import { readFileSync } from 'node:fs';
import { flag, int, list, parse, str, usageError, variables, type Values } from '../args.js';

export const CLIENT_USAGE = `usage: pxepoint client --target DIR (--vars FILE | --site URL --mac MAC [--mac MAC…] [--guid GUID] | --media PATH [--mac MAC…]) [flags]
  Identity:   --vars FILE        PXE variables file (site URL, MACs, boot token…; see docs/client.md)
              --site URL         the site (overrides the file's SMSTSSiteURL, or the medium's site URLs)
              --mac MAC          repeatable;  --guid SMBIOS_GUID;  --arch x86|x64|arm64 (default x64; media: the medium's)
              --boot pxe|full-os where the machine booted from (default pxe; boot media: --media)
              --token TOKEN      one-time boot token (pxepoint boot-token issue); the file's _PXPBootToken otherwise
              --client-key KEY   a full-OS client's key (or PXEPOINT_CLIENT_KEY in the environment)
              --var NAME=VALUE   repeatable: a variable as a prestart command would set it (e.g. SMSTSPreferredAdvertID)
  Media:      --media PATH       boot from a pxepoint medium: the .iso file or a mounted/copied directory
                                 (bootable: identifies with the medium; stand-alone: runs from it with no network)
              --password-file F  the media password (first line); else PXEPOINT_MEDIA_PASSWORD, else asked on stdin
              --prestart-timeout SECONDS  bound on the medium's prestart command (default 600)
  Selection:  --select ID        answer the "Select a task sequence" page with this deployment
              --unattended       never prompt: exit 4 when a choice would be needed (an unattended medium implies it)
              --pre-download     run nothing: pre-cache (download and verify) the content of offered Available
                                 deployments with "Pre-download content" set, for a later run (rule 16)
  Run:        --target DIR       where the task sequence runs (packages, os/, _SMSTSLog/smsts.log)
              --command-timeout SECONDS   bound on one Run Command Line step (default 3600)
              --api-timeout SECONDS       bound on one request to the site (default 15)
              --verbose          echo every log line to stderr
              --json             one JSON result on stdout instead of progress lines
  Exit codes: 0 succeeded, 1 a step failed, 2 usage, 3 no task sequence available (rule 60),
              4 a choice was needed and not made, 5 the site refused or could not be reached,
              6 the medium cannot be used (password, blocked, certificate, dates, tampered),
              7 the medium's prestart command failed`;

const OPTIONS = {
  site: { type: 'string' }, mac: { type: 'string', multiple: true }, guid: { type: 'string' }, arch: { type: 'string' },
  boot: { type: 'string' }, token: { type: 'string' }, 'client-key': { type: 'string' }, vars: { type: 'string' },
  var: { type: 'string', multiple: true }, target: { type: 'string' }, select: { type: 'string' }, unattended: { type: 'boolean' },
  'pre-download': { type: 'boolean' },
  media: { type: 'string' }, 'password-file': { type: 'string' }, 'prestart-timeout': { type: 'string' },
  'command-timeout': { type: 'string' }, 'api-timeout': { type: 'string' }, verbose: { type: 'boolean' },
} as const;

/** Nobody at the keyboard: the selection page gives up after this long (every wait is bounded). */
const PROMPT_TIMEOUT_MS = 30 * 60_000;

/** Reads answers from stdin one line at a time; null at end of input or after PROMPT_TIMEOUT_MS. Opened only when a prompt is needed. */
function stdinAsker(prompt: (text: string) => void): { ask: AskLine; close(): void } {
  let rl: ReturnType<typeof createInterface> | null = null;
  const lines: string[] = [];
  let ended = false;
  let waiting: ((line: string | null) => void) | null = null;
  const open = (): void => {
    if (rl) return;
    rl = createInterface({ input: process.stdin, terminal: false });
    rl.on('line', (line) => {
      if (waiting) {
        const w = waiting;
        waiting = null;
        w(line);
      } else lines.push(line);
    });
    rl.on('close', () => {
      ended = true;
      if (waiting) {
        const w = waiting;
        waiting = null;
        w(null);
      }
    });
  };
  return {
    ask: (question) => {
      open();
      prompt(question);
      if (lines.length) return Promise.resolve(lines.shift()!);
      if (ended) return Promise.resolve(null);
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          waiting = null;
          prompt(`\nno answer within ${PROMPT_TIMEOUT_MS / 60_000} minutes\n`);
          resolve(null);
        }, PROMPT_TIMEOUT_MS);
        waiting = (line) => {
          clearTimeout(timer);
          resolve(line);
        };
      });
    },
    close: () => rl?.close(),
  };
}

const MARK: Record<StepRecord['result'], string> = { succeeded: 'ok', failed: 'FAILED', 'failed-ignored': 'failed, continued', skipped: 'skipped', 'not-run': 'not run' };

/**
 * The media password from a terminal without echoing it; on a pipe (tests,
 * scripts) the asker reads the next line. Only ever called when a medium needs it.
 */
function passwordAsker(fallback: AskLine): AskLine {
  if (!process.stdin.isTTY || !process.stderr.isTTY) return fallback;
  return (question) => new Promise((resolve) => {
    process.stderr.write(question);
    const stdin = process.stdin;
    let line = '';
    const done = (value: string | null): void => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      resolve(value);
    };
    const onData = (b: Buffer): void => {
      for (const ch of b.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done(line);
        if (ch === '\u0003' || ch === '\u0004') return done(null); // Ctrl-C, Ctrl-D
        if (ch === '\u007f' || ch === '\b') line = line.slice(0, -1);
        else line += ch;
      }
    };
    stdin.setRawMode(true);
    stdin.resume();
    stdin.on('data', onData);
  });
}

function printSummary(r: ClientSessionResult | MediaRunResult, write: (t: string) => void): void {
  if ('media' in r && r.media) write(`medium ${r.media.mediaId} (${r.media.type}${r.media.siteUrl ? `, site ${r.media.siteUrl}` : ''})\n`);
  if (r.run) {
    const run = r.run;
    write(`${run.succeeded ? 'succeeded' : 'FAILED'}: ${run.deploymentId} ${run.taskSequenceName} (${run.steps.filter((s) => s.result === 'succeeded').length}/${run.steps.length} steps)\n`);
    if (run.unverifiedPackages.length) write(`WARNING: content used WITHOUT hash verification (access content directly, rule 117): ${run.unverifiedPackages.join(', ')}\n`);
    if (run.restartRequested) write('a restart was requested (_SMSTSRestart written)\n');
    if (run.deviceId) write(`the site created device record ${run.deviceId} for this machine (rule 64)\n`);
    if (run.statusFailed) write(`warning: ${run.statusFailed} status message(s) could not be sent to the site\n`);
  } else if (r.preDownload) {
    for (const d of r.preDownload) write(`${d.ok ? 'pre-downloaded' : 'pre-download INCOMPLETE'}: ${d.deploymentId}: ${d.packages.map((p) => `${p.packageId} ${p.ok ? (p.fromCache ? 'already cached' : 'ok') : `FAILED (${p.message})`}`).join(', ')}\n`);
  } else if (r.message) {
    write(`${r.message}\n`);
  }
  write(`log: ${r.logPath}\n`);
}

/** Progress lines for people: stdout, or stderr with --json so stdout stays one JSON document. */
function progressWriter(json: boolean): (text: string) => void {
  return (t) => void (json ? process.stderr : process.stdout).write(t);
}

/** Seconds from a flag (`--command-timeout`…) as milliseconds, or the fallback. */
type SecondsFlag = (k: string, fallback: number) => number;

/** What a PXE/full-OS session and a media run take alike from the command line: selection, prompts, progress, timeouts. */
function runOptions(values: Values, secs: SecondsFlag, ask: AskLine, human: (text: string) => void): Omit<ClientSessionOptions, 'identity' | 'targetDir' | 'preDownload'> {
  return {
    ...(str(values, 'select') !== undefined ? { select: str(values, 'select')! } : {}),
    unattended: flag(values, 'unattended') === true,
    ask,
    write: human,
    ...(flag(values, 'verbose') ? { echoLog: (level: string, text: string) => void process.stderr.write(`${level}: ${text}\n`) } : {}),
    commandTimeoutMs: secs('command-timeout', 3600),
    apiTimeoutMs: secs('api-timeout', 15),
    onStep: (s) => human(`  [${MARK[s.result]}] ${s.index} ${s.name}: ${s.message}\n`),
  };
}

/** The result as one JSON document (--json) or the summary lines; returns its exit code. */
function reportResult(result: ClientSessionResult | MediaRunResult, json: boolean, human: (text: string) => void): number {
  if (json) process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  else printSummary(result, human);
  if (result.exitCode !== EXIT.ok && !result.run && json) process.stderr.write(`pxepoint client: ${result.message}\n`);
  return result.exitCode;
}

export async function clientCommand(argv: string[]): Promise<number> {
  const { values } = parse(argv, OPTIONS, CLIENT_USAGE);
  if (values.help) return (process.stdout.write(CLIENT_USAGE + '\n'), 0);
  const target = str(values, 'target');
  if (!target) throw usageError('--target DIR is required: the directory the task sequence runs in', CLIENT_USAGE);
  const json = flag(values, 'json') === true;
  const secs: SecondsFlag = (k, fallback) => {
    const n = int(values, k);
    if (n !== undefined && (n < 1 || n > 86_400)) throw usageError(`--${k} takes 1–86400 seconds`, CLIENT_USAGE);
    return (n ?? fallback) * 1000;
  };

  const flags: IdentityFlags = {
    macs: list(values, 'mac'),
    ...(str(values, 'site') !== undefined ? { site: str(values, 'site')! } : {}),
    ...(str(values, 'guid') !== undefined ? { guid: str(values, 'guid')! } : {}),
    ...(str(values, 'arch') !== undefined ? { arch: str(values, 'arch')! } : {}),
    ...(str(values, 'boot') !== undefined ? { boot: str(values, 'boot')! } : {}),
    ...(str(values, 'token') !== undefined ? { token: str(values, 'token')! } : {}),
    ...((str(values, 'client-key') ?? process.env.PXEPOINT_CLIENT_KEY) ? { clientKey: (str(values, 'client-key') ?? process.env.PXEPOINT_CLIENT_KEY)! } : {}),
    variables: variables(values) ?? [],
  };
  const mediaPath = str(values, 'media');
  if (mediaPath !== undefined) return mediaCommand(values, mediaPath, target, flags, json, secs);

  const human = progressWriter(json);
  const asker = stdinAsker(human); // one reader of stdin for the PXE password and the selection page
  let identity: ClientIdentity;
  try {
    const file = str(values, 'vars');
    // Rules 73/115: a sealed variables file needs the PXE password: --password-file, PXEPOINT_PXE_PASSWORD, else asked (no echo on a terminal).
    let text = '';
    try { text = file === undefined ? '' : readFileSync(file, 'utf8'); } catch { /* identityFromVariablesFile says why */ }
    const pwFile = str(values, 'password-file');
    const pxePassword = await pxePasswordFor(text, { ...(pwFile !== undefined ? { passwordFile: pwFile } : {}), env: process.env[PXE_PASSWORD_ENV] ?? '', ask: passwordAsker(asker.ask) });
    identity = file !== undefined ? identityFromVariablesFile(file, flags, pxePassword) : identityFromFlags(flags);
  } catch (e) {
    asker.close();
    const own: string[] = [REFERENCE_CLIENT_ERRORS.identity, REFERENCE_CLIENT_ERRORS.varsFile, REFERENCE_CLIENT_ERRORS.mediaNotSupported];
    if (isPxeError(e) && own.includes(e.code)) {
      process.stderr.write(`pxepoint client: ${e.message} [${e.code}]\n\n${CLIENT_USAGE}\n`);
      return EXIT.usage;
    }
    if (isPxeError(e) && (e.code === MEDIA_ERRORS.passwordRequired || e.code === MEDIA_ERRORS.wrongPassword)) {
      process.stderr.write(`pxepoint client: ${e.message} [${e.code}]\n`);
      return EXIT.media; // 6: cannot be used (password)
    }
    throw e;
  }

  try {
    const result = await runClientSession({
      identity,
      targetDir: target,
      preDownload: flag(values, 'pre-download') === true,
      ...runOptions(values, secs, asker.ask, human),
    });
    return reportResult(result, json, human);
  } finally {
    asker.close();
  }
}

/** `pxepoint client --media PATH …`: bootable or stand-alone media (client/media.ts). */
async function mediaCommand(
  values: Values, mediaPath: string, target: string, flags: IdentityFlags, json: boolean, secs: SecondsFlag,
): Promise<number> {
  for (const k of ['vars', 'token', 'client-key', 'pre-download']) {
    if (values[k] !== undefined) throw usageError(`--${k} does not go with --media: the medium carries its own identity and credential`, CLIENT_USAGE);
  }
  const boot = str(values, 'boot');
  if (boot !== undefined && boot !== 'media') throw usageError(`--boot ${boot} does not go with --media (a medium boots as media)`, CLIENT_USAGE);
  const human = progressWriter(json);
  const asker = stdinAsker(human);
  const passwordFile = str(values, 'password-file');
  const envPassword = process.env[MEDIA_PASSWORD_ENV];
  try {
    const result = await runFromMedia({
      mediaPath,
      targetDir: target,
      flags: { ...flags, clientKey: undefined },
      ...(passwordFile !== undefined ? { passwordFile } : {}),
      ...(envPassword !== undefined ? { password: envPassword } : {}),
      askPassword: passwordAsker(asker.ask),
      prestartTimeoutMs: secs('prestart-timeout', 600),
      ...runOptions(values, secs, asker.ask, human),
    });
    return reportResult(result, json, human);
  } finally {
    asker.close();
  }
}
