/**
 * The boot routes, under /boot/ (no API token: firmware and iPXE carry none; what
 * protects them is described in pxe/boot-files.ts):
 *
 *   GET /boot/<mac-with-dashes>.ipxe     the machine's iPXE script
 *   GET /boot/vars/<name>                its variables file (unguessable name, bound address)
 *   GET /boot/callback/<mac>?step=…      progress reports from the script (timeline, e2e tests)
 *   GET /boot/files/*                    the boot files root (chain loaders, boot images)
 *   GET /boot/media/<id>/start.cfg       a boot medium's GRUB announces itself (media.ts, issue 7)
 *
 * Every request is published as an `http.boot` event (the boot timeline
 * subscribes). Replies are never cached: they are per boot.
 */
import type { FastifyPluginAsync } from 'fastify';
import { publish } from '../../events.js';
import type { BootSessions } from '../../pxe/boot-sessions.js';
import type { PxePasswordLookup } from '../../pxe/pxe-password.js';
import { scriptFile, variablesFile, type BootFileResult } from '../../pxe/boot-files.js';
import { CALLBACK_STEPS, chainLoader, type BootImageLoader, type CallbackStep } from '../../pxe/ipxe-script.js';
import { wimbootLoader } from '../../winpe/wimboot.js';
import { parseMac } from '../../site/identifiers.js';
import { PxeError } from '../../errors.js';
import { BOOT_ERRORS, bootForbidden, bootNotFound } from './errors.js';
import { registerBootFiles } from './files.js';
import { mediaBootRoutes, type MediaBootRouteOptions } from './media.js';
import { baseUrlOf, clientAddress } from './request-ip.js';

export interface BootHttpOptions {
  sessions: BootSessions;
  /** The boot files root served under /boot/files/ (the TFTP root); omitted: not served. */
  filesRoot?: string | null;
  /** Base URL written into scripts; default: the scheme and Host header of the script request. */
  baseUrl?: string;
  /** Site URL written into variables files; default: the base URL. */
  siteUrl?: string;
  /** F12/Enter prompt wait in seconds (rule 68); default 10. */
  promptTimeoutSeconds?: number;
  /** How iPXE boots a boot image (the WinPE seam); default: chain executables and scripts, and WinPE .wim images with wimboot when filesRoot is served. */
  loaders?: readonly BootImageLoader[];
  /** Rule 47/73: tell the client a PXE password is required. */
  passwordSet?: boolean;
  /** Rules 47/73/100: the PXE password state (pxe/pxe-password.ts); with a password set, variables files are served sealed. */
  pxePassword?: PxePasswordLookup;
  /** Issue 7: the boot media announce route (/boot/media/<id>/start.cfg); omitted: not served. */
  media?: MediaBootRouteOptions;
}

type MacRoute = { Params: { mac: string } };
type VarsRoute = { Params: { name: string } };
type CallbackRoute = { Params: { mac: string }; Querystring: { step?: string } };

const noStore = 'no-store';

export const bootRoutes: FastifyPluginAsync<BootHttpOptions> = async (app, opts) => {
  const { sessions } = opts;
  // WinPE over HTTP (docs/winpe.md): wimboot from the files root, when the administrator has placed it there.
  const loaders: readonly BootImageLoader[] | undefined = opts.loaders
    ?? (opts.filesRoot ? [chainLoader, wimbootLoader({ root: opts.filesRoot, onMissing: (hint, id) => app.log.warn({ bootImageId: id }, hint) })] : undefined);

  const answer = (result: BootFileResult, what: string): { body: string; type: string } => {
    if (result.ok) return { body: result.body, type: result.contentType };
    if (result.status === 503) throw new PxeError(BOOT_ERRORS.unavailable, `${what}: ${result.reason}`, 503);
    throw result.status === 403 ? bootForbidden(result.reason) : bootNotFound(`${what}: ${result.reason}`);
  };

  app.get<MacRoute>('/:mac.ipxe', {
    schema: { tags: ['boot'], summary: 'The iPXE script of a booting machine', security: [] },
  }, async (req, reply) => {
    const ip = clientAddress(req);
    const result = scriptFile(sessions, req.params.mac, ip, {
      baseUrl: opts.baseUrl ?? baseUrlOf(req),
      ...(opts.promptTimeoutSeconds !== undefined ? { promptTimeoutSeconds: opts.promptTimeoutSeconds } : {}),
      ...(loaders !== undefined ? { loaders } : {}),
    });
    publish('http.boot', {
      kind: 'script', path: req.url.split('?')[0], ip, mac: result.session?.mac ?? parseMac(req.params.mac),
      status: result.ok ? 200 : result.status, session: result.session?.id ?? null, action: result.session?.decision.action ?? null,
    });
    const { body, type } = answer(result, 'iPXE script');
    return reply.header('cache-control', noStore).type(type).send(body);
  });

  app.get<VarsRoute>('/vars/:name', {
    // The URL is the secret: keep it out of fastify's info-level request logs.
    logLevel: 'warn',
    schema: { tags: ['boot'], summary: 'The per-boot variables file (by its unguessable name only)', security: [] },
  }, async (req, reply) => {
    const ip = clientAddress(req);
    const result = variablesFile(sessions, req.params.name, ip, {
      siteUrl: opts.siteUrl ?? opts.baseUrl ?? baseUrlOf(req),
      ...(opts.passwordSet !== undefined ? { passwordSet: opts.passwordSet } : {}),
      ...(opts.pxePassword !== undefined ? { pxePassword: opts.pxePassword } : {}),
    });
    // The name is a secret: the event carries the session, never the path.
    publish('http.boot', { kind: 'variables', ip, mac: result.session?.mac ?? sessions.byIp(ip)?.mac ?? null, status: result.ok ? 200 : result.status, session: result.session?.id ?? null });
    if (!result.ok && result.status === 503) {
      // A PXE password key file that cannot be used (pxe/pxe-password.ts): refuse, never the clear file.
      req.log.warn(result.reason);
      const e = new PxeError(BOOT_ERRORS.unavailable, `variables file: ${result.reason}`, 503);
      return reply.code(503).header('cache-control', noStore).type('application/json; charset=utf-8').send(e.toJSON());
    }
    const { body, type } = answer(result, 'variables file');
    return reply.header('cache-control', noStore).type(type).send(body);
  });

  app.get<CallbackRoute>('/callback/:mac', {
    schema: { tags: ['boot'], summary: 'A progress report from a machine\'s boot script', security: [] },
  }, async (req, reply) => {
    const ip = clientAddress(req);
    const mac = parseMac(req.params.mac);
    const step = req.query.step;
    if (step === undefined || !(CALLBACK_STEPS as readonly string[]).includes(step)) {
      throw new PxeError(BOOT_ERRORS.badStep, `step must be one of ${CALLBACK_STEPS.join(', ')}`, 400, { field: 'querystring.step' });
    }
    const session = mac === null ? undefined : sessions.byMac(mac);
    if (session === undefined) throw bootNotFound(`no boot session for "${req.params.mac}"`);
    if (session.clientIp !== null && session.clientIp !== ip) {
      publish('http.boot', { kind: 'callback', ip, mac: session.mac, step, status: 403, session: session.id });
      throw bootForbidden(`progress of ${session.mac} is only accepted from ${session.clientIp}`);
    }
    publish('http.boot', { kind: 'callback', ip, mac: session.mac, step: step as CallbackStep, status: 200, session: session.id });
    return reply.header('cache-control', noStore).type('text/plain; charset=utf-8').send('ok\n');
  });

  if (opts.filesRoot) registerBootFiles(app, opts.filesRoot, sessions);
  if (opts.media) await app.register(mediaBootRoutes, opts.media);
};
