/**
 * The client service: the management point's side of the client API
 * (http/client). It authenticates machines (one-time boot tokens, boot media
 * credentials, registered client keys → a session bound to one machine), answers
 * their policy and variables through the pure policy selection, records their
 * status (rule 139), and turns unknown computers into records (rule 64).
 *
 * Every byte from a client is untrusted; every refused authentication is written
 * as an audit message with the claimed identity and the reason, never a secret.
 * See docs/decisions/0007-client-authentication.md.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { invalid, notFound } from '../errors.js';
import { publish, subscribe } from '../events.js';
import type {
  ContentSigningKey, IdentifyRequest, IdentifyResponse, PolicyDeployment, PolicyResponse, StatusReport, StatusResponse, VariablesResponse,
} from '../policy/client-api.js';
import { loadPolicySnapshot, selectPolicy } from '../policy/index.js';
import type { OfferedDeployment, PolicyDecision, PolicyRequest, PolicySnapshot } from '../policy/types.js';
import { collectionMembers } from '../site/membership.js';
import {
  CLIENT_STATES, X64_UNKNOWN_ID, X86_UNKNOWN_ID,
  type BootToken, type ClientDeploymentStatus, type ClientKey, type ClientSession, type Device, type DpPackageState, type StatusMessage, type Variable,
} from '../site/model.js';
import type { SiteRepository } from '../site/repository.js';
import {
  CLIENT_API_COMPONENT, claimData, refusalMessage, sessionActor, sessionClaim,
  type RefusalDetails, type RefusalReason, type RequestOrigin,
} from './client-audit.js';
import { ContentCatalogue, resolvePackageFile } from './client-content.js';
import { ambiguousIdentity, clientForbidden, clientUnauthenticated, contentNotFound, isMediaRefusal, mediaRefused, type CredentialKind } from './client-errors.js';
import { checkBinding, normaliseClaim, resolveIdentity, type BoundIdentity, type Claim } from './client-identity.js';
import { packageIdsOf, policyDeployment, withHistory, type ContentSites } from './client-policy.js';
import { devicesMatching, newDeviceId, promoteProvisional, recordUnknownComputer, type RecordContext } from './client-records.js';
import { bootTokenIssue, identifyBody, statusBody } from './client-schemas.js';
import { bucketOf, checkTransition, messageIdFor, STARTED, STATE_NAMES, type SummaryBucket } from './client-state.js';
import type { Actor } from './site-service.js';
import { MediaService } from './media-service.js';
import type { MediaRecord } from '../media/types.js';
import { validateInput } from './validate.js';

export type { RefusalReason, RequestOrigin } from './client-audit.js';

/** The pure policy core; replaceable in tests. */
export interface PolicyEngine {
  load(repo: SiteRepository): Promise<PolicySnapshot>;
  select(request: PolicyRequest, snapshot: PolicySnapshot): PolicyDecision;
}

export const DEFAULT_POLICY_ENGINE: PolicyEngine = { load: loadPolicySnapshot, select: selectPolicy };

export interface ClientServiceOptions {
  clock?: () => Date;
  /** How long a session stays valid: a task sequence with reboots runs for hours. Default 8 h. */
  sessionTtlSeconds?: number;
  /** Boot token life when the issuer names none. Default 30 min (PXE boot to WinPE, slow TFTP included). */
  bootTokenTtlSeconds?: number;
  /**
   * Base URL of the site's own content route ("http://site.example:8080/client/content/"),
   * the location of every package for now (the content issue adds distribution points).
   * Default: derived per request from how the client reached the site.
   */
  contentBaseUrl?: string;
  /**
   * A cached policy snapshot is rebuilt on every `site.change` event of this
   * process, and at the latest after this long (changes the CLI makes in another
   * process publish no event here). Default 30 s.
   */
  snapshotMaxAgeMs?: number;
  policy?: PolicyEngine;
  /**
   * Issue 6: whether the site's own content route is a content location —
   * after every distribution point (`always`, the default: the site holds every
   * package's source), only when no DP qualifies for the client (`last-resort`),
   * or `never` (DPs only, as ConfigMgr). docs/content.md.
   */
  siteContentSource?: 'always' | 'last-resort' | 'never';
  /** Issue 6: the key DP manifests are signed with, handed to clients in policy (null: none). */
  contentSigningKey?: () => ContentSigningKey | null | Promise<ContentSigningKey | null>;
  /** Issue 6: whether a DP holds a package version (the content library); undefined when not known. */
  packageAvailability?: ContentSites['packageAvailability'];
  /** Issue 7: the boot media registry (registered media identify with their shared credential); default: one on this repository and clock. */
  media?: MediaService;
}

export interface IssueBootTokenInput {
  macs: string[];
  smbiosGuid?: string | null;
  bootSource: 'pxe' | 'media';
  ttlSeconds?: number;
  deviceId?: string | null;
  variables?: Variable[];
}

export interface IssuedBootToken {
  /** The secret: goes into the PXE variables file or onto the media. Shown once. */
  token: string;
  id: string;
  expiresAt: string;
}

export interface RegisteredClientKey {
  /** The secret: shown once. */
  key: string;
  id: string;
  deviceId: string;
}

export interface DeploymentSummary {
  deploymentId: string;
  collectionId: string;
  /** Members of the target collection now (unknown-computer objects not counted). */
  targeted: number;
  success: number;
  inProgress: number;
  error: number;
  /** Targeted members with no status, plus reports of "No Status" (rule 143). */
  unknown: number;
}

export type DeviceDeploymentStatus = ClientDeploymentStatus & { stateName: string };

/** Client-held and run-time variables kept per session: bounded, as everything a client sends. */
const MAX_SESSION_VARIABLES = 1000;
const DAY_MS = 24 * 3600 * 1000;
const hashSecret = (secret: string): string => createHash('sha256').update(secret).digest('hex');
const newSecret = (prefix: string): string => `${prefix}${randomBytes(32).toString('base64url')}`;
const SECRET_PREFIX = { bootToken: 'pxb_', clientKey: 'pxk_', session: 'pxs_' } as const;

/** Rule 62: the object standing in for an unknown machine (ARM64 hardware is 64-bit: x64, as policy/targeting.ts). */
const unknownObjectIdFor = (architecture: Claim['architecture']): string => (architecture === 'x86' ? X86_UNKNOWN_ID : X64_UNKNOWN_ID);

/** Later layers win; names compare case-insensitively (rule 113). */
function mergeVariables(...layers: (readonly Variable[] | undefined)[]): Variable[] {
  const byName = new Map<string, Variable>();
  for (const layer of layers) for (const v of layer ?? []) byName.set(v.name.toLowerCase(), { ...v });
  return [...byName.values()];
}

export class ClientService {
  readonly #clock: () => Date;
  readonly #sessionTtlMs: number;
  readonly #bootTokenTtlSeconds: number;
  readonly #contentBase: string | undefined;
  readonly #snapshotMaxAgeMs: number;
  readonly #engine: PolicyEngine;
  readonly #siteContentSource: NonNullable<ClientServiceOptions['siteContentSource']>;
  readonly #contentSigningKey: ClientServiceOptions['contentSigningKey'];
  readonly #packageAvailability: ClientServiceOptions['packageAvailability'];
  readonly #content = new ContentCatalogue(() => this.repo);
  /** The boot media registry (issue 7). */
  readonly media: MediaService;
  /** Bumped by every site change; a cached snapshot of an older version is rebuilt. */
  #siteVersion = 0;
  #snapshot: { version: number; builtAt: number; value: Promise<PolicySnapshot> } | null = null;
  #unsubscribe: (() => void) | null = null;

  constructor(
    readonly repo: SiteRepository,
    options: ClientServiceOptions = {},
  ) {
    this.#clock = options.clock ?? (() => new Date());
    this.#sessionTtlMs = (options.sessionTtlSeconds ?? 8 * 3600) * 1000;
    this.#bootTokenTtlSeconds = options.bootTokenTtlSeconds ?? 1800;
    this.#contentBase = options.contentBaseUrl;
    this.#snapshotMaxAgeMs = options.snapshotMaxAgeMs ?? 30_000;
    this.#engine = options.policy ?? DEFAULT_POLICY_ENGINE;
    this.#siteContentSource = options.siteContentSource ?? 'always';
    this.#contentSigningKey = options.contentSigningKey;
    this.#packageAvailability = options.packageAvailability;
    this.media = options.media ?? new MediaService(repo, { clock: this.#clock });
  }

  /** Stops listening for site changes. */
  close(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = null;
  }

  #now(): string {
    return this.#clock().toISOString();
  }

  // --- credentials an administrator (or the PXE responder) hands out --------------------

  /**
   * A one-time token for one machine. The PXE responder calls this when it writes
   * the per-boot variables file; administrators and media builders through
   * POST /api/boot-tokens or `pxepoint boot-token issue` (audited when `actor` is given).
   */
  async issueBootToken(input: IssueBootTokenInput, actor?: Actor): Promise<IssuedBootToken> {
    // Programmatic callers may leave optional fields undefined; JSON has no undefined.
    const body = validateInput<IssueBootTokenInput>(bootTokenIssue, Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)));
    const claim = normaliseClaim({ macs: body.macs, smbiosGuid: body.smbiosGuid ?? null, architecture: 'x64', bootSource: body.bootSource });
    const token = newSecret(SECRET_PREFIX.bootToken);
    const now = this.#clock();
    const record: BootToken = {
      id: randomUUID(),
      hash: hashSecret(token),
      macs: claim.macs,
      smbiosGuid: claim.smbiosGuid,
      deviceId: body.deviceId ?? null,
      bootSource: body.bootSource,
      variables: body.variables ?? [],
      issuedBy: actor?.name ?? 'pxe',
      issuedAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + (body.ttlSeconds ?? this.#bootTokenTtlSeconds) * 1000).toISOString(),
      usedAt: null,
    };
    await this.repo.transaction(async (tx) => {
      if (record.deviceId !== null) {
        const d = await tx.devices.get(record.deviceId);
        if (!d || d.unknownObject !== null) throw invalid('body.deviceId', `device "${record.deviceId}" does not exist (or is an unknown-computer object)`);
      }
      // Used and expired tokens stay a day, so a late replay is still recognised as one.
      await tx.credentials.bootTokens.purgeExpired(new Date(now.getTime() - DAY_MS).toISOString());
      await tx.credentials.bootTokens.insert(record);
      if (actor) {
        await this.#auditChange(tx, actor, `issued ${record.bootSource} boot token ${record.id} for ${[...record.macs, record.smbiosGuid].filter(Boolean).join(', ')}`,
          { action: 'issue-boot-token', id: record.id, macs: record.macs, smbiosGuid: record.smbiosGuid, bootSource: record.bootSource, expiresAt: record.expiresAt },
          record.deviceId);
      }
    });
    return { token, id: record.id, expiresAt: record.expiresAt };
  }

  /** A key a known device's full-OS client identifies with. */
  async registerClientKey(deviceId: string, actor: Actor): Promise<RegisteredClientKey> {
    const key = newSecret(SECRET_PREFIX.clientKey);
    return this.repo.transaction(async (tx) => {
      const device = await tx.devices.get(deviceId);
      if (!device) throw notFound('device', deviceId);
      if (device.unknownObject !== null) throw invalid('id', `"${device.name}" is an unknown-computer object; only real devices get client keys`);
      const record: ClientKey = { id: randomUUID(), hash: hashSecret(key), deviceId, createdBy: actor.name, createdAt: this.#now(), lastUsedAt: null };
      await tx.credentials.clientKeys.insert(record);
      await this.#auditChange(tx, actor, `registered client key ${record.id} for device ${deviceId}`, { action: 'register-client-key', id: record.id, deviceId }, deviceId);
      return { key, id: record.id, deviceId };
    });
  }

  // --- POST /client/identify ------------------------------------------------------------

  async identify(body: unknown, origin: RequestOrigin = {}): Promise<IdentifyResponse> {
    const req = validateInput<IdentifyRequest & { variables?: Variable[] }>(identifyBody, body);
    const claim = normaliseClaim(req);
    const given = [req.pxeToken, req.mediaCredential, req.clientKey].filter((c) => c !== undefined).length;
    if (given !== 1) throw invalid('body', 'send exactly one credential: pxeToken, mediaCredential or clientKey');
    const now = this.#clock();

    let kind: CredentialKind;
    let credentialId: string;
    /** Null: a registered medium's shared credential, which vouches for no machine identifier (rule 101). */
    let bound: BoundIdentity | null;
    let boundDeviceId: string | null;
    let tokenVariables: Variable[] = [];
    let token: BootToken | undefined;
    let clientKey: ClientKey | undefined;
    let medium: MediaRecord | undefined;

    if (req.mediaCredential !== undefined && (medium = await this.repo.media.get(req.mediaCredential.mediaId)) !== undefined) {
      // Issue 7: a registered medium (rules 101–102). Its credential is shared by every machine
      // booting it, so the claimed MACs/GUID are not bound to it; its variables stay on the medium
      // and come with the request (req.variables).
      kind = 'media';
      credentialId = medium.id;
      if (claim.bootSource !== 'media') return this.#refuse(kind, 'wrong-boot-source', claim, origin, { credentialId });
      const check = await this.media.check(medium.id, req.mediaCredential.secret, now);
      if (!check.ok) {
        const reason = check.reason === 'bad-secret' || check.reason === 'unknown-media' ? 'bad-media-secret' : check.reason;
        return this.#refuse(kind, reason, claim, origin, { credentialId });
      }
      bound = null;
      boundDeviceId = null;
    } else if (req.clientKey !== undefined) {
      kind = 'client-key';
      clientKey = await this.repo.credentials.clientKeys.findByHash(hashSecret(req.clientKey));
      if (!clientKey) return this.#refuse(kind, 'unknown-client-key', claim, origin);
      credentialId = clientKey.id;
      // A client key is a full-OS credential: WinPE boots come with a boot token.
      if (claim.bootSource !== 'full-os') return this.#refuse(kind, 'wrong-boot-source', claim, origin, { credentialId });
      const device = await this.repo.devices.get(clientKey.deviceId);
      if (!device) return this.#refuse(kind, 'unknown-client-key', claim, origin, { credentialId });
      bound = device;
      boundDeviceId = device.id;
    } else {
      kind = req.pxeToken !== undefined ? 'pxe-token' : 'media';
      token = await this.#findBootToken(req);
      if (!token) return this.#refuse(kind, 'unknown-token', claim, origin);
      credentialId = token.id;
      const source = kind === 'pxe-token' ? 'pxe' : 'media';
      if (token.bootSource !== source || claim.bootSource !== source) return this.#refuse(kind, 'wrong-boot-source', claim, origin, { credentialId });
      if (token.usedAt !== null) return this.#refuse(kind, 'replayed-token', claim, origin, { credentialId });
      if (Date.parse(token.expiresAt) <= now.getTime()) return this.#refuse(kind, 'expired-token', claim, origin, { credentialId });
      bound = token;
      boundDeviceId = token.deviceId;
      tokenVariables = token.variables;
    }

    const binding = bound === null
      ? { ok: true as const, verifiedMacs: claim.macs, verifiedGuid: claim.smbiosGuid }
      : checkBinding(bound, claim);
    if (!binding.ok) {
      // The credential has been presented by (or for) another machine: it is spent.
      if (token) await this.repo.credentials.bootTokens.consume(token.id, now.toISOString());
      return this.#refuse(kind, binding.reason, claim, origin, { credentialId, deviceId: boundDeviceId });
    }

    // Rule 59: the record matching the MAC or SMBIOS GUID — found through the identifiers the credential vouches for.
    const boundDevice = boundDeviceId === null ? undefined : await this.repo.devices.get(boundDeviceId);
    const verified = boundDevice ? [boundDevice] : await devicesMatching(this.repo.devices, binding.verifiedMacs, binding.verifiedGuid);
    const resolution = resolveIdentity(verified, await devicesMatching(this.repo.devices, claim.macs, claim.smbiosGuid));
    if (resolution.kind === 'ambiguous') throw ambiguousIdentity(resolution.deviceIds);
    if (resolution.kind === 'forged') {
      if (token) await this.repo.credentials.bootTokens.consume(token.id, now.toISOString());
      return this.#refuse(kind, 'forged-identity', claim, origin, { credentialId, deviceIds: resolution.deviceIds });
    }
    const device = resolution.kind === 'device' ? resolution.device : null;

    const secret = newSecret(SECRET_PREFIX.session);
    const session: ClientSession = {
      id: randomUUID(),
      hash: hashSecret(secret),
      macs: claim.macs,
      smbiosGuid: claim.smbiosGuid,
      architecture: claim.architecture,
      bootSource: claim.bootSource,
      deviceId: device?.id ?? null,
      unknownObjectId: device ? null : unknownObjectIdFor(claim.architecture),
      pendingDeviceId: null,
      variables: mergeVariables(tokenVariables, req.variables),
      utcOffsetMinutes: req.utcOffsetMinutes ?? 0,
      deploymentIds: [],
      credential: { kind, id: credentialId },
      createdAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + this.#sessionTtlMs).toISOString(),
    };

    const created = await this.repo.transaction(async (tx) => {
      if (token && (await tx.credentials.bootTokens.consume(token.id, session.createdAt)) === undefined) return false;
      if (clientKey && (!clientKey.lastUsedAt || now.getTime() - Date.parse(clientKey.lastUsedAt) > 60_000)) {
        await tx.credentials.clientKeys.update({ ...clientKey, lastUsedAt: session.createdAt });
      }
      await tx.credentials.sessions.purgeExpired(new Date(now.getTime() - DAY_MS).toISOString());
      await tx.credentials.sessions.insert(session);
      await tx.statusMessages.append(this.#message({
        kind: 'status', severity: 'info', actor: sessionActor(session),
        text: `${device ? `device ${device.id} ("${device.name}")` : `unknown computer (${session.unknownObjectId})`} identified from ${claim.bootSource} with a ${kind} credential`,
        deviceId: device?.id ?? null,
        data: { action: 'client-identified', sessionId: session.id, credential: kind, credentialId, claimed: claimData(claim), remoteAddress: origin.remoteAddress ?? null },
      }));
      return true;
    });
    // Lost the race for a one-time token to a concurrent identify: a replay.
    if (!created) return this.#refuse(kind, 'replayed-token', claim, origin, { credentialId });
    // "Every media boot is a status message" (issue 7).
    if (medium) {
      await this.media.recordBoot(medium, {
        stage: 'client', macs: claim.macs, smbiosGuid: claim.smbiosGuid, architecture: claim.architecture,
        remoteAddress: origin.remoteAddress ?? null, sessionId: session.id, deviceId: session.deviceId, refusal: null,
      });
    }

    return {
      sessionToken: secret,
      expiresIn: Math.floor(this.#sessionTtlMs / 1000),
      deviceId: device?.id ?? null,
      deviceName: device?.name ?? null,
      unknownObjectId: session.unknownObjectId,
    };
  }

  async #findBootToken(req: IdentifyRequest): Promise<BootToken | undefined> {
    if (req.pxeToken !== undefined) return this.repo.credentials.bootTokens.findByHash(hashSecret(req.pxeToken));
    const media = req.mediaCredential!;
    // Media built for one machine carries its boot token as {mediaId: token id, secret}.
    const token = await this.repo.credentials.bootTokens.get(media.mediaId);
    return token !== undefined && token.hash === hashSecret(media.secret) ? token : undefined;
  }

  // --- sessions -------------------------------------------------------------------------------

  /** The session a bearer secret belongs to; refused (and audited) otherwise. */
  async authenticate(secret: string | undefined, origin: RequestOrigin = {}): Promise<ClientSession> {
    // No credential at all is not an authentication attempt: refused, not audited.
    if (secret === undefined) throw clientUnauthenticated('session');
    const session = secret.startsWith(SECRET_PREFIX.session) && secret.length <= 200
      ? await this.repo.credentials.sessions.findByHash(hashSecret(secret))
      : undefined;
    if (!session) return this.#refuse('session', 'unknown-session', null, origin);
    if (Date.parse(session.expiresAt) <= this.#clock().getTime()) {
      return this.#refuse('session', 'expired-session', sessionClaim(session), origin, { credentialId: session.id, deviceId: session.deviceId });
    }
    return session;
  }

  // --- GET /client/policy and /client/variables ---------------------------------------------

  /**
   * `siteUrl`: how the client reached the site (scheme://host[:port]); package
   * locations are absolute URLs under it unless `contentBaseUrl` was configured.
   */
  async policy(session: ClientSession, siteUrl?: string, origin: RequestOrigin = {}): Promise<PolicyResponse> {
    const { decision, snapshot } = await this.#decide(session);
    const contentBase = this.#contentBase ?? `${siteUrl ?? ''}/client/content/`;
    // Rule 124: content locations by the boundary groups of the address the request came from.
    const [boundaryGroups, distributionPoints, contentSigning] = await Promise.all([
      this.repo.boundaryGroups.list(), this.repo.distributionPoints.list(), this.#contentSigningKey?.() ?? null,
    ]);
    const availability = this.#packageAvailability ?? (await this.#libraryAvailability());
    const sites: ContentSites = {
      clientIp: origin.remoteAddress ?? null, boundaryGroups, distributionPoints, siteUse: this.#siteContentSource,
      ...(availability ? { packageAvailability: availability } : {}),
    };
    const built = new Map<string, Promise<PolicyDeployment | null>>();
    const build = (o: OfferedDeployment): Promise<PolicyDeployment | null> => {
      let p = built.get(o.deploymentId);
      if (p === undefined) built.set(o.deploymentId, (p = policyDeployment(o, snapshot, contentBase, this.#content, sites)));
      return p;
    };
    const offered = (await Promise.all(decision.offered.map(build))).filter((d): d is PolicyDeployment => d !== null);
    return {
      offered,
      autoRun: decision.autoRun === null ? null : await build(decision.autoRun),
      prompt: decision.prompt,
      preferredError: decision.preferredError,
      excluded: decision.excluded,
      contentSigning,
    };
  }

  /**
   * What the content library says each DP holds: a DP holds a package version
   * when its state is `available` at that version; a DP with no state for the
   * package was never sent it. Undefined (unknown: every DP is listed) when the
   * store has no content records.
   */
  async #libraryAvailability(): Promise<ContentSites['packageAvailability']> {
    let states: DpPackageState[];
    try {
      states = await this.repo.content.listDpStates();
    } catch {
      return undefined;
    }
    const byKey = new Map(states.map((st) => [`${st.distributionPointId}\0${st.packageId}`, st]));
    return (dpId, packageId, version) => {
      const st = byKey.get(`${dpId}\0${packageId}`);
      return st !== undefined && st.state === 'available' && st.version === version;
    };
  }

  async variables(session: ClientSession): Promise<VariablesResponse> {
    const { decision } = await this.#decide(session);
    return { variables: decision.variables };
  }

  async #decide(session: ClientSession): Promise<{ decision: PolicyDecision; snapshot: PolicySnapshot }> {
    const snapshot = await this.#currentSnapshot();
    let device: Device | null = null;
    if (session.deviceId !== null) {
      device = (await this.repo.devices.get(session.deviceId)) ?? null;
      // The record went away (its sessions go with it, so this is a race): identify again.
      if (device === null) throw clientUnauthenticated('session');
    }
    // The machine's own history, fresh (the snapshot's may be seconds old): rerun rules 36–39.
    const history = device === null ? [] : await this.repo.clientStatus.listByDevice(device.id);
    const view = withHistory(snapshot, device?.id ?? null, history);
    const request: PolicyRequest = {
      device,
      architecture: session.architecture,
      bootSource: session.bootSource,
      clientVariables: session.variables,
      now: this.#clock(),
      clientUtcOffsetMinutes: session.utcOffsetMinutes,
      event: null,
    };
    return { decision: this.#engine.select(request, view), snapshot: view };
  }

  #currentSnapshot(): Promise<PolicySnapshot> {
    if (this.#unsubscribe === null) this.#unsubscribe = subscribe('site.change', () => void this.#siteVersion++);
    const now = performance.now();
    const cached = this.#snapshot;
    if (cached && cached.version === this.#siteVersion && now - cached.builtAt < this.#snapshotMaxAgeMs) return cached.value;
    const value = this.#engine.load(this.repo);
    const entry = { version: this.#siteVersion, builtAt: now, value };
    this.#snapshot = entry;
    value.catch(() => {
      if (this.#snapshot === entry) this.#snapshot = null;
    });
    return value;
  }

  // --- GET /client/content/:packageId/* ----------------------------------------------------

  /**
   * The file to stream, if the session's policy references the package: its
   * offered or auto-run deployments, or one it has reported on (a required PXE
   * deployment leaves the policy once started, rule 40, but its run goes on).
   */
  async contentFile(session: ClientSession, packageId: string, path: string, origin: RequestOrigin = {}): Promise<{ file: string }> {
    const { decision, snapshot } = await this.#decide(session);
    const deploymentIds = new Set([...decision.offered.map((o) => o.deploymentId), ...session.deploymentIds]);
    if (decision.autoRun) deploymentIds.add(decision.autoRun.deploymentId);
    const allowed = [...deploymentIds].some((id) => packageIdsOf(id, snapshot).includes(packageId));
    if (!allowed) {
      await this.#auditRefusal('session', 'not-in-policy', sessionClaim(session), origin,
        { credentialId: session.id, deviceId: session.deviceId, packageId });
      throw clientForbidden(`package ${packageId}`);
    }
    const pkg = snapshot.packages.get(packageId) ?? (await this.repo.packages.get(packageId));
    const file = pkg ? await resolvePackageFile(pkg, path) : null;
    if (file === null) throw contentNotFound(packageId, path);
    return { file };
  }

  // --- POST /client/status -------------------------------------------------------------------

  async reportStatus(session: ClientSession, body: unknown, origin: RequestOrigin = {}): Promise<StatusResponse> {
    const report = validateInput<StatusReport>(statusBody, body);
    const messageId = messageIdFor(report.state, report.messageId);
    if (!session.deploymentIds.includes(report.deploymentId)) {
      const { decision } = await this.#decide(session);
      const inPolicy = decision.autoRun?.deploymentId === report.deploymentId || decision.offered.some((o) => o.deploymentId === report.deploymentId);
      if (!inPolicy) {
        await this.#auditRefusal('session', 'not-in-policy', sessionClaim(session), origin,
          { credentialId: session.id, deviceId: session.deviceId, deploymentId: report.deploymentId });
        throw clientForbidden(`deployment ${report.deploymentId}`);
      }
    }

    const result = await this.repo.transaction(async (tx) => {
      // Re-read: an earlier report of this session may have bound it to a new record.
      const s = await tx.credentials.sessions.get(session.id);
      if (!s) throw clientUnauthenticated('session');
      const now = this.#now();
      s.variables = mergeVariables(s.variables, report.variables);
      if (s.variables.length > MAX_SESSION_VARIABLES) {
        throw invalid('body.variables', `the run would hold ${s.variables.length} variables; at most ${MAX_SESSION_VARIABLES} are kept per session`);
      }
      if (s.deviceId === null && s.pendingDeviceId === null) s.pendingDeviceId = await newDeviceId(tx);
      let deviceId = (s.deviceId ?? s.pendingDeviceId)!;

      const previous = await tx.clientStatus.get(deviceId, report.deploymentId);
      checkTransition(previous?.state, report.state);
      const status: ClientDeploymentStatus = {
        deviceId, deploymentId: report.deploymentId, state: report.state, lastMessageId: messageId, lastMessage: report.message, updatedAt: now,
      };
      await tx.clientStatus.put(status);

      const deployment = await tx.deployments.get(report.deploymentId);
      // Rules 40–41: a required deployment started from PXE is this device's last PXE deployment.
      if (s.deviceId !== null && s.bootSource === 'pxe' && deployment?.deploymentSettings.purpose === 'required' && STARTED.has(report.state)) {
        const device = await tx.devices.get(s.deviceId);
        if (device && device.pxe.lastPxeDeploymentId !== report.deploymentId) {
          await tx.devices.update({ ...device, pxe: { lastPxeDeploymentId: report.deploymentId, lastPxeDeploymentTime: now }, modifiedAt: now });
        }
      }

      let createdDeviceId: string | null = null;
      const ended = report.state === CLIENT_STATES.Succeeded || report.state === CLIENT_STATES.Failed;
      if (ended && s.deviceId === null) {
        // Rule 64: success → a real record; failure → an "Unknown" record. Either way the machine is known next boot.
        const device = await recordUnknownComputer(tx, s, report.state === CLIENT_STATES.Succeeded, status, this.#recordContext());
        createdDeviceId = device.id;
        deviceId = device.id;
        s.deviceId = device.id;
        s.unknownObjectId = null;
      } else if (report.state === CLIENT_STATES.Succeeded && s.deviceId !== null) {
        const device = await tx.devices.get(s.deviceId);
        if (device) await promoteProvisional(tx, device, s, this.#recordContext());
      }

      await tx.statusMessages.append(this.#message({
        kind: 'status',
        severity: report.state === CLIENT_STATES.Failed ? 'error' : 'info',
        messageId,
        actor: sessionActor(s),
        text: `${STATE_NAMES[report.state]}: ${report.message}`.slice(0, 4200),
        deviceId,
        deploymentId: report.deploymentId,
        data: {
          action: 'client-status', state: report.state, stateName: STATE_NAMES[report.state], previousState: previous?.state ?? null,
          stepIndex: report.stepIndex ?? null, bootSource: s.bootSource, sessionId: s.id,
        },
      }));
      if (!s.deploymentIds.includes(report.deploymentId)) s.deploymentIds.push(report.deploymentId);
      await tx.credentials.sessions.update(s);
      return { createdDeviceId, bound: s };
    });
    // The caller's copy follows the stored session (e.g. bound to its new record).
    Object.assign(session, result.bound);
    return { accepted: true, ...(result.createdDeviceId !== null ? { deviceId: result.createdDeviceId } : {}) };
  }

  // --- what administrators read ----------------------------------------------------------------

  /** Rule 143: Success / In Progress / Error / Unknown of a deployment. */
  async deploymentSummary(deploymentId: string): Promise<DeploymentSummary> {
    const deployment = await this.repo.deployments.get(deploymentId);
    if (!deployment) throw notFound('deployment', deploymentId);
    const statuses = await this.repo.clientStatus.listByDeployment(deploymentId);
    const collection = await this.repo.collections.get(deployment.collectionId);
    const members = collection ? collectionMembers(collection, await this.repo.devices.list()).filter((d) => d.unknownObject === null) : [];
    const counts: Record<SummaryBucket, number> = { success: 0, inProgress: 0, error: 0, unknown: 0 };
    const reported = new Set<string>();
    for (const s of statuses) {
      counts[bucketOf(s.state)]++;
      reported.add(s.deviceId);
    }
    for (const m of members) if (!reported.has(m.id)) counts.unknown++;
    return { deploymentId, collectionId: deployment.collectionId, targeted: members.length, ...counts };
  }

  /** The last state of every deployment on a device (SMS_ClientAdvertisementStatus). */
  async deviceStatus(deviceId: string): Promise<DeviceDeploymentStatus[]> {
    if (!(await this.repo.devices.get(deviceId))) throw notFound('device', deviceId);
    return (await this.repo.clientStatus.listByDevice(deviceId)).map((s) => ({ ...s, stateName: STATE_NAMES[s.state] }));
  }

  // --- audit ------------------------------------------------------------------------------------------

  /** Audits a refused authentication, then refuses (401). */
  async #refuse(kind: CredentialKind, reason: RefusalReason, claim: Claim | null, origin: RequestOrigin, details: RefusalDetails = {}): Promise<never> {
    await this.#auditRefusal(kind, reason, claim, origin, details);
    // Registered media: blocked or outside the certificate dates is 403 with its own code.
    if (kind === 'media' && isMediaRefusal(reason)) throw mediaRefused(reason, details.credentialId ?? '');
    throw clientUnauthenticated(kind);
  }

  async #auditRefusal(kind: CredentialKind, reason: RefusalReason, claim: Claim | null, origin: RequestOrigin, details: RefusalDetails): Promise<void> {
    await this.repo.statusMessages.append(refusalMessage(this.#now(), kind, reason, claim, origin, details));
  }

  async #auditChange(tx: SiteRepository, actor: Actor, text: string, data: Record<string, unknown>, deviceId: string | null): Promise<void> {
    await tx.statusMessages.append({
      time: this.#now(), kind: 'audit', severity: 'info', component: actor.component, messageId: 0, actor: actor.name,
      text, deviceId, deploymentId: null, data,
    });
    this.#siteVersion++;
    publish('site.change', { actor: actor.name, text, ...data });
  }

  #message(m: Pick<StatusMessage, 'kind' | 'severity' | 'actor' | 'text' | 'deviceId' | 'data'> & Partial<StatusMessage>): Omit<StatusMessage, 'id'> {
    return { time: this.#now(), component: CLIENT_API_COMPONENT, messageId: 0, deploymentId: null, ...m };
  }

  #recordContext(): RecordContext {
    return { now: this.#now(), auditChange: (tx, actor, text, data, deviceId) => this.#auditChange(tx, actor, text, data, deviceId) };
  }
}

