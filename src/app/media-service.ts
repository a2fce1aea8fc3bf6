/**
 * The site side of boot media (rules 101–103): the registry of media the builder
 * made, blocking, and the checks the client API and the boot loader announce
 * route make. Store: migration 6 `media` table, the repository's `media` store.
 *
 * A medium is authenticated by its media credential `{mediaId, secret}`: the
 * registry keeps the secret's SHA-256 only, compared in constant time. Like
 * ConfigMgr's media certificate (rule 101), one credential is shared by every
 * machine that boots the medium, so it vouches for the medium, never for the
 * machine's MAC or SMBIOS GUID. Refused when blocked (rule 102) or outside its
 * certificate dates (rules 101–102).
 *
 * "Every media boot is a status message": recordBoot writes one per boot, at the
 * boot loader (GRUB announcing itself) and at the client (identify); a refused
 * boot is an audit message instead. docs/media.md (section "The site").
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { conflict, invalid, notFound } from '../errors.js';
import { publish } from '../events.js';
import type { StatusMessage } from '../site/model.js';
import { ARCHITECTURES } from '../site/model.js';
import type { SiteRepository } from '../site/repository.js';
import type { Actor } from './site-service.js';
import { MEDIA_TYPES, type MediaRecord } from '../media/types.js';

export type MediaRefusalReason = 'unknown-media' | 'bad-secret' | 'blocked-media' | 'media-certificate-expired' | 'media-certificate-not-yet-valid';

export type MediaCheck =
  | { ok: true; record: MediaRecord }
  | { ok: false; reason: MediaRefusalReason; record: MediaRecord | null };

export interface MediaBootReport {
  /** 'loader': the boot loader on the medium announced itself (GRUB, unauthenticated); 'client': the task sequence client identified with the media credential. */
  stage: 'loader' | 'client';
  macs: string[];
  smbiosGuid: string | null;
  architecture: string | null;
  remoteAddress: string | null;
  /** The client session opened (stage 'client'). */
  sessionId?: string | null;
  deviceId?: string | null;
  /**
   * Why the boot was refused (an audit message is written instead of a status
   * message); null: accepted. Undefined: recordBoot decides from the record
   * (blocked, certificate dates) at its clock.
   */
  refusal?: MediaRefusalReason | null;
}

/** A registry record as the admin API and the CLI show it: without the secret's hash. */
export type PublicMediaRecord = Omit<MediaRecord, 'secretHash'>;
export const publicMedia = ({ secretHash: _secretHash, ...rest }: MediaRecord): PublicMediaRecord => rest;

/** The component named in the messages the media registry writes. */
export const MEDIA_COMPONENT = 'media';

/**
 * Media ids: what the builder generates (a UUID or a site-code id), and the only
 * request input the boot loader route ever writes back into a GRUB script — so
 * nothing outside this set is ever registered.
 */
export const MEDIA_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;
const MAX_REASON = 500;
const MAX_REPORT_MACS = 32;

const sha256 = (secret: string): Buffer => createHash('sha256').update(secret, 'utf8').digest();

/** Constant-time comparison of a presented secret with a stored SHA-256 (hex). */
export function secretMatches(secret: string, secretHash: string): boolean {
  if (!SHA256_HEX.test(secretHash)) return false;
  return timingSafeEqual(sha256(secret), Buffer.from(secretHash, 'hex'));
}

/** Rules 101–102: why a known medium may not be used at `now` (secret aside), or null. */
export function usability(record: MediaRecord, now: Date): Exclude<MediaRefusalReason, 'unknown-media' | 'bad-secret'> | null {
  if (record.blocked) return 'blocked-media';
  const t = now.getTime();
  if (t < Date.parse(record.certificateNotBefore)) return 'media-certificate-not-yet-valid';
  if (t > Date.parse(record.certificateNotAfter)) return 'media-certificate-expired';
  return null;
}

const REFUSAL_TEXT: Record<MediaRefusalReason, string> = {
  'unknown-media': 'the site does not know this medium',
  'bad-secret': 'the media credential\'s secret does not match',
  'blocked-media': 'the medium is blocked (rule 102)',
  'media-certificate-expired': 'the media certificate has expired (rules 101–102)',
  'media-certificate-not-yet-valid': 'the media certificate is not valid yet (rule 101)',
};

const isoTime = (v: unknown): boolean => typeof v === 'string' && v.length <= 40 && !Number.isNaN(Date.parse(v));

/** What register() accepts: the builder's record, checked so nothing malformed reaches the registry. */
function checkRecord(r: MediaRecord): void {
  if (typeof r !== 'object' || r === null) throw invalid('media', 'a media record is an object');
  if (typeof r.id !== 'string' || !MEDIA_ID_PATTERN.test(r.id)) throw invalid('media.id', `"${String(r.id)}" is not a media id (letters, digits, '.', '_', '-'; at most 64)`);
  if (!MEDIA_TYPES.includes(r.type)) throw invalid('media.type', `must be one of ${MEDIA_TYPES.join(', ')}`);
  if (!ARCHITECTURES.includes(r.architecture)) throw invalid('media.architecture', `must be one of ${ARCHITECTURES.join(', ')}`);
  if (typeof r.secretHash !== 'string' || !SHA256_HEX.test(r.secretHash)) throw invalid('media.secretHash', 'must be the SHA-256 (64 lower-case hex digits) of the media secret');
  for (const f of ['certificateNotBefore', 'certificateNotAfter', 'createdAt'] as const) {
    if (!isoTime(r[f])) throw invalid(`media.${f}`, 'must be an ISO 8601 time');
  }
  if (Date.parse(r.certificateNotAfter) <= Date.parse(r.certificateNotBefore)) {
    throw invalid('media.certificateNotAfter', 'the media certificate must expire after it starts (rule 101)');
  }
  for (const f of ['validFrom', 'validUntil'] as const) {
    if (r[f] !== null && !isoTime(r[f])) throw invalid(`media.${f}`, 'must be an ISO 8601 time or null');
  }
  if (typeof r.label !== 'string' || r.label.length > 256) throw invalid('media.label', 'must be text of at most 256 characters');
  if (!Array.isArray(r.variableNames) || r.variableNames.some((n) => typeof n !== 'string')) throw invalid('media.variableNames', 'must be a list of names');
}

export class MediaService {
  readonly #clock: () => Date;

  constructor(readonly repo: SiteRepository, opts: { clock?: () => Date } = {}) {
    this.#clock = opts.clock ?? (() => new Date());
  }

  #now(): string {
    return this.#clock().toISOString();
  }

  /** Registers a medium the builder made (one transaction with its audit message). */
  async register(record: MediaRecord, actor: Actor): Promise<MediaRecord> {
    checkRecord(record);
    const stored = await this.repo.transaction(async (tx) => {
      if (await tx.media.get(record.id)) throw conflict(`medium "${record.id}" is already registered; every medium gets a new id`, { id: record.id });
      const saved = await tx.media.insert(record);
      await this.#audit(tx, actor, `registered ${record.type} medium ${record.id} ("${record.label}"), certificate valid ${record.certificateNotBefore} to ${record.certificateNotAfter}`, {
        action: 'register-media', id: record.id, type: record.type, label: record.label, architecture: record.architecture,
        bootImageId: record.bootImageId, taskSequenceId: record.taskSequenceId,
        certificateNotBefore: record.certificateNotBefore, certificateNotAfter: record.certificateNotAfter,
        validFrom: record.validFrom, validUntil: record.validUntil, unattended: record.unattended, passwordRequired: record.passwordRequired,
        variableNames: record.variableNames,
      });
      return saved;
    });
    return stored;
  }

  /** Newest first. */
  async list(): Promise<MediaRecord[]> {
    return this.repo.media.list();
  }

  /** Throws notFound. */
  async get(id: string): Promise<MediaRecord> {
    const record = await this.repo.media.get(id);
    if (!record) throw notFound('media', id);
    return record;
  }

  /** Rule 102: a blocked medium is refused by the client API and the loader route from now on. Blocking a blocked medium changes nothing. */
  async block(id: string, actor: Actor, reason?: string): Promise<MediaRecord> {
    const why = this.#reason(reason);
    return this.repo.transaction(async (tx) => {
      const record = await tx.media.get(id);
      if (!record) throw notFound('media', id);
      if (record.blocked) return record;
      const next: MediaRecord = { ...record, blocked: true, blockedAt: this.#now(), blockedBy: actor.name };
      await tx.media.update(next);
      await this.#audit(tx, actor, `blocked medium ${id} ("${record.label}")${why ? `: ${why}` : ''}`, { action: 'block-media', id, reason: why }, 'warning');
      return next;
    });
  }

  /** Lets a blocked medium be used again (its certificate dates still apply). Unblocking an unblocked medium changes nothing. */
  async unblock(id: string, actor: Actor, reason?: string): Promise<MediaRecord> {
    const why = this.#reason(reason);
    return this.repo.transaction(async (tx) => {
      const record = await tx.media.get(id);
      if (!record) throw notFound('media', id);
      if (!record.blocked) return record;
      const next: MediaRecord = { ...record, blocked: false, blockedAt: null, blockedBy: null };
      await tx.media.update(next);
      await this.#audit(tx, actor, `unblocked medium ${id} ("${record.label}"), blocked since ${record.blockedAt ?? '?'} by ${record.blockedBy ?? '?'}${why ? `: ${why}` : ''}`,
        { action: 'unblock-media', id, reason: why, blockedAt: record.blockedAt, blockedBy: record.blockedBy });
      return next;
    });
  }

  /** Whether a medium may be used now: known, secret matches (when given), not blocked, certificate inside its dates. */
  async check(mediaId: string, secret: string | null, now: Date = this.#clock()): Promise<MediaCheck> {
    const record = typeof mediaId === 'string' && MEDIA_ID_PATTERN.test(mediaId) ? await this.repo.media.get(mediaId) : undefined;
    if (!record) return { ok: false, reason: 'unknown-media', record: null };
    // The secret first: without it, nothing is said about the medium's state.
    if (secret !== null && !secretMatches(secret, record.secretHash)) return { ok: false, reason: 'bad-secret', record };
    const refusal = usability(record, now);
    return refusal === null ? { ok: true, record } : { ok: false, reason: refusal, record };
  }

  /** "Every media boot is a status message": records one (and refusals as audit messages). */
  async recordBoot(record: MediaRecord, report: MediaBootReport): Promise<void> {
    const refusal = report.refusal !== undefined ? report.refusal : usability(record, this.#clock());
    const macs = report.macs.slice(0, MAX_REPORT_MACS);
    const who = [...macs, report.smbiosGuid].filter(Boolean).join(', ') || 'an unidentified machine';
    const where = report.stage === 'loader' ? 'the boot loader' : 'the task sequence client';
    const data: Record<string, unknown> = {
      action: refusal === null ? 'media-boot' : 'media-boot-refused',
      ...(refusal === null ? {} : { reason: refusal }),
      mediaId: record.id, mediaType: record.type, stage: report.stage,
      macs, smbiosGuid: report.smbiosGuid, architecture: report.architecture, remoteAddress: report.remoteAddress,
      sessionId: report.sessionId ?? null, deviceId: report.deviceId ?? null,
    };
    const message: Omit<StatusMessage, 'id'> = refusal === null
      ? {
        time: this.#now(), kind: 'status', severity: 'info', component: MEDIA_COMPONENT, messageId: 0, actor: `media:${record.id}`,
        text: `${who} booted from ${record.type} medium ${record.id} ("${record.label}"): ${where} reached the site${report.remoteAddress ? ` from ${report.remoteAddress}` : ''}`,
        deviceId: report.deviceId ?? null, deploymentId: null, data,
      }
      : {
        time: this.#now(), kind: 'audit', severity: 'warning', component: MEDIA_COMPONENT, messageId: 0, actor: `media:${record.id}`,
        text: `refused a boot of medium ${record.id} ("${record.label}") by ${who} at ${where}: ${REFUSAL_TEXT[refusal]}`,
        deviceId: report.deviceId ?? null, deploymentId: null, data,
      };
    await this.repo.statusMessages.append(message);
  }

  /** An announcement of a medium the site does not know: an audit message (the caller rate-limits). */
  async recordUnknown(mediaId: string, report: Omit<MediaBootReport, 'refusal' | 'sessionId' | 'deviceId'>): Promise<void> {
    const id = MEDIA_ID_PATTERN.test(mediaId) ? mediaId : null;
    const macs = report.macs.slice(0, MAX_REPORT_MACS);
    await this.repo.statusMessages.append({
      time: this.#now(), kind: 'audit', severity: 'warning', component: MEDIA_COMPONENT, messageId: 0, actor: `media:${id ?? 'invalid-id'}`,
      text: `refused a boot of ${id === null ? 'a medium with an invalid id' : `medium ${id}`} by ${[...macs, report.smbiosGuid].filter(Boolean).join(', ') || 'an unidentified machine'}: ${REFUSAL_TEXT['unknown-media']}`,
      deviceId: null, deploymentId: null,
      data: { action: 'media-boot-refused', reason: 'unknown-media', mediaId: id, stage: report.stage, macs, smbiosGuid: report.smbiosGuid, architecture: report.architecture, remoteAddress: report.remoteAddress },
    });
  }

  #reason(reason: string | undefined): string | null {
    if (reason === undefined || reason === null) return null;
    if (typeof reason !== 'string' || reason.length > MAX_REASON) throw invalid('reason', `must be text of at most ${MAX_REASON} characters`);
    const trimmed = reason.trim();
    return trimmed === '' ? null : trimmed;
  }

  async #audit(tx: SiteRepository, actor: Actor, text: string, data: Record<string, unknown>, severity: StatusMessage['severity'] = 'info'): Promise<void> {
    await tx.statusMessages.append({
      time: this.#now(), kind: 'audit', severity, component: actor.component, messageId: 0, actor: actor.name,
      text, deviceId: null, deploymentId: null, data,
    });
    publish('site.change', { actor: actor.name, text, ...data });
  }
}
