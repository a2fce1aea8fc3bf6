/**
 * buildMedia: `pxepoint media create` and POST /api/media (issue 7, rules 91–118).
 *
 *   1. the options (schemas.ts mediaCreate, the same for CLI and API) and the
 *      rules between them (rule 103: validity dates only on stand-alone media;
 *      bootable media need a site URL; rule 113 variable limits);
 *   2. the boot image under the boot files root (wimboot and the image's files, for
 *      every firmware it boots on); stand-alone: the task sequence (rule 92: only
 *      steps that run offline) and every package's content in the content library;
 *   3. a new media id and secret; the media certificate (site key, rule 101);
 *      media.json; variables.dat and (stand-alone) policy.dat sealed (password or
 *      site signature);
 *   4. the file plan (layout.ts), written as an ISO or a folder (iso-image.ts, atomic);
 *   5. registration with the site (MediaService.register); if that fails the new
 *      image is removed.
 * Nothing is registered, and nothing appears under the requested name, unless
 * every step succeeded.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { MediaService } from '../app/media-service.js';
import { mediaCreate } from '../app/schemas.js';
import type { Actor } from '../app/site-service.js';
import { validateInput } from '../app/validate.js';
import { ContentLibrary } from '../content/library.js';
import { loadOrCreateSiteKey } from '../content/signing.js';
import type { ContentManifest } from '../content/types.js';
import { notFound, PxeError } from '../errors.js';
import { isMediaPxeEnabled } from '../policy/availability.js';
import type { PolicyStep } from '../policy/client-api.js';
import { VARIABLE_LIMITS } from '../policy/variables.js';
import type { Variable } from '../site/model.js';
import type { SiteRepository } from '../site/repository.js';
import { readManifest } from '../winpe/import.js';
import { issueMediaCertificate } from './certificate.js';
import { formatMediaDescriptor } from './descriptor.js';
import { checkIsoTools, checkMediaOutput, DEFAULT_ISO_TOOLS, writeDirectoryTree, writeIsoImage, type IsoTools, type ProgressFn, type WrittenMedia } from './iso-image.js';
import { bootImageCandidates, planMedia, type PlanPackage } from './layout.js';
import { sealPayload } from './seal.js';
import {
  MEDIA_ERRORS, type MediaDescriptor, type MediaRecord, type MediaSecrets, type MediaType, type ScryptParams, type StandalonePackage, type StandalonePolicy,
} from './types.js';

/** The options as JSON (schemas.ts mediaCreate): CLI flags and the API body. */
export interface MediaCreateInput {
  type: MediaType;
  bootImageId: string;
  siteUrls?: string[];
  label?: string;
  password?: string;
  unattended?: boolean;
  variables?: Variable[];
  prestart?: string;
  certValidFrom?: string;
  certValidUntil?: string;
  validFrom?: string;
  validUntil?: string;
  taskSequenceId?: string;
}

export type MediaFormat = 'iso' | 'dir';

export const DEFAULT_MEDIA_LABEL = 'pxepoint';
export const DEFAULT_CERT_DAYS = 365;

export interface BuildMediaDeps {
  repo: SiteRepository;
  media: MediaService;
  /** The configuration's data directory (site key, content library) and boot files root. */
  dataDir: string;
  tftpRoot: string;
  /** Site URLs when the options name none (the configuration's HTTP address, see defaultSiteUrls). */
  defaultSiteUrls: string[];
  actor: Actor;
  now?: () => Date;
  onProgress?: ProgressFn;
  signal?: AbortSignal;
  tools?: IsoTools;
  /** Password sealing cost (tests lower it). */
  scrypt?: ScryptParams;
}

export interface BuildMediaResult {
  record: MediaRecord;
  outPath: string;
  format: MediaFormat;
  warnings: string[];
}

const buildError = (message: string, extra: Record<string, unknown> = {}, status = 400): PxeError => new PxeError(MEDIA_ERRORS.build, message, status, extra);

/** The site's address as the configuration knows it: the listen address (if not a wildcard), else dhcp.serverAddress. */
export function defaultSiteUrls(config: { listen: string; httpPort: number; dhcp?: { serverAddress: string | null } }): string[] {
  const wildcard = config.listen === '0.0.0.0' || config.listen === '::' || config.listen === '';
  const host = !wildcard ? config.listen : config.dhcp?.serverAddress ?? null;
  if (host === null) return [];
  return [`http://${host.includes(':') ? `[${host}]` : host}:${config.httpPort}`];
}

/** Parses a schema-checked time: a date alone is midnight UTC. */
function timeOf(v: string | undefined, field: string): Date | null {
  if (v === undefined) return null;
  const d = new Date(/^\d{4}-\d{2}-\d{2}$/.test(v) ? `${v}T00:00:00Z` : v);
  if (Number.isNaN(d.getTime())) throw buildError(`${field}: "${v}" is not a date`, { field });
  return d;
}

/** Rule 113 beyond the schema: one value per name (names are case-insensitive), 8 KB in all. */
function checkVariables(vars: readonly Variable[]): void {
  const seen = new Set<string>();
  for (const v of vars) {
    const k = v.name.toLowerCase();
    if (seen.has(k)) throw buildError(`media variable "${v.name}" is given twice (names are case-insensitive, rule 113)`, { field: 'variables' });
    seen.add(k);
  }
  const bytes = vars.reduce((n, v) => n + Buffer.byteLength(v.name) + Buffer.byteLength(v.value), 0);
  if (bytes > VARIABLE_LIMITS.environmentMaxBytes) {
    throw buildError(`the media variables take ${bytes} bytes; the task sequence environment holds at most ${VARIABLE_LIMITS.environmentMaxBytes} (rule 113)`, { field: 'variables' });
  }
}

/** Rule 92: what stand-alone media cannot run (nothing may come from the network). */
function offlineProblems(steps: readonly PolicyStep[]): string[] {
  return steps.flatMap((s) => s.type === 'download-package'
    ? [`step ${s.index + 1} "${s.name}" downloads package content (Download Package Content needs the network; rule 92)`]
    : []);
}

export interface ValidatedOptions {
  input: MediaCreateInput;
  siteUrls: string[];
  label: string;
  certFrom: Date;
  certUntil: Date;
  validFrom: Date | null;
  validUntil: Date | null;
  variables: Variable[];
}

/** Schema plus the rules between options; throws PXE_ERR_INVALID (schema) or MEDIA_ERRORS.build. */
export function validateMediaOptions(raw: unknown, defaults: { siteUrls: string[]; now: Date }): ValidatedOptions {
  const input = validateInput<MediaCreateInput>(mediaCreate, raw, 'body');
  const siteUrls = input.siteUrls !== undefined && input.siteUrls.length > 0 ? input.siteUrls : defaults.siteUrls;
  if (input.type === 'bootable' && siteUrls.length === 0) {
    throw buildError('bootable media need the site\'s address: give --site-url http://HOST:PORT (the address machines reach the site at; the configuration listens on a wildcard address and has no dhcp.serverAddress)', { field: 'siteUrls' });
  }
  const certFrom = timeOf(input.certValidFrom, 'certValidFrom') ?? defaults.now;
  const certUntil = timeOf(input.certValidUntil, 'certValidUntil') ?? new Date(certFrom.getTime() + DEFAULT_CERT_DAYS * 86_400_000);
  if (certUntil.getTime() <= certFrom.getTime()) throw buildError(`the media certificate must end after it starts (rule 101): ${certFrom.toISOString()} … ${certUntil.toISOString()}`, { field: 'certValidUntil' });
  const validFrom = timeOf(input.validFrom, 'validFrom');
  const validUntil = timeOf(input.validUntil, 'validUntil');
  if (input.type === 'bootable' && (validFrom !== null || validUntil !== null)) {
    throw buildError('--valid-from/--valid-until (a date range checked against the machine\'s clock) exist only for stand-alone media (rule 103); for bootable media use --cert-valid-from/--cert-valid-until', { field: validFrom !== null ? 'validFrom' : 'validUntil' });
  }
  if (validFrom !== null && validUntil !== null && validUntil.getTime() <= validFrom.getTime()) {
    throw buildError(`the validity range must end after it starts (rule 103): ${validFrom.toISOString()} … ${validUntil.toISOString()}`, { field: 'validUntil' });
  }
  if (input.type === 'standalone' && input.taskSequenceId === undefined) throw buildError('stand-alone media need a task sequence: give --ts ID (rule 91)', { field: 'taskSequenceId' });
  if (input.type === 'bootable' && input.taskSequenceId !== undefined) throw buildError('--ts goes with stand-alone media only: bootable media get policy from the site at run time', { field: 'taskSequenceId' });
  const variables = (input.variables ?? []).map((v) => ({ name: v.name, value: v.value }));
  checkVariables(variables);
  return { input, siteUrls, label: input.label ?? DEFAULT_MEDIA_LABEL, certFrom, certUntil, validFrom, validUntil, variables };
}

/** Rules 20, 24: SMSTSPreferredAdvertID should name a deployment available to media and PXE; a warning, never a refusal. */
async function preferredAdvertWarnings(repo: SiteRepository, variables: readonly Variable[]): Promise<string[]> {
  const v = variables.find((x) => x.name.toLowerCase() === 'smstspreferredadvertid');
  if (v === undefined) return [];
  const d = await repo.deployments.get(v.value);
  if (d === undefined) return [`SMSTSPreferredAdvertID "${v.value}" names no deployment of this site: the medium will not start a deployment by it (rules 20, 24)`];
  if (!isMediaPxeEnabled(d.deploymentSettings.availableTo)) {
    return [`SMSTSPreferredAdvertID "${v.value}" is available to clients only: media and PXE cannot run it; make it "Only media and PXE (hidden)" (rules 19, 20)`];
  }
  return [];
}

interface StandaloneParts {
  policy: Omit<StandalonePolicy, 'mediaId'>;
  packages: PlanPackage[];
  warnings: string[];
}

/** The task sequence, its offline check (rule 92), and every package's files from the content library (rule 118). */
async function standaloneParts(repo: SiteRepository, dataDir: string, taskSequenceId: string, bootImageId: string): Promise<StandaloneParts> {
  const ts = await repo.taskSequences.get(taskSequenceId);
  if (ts === undefined) throw notFound('task sequence', taskSequenceId);
  const warnings: string[] = [];
  if (ts.bootImageId === null) throw buildError(`task sequence ${ts.id} "${ts.name}" uses no boot image: stand-alone media carry operating system deployments only (rule 92)`, { field: 'taskSequenceId' });
  if (ts.disabled) throw buildError(`task sequence ${ts.id} "${ts.name}" is disabled (rule 14): enable it before putting it on media`, { field: 'taskSequenceId' });
  if (ts.bootImageId !== bootImageId) warnings.push(`task sequence ${ts.id} uses boot image ${ts.bootImageId}; this medium starts boot image ${bootImageId}`);
  const steps: PolicyStep[] = [];
  ts.steps.forEach((s, index) => {
    if (s.disabled === true) return;
    steps.push({
      index, name: s.name, type: s.type, packageId: s.packageId ?? null, commandLine: s.commandLine ?? null,
      variableName: s.variableName ?? null, variableValue: s.variableValue ?? null,
      continueOnError: s.continueOnError ?? false, accessContentDirectly: s.accessContentDirectly ?? false,
    });
  });
  const offline = offlineProblems(steps);
  if (offline.length > 0) {
    throw buildError(`task sequence ${ts.id} "${ts.name}" cannot run from stand-alone media, whose steps "must be able to run without retrieving any data from the network" (rule 92): ${offline.join('; ')}. Use bootable media, or change the step`, { field: 'taskSequenceId', rule: 92 });
  }
  const library = await ContentLibrary.open(dataDir);
  const packageIds = [...new Set(steps.map((s) => s.packageId).filter((x): x is string => x !== null))];
  const policyPackages: StandalonePackage[] = [];
  const planPackages: PlanPackage[] = [];
  const problems: string[] = [];
  for (const id of packageIds) {
    const pkg = await repo.packages.get(id);
    if (pkg === undefined) { problems.push(`package ${id} (used by the task sequence) does not exist`); continue; }
    const version = await repo.content.getVersion(id, pkg.version);
    const manifest: ContentManifest | undefined = version === undefined ? undefined : await library.readManifest(id, pkg.version);
    if (version === undefined || manifest === undefined) {
      problems.push(`package ${id} "${pkg.name}" has no content version ${pkg.version} in the content library: run pxepoint package add-content ${id} --source DIR (docs/content.md)`);
      continue;
    }
    const absent: string[] = [];
    for (const f of manifest.files) if (!(await library.hasObject(f.sha256, f.size))) absent.push(f.path);
    if (absent.length > 0) {
      problems.push(`package ${id} version ${pkg.version}: ${absent.length} file(s) missing from the content library (${absent.slice(0, 3).join(', ')}${absent.length > 3 ? ', …' : ''}): add the content again`);
      continue;
    }
    policyPackages.push({ id, name: pkg.name, version: pkg.version, files: manifest.files.map((f) => ({ path: f.path, size: f.size, sha256: f.sha256 })) });
    planPackages.push({ id, version: pkg.version, files: manifest.files.map((f) => ({ path: f.path, size: f.size, sha256: f.sha256, source: library.objectPath(f.sha256) })) });
  }
  if (problems.length > 0) throw buildError(`cannot put task sequence ${ts.id} on stand-alone media: ${problems.join('; ')}`, { field: 'taskSequenceId' });
  return {
    // Rule 104: per-computer and per-collection variables do not apply on media; the media variables are in variables.dat.
    policy: { taskSequence: { id: ts.id, name: ts.name, steps }, packages: policyPackages, variables: [] },
    packages: planPackages,
    warnings,
  };
}

/** The boot image record and which of its files are present under the root. */
async function bootImageFiles(repo: SiteRepository, root: string, bootImageId: string): Promise<{ architecture: MediaRecord['architecture']; present: Map<string, number> }> {
  const image = await repo.bootImages.get(bootImageId);
  if (image === undefined) throw notFound('boot image', bootImageId);
  const manifest = await readManifest(root, bootImageId).catch(() => null);
  if (manifest === null) {
    throw buildError(`boot image ${bootImageId} has not been imported under the boot files root ${root} (no images/${bootImageId}/winpe.json): pxepoint bootimage import --id ${bootImageId} --arch ${image.architecture} --wim FILE`, { field: 'bootImageId' });
  }
  const present = new Map<string, number>();
  for (const rel of bootImageCandidates(bootImageId, image.architecture)) {
    const st = await fsp.stat(path.join(root, rel)).catch(() => null);
    if (st?.isFile() && st.size > 0) present.set(rel, st.size);
  }
  return { architecture: image.architecture, present };
}

export const sha256Hex = (s: string | Buffer): string => createHash('sha256').update(s).digest('hex');

/** Builds, writes and registers a medium. `raw` is the JSON options (schema mediaCreate); `out` may depend on the new media id. */
export async function buildMedia(raw: unknown, out: string | ((mediaId: string) => string), format: MediaFormat, deps: BuildMediaDeps): Promise<BuildMediaResult> {
  const now = (deps.now ?? (() => new Date()))();
  const progress = deps.onProgress ?? (() => undefined);
  const opts = validateMediaOptions(raw, { siteUrls: deps.defaultSiteUrls, now });
  const { input } = opts;
  const warnings: string[] = [];
  const mediaId = randomUUID();
  const outPath = path.resolve(typeof out === 'string' ? out : out(mediaId));
  progress({ stage: 'preparing', percent: null });
  // Cheap refusals first: the output, the tools, then the site's data.
  await checkMediaOutput(outPath, format);
  if (format === 'iso') checkIsoTools(deps.tools ?? DEFAULT_ISO_TOOLS);
  const root = path.resolve(deps.tftpRoot);
  const boot = await bootImageFiles(deps.repo, root, input.bootImageId);
  warnings.push(...(await preferredAdvertWarnings(deps.repo, opts.variables)));
  const standalone = input.type === 'standalone' ? await standaloneParts(deps.repo, deps.dataDir, input.taskSequenceId!, input.bootImageId) : null;
  if (standalone !== null) warnings.push(...standalone.warnings);
  if (input.prestart !== undefined && !/^cmd(\.exe)?\s+\/c\s/i.test(input.prestart)) {
    warnings.push('the prestart command does not start with "cmd /c": a command that does not close keeps the deployment waiting (rule 105)');
  }
  if (opts.certUntil.getTime() <= now.getTime()) warnings.push(`the media certificate expired at ${opts.certUntil.toISOString()}: the site will refuse this medium (rule 102)`);
  if (opts.validUntil !== null && opts.validUntil.getTime() <= now.getTime()) warnings.push(`the validity range ended at ${opts.validUntil.toISOString()}: this medium will not start (rule 103)`);
  if (input.unattended === true && input.password !== undefined) warnings.push('unattended media still ask for the password (rule 97)');

  // Identity, certificate, sealed files.
  const siteKey = loadOrCreateSiteKey(deps.dataDir);
  const secret = `pxm_${randomBytes(32).toString('base64url')}`;
  const validFrom = opts.validFrom?.toISOString() ?? null;
  const validUntil = opts.validUntil?.toISOString() ?? null;
  // Stand-alone: the validity range is signed in the certificate (rule 103), so media.json cannot be edited to extend it.
  const certificate = issueMediaCertificate({
    mediaId, type: input.type, notBefore: opts.certFrom.toISOString(), notAfter: opts.certUntil.toISOString(),
    ...(input.type === 'standalone' ? { validFrom, validUntil } : {}),
  }, siteKey);
  const password = input.password ?? null;
  const descriptor: MediaDescriptor = {
    format: 'pxepoint-media/1',
    mediaId,
    type: input.type,
    label: opts.label,
    architecture: boot.architecture,
    bootImageId: input.bootImageId,
    siteUrls: opts.siteUrls,
    createdAt: now.toISOString(),
    createdBy: deps.actor.name,
    unattended: input.unattended === true,
    passwordRequired: password !== null,
    validFrom,
    validUntil,
    certificate,
    sitePublicKey: siteKey.publicKeyPem,
  };
  const secrets: MediaSecrets = { mediaId, secret, variables: opts.variables, prestart: input.prestart !== undefined ? { commandLine: input.prestart } : null };
  const seal = (payload: unknown, purpose: 'variables' | 'policy'): Buffer =>
    sealPayload(payload, { purpose, mediaId, password, siteKey, ...(deps.scrypt ? { scrypt: deps.scrypt } : {}) });
  const variablesDat = seal(secrets, 'variables');
  const policyDat = standalone !== null ? seal({ mediaId, ...standalone.policy } satisfies StandalonePolicy, 'policy') : null;

  const plan = planMedia({
    mediaId,
    type: input.type,
    label: opts.label,
    bootImageId: input.bootImageId,
    architecture: boot.architecture,
    siteUrls: opts.siteUrls,
    unattended: input.unattended === true,
    root,
    present: boot.present,
    descriptor: Buffer.from(formatMediaDescriptor(descriptor), 'utf8'),
    variables: variablesDat,
    policy: policyDat,
    packages: standalone?.packages ?? [],
  });
  if (deps.signal?.aborted) throw buildError('media build interrupted; nothing was written', {}, 500);
  const written: WrittenMedia & { warnings?: string[] } = format === 'iso'
    ? await writeIsoImage(plan, { out: outPath, label: opts.label, onProgress: progress, ...(deps.signal ? { signal: deps.signal } : {}), ...(deps.tools ? { tools: deps.tools } : {}) })
    : await writeDirectoryTree(plan, { out: outPath, onProgress: progress, ...(deps.signal ? { signal: deps.signal } : {}), ...(deps.tools ? { tools: deps.tools } : {}) });
  warnings.push(...(written.warnings ?? []));

  progress({ stage: 'registering', percent: null });
  const record: MediaRecord = {
    id: mediaId,
    type: input.type,
    label: opts.label,
    architecture: boot.architecture,
    bootImageId: input.bootImageId,
    taskSequenceId: input.taskSequenceId ?? null,
    createdAt: descriptor.createdAt,
    createdBy: deps.actor.name,
    certificateNotBefore: certificate.body.notBefore,
    certificateNotAfter: certificate.body.notAfter,
    validFrom: descriptor.validFrom,
    validUntil: descriptor.validUntil,
    unattended: descriptor.unattended,
    passwordRequired: descriptor.passwordRequired,
    variableNames: opts.variables.map((v) => v.name),
    secretHash: sha256Hex(secret),
    blocked: false,
    blockedAt: null,
    blockedBy: null,
    imagePath: written.path,
    imageSha256: written.sha256,
  };
  let registered: MediaRecord;
  try {
    registered = await deps.media.register(record, deps.actor);
  } catch (e) {
    // A medium the site does not know would be refused anyway: do not leave it behind.
    await fsp.rm(written.path, { recursive: true, force: true });
    throw e;
  }
  return { record: registered, outPath: written.path, format, warnings };
}
