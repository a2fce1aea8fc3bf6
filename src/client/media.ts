/**
 * The reference client on boot media (issue 7, configmgr-rules.md §7): open a
 * medium (the .iso file itself or a mounted/copied directory), check it
 * locally, get the password, open variables.dat, run the prestart command, and
 * then either
 *
 * - bootable media: identify with the media credential `{ mediaId, secret }`
 *   and go on like a PXE boot (session.ts), trying the medium's site URLs in
 *   order; or
 * - stand-alone media: run the task sequence on the medium with no network
 *   (standalone.ts).
 *
 * Order of the checks, before anything runs:
 *   1. media.json parses (PXE_ERR_MEDIA_FORMAT);
 *   2. stand-alone: the machine's clock is inside the medium's date range
 *      (rule 103) — outside it the medium does not start, nothing else is read;
 *   3. the media certificate verifies with the site key on the medium and names
 *      this medium; bootable media: it is inside its dates (rules 101, 102) —
 *      an expired certificate fails here, before the site is contacted;
 *   4. the password, when variables.dat is sealed with one: `--password-file`,
 *      then PXEPOINT_MEDIA_PASSWORD, then asked on the terminal (an unattended
 *      medium asks for nothing else, rule 97); wrong → PXE_ERR_MEDIA_WRONG_PASSWORD;
 *   5. variables.dat opens (signature or AEAD tag: PXE_ERR_MEDIA_TAMPERED).
 * Any failure: exit code 6 (EXIT.media), no network contact.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PxeError, isPxeError } from '../errors.js';
import { checkMediaCertificate } from '../media/certificate.js';
import { parseMediaDescriptor } from '../media/descriptor.js';
import { isPasswordSealed, openPayload } from '../media/seal.js';
import { openMediaSource, type MediaSource } from '../media/source.js';
import { MEDIA_ERRORS, MEDIA_PATHS, SMSTS_MEDIA_TYPE, type MediaDescriptor, type MediaSecrets } from '../media/types.js';
import type { Variable } from '../site/model.js';
import { REFERENCE_CLIENT_ERRORS } from './error-codes.js';
import { TaskSequenceEnvironment } from './environment.js';
import { identityFromMedia, type IdentityFlags } from './identity.js';
import { FileLog, type Level, type RunLog } from './log.js';
import { LOG_DIR, LOG_FILE } from './runner.js';
import { EXIT, type AskLine } from './select.js';
import { runClientSession, type ClientSessionOptions, type ClientSessionResult } from './session.js';
import { hostEnv, runShellCommand } from './shell-command.js';
import { runStandalone } from './standalone.js';

/** The password from the environment (keeps it out of `ps`). */
export const MEDIA_PASSWORD_ENV = 'PXEPOINT_MEDIA_PASSWORD';
/** The file a prestart command appends `NAME=VALUE` lines to (its Microsoft.SMS.TSEnvironment, rule 105). */
export const PRESTART_ENV_FILE = 'PXEPOINT_TSENV_FILE';
/** The medium's location (directory or .iso) as the prestart command sees it. */
export const PRESTART_MEDIA_PATH = 'PXEPOINT_MEDIA_PATH';
/** Default bound on the prestart command (rule 105: "without cmd /c the command won't close" — here it is killed). */
export const DEFAULT_PRESTART_TIMEOUT_MS = 10 * 60_000;
/** Tries at the terminal before a wrong password is final (file and environment: one). */
export const PASSWORD_ATTEMPTS = 3;

const MAX_DESCRIPTOR_BYTES = 1024 * 1024;
const MAX_SEALED_BYTES = 16 * 1024 * 1024;

/** `_SMSTSLaunchMode` (rule 108): an ISO is a CD, a directory is a USB flash drive (UFD). */
export type LaunchMode = 'CD' | 'UFD';

export interface PasswordOptions {
  /** `--password-file F`: the first line is the password. */
  passwordFile?: string;
  /** PXEPOINT_MEDIA_PASSWORD (the CLI passes process.env's). */
  password?: string;
  /** Asks on the terminal; null at end of input. Without it a needed password that was not given is final. */
  askPassword?: AskLine;
}

export interface OpenMediumOptions extends PasswordOptions {
  /** An .iso file or a directory (mounted or copied medium). */
  path: string;
  /** The machine's clock (rule 103, certificate dates). */
  now?: Date;
  /** Where notes go before the run's log exists (warnings about the medium). */
  note?: (level: Level, text: string) => void;
}

export interface OpenedMedium {
  source: MediaSource;
  descriptor: MediaDescriptor;
  secrets: MediaSecrets;
  /** How the password was had (never the password itself). */
  passwordFrom: 'none' | 'file' | 'environment' | 'prompt';
  password: string | null;
  launchMode: LaunchMode;
}

const mediaError = (code: string, message: string, details: Record<string, unknown> = {}): PxeError => new PxeError(code, message, 400, details);

/** Rule 103: stand-alone media runs only inside [validFrom, validUntil] by the machine's clock; null ends are open. */
export function checkStandaloneDates(d: Pick<MediaDescriptor, 'mediaId' | 'validFrom' | 'validUntil'>, now: Date): void {
  const from = d.validFrom === null ? null : Date.parse(d.validFrom);
  const until = d.validUntil === null ? null : Date.parse(d.validUntil);
  if ((from !== null && Number.isNaN(from)) || (until !== null && Number.isNaN(until))) {
    throw mediaError(MEDIA_ERRORS.format, `media.json of ${d.mediaId}: validFrom/validUntil are not ISO 8601 dates`);
  }
  const t = now.getTime();
  if (from !== null && t < from) {
    throw mediaError(MEDIA_ERRORS.outsideValidity, `this stand-alone medium is valid from ${d.validFrom}; the machine's clock says ${now.toISOString()}: it does not start (rule 103). Check the machine's date and time, or create new media`, { rule: 103 });
  }
  if (until !== null && t > until) {
    throw mediaError(MEDIA_ERRORS.outsideValidity, `this stand-alone medium expired at ${d.validUntil}; the machine's clock says ${now.toISOString()}: it does not start (rule 103). Create new media`, { rule: 103 });
  }
}

/** Rules 101, 102: the certificate verifies with the medium's site key and names this medium; bootable media: inside its dates. */
export function checkCertificate(d: MediaDescriptor, now: Date): void {
  const c = d.certificate;
  if (c.body.mediaId !== d.mediaId || c.body.type !== d.type) {
    throw mediaError(MEDIA_ERRORS.tampered, `the media certificate names medium ${c.body.mediaId} (${c.body.type}), but media.json says ${d.mediaId} (${d.type}): the medium was changed after it was built`);
  }
  // Stand-alone media never meet the site: their dates are the rule 103 range (checked first); the
  // certificate only has to verify. Checked at a time inside its own dates so only the signature counts.
  const at = d.type === 'standalone' ? new Date(Date.parse(c.body.notBefore)) : now;
  const r = checkMediaCertificate(c, d.sitePublicKey, Number.isNaN(at.getTime()) ? now : at);
  if (r.ok) return;
  if (r.reason === 'expired') {
    throw mediaError(MEDIA_ERRORS.certificateExpired, `the media certificate of ${d.mediaId} expired at ${c.body.notAfter} (machine clock ${now.toISOString()}): the task sequence does not start (rule 102). Create new media`, { rule: 102 });
  }
  if (r.reason === 'not-yet-valid') {
    throw mediaError(MEDIA_ERRORS.certificateNotYetValid, `the media certificate of ${d.mediaId} is valid from ${c.body.notBefore} (machine clock ${now.toISOString()}): check the machine's date and time (rule 101)`, { rule: 101 });
  }
  throw mediaError(MEDIA_ERRORS.tampered, `the media certificate of ${d.mediaId} does not verify (${r.reason}: ${r.message}): the medium was changed after it was built`);
}

function readPasswordFile(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw mediaError(MEDIA_ERRORS.passwordRequired, `cannot read the password file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return text.split(/\r?\n/)[0] ?? '';
}

/** Opens variables.dat with the password from file / environment / terminal, in that order (rule 99). */
async function openSecrets(bytes: Buffer, d: MediaDescriptor, opts: PasswordOptions): Promise<{ secrets: MediaSecrets; password: string | null; from: OpenedMedium['passwordFrom'] }> {
  const open = (password: string | null): MediaSecrets =>
    openPayload<MediaSecrets>(bytes, { purpose: 'variables', mediaId: d.mediaId, password, sitePublicKey: d.sitePublicKey });
  if (!isPasswordSealed(bytes)) return { secrets: open(null), password: null, from: 'none' };

  const given: { password: string; from: 'file' | 'environment' } | null = opts.passwordFile !== undefined
    ? { password: readPasswordFile(opts.passwordFile), from: 'file' }
    : opts.password !== undefined && opts.password !== '' ? { password: opts.password, from: 'environment' } : null;
  if (given) {
    try {
      return { secrets: open(given.password), password: given.password, from: given.from };
    } catch (e) {
      if (isPxeError(e) && e.code === MEDIA_ERRORS.wrongPassword) {
        const where = given.from === 'file' ? `the password file ${opts.passwordFile}` : MEDIA_PASSWORD_ENV;
        throw mediaError(MEDIA_ERRORS.wrongPassword, `the password from ${where} does not open medium ${d.mediaId} (rule 99)`);
      }
      throw e;
    }
  }
  if (!opts.askPassword) {
    throw mediaError(MEDIA_ERRORS.passwordRequired, `medium ${d.mediaId} is password-protected (rule 99): give --password-file F, set ${MEDIA_PASSWORD_ENV}, or run on a terminal to be asked`);
  }
  for (let attempt = 1; attempt <= PASSWORD_ATTEMPTS; attempt++) {
    const answer = await opts.askPassword(`Password for medium ${d.label} (${d.mediaId}): `);
    if (answer === null) {
      throw mediaError(MEDIA_ERRORS.passwordRequired, `medium ${d.mediaId} is password-protected (rule 99) and no password was entered`);
    }
    try {
      return { secrets: open(answer), password: answer, from: 'prompt' };
    } catch (e) {
      if (!isPxeError(e) || e.code !== MEDIA_ERRORS.wrongPassword) throw e;
      if (attempt === PASSWORD_ATTEMPTS) break;
    }
  }
  throw mediaError(MEDIA_ERRORS.wrongPassword, `the password does not open medium ${d.mediaId} (${PASSWORD_ATTEMPTS} tries, rule 99)`);
}

function checkSecrets(s: MediaSecrets, d: MediaDescriptor): MediaSecrets {
  if (typeof s !== 'object' || s === null || s.mediaId !== d.mediaId) {
    throw mediaError(MEDIA_ERRORS.tampered, `variables.dat belongs to another medium than ${d.mediaId}`);
  }
  if (typeof s.secret !== 'string' || s.secret === '' || !Array.isArray(s.variables)
    || s.variables.some((v) => typeof v?.name !== 'string' || typeof v.value !== 'string')
    || (s.prestart !== null && typeof s.prestart?.commandLine !== 'string')) {
    throw mediaError(MEDIA_ERRORS.format, `variables.dat of ${d.mediaId} is not what pxepoint writes (secret, variables, prestart)`);
  }
  return s;
}

/**
 * Opens and checks a medium (file comment, steps 1–5). Throws PxeError with a
 * MEDIA_ERRORS code; the source is closed when it throws.
 */
export async function openMedium(opts: OpenMediumOptions): Promise<OpenedMedium> {
  const now = opts.now ?? new Date();
  const source = await openMediaSource(resolve(opts.path));
  try {
    const text = await source.readFile(MEDIA_PATHS.descriptor, MAX_DESCRIPTOR_BYTES);
    if (text === null) throw mediaError(MEDIA_ERRORS.format, `${opts.path} is not a pxepoint medium: it has no ${MEDIA_PATHS.descriptor}`);
    const descriptor = parseMediaDescriptor(text.toString('utf8'));
    if (descriptor.type === 'standalone') checkStandaloneDates(descriptor, now); // rule 103: before anything else
    checkCertificate(descriptor, now);
    const bytes = await source.readFile(MEDIA_PATHS.variables, MAX_SEALED_BYTES);
    if (bytes === null) throw mediaError(MEDIA_ERRORS.format, `medium ${descriptor.mediaId} has no ${MEDIA_PATHS.variables}`);
    const { secrets, password, from } = await openSecrets(bytes, descriptor, opts);
    if (descriptor.passwordRequired !== (password !== null)) {
      opts.note?.('warn', `media.json says passwordRequired=${descriptor.passwordRequired} but variables.dat is ${password === null ? 'signed, not encrypted' : 'encrypted'}; going by variables.dat`);
    }
    return { source, descriptor, secrets: checkSecrets(secrets, descriptor), passwordFrom: from, password, launchMode: source.kind === 'iso' ? 'CD' : 'UFD' };
  } catch (e) {
    await source.close().catch(() => undefined);
    throw e;
  }
}

/** Rules 106–108: which medium, what kind, how it started. Read-only engine variables. */
export function mediaEngineVariables(m: Pick<OpenedMedium, 'descriptor' | 'launchMode'>): Variable[] {
  return [
    { name: '_SMSMediaGuid', value: m.descriptor.mediaId },
    { name: '_SMSTSMediaType', value: SMSTS_MEDIA_TYPE[m.descriptor.type] },
    { name: '_SMSTSLaunchMode', value: m.launchMode },
  ];
}

export interface PrestartOptions {
  commandLine: string;
  /** Variables the command sees (the environment so far); plus PATH, HOME, LANG, TMPDIR from the host. */
  variables: Variable[];
  cwd: string;
  mediaPath: string;
  timeoutMs: number;
  log: RunLog;
}

const prestartError = (message: string): PxeError => new PxeError(REFERENCE_CLIENT_ERRORS.prestart, message, 400, { rule: 105 });

/**
 * Rule 105: the prestart command runs before the task sequence is selected, in
 * `/bin/sh -c`, bounded in time (the whole process group is killed). It sets
 * variables by appending `NAME=VALUE` lines to the file named by
 * PXEPOINT_TSENV_FILE; they are checked like a Set Task Sequence Variable
 * (rule 113: user names only, 4,000 characters, 8 KB in all). Exit code ≠ 0,
 * timeout or a bad line: PXE_ERR_CLIENT_PRESTART.
 */
export async function runPrestart(opts: PrestartOptions): Promise<Variable[]> {
  const dir = mkdtempSync(join(tmpdir(), 'pxepoint-prestart-'));
  const envFile = join(dir, 'tsenv');
  writeFileSync(envFile, '', { mode: 0o600 });
  try {
    const ts = new TaskSequenceEnvironment();
    ts.load(opts.variables);
    const env = { ...hostEnv(), ...ts.toProcessEnv(), [PRESTART_ENV_FILE]: envFile, [PRESTART_MEDIA_PATH]: opts.mediaPath };
    opts.log.info(`prestart command (rule 105): /bin/sh -c ${JSON.stringify(opts.commandLine)} (in ${opts.cwd}, timeout ${Math.round(opts.timeoutMs / 1000)} s)`);
    const r = await runShellCommand(opts.commandLine, { cwd: opts.cwd, env, timeoutMs: opts.timeoutMs });
    if (r.out.trim()) opts.log.info(`output of the prestart command:\n${r.out.trimEnd()}`);
    if (r.err.trim()) opts.log.warn(`error output of the prestart command:\n${r.err.trimEnd()}`);
    if (r.spawnError) throw prestartError(`the prestart command could not start: ${r.spawnError}`);
    if (r.timedOut) throw prestartError(`the prestart command did not finish within ${Math.round(opts.timeoutMs / 1000)} s and was killed; nothing was run (rule 105)`);
    if (r.code !== 0) throw prestartError(`the prestart command ${r.code === null ? `was killed by ${r.signal}` : `exited with code ${r.code}`}; nothing was run (rule 105). Its output is in the log`);

    // Its variables, checked like run-time sets on top of what it saw (rule 113).
    const check = new TaskSequenceEnvironment();
    check.load(opts.variables);
    const set: Variable[] = [];
    const lines = readFileSync(envFile, 'utf8').split(/\r?\n/);
    for (const [i, line] of lines.entries()) {
      if (line.trim() === '' || line.startsWith('#')) continue;
      const eq = line.indexOf('=');
      if (eq <= 0) throw prestartError(`${PRESTART_ENV_FILE} line ${i + 1} is not NAME=VALUE: ${JSON.stringify(line.slice(0, 80))}`);
      const name = line.slice(0, eq);
      const value = line.slice(eq + 1);
      try {
        check.set(name, value);
      } catch (e) {
        if (isPxeError(e)) throw prestartError(`the prestart command set a variable it may not: ${e.message}`);
        throw e;
      }
      set.push({ name, value });
    }
    opts.log.info(`prestart command succeeded; it set ${set.length} variable(s)${set.length ? `: ${set.map((v) => v.name).join(', ')}` : ''}`);
    return set;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface MediaRunOptions extends PasswordOptions, Omit<ClientSessionOptions, 'identity' | 'preDownload'> {
  mediaPath: string;
  /** `--mac`, `--guid`, `--arch`, `--site` (overrides the medium's site URLs), `--var`. */
  flags?: IdentityFlags;
  prestartTimeoutMs?: number;
}

export interface MediaRunResult extends ClientSessionResult {
  media: {
    mediaId: string;
    type: MediaDescriptor['type'];
    label: string;
    launchMode: LaunchMode;
    unattended: boolean;
    /** The site URL the session ran against (bootable), or null. */
    siteUrl: string | null;
  } | null;
}

const emptyResult = (logPath: string): MediaRunResult => ({
  exitCode: EXIT.ok, message: null, errorCode: null, identity: null, offered: [], excluded: [], selection: null, run: null, preDownload: null, logPath, media: null,
});

const MEDIA_CODES = new Set<string>(Object.values(MEDIA_ERRORS));
/** The site's 401 to identify (app/client-errors.ts): from media, the medium's credential was refused. */
const SITE_UNAUTHENTICATED = 'PXE_ERR_CLIENT_UNAUTHENTICATED';
const UNREACHABLE = new Set<string>([REFERENCE_CLIENT_ERRORS.unreachable, REFERENCE_CLIENT_ERRORS.timeout]);

/**
 * `pxepoint client --media PATH`: the whole run from a medium. Never throws for
 * a medium that cannot be used: the result says why, with exit code 6.
 */
export async function runFromMedia(opts: MediaRunOptions): Promise<MediaRunResult> {
  const targetDir = resolve(opts.targetDir);
  mkdirSync(targetDir, { recursive: true });
  const logPath = join(targetDir, LOG_DIR, LOG_FILE);
  const log = new FileLog(logPath, opts.echoLog ? { echo: opts.echoLog } : {});
  const write = opts.write ?? (() => undefined);
  const now = opts.now ?? (() => new Date());
  const result = emptyResult(logPath);
  const stop = (exitCode: number, message: string, errorCode: string | null): MediaRunResult => {
    log.error(message);
    return Object.assign(result, { exitCode, message, errorCode });
  };

  log.info(`==== pxepoint reference client: boot media ${opts.mediaPath}`);
  let medium: OpenedMedium;
  try {
    medium = await openMedium({
      path: opts.mediaPath,
      now: now(),
      note: (level, text) => log[level](text),
      ...(opts.passwordFile !== undefined ? { passwordFile: opts.passwordFile } : {}),
      ...(opts.password !== undefined ? { password: opts.password } : {}),
      ...(opts.askPassword ? { askPassword: opts.askPassword } : {}),
    });
  } catch (e) {
    if (!isPxeError(e)) throw e;
    return stop(EXIT.media, `this medium cannot be used: ${e.message} [${e.code}]`, e.code);
  }
  const { descriptor: d, secrets } = medium;
  log.redact([secrets.secret, ...(medium.password !== null ? [medium.password] : [])]);
  log.redact(secrets.variables.filter((v) => v.secret === true).map((v) => v.value));
  result.media = { mediaId: d.mediaId, type: d.type, label: d.label, launchMode: medium.launchMode, unattended: d.unattended, siteUrl: null };
  const unattended = d.unattended || opts.unattended === true;
  log.info(`medium ${d.mediaId} "${d.label}": ${d.type}, ${medium.source.kind === 'iso' ? 'ISO image' : 'directory'} (_SMSTSLaunchMode=${medium.launchMode}), ${d.architecture} boot image ${d.bootImageId}, `
    + `created ${d.createdAt} by ${d.createdBy}; password: ${medium.passwordFrom === 'none' ? 'none (variables.dat is signed, not secret)' : `given (${medium.passwordFrom})`}; `
    + `${d.unattended ? 'unattended (rule 97: no prompts but the password)' : 'attended'}; ${secrets.variables.length} media variable(s): ${secrets.variables.map((v) => v.name).join(', ') || '(none)'}`);
  write(`medium ${d.mediaId} "${d.label}" (${d.type === 'standalone' ? 'stand-alone' : 'bootable'})\n`);

  try {
    // Precedence (rule 113): media variables < prestart < --var; the engine's own last (read-only).
    const engine = mediaEngineVariables(medium);
    const cli = opts.flags?.variables ?? [];
    let prestartSet: Variable[] = [];
    if (secrets.prestart) {
      try {
        prestartSet = await runPrestart({
          commandLine: secrets.prestart.commandLine,
          variables: [...secrets.variables, ...cli, ...engine],
          cwd: targetDir,
          mediaPath: medium.source.location,
          timeoutMs: opts.prestartTimeoutMs ?? DEFAULT_PRESTART_TIMEOUT_MS,
          log,
        });
      } catch (e) {
        if (!isPxeError(e)) throw e;
        return stop(EXIT.prestart, `${e.message} [${e.code}]`, e.code);
      }
    }
    const held = [...secrets.variables, ...prestartSet, ...cli];

    if (d.type === 'standalone') {
      const run = await runStandalone({
        medium, targetDir, log, write, heldVariables: held, engineVariables: engine, now,
        ...(opts.commandTimeoutMs !== undefined ? { commandTimeoutMs: opts.commandTimeoutMs } : {}),
        ...(opts.onStep ? { onStep: opts.onStep } : {}),
      });
      if (!run.ok) return stop(EXIT.media, `this medium cannot be used: ${run.message} [${run.code}]`, run.code);
      result.run = run.run;
      result.selection = { deploymentId: run.run.deploymentId, how: 'stand-alone' };
      result.exitCode = run.run.succeeded ? EXIT.ok : EXIT.failed;
      return result;
    }

    // Bootable: the site's URLs in order; --site overrides them (unreachable → the next one).
    const urls = opts.flags?.site !== undefined ? [opts.flags.site] : d.siteUrls;
    if (urls.length === 0) return stop(EXIT.media, `bootable medium ${d.mediaId} names no site URL; give --site URL [${MEDIA_ERRORS.format}]`, MEDIA_ERRORS.format);
    let last: ClientSessionResult | null = null;
    for (const [i, siteUrl] of urls.entries()) {
      let identity;
      try {
        identity = identityFromMedia(
          { mediaId: d.mediaId, secret: secrets.secret, siteUrl, architecture: d.architecture, variables: [...held, ...engine] },
          { ...(opts.flags ?? {}), site: siteUrl },
        );
      } catch (e) {
        if (!isPxeError(e)) throw e;
        return stop(EXIT.usage, `${e.message} [${e.code}]`, e.code);
      }
      log.info(`site ${i + 1} of ${urls.length}: ${siteUrl}`);
      const { passwordFile: _f, password: _p, askPassword: _a, mediaPath: _m, flags: _fl, prestartTimeoutMs: _t, ...session } = opts;
      void _f; void _p; void _a; void _m; void _fl; void _t;
      last = await runClientSession({
        ...session,
        identity,
        unattended,
        // Rule 97: an unattended medium asks for nothing but the password.
        ...(unattended ? { ask: undefined } : {}),
      });
      if (last.identity === null && last.errorCode !== null && UNREACHABLE.has(last.errorCode) && i < urls.length - 1) {
        log.warn(`site ${siteUrl} could not be reached; trying the next site URL of the medium`);
        continue;
      }
      result.media.siteUrl = siteUrl;
      break;
    }
    Object.assign(result, last!, { media: result.media, logPath });
    if (last!.identity === null && last!.errorCode !== null && (MEDIA_CODES.has(last!.errorCode) || last!.errorCode === SITE_UNAUTHENTICATED)) {
      // The site refused the medium: blocked, certificate dates (rule 102), or — 401, the medium's is the
      // only credential presented — a medium it does not know or whose secret does not match.
      result.exitCode = EXIT.media;
      result.message = `this medium cannot be used: ${last!.message}`;
    }
    return result;
  } finally {
    await medium.source.close().catch(() => undefined);
  }
}
