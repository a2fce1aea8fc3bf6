/**
 * Stand-alone media (rules 91, 92, 103, 109, 118): the task sequence, its
 * policy and its content are on the medium, and the run uses NO network.
 *
 * - The date range (rule 103) was checked against the machine's clock before
 *   anything else (media.ts `openMedium`); outside it the medium does not start.
 * - `pxepoint/standalone/policy.dat` is opened like variables.dat (signed, or
 *   encrypted with the medium's password, rule 99).
 * - The task sequence runs in the ordinary engine (runner.ts) with a content
 *   source that reads the medium: each package file is copied from
 *   `pxepoint/content/<pkg>/v<ver>/` into `<target>/_SMSTSPackages/<pkg>/`, its
 *   size and SHA-256 checked against the sealed policy BEFORE any step uses it
 *   (rule 118). A mismatch fails the step with PXE_ERR_MEDIA_CONTENT_HASH and
 *   nothing of that package is kept.
 * - Status messages cannot be sent: each is written to the run log
 *   (`_SMSTSLog/smsts.log`) instead.
 * - Variables: the policy's (the deployment context's, rule 104) < media
 *   variables < prestart < `--var`; `_SMSTSMediaType=FullMedia`,
 *   `_SMSTSLaunchMode` CD or UFD, `_SMSMediaGuid`; `_SMSTSAdvertID` and
 *   `_SMSTSClientGUID` are NOT set (rule 109), `_SMSTSPackageID` is the task
 *   sequence.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { isPxeError } from '../errors.js';
import { openPayload } from '../media/seal.js';
import type { MediaSource } from '../media/source.js';
import { MEDIA_ERRORS, MEDIA_PATHS, mediaContentDir, type StandalonePolicy } from '../media/types.js';
import type { PolicyDeployment, PolicyPackage, StatusReport, StatusResponse } from '../policy/client-api.js';
import { STEP_TYPES, type Variable } from '../site/model.js';
import { PACKAGES_DIR, safeRelativePath, type DownloadSettings, type PackageResult } from './content.js';
import { TaskSequenceEnvironment } from './environment.js';
import type { RunLog } from './log.js';
import type { OpenedMedium } from './media.js';
import { runTaskSequence, type RunResult, type StepRecord } from './runner.js';
import type { PackageSource } from './steps/types.js';

const MAX_POLICY_BYTES = 16 * 1024 * 1024;
const PACKAGE_ID = /^[A-Za-z0-9_.-]{1,64}$/;

/** Package content read from the medium and verified against the sealed policy (rule 118). */
export class MediaContent implements PackageSource {
  private readonly ready = new Map<string, Extract<PackageResult, { ok: true }>>();

  constructor(private readonly source: MediaSource, readonly targetDir: string, private readonly log: RunLog) {}

  packageDir(packageId: string): string {
    return join(this.targetDir, PACKAGES_DIR, packageId);
  }

  async ensure(pkg: PolicyPackage, settings: DownloadSettings): Promise<PackageResult> {
    const have = this.ready.get(pkg.id);
    if (have) return have;
    if (!settings.verify) this.log.warn(`package ${pkg.id}: "access content directly" does not apply to stand-alone media: the content is verified anyway (rule 118)`);
    if (!PACKAGE_ID.test(pkg.id)) return { ok: false, reason: 'invalid-policy', message: `package id "${pkg.id}" is not a safe folder name` };
    const base = mediaContentDir(pkg.id, pkg.version);
    const root = join(this.targetDir, PACKAGES_DIR);
    const staging = join(root, `.staging-${pkg.id}-${process.pid}-${randomBytes(4).toString('hex')}`);
    const hashFailure = (message: string): PackageResult => ({
      ok: false, reason: MEDIA_ERRORS.contentHash,
      message: `${message}: the content on the medium does not match its policy, it is not used (rule 118) [${MEDIA_ERRORS.contentHash}]`,
    });
    let bytes = 0;
    try {
      await mkdir(staging, { recursive: true });
      for (const f of pkg.files) {
        const rel = safeRelativePath(f.path);
        if (rel === null) return { ok: false, reason: 'invalid-policy', message: `package ${pkg.id}: file path "${f.path}" is not a relative path inside the package` };
        const onMedium = `${base}/${rel}`;
        const size = await this.source.size(onMedium);
        if (size === null) return hashFailure(`package ${pkg.id}: ${onMedium} is missing from the medium`);
        if (size !== f.size) return hashFailure(`package ${pkg.id}: ${onMedium} is ${size} bytes, the policy says ${f.size}`);
        const dest = join(staging, ...rel.split('/'));
        await mkdir(dirname(dest), { recursive: true });
        const sha = createHash('sha256');
        let n = 0;
        const tap = new Transform({
          transform(chunk: Buffer, _enc, cb) {
            n += chunk.length;
            if (n > f.size) return cb(new Error(`more than the ${f.size} bytes the policy lists`));
            sha.update(chunk);
            cb(null, chunk);
          },
        });
        await pipeline(await this.source.stream(onMedium), tap, createWriteStream(dest, { mode: 0o644 }));
        const got = sha.digest('hex');
        if (n !== f.size || got !== f.sha256.toLowerCase()) {
          return hashFailure(`package ${pkg.id}: ${onMedium}: ${n !== f.size ? `${n} bytes read, the policy says ${f.size}` : `sha256 ${got}, the policy says ${f.sha256.toLowerCase()}`}`);
        }
        bytes += n;
      }
      const final = this.packageDir(pkg.id);
      await rm(final, { recursive: true, force: true });
      await rename(staging, final);
      this.log.info(`package ${pkg.id} (${pkg.name}) v${pkg.version}: ${pkg.files.length} file(s), ${bytes} bytes from the medium (${base}), SHA-256 verified against the sealed policy (rule 118) → ${final}`);
      const r = { ok: true as const, dir: final, files: pkg.files.length, bytes, unverified: false, lastLocation: `${this.source.location}#${base}`, manifestVerified: false, fromCache: false };
      this.ready.set(pkg.id, r);
      return r;
    } catch (e) {
      return { ok: false, reason: 'unavailable', message: `package ${pkg.id}: cannot read it from the medium: ${(e as Error).message}` };
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }
}

/** Status cannot be sent from stand-alone media: every message goes to the run log instead. */
export class RunLogReporter {
  readonly sent = 0;
  readonly failed = 0;
  logged = 0;

  constructor(private readonly log: RunLog) {}

  async send(report: StatusReport): Promise<StatusResponse | null> {
    this.logged++;
    this.log.info(`status (stand-alone media, not sent: no network): state ${report.state}${report.messageId !== undefined ? `, message ${report.messageId}` : ''}${report.stepIndex !== undefined ? `, step ${report.stepIndex}` : ''}: ${report.message}`);
    return null;
  }
}

export interface StandaloneRunOptions {
  medium: OpenedMedium;
  targetDir: string;
  log: RunLog;
  write?: (text: string) => void;
  /** Media variables, prestart-set, `--var`, in precedence order. */
  heldVariables: Variable[];
  /** `_SMSMediaGuid`, `_SMSTSMediaType`, `_SMSTSLaunchMode` (media.ts mediaEngineVariables). */
  engineVariables: Variable[];
  now?: () => Date;
  commandTimeoutMs?: number;
  onStep?: (record: StepRecord) => void;
}

export type StandaloneOutcome = { ok: true; run: RunResult; policy: StandalonePolicy } | { ok: false; code: string; message: string };

function checkPolicy(p: StandalonePolicy, mediaId: string): string | null {
  if (typeof p !== 'object' || p === null) return 'policy.dat holds no policy';
  if (p.mediaId !== mediaId) return `policy.dat belongs to medium ${String(p.mediaId)}, not ${mediaId}`;
  const ts = p.taskSequence;
  if (typeof ts?.id !== 'string' || typeof ts.name !== 'string' || !Array.isArray(ts.steps)) return 'policy.dat has no task sequence';
  for (const s of ts.steps) {
    if (typeof s?.name !== 'string' || !(STEP_TYPES as readonly string[]).includes(s.type) || typeof s.index !== 'number') return `policy.dat: a step is not a task sequence step (${JSON.stringify(s).slice(0, 80)})`;
  }
  if (!Array.isArray(p.packages) || !Array.isArray(p.variables)) return 'policy.dat has no packages or variables list';
  for (const k of p.packages) {
    if (typeof k?.id !== 'string' || typeof k.version !== 'number' || !Array.isArray(k.files)) return 'policy.dat: a package has no id, version or files';
    for (const f of k.files) if (typeof f?.path !== 'string' || typeof f.size !== 'number' || typeof f.sha256 !== 'string') return `policy.dat: package ${k.id} lists a file without path, size and sha256`;
  }
  return null;
}

/** Opens policy.dat and runs its task sequence from the medium, offline. */
export async function runStandalone(opts: StandaloneRunOptions): Promise<StandaloneOutcome> {
  const { medium, log, targetDir } = opts;
  const d = medium.descriptor;
  const bytes = await medium.source.readFile(MEDIA_PATHS.standalonePolicy, MAX_POLICY_BYTES);
  if (bytes === null) return { ok: false, code: MEDIA_ERRORS.format, message: `stand-alone medium ${d.mediaId} has no ${MEDIA_PATHS.standalonePolicy}` };
  let policy: StandalonePolicy;
  try {
    policy = openPayload<StandalonePolicy>(bytes, { purpose: 'policy', mediaId: d.mediaId, password: medium.password, sitePublicKey: d.sitePublicKey });
  } catch (e) {
    if (!isPxeError(e)) throw e;
    return { ok: false, code: e.code, message: `${MEDIA_PATHS.standalonePolicy}: ${e.message}` };
  }
  const bad = checkPolicy(policy, d.mediaId);
  if (bad) return { ok: false, code: MEDIA_ERRORS.format, message: bad };

  const ts = policy.taskSequence;
  const env = new TaskSequenceEnvironment();
  // Rule 104: per-computer and per-collection variables do not apply on media.
  env.load(policy.variables);
  env.load(opts.heldVariables);
  for (const v of opts.engineVariables) env.setEngine(v.name, v.value);
  log.redact(env.secretValues());

  const deployment: PolicyDeployment = {
    // Rule 109: there is no deployment; the medium's id names the run in the log.
    deploymentId: d.mediaId,
    taskSequenceId: ts.id,
    taskSequenceName: ts.name,
    purpose: 'required',
    availableTo: 'media-pxe',
    due: true,
    taskSequence: { id: ts.id, name: ts.name, bootImageId: d.bootImageId, steps: ts.steps },
    packages: policy.packages.map((p) => ({ id: p.id, name: p.name, version: p.version, files: p.files, locations: [] })),
    deploymentOption: 'download-when-needed',
    engineVariables: [],
  };
  log.info(`stand-alone medium ${d.mediaId}: task sequence ${ts.id} "${ts.name}", ${ts.steps.length} step(s), ${policy.packages.length} package(s) on the medium; no network is used (rule 92), status goes to this log`);
  opts.write?.(`running ${ts.id}: ${ts.name} (stand-alone media, no network)\n`);

  const noNetwork = (): Promise<Response> => Promise.reject(new Error('stand-alone media: the network is never used (rule 92)'));
  const run = await runTaskSequence({
    targetDir, deployment, env, log,
    reporter: new RunLogReporter(log),
    fetch: noNetwork,
    content: new MediaContent(medium.source, targetDir, log),
    standalone: true,
    bootSource: 'media',
    ...(opts.commandTimeoutMs !== undefined ? { commandTimeoutMs: opts.commandTimeoutMs } : {}),
    ...(opts.now ? { now: opts.now } : {}),
    ...(opts.onStep ? { onStep: opts.onStep } : {}),
  });
  return { ok: true, run, policy };
}
