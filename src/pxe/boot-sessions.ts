/**
 * Per-boot state: what the responder decided for a machine and the per-boot
 * secrets that go with it, kept in memory between the DHCP answer and the
 * machine's TFTP/HTTP requests for its script and variables file.
 *
 * - One session per MAC (the latest decision wins), bounded: least recently used
 *   sessions are dropped beyond `maxSessions`, and every session expires after
 *   `ttlSeconds` (the boot token's own life). No I/O, clock injected.
 * - The variables file is a capability: its name is 32 random bytes (base64url),
 *   so knowing a MAC is not enough to read it. When the machine's address is known
 *   (from DHCP, or bound at its first HTTP request for its script), only that
 *   address may read it (http/boot, pxe/boot-files).
 * - The boot token is issued once per boot (ClientService.issueBootToken, bootSource
 *   'pxe'); the DISCOVER, REQUEST and 4011 packets of one boot, and the second DHCP
 *   round of the iPXE chain, reuse it while the decision stays the same.
 * - Secrets (the token, the file name) are never logged: `describeSession` is the
 *   loggable view.
 */
import { randomBytes } from 'node:crypto';
import type { PxeBootRequest, PxeDecision } from './types.js';

export interface IssuedToken {
  token: string;
  id: string;
  expiresAt: string;
}

/** `ClientService.issueBootToken` as the responder calls it (bind it: `(i) => clientService.issueBootToken(i)`). */
export type IssueBootToken = (input: {
  macs: string[];
  smbiosGuid: string | null;
  bootSource: 'pxe';
  ttlSeconds: number;
  deviceId: string | null;
}) => Promise<IssuedToken>;

export interface BootSession {
  /** Random id, not secret: names the session in logs and the timeline. */
  readonly id: string;
  readonly mac: string;
  smbiosGuid: string | null;
  /** The machine's address, once known (DHCP, or its first HTTP request). */
  clientIp: string | null;
  request: PxeBootRequest;
  decision: PxeDecision;
  /** The one-time boot token; null for 'abort' sessions (nothing boots). */
  readonly token: IssuedToken | null;
  /** Unguessable file name of the variables file; null when there is no token. */
  readonly variablesName: string | null;
  readonly createdAt: number;
  readonly expiresAt: number;
  /** Last time the variables file was served, or null. */
  variablesServedAt: number | null;
}

export interface BootSessionOptions {
  /** Most sessions kept (default 10,000: a large estate's simultaneous boots). */
  maxSessions?: number;
  /** Session (and boot token) life in seconds; default 1800, the client-service default. */
  ttlSeconds?: number;
  /** Milliseconds since the epoch; injected for tests. */
  clock?: () => number;
  /** Random bytes; injected for tests. */
  random?: (size: number) => Buffer;
}

export const VARIABLES_NAME_PATTERN = /^[A-Za-z0-9_-]{43}\.json$/;

/**
 * A request name or URL path with any variables-file name blanked
 * ("boot/vars/Xy…json" → "boot/vars/[redacted].json"): TFTP and HTTP events carry
 * the name asked for, and that name is the capability.
 */
export function redactCapabilities(text: string): string {
  return text.replace(/[A-Za-z0-9_-]{43}\.json/g, '[redacted].json');
}

/** Two decisions describe the same boot: a newer packet of it may reuse the session and its token. */
export const sameBoot = (a: PxeDecision, b: PxeDecision): boolean =>
  a.action === b.action && a.deploymentId === b.deploymentId && a.bootImageId === b.bootImageId && a.deviceId === b.deviceId;

export class BootSessions {
  readonly #byMac = new Map<string, BootSession>(); // insertion order = recency (LRU)
  readonly #byName = new Map<string, string>();
  readonly #byIp = new Map<string, string>();
  readonly #max: number;
  readonly #ttlMs: number;
  readonly #clock: () => number;
  readonly #random: (size: number) => Buffer;

  constructor(opts: BootSessionOptions = {}) {
    this.#max = Math.max(1, opts.maxSessions ?? 10_000);
    this.#ttlMs = (opts.ttlSeconds ?? 1800) * 1000;
    this.#clock = opts.clock ?? Date.now;
    this.#random = opts.random ?? randomBytes;
  }

  get ttlSeconds(): number {
    return this.#ttlMs / 1000;
  }

  get size(): number {
    return this.#byMac.size;
  }

  now(): number {
    return this.#clock();
  }

  /** A new variables-file name: 256 random bits. */
  newVariablesName(): string {
    return `${this.#random(32).toString('base64url')}.json`;
  }

  /** The live session of a MAC, if it is one worth reusing for `decision`. */
  reusable(mac: string, decision: PxeDecision): BootSession | undefined {
    const s = this.byMac(mac);
    return s !== undefined && sameBoot(s.decision, decision) ? s : undefined;
  }

  /** Stores a session (replacing the MAC's previous one) and returns it. */
  put(fields: Omit<BootSession, 'id' | 'createdAt' | 'expiresAt' | 'variablesServedAt'> & { expiresAt?: number }): BootSession {
    const now = this.#clock();
    const session: BootSession = {
      ...fields,
      id: this.#random(8).toString('hex'),
      createdAt: now,
      expiresAt: fields.expiresAt ?? now + this.#ttlMs,
      variablesServedAt: null,
    };
    this.#remove(session.mac);
    this.#byMac.set(session.mac, session);
    if (session.variablesName !== null) this.#byName.set(session.variablesName, session.mac);
    if (session.clientIp !== null) this.#byIp.set(session.clientIp, session.mac);
    while (this.#byMac.size > this.#max) this.#remove(this.#byMac.keys().next().value!);
    return session;
  }

  /**
   * Updates the request/decision of a reused session (same boot, newer packet). A
   * packet without an address (a DISCOVER: the machine is starting over, perhaps for
   * another lease) unbinds the old one; the next packet that has one, or the
   * machine's first HTTP request, binds again — a stale address must not lock the
   * machine out of its own script.
   */
  refresh(session: BootSession, request: PxeBootRequest, decision: PxeDecision): BootSession {
    session.request = request;
    session.decision = decision;
    if (request.smbiosGuid !== null) session.smbiosGuid = request.smbiosGuid;
    if (request.clientIp !== null) this.bindIp(session, request.clientIp);
    else this.unbindIp(session);
    this.#touch(session);
    return session;
  }

  /** Records the machine's address (DHCP, or trust on first use at its first HTTP request). */
  bindIp(session: BootSession, ip: string): void {
    if (session.clientIp !== null && session.clientIp !== ip && this.#byIp.get(session.clientIp) === session.mac) this.#byIp.delete(session.clientIp);
    session.clientIp = ip;
    this.#byIp.set(ip, session.mac);
  }

  unbindIp(session: BootSession): void {
    if (session.clientIp !== null && this.#byIp.get(session.clientIp) === session.mac) this.#byIp.delete(session.clientIp);
    session.clientIp = null;
  }

  byMac(mac: string): BootSession | undefined {
    const s = this.#byMac.get(mac);
    if (s === undefined) return undefined;
    if (this.#expired(s)) {
      this.#remove(mac);
      return undefined;
    }
    this.#touch(s);
    return s;
  }

  byVariablesName(name: string): BootSession | undefined {
    const mac = this.#byName.get(name);
    const s = mac === undefined ? undefined : this.byMac(mac);
    return s?.variablesName === name ? s : undefined;
  }

  /** The session of the machine at `ip` (TFTP and HTTP know only the address). */
  byIp(ip: string): BootSession | undefined {
    const mac = this.#byIp.get(ip);
    const s = mac === undefined ? undefined : this.byMac(mac);
    return s?.clientIp === ip ? s : undefined;
  }

  /** Drops expired sessions; returns how many. Reads drop them lazily anyway. */
  sweep(): number {
    let n = 0;
    for (const s of [...this.#byMac.values()]) {
      if (this.#expired(s)) {
        this.#remove(s.mac);
        n++;
      }
    }
    return n;
  }

  #expired(s: BootSession): boolean {
    return this.#clock() >= s.expiresAt;
  }

  #touch(s: BootSession): void {
    this.#byMac.delete(s.mac);
    this.#byMac.set(s.mac, s);
  }

  #remove(mac: string): void {
    const s = this.#byMac.get(mac);
    if (s === undefined) return;
    this.#byMac.delete(mac);
    if (s.variablesName !== null && this.#byName.get(s.variablesName) === mac) this.#byName.delete(s.variablesName);
    if (s.clientIp !== null && this.#byIp.get(s.clientIp) === mac) this.#byIp.delete(s.clientIp);
  }
}

/** What may be logged about a session: never the token or the file name. */
export function describeSession(s: BootSession): Record<string, unknown> {
  return {
    session: s.id, mac: s.mac, clientIp: s.clientIp, action: s.decision.action, deploymentId: s.decision.deploymentId,
    bootImageId: s.decision.bootImageId, tokenId: s.token?.id ?? null,
  };
}
