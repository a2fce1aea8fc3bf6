/**
 * The HTTP app: the admin API under /api/, the client API under /client/ and
 * their OpenAPI document. Built
 * without listening, so tests drive it with `inject` and the composition root
 * decides where it listens.
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { LoggerOptions } from 'pino';
import type { ClientService } from '../app/client-service.js';
import type { MediaService } from '../app/media-service.js';
import type { SiteService } from '../app/site-service.js';
import { adminApi } from './admin/index.js';
import { bootRoutes, type BootHttpOptions } from './boot/index.js';
import { mediaBootRoutes } from './boot/media.js';
import { clientApi } from './client/index.js';
import type { ContentSource } from '../content/source.js';
import type { SiteContent } from '../content/site-content.js';
import { dpContentRoutes } from './dp/routes.js';
import { siteContentApi } from './dp/site-api.js';
import { installErrorHandling } from './error-handler.js';
import { registerOpenApi } from './openapi.js';
import { validatorCompiler } from './validation.js';

export interface HttpAppOptions {
  service: SiteService;
  /** The client API (/client/) and its admin routes are served only when given. */
  clientService?: ClientService;
  /** A logger to use (a pino logger), pino options, or false for none. Default: none. */
  logger?: FastifyBaseLogger | LoggerOptions | false;
  /** Largest request body in bytes (default 1 MiB). */
  bodyLimit?: number;
  /** Shown as info.version in /openapi.json. */
  version?: string;
  /** The boot routes (/boot/: iPXE scripts, variables files, boot files) are served only when given. */
  boot?: BootHttpOptions;
  /** The site's content library: /api/content/ (DPs and operators) and the DP routes served from the site's own library. */
  content?: SiteContent;
  /** Issue 7: the boot media registry: /api/media (admin) and /boot/media/<id>/start.cfg (boot loaders), with or without `boot`. */
  media?: MediaService;
  /** The data directory: GET /api/media/<id>/image streams images under <dataDir>/media/ only. */
  dataDir?: string;
  /** The boot files root: with `media` and `dataDir`, POST /api/media builds media from it. */
  tftpRoot?: string;
}

export const DEFAULT_BODY_LIMIT = 1024 * 1024;

/**
 * Paths pino blanks out: the bearer secret, and any `secret` field (token
 * secrets, secret variables) in whatever object gets logged.
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'request.headers.authorization',
  'headers.authorization',
  'secret',
  '*.secret',
  '*.*.secret',
  // The media password of POST /api/media (issue 7): write-only, never logged.
  'password',
  '*.password',
  '*.*.password',
];
const redact = { paths: REDACT_PATHS, censor: '[redacted]' };

const isLoggerInstance = (l: unknown): l is FastifyBaseLogger =>
  typeof l === 'object' && l !== null && typeof (l as FastifyBaseLogger).child === 'function' && typeof (l as FastifyBaseLogger).info === 'function';

function loggerOptions(logger: HttpAppOptions['logger']): Pick<FastifyServerOptions, 'logger' | 'loggerInstance'> {
  if (logger === undefined || logger === false) return { logger: false };
  // A given pino logger gets the redaction through a child (pino applies child `redact` options).
  if (isLoggerInstance(logger)) return { loggerInstance: logger.child({ component: 'http' }, { redact }) };
  return { logger: { ...logger, redact } };
}

export async function buildHttpApp(opts: HttpAppOptions): Promise<FastifyInstance> {
  const bodyLimit = opts.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const app = Fastify({
    ...loggerOptions(opts.logger),
    bodyLimit,
    // Every client byte is untrusted: "__proto__"/"constructor" in JSON is refused (fastify's default, made explicit).
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    // Paths are exact: "/api/devices/" is not "/api/devices".
    routerOptions: { ignoreTrailingSlash: false, caseSensitive: true },
  }) as unknown as FastifyInstance;

  app.setValidatorCompiler(validatorCompiler);
  // Response schemas are documentation (OpenAPI) only: replies are plain JSON.stringify,
  // so a schema can never silently drop a field from a reply.
  app.setSerializerCompiler(() => (data: unknown) => JSON.stringify(data));
  installErrorHandling(app, bodyLimit);

  await registerOpenApi(app, opts.version ?? 'dev');
  await app.register(adminApi, {
    prefix: '/api', service: opts.service, ...(opts.clientService ? { clientService: opts.clientService } : {}),
    ...(opts.media ? { media: opts.media } : {}), ...(opts.dataDir !== undefined ? { dataDir: opts.dataDir } : {}),
    ...(opts.tftpRoot !== undefined ? { tftpRoot: opts.tftpRoot } : {}),
  });
  if (opts.clientService) await app.register(clientApi, { prefix: '/client', clientService: opts.clientService });
  if (opts.boot) await app.register(bootRoutes, { prefix: '/boot', ...(opts.media ? { media: { media: opts.media } } : {}), ...opts.boot });
  else if (opts.media) await app.register(mediaBootRoutes, { prefix: '/boot', media: opts.media });
  if (opts.content) {
    await app.register(siteContentApi, { prefix: '/api/content', service: opts.service, content: opts.content });
    await app.register(dpContentRoutes, { source: opts.content satisfies ContentSource });
  }
  return app;
}
