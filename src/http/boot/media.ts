/**
 * The boot loader announce route of boot media (issue 7, rules 101–102):
 *
 *   GET /boot/media/<mediaId>/start.cfg?mac=…&uuid=…&arch=…
 *
 * GRUB on the medium fetches this before it starts the boot image and `source`s
 * it. Unauthenticated, like PXE: the GRUB configuration on a medium holds no
 * secret worth the name. The reply is a GRUB script that only sets
 * `pxp_media_state` (ok | blocked | expired | unknown) and `pxp_media_message`,
 * and echoes that message. It is built from fixed text and values the site
 * validated (the registered id, a normalised MAC, ISO times from the registry),
 * never from raw request input, and is answered 200 in every state (GRUB's
 * `source` reads nothing from an error reply).
 *
 * Every announcement of a registered medium is recorded (MediaService.recordBoot,
 * stage 'loader'): a status message, or an audit message when the medium is
 * refused. Recording is rate-limited per medium and per MAC with bounded memory,
 * so a flood of requests cannot fill the status table; the script is answered
 * either way (the state is read, not written). The client API checks the medium
 * again, with its secret, when Windows PE identifies: this route only tells GRUB
 * early what the site will say.
 */
import type { FastifyPluginAsync } from 'fastify';
import { MEDIA_ID_PATTERN, usability, type MediaService } from '../../app/media-service.js';
import { publish } from '../../events.js';
import type { MediaRecord } from '../../media/types.js';
import { parseGuid, parseMac } from '../../site/identifiers.js';
import { clientAddress } from './request-ip.js';

export type MediaLoaderState = 'ok' | 'blocked' | 'expired' | 'unknown';

export interface RateWindow {
  /** Recorded announcements allowed per key and window. */
  limit: number;
  windowMs: number;
}

export interface MediaBootRouteOptions {
  media: MediaService;
  /** Per medium; default 120 a minute (a lab booting a shelf of machines from copies of one medium). */
  perMedium?: RateWindow;
  /** Per MAC address, whatever the medium (announcements without a MAC: per medium); default 6 a minute. */
  perMac?: RateWindow;
  /** Announcements of unknown media, all together; default 30 a minute. */
  unknown?: RateWindow;
  /** Keys remembered by each limiter; the oldest are forgotten first. Default 10,000. */
  maxKeys?: number;
  /** Milliseconds clock (tests). */
  now?: () => number;
}

/**
 * Fixed-window counters in a Map bounded to `maxKeys` entries (insertion order =
 * least recently touched first, so the oldest windows go first). Forgetting a
 * key only ever allows more recording, never less, and memory stays bounded
 * whatever the number of distinct MACs or ids a flood sends.
 */
export class BoundedRateLimiter {
  readonly #windows = new Map<string, { start: number; count: number }>();
  constructor(private readonly rate: RateWindow, private readonly maxKeys: number) {}

  get size(): number {
    return this.#windows.size;
  }

  /** Whether `key` is under its limit at `now` (does not count). */
  allows(key: string, now: number): boolean {
    const w = this.#windows.get(key);
    return w === undefined || now - w.start >= this.rate.windowMs || w.count < this.rate.limit;
  }

  count(key: string, now: number): void {
    let w = this.#windows.get(key);
    if (w === undefined || now - w.start >= this.rate.windowMs) w = { start: now, count: 0 };
    w.count++;
    this.#windows.delete(key);
    this.#windows.set(key, w);
    while (this.#windows.size > this.maxKeys) this.#windows.delete(this.#windows.keys().next().value!);
  }
}

/** Everything written into a script passes here: GRUB single quotes take no escapes, so only a plain set of characters is kept. */
const SAFE = /[^A-Za-z0-9 .,:;()/_+-]/g;
const grubWord = (text: string): string => `'${text.replace(SAFE, '?')}'`;
/** The medium's grub.cfg (src/media/grub-config.ts) shows pxp_media_message when it refuses to boot; the line is echoed now too. */
const say = (text: string): string => `set pxp_media_message=${grubWord(text)}\necho ${grubWord(text)}`;

/** GRUB's $grub_cpu-$grub_platform ("x86_64-efi", "i386-pc", "arm64-efi"); anything else is not recorded. */
const ARCH = /^[a-z0-9_]{1,16}(-[a-z0-9_]{1,16})?$/;

const one = (v: unknown): string | null => (typeof v === 'string' && v.length <= 128 ? v : null);

function stateOf(record: MediaRecord | undefined, now: Date): { state: MediaLoaderState; refusal: ReturnType<typeof usability> } {
  if (record === undefined) return { state: 'unknown', refusal: null };
  const refusal = usability(record, now);
  if (refusal === null) return { state: 'ok', refusal };
  return { state: refusal === 'blocked-media' ? 'blocked' : 'expired', refusal };
}

function scriptFor(state: MediaLoaderState, refusal: ReturnType<typeof usability>, record: MediaRecord | undefined, mac: string | null, recorded: boolean): string {
  const lines = ['# pxepoint: the site\'s answer to this medium\'s boot announcement (docs/media.md)', `set pxp_media_state=${state}`];
  const machine = mac === null ? '' : ` (${mac})`;
  switch (state) {
    case 'ok':
      lines.push(say(recorded
        ? `pxepoint: the site recorded this boot of medium ${record!.id}${machine}`
        : `pxepoint: medium ${record!.id} may be used; too many announcements, this boot was not recorded`));
      break;
    case 'blocked':
      lines.push(say(`pxepoint: medium ${record!.id} is blocked by the site since ${record!.blockedAt ?? 'an unknown time'}; the site will refuse it. Use another medium.`));
      break;
    case 'expired': {
      lines.push(say(refusal === 'media-certificate-not-yet-valid'
        ? `pxepoint: the certificate of medium ${record!.id} is not valid before ${record!.certificateNotBefore}; the site will refuse it.`
        : `pxepoint: the certificate of medium ${record!.id} expired at ${record!.certificateNotAfter}; the site will refuse it. Create new media.`));
      break;
    }
    case 'unknown':
      lines.push(say('pxepoint: the site does not know this medium; it will be refused. Create new media.'));
      break;
  }
  return lines.join('\n') + '\n';
}

type AnnounceRoute = { Params: { mediaId: string }; Querystring: Record<string, unknown> };

export const mediaBootRoutes: FastifyPluginAsync<MediaBootRouteOptions> = async (app, opts) => {
  const { media } = opts;
  const clock = opts.now ?? Date.now;
  const maxKeys = opts.maxKeys ?? 10_000;
  const perMedium = new BoundedRateLimiter(opts.perMedium ?? { limit: 120, windowMs: 60_000 }, maxKeys);
  const perMac = new BoundedRateLimiter(opts.perMac ?? { limit: 6, windowMs: 60_000 }, maxKeys);
  const unknown = new BoundedRateLimiter(opts.unknown ?? { limit: 30, windowMs: 60_000 }, 1);

  app.get<AnnounceRoute>('/media/:mediaId/start.cfg', {
    schema: {
      tags: ['boot'],
      summary: 'A boot medium\'s boot loader announces itself (GRUB script: sets pxp_media_state)',
      description: 'Unauthenticated. Query: mac (e.g. 52:54:00:12:34:56), uuid (SMBIOS GUID), arch (GRUB cpu-platform); all optional and read leniently. '
        + 'The reply is text/plain GRUB script: `set pxp_media_state=ok|blocked|expired|unknown` and one echo line.',
      security: [],
    },
  }, async (req, reply) => {
    const ms = clock();
    const now = new Date(ms);
    const ip = clientAddress(req);
    const rawId = req.params.mediaId;
    const id = MEDIA_ID_PATTERN.test(rawId) ? rawId : null;
    const macText = one(req.query.mac);
    const mac = macText === null ? null : parseMac(macText);
    const uuidText = one(req.query.uuid);
    const smbiosGuid = uuidText === null ? null : parseGuid(uuidText);
    const archText = one(req.query.arch);
    const architecture = archText !== null && ARCH.test(archText) ? archText : null;

    const record = id === null ? undefined : await media.repo.media.get(id);
    const { state, refusal } = stateOf(record, now);
    const report = { stage: 'loader' as const, macs: mac === null ? [] : [mac], smbiosGuid, architecture, remoteAddress: ip };

    let recorded = false;
    if (record !== undefined) {
      const keys: [BoundedRateLimiter, string][] = [[perMedium, record.id], [perMac, mac ?? `no-mac\0${record.id}`]];
      if (keys.every(([l, k]) => l.allows(k, ms))) {
        for (const [l, k] of keys) l.count(k, ms);
        await media.recordBoot(record, { ...report, refusal });
        recorded = true;
      }
    } else if (unknown.allows('unknown', ms)) {
      unknown.count('unknown', ms);
      await media.recordUnknown(id ?? '', report);
      recorded = true;
    }
    if (recorded && mac !== null) {
      // The machine's boot timeline (docs/pxe.md): the path carries only a validated id.
      publish('http.boot', { kind: 'media', path: `/boot/media/${record?.id ?? 'unknown'}/start.cfg`, ip, mac, status: 200, state });
    }
    return reply
      .header('cache-control', 'no-store')
      .header('x-pxepoint-recorded', recorded ? 'yes' : 'no')
      .type('text/plain; charset=utf-8')
      .send(scriptFor(state, refusal, record, mac, recorded));
  });
};
