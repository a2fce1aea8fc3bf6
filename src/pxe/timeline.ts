/**
 * The boot timeline ("a boot flight recorder", peers.md §4 #8): every DHCP
 * decision, TFTP transfer and HTTP boot request of a machine, persisted in order
 * and read per MAC (GET /api/timeline/:mac, `pxepoint timeline <mac>`).
 *
 * A subscriber, not calls in the hot paths: it listens to `dhcp.decision`,
 * `tftp.transfer.end`, `tftp.request.refused` and `http.boot` (src/events.ts).
 * DHCP events carry the MAC; TFTP and HTTP know only the client's address, which
 * the boot sessions map back to a MAC (the address DHCP or the first HTTP request
 * bound). Events of addresses no session knows are not recorded: a timeline
 * without a machine helps nobody.
 *
 * `timelineEntry` is pure (tested as a table); `startBootTimeline` queues the
 * writes in arrival order, so the store sees them one at a time and in order,
 * and a failing store never throws into the publisher.
 */
import { subscribe, type EventName } from '../events.js';
import { parseMac } from '../site/identifiers.js';
import type { BootEvent, BootEventKind } from '../site/model.js';
import type { BootEventStore } from '../site/repository.js';
import { redactCapabilities, type BootSessions } from './boot-sessions.js';

export const TIMELINE_EVENTS: readonly (EventName & BootEventKind)[] = ['dhcp.decision', 'tftp.transfer.end', 'tftp.request.refused', 'http.boot'];

type Data = Record<string, unknown>;
const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** "10.77.0.5:2070" → "10.77.0.5" (IPv6 "[::1]:69" → "::1"). */
export function addressOf(client: unknown): string | null {
  const s = str(client);
  if (s === null) return null;
  const v6 = /^\[(.+)\]:\d+$/.exec(s);
  if (v6) return v6[1]!;
  const v4 = /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/.exec(s);
  const ip = v4 ? v4[1]! : s;
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
}

function summaryOf(kind: BootEventKind, d: Data): string {
  switch (kind) {
    case 'dhcp.decision':
      // `action` from prepareBoot's decisionEvent, `decision` from src/dhcp/server.ts.
      return [`DHCP ${str(d.channel) ?? '?'}`, str(d.messageType), `${str(d.action) ?? str(d.decision) ?? '?'} (${str(d.reasonCode) ?? str(d.reason) ?? '?'})`, str(d.bootFile)]
        .filter(Boolean).join(' ');
    case 'tftp.transfer.end': {
      const opts = (d.options ?? {}) as Data;
      const parts = [`TFTP ${str(d.file) ?? '?'} ${str(d.outcome) ?? '?'}`];
      if (num(d.bytes) !== null) parts.push(`${num(d.bytes)} bytes`);
      if (num(d.durationMs) !== null) parts.push(`in ${num(d.durationMs)} ms`);
      const tuning = [num(opts.blksize) !== null ? `blksize ${num(opts.blksize)}` : null, num(opts.windowsize) !== null ? `windowsize ${num(opts.windowsize)}` : null, num(d.retransmits) ? `${num(d.retransmits)} retransmits` : null].filter(Boolean);
      if (tuning.length > 0) parts.push(`(${tuning.join(', ')})`);
      return parts.join(' ');
    }
    case 'tftp.request.refused':
      return `TFTP ${str(d.file) ?? '?'} refused: ${str(d.reason) ?? str(d.code) ?? '?'}`;
    case 'http.boot': {
      const what = str(d.kind) === 'callback' ? `callback step=${str(d.step) ?? '?'}` : `${str(d.kind) ?? 'request'}${str(d.path) && str(d.kind) !== 'variables' ? ` ${str(d.path)}` : ''}`;
      return `HTTP ${what} ${num(d.status) ?? '?'}`;
    }
  }
}

/** Fields never written to the timeline, whatever a publisher sends. */
const SECRET_FIELDS = new Set(['token', 'secret', 'variablesName', 'authorization']);

/** Without secret fields, and with variables-file names (capabilities) blanked from file names and paths. */
function cleaned(d: Data): Data {
  return Object.fromEntries(Object.entries(d)
    .filter(([k]) => !SECRET_FIELDS.has(k))
    .map(([k, v]) => [k, typeof v === 'string' ? redactCapabilities(v) : v]));
}

/**
 * The timeline entry for one published event, or null when it belongs to no
 * machine we know. `macOfIp` maps a client address to its MAC (boot sessions).
 */
export function timelineEntry(kind: BootEventKind, data: Data, time: Date, macOfIp: (ip: string) => string | null): Omit<BootEvent, 'id'> | null {
  const ip = kind === 'dhcp.decision' ? str(data.clientIp) ?? str(data.ip) : kind === 'http.boot' ? addressOf(data.ip) : addressOf(data.client);
  const direct = str(data.mac);
  const mac = (direct !== null ? parseMac(direct) : null) ?? (ip !== null ? macOfIp(ip) : null);
  if (mac === null) return null;
  const safe = cleaned(data);
  return { time: time.toISOString(), mac, kind, clientIp: ip, summary: summaryOf(kind, safe), data: safe };
}

export interface BootTimelineOptions {
  store: BootEventStore;
  sessions: BootSessions;
  clock?: () => Date;
  /** Told about store failures (the timeline never throws into a publisher). */
  onError?: (error: unknown) => void;
}

export interface BootTimeline {
  /** Resolves when every event received so far is written. */
  flush(): Promise<void>;
  stop(): void;
  /** Events dropped because no machine could be named, and writes that failed. */
  readonly stats: { recorded: number; unattributed: number; failed: number };
}

export function startBootTimeline(opts: BootTimelineOptions): BootTimeline {
  const clock = opts.clock ?? (() => new Date());
  const stats = { recorded: 0, unattributed: 0, failed: 0 };
  let queue: Promise<void> = Promise.resolve();
  const macOfIp = (ip: string): string | null => opts.sessions.byIp(ip)?.mac ?? null;
  const offs = TIMELINE_EVENTS.map((kind) => subscribe(kind, (data) => {
    // Resolve the MAC now: the session may be gone by the time the write runs.
    const entry = timelineEntry(kind, data, clock(), macOfIp);
    if (entry === null) {
      stats.unattributed++;
      return;
    }
    queue = queue.then(() => opts.store.append(entry)).then(
      () => { stats.recorded++; },
      (e: unknown) => { stats.failed++; opts.onError?.(e); },
    );
  }));
  return {
    flush: () => queue,
    stop: () => { for (const off of offs) off(); },
    stats,
  };
}
