/**
 * The HTTP app of a distribution point process (role dp without site): only the
 * content routes and a health check. Small on purpose: it serves bytes.
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { ContentSource } from '../../content/source.js';
import { dpContentRoutes } from './routes.js';

export async function buildDpApp(opts: { source: ContentSource; logger?: FastifyBaseLogger | false }): Promise<FastifyInstance> {
  const app = Fastify({
    ...(opts.logger ? { loggerInstance: opts.logger.child({ component: 'dp-http' }) } : { logger: false }),
    routerOptions: { ignoreTrailingSlash: false, caseSensitive: true },
    // Many clients at once, each holding its connection for a long download.
    keepAliveTimeout: 10_000,
    requestTimeout: 0,
  }) as unknown as FastifyInstance;
  app.get('/api/health', () => ({ status: 'ok', role: 'dp' }));
  await app.register(dpContentRoutes, { source: opts.source });
  return app;
}
