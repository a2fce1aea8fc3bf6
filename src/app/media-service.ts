/**
 * The site side of boot media (rules 101–103): the registry of media the builder
 * made, blocking, and the checks the client API and the boot loader announce
 * route make. STUB: signatures are the contract; the site engineer implements
 * (store: migration 6 `media` table, repository `media` store, audit messages).
 */
import type { SiteRepository } from '../site/repository.js';
import type { Actor } from './site-service.js';
import type { MediaRecord } from '../media/types.js';

export type MediaCheck =
  | { ok: true; record: MediaRecord }
  | { ok: false; reason: 'unknown-media' | 'bad-secret' | 'blocked-media' | 'media-certificate-expired' | 'media-certificate-not-yet-valid'; record: MediaRecord | null };

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
}

export class MediaService {
  constructor(readonly repo: SiteRepository, opts: { clock?: () => Date } = {}) {
    void opts;
  }

  /** Registers a medium the builder made (one transaction with its audit message). */
  async register(record: MediaRecord, actor: Actor): Promise<MediaRecord> {
    void record; void actor;
    throw new Error('not implemented');
  }

  async list(): Promise<MediaRecord[]> {
    throw new Error('not implemented');
  }

  /** Throws notFound. */
  async get(id: string): Promise<MediaRecord> {
    void id;
    throw new Error('not implemented');
  }

  /** Rule 102: a blocked medium is refused by the client API and the loader route from now on. */
  async block(id: string, actor: Actor, reason?: string): Promise<MediaRecord> {
    void id; void actor; void reason;
    throw new Error('not implemented');
  }

  async unblock(id: string, actor: Actor): Promise<MediaRecord> {
    void id; void actor;
    throw new Error('not implemented');
  }

  /** Whether a medium may be used now: known, secret matches (when given), not blocked, certificate inside its dates. */
  async check(mediaId: string, secret: string | null, now?: Date): Promise<MediaCheck> {
    void mediaId; void secret; void now;
    throw new Error('not implemented');
  }

  /** "Every media boot is a status message": records one (and refusals as audit messages). */
  async recordBoot(record: MediaRecord, report: MediaBootReport): Promise<void> {
    void record; void report;
    throw new Error('not implemented');
  }
}
