/**
 * The admin API under /api/: GET /api/health is open; everything else needs a
 * bearer token (auth.ts). Each area is its own plugin, registered inside the
 * authenticated scope so no route can be added there without the check.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { ClientService } from '../../app/client-service.js';
import type { MediaService } from '../../app/media-service.js';
import type { SiteService } from '../../app/site-service.js';
import { requireBearerToken } from '../auth.js';
import { clientCredentialRoutes } from './client-credentials.js';
import { deploymentRoutes } from './deployments.js';
import { entityRoutes } from './entities.js';
import { mediaRoutes } from './media.js';
import { mediaCreateRoutes } from './media-create.js';
import { operationRoutes } from './operations.js';
import { templateRoutes } from './templates.js';
import { timelineRoutes } from './timeline.js';
import { tokenRoutes } from './tokens.js';

export interface AdminApiOptions {
  service: SiteService;
  /** With a client service: boot tokens, client keys and deployment status routes too. */
  clientService?: ClientService;
  /** Issue 7: with the media registry, /api/media routes too (images from <dataDir>/media/). */
  media?: MediaService;
  dataDir?: string;
  /** The boot files root (config tftpRoot): POST /api/media builds media from it. */
  tftpRoot?: string;
}

export const adminApi: FastifyPluginAsync<AdminApiOptions> = async (app, { service, clientService, media, dataDir, tftpRoot }) => {
  app.get('/health', {
    schema: {
      tags: ['meta'],
      summary: 'Liveness check (no token needed)',
      security: [],
      response: { 200: { type: 'object', additionalProperties: true, properties: { status: { type: 'string', enum: ['ok'] } } } },
    },
  }, () => ({ status: 'ok' }));

  await app.register(async (authenticated) => {
    requireBearerToken(authenticated, service);
    // Admin replies describe the site as it is now; no cache should keep them (token secrets least of all).
    authenticated.addHook('onSend', async (_req, reply) => {
      void reply.header('cache-control', 'no-store');
    });
    await authenticated.register(entityRoutes, { service });
    await authenticated.register(operationRoutes, { service, ...(dataDir !== undefined ? { dataDir } : {}) });
    await authenticated.register(deploymentRoutes, { service });
    await authenticated.register(templateRoutes, { service });
    await authenticated.register(tokenRoutes, { service });
    await authenticated.register(timelineRoutes, { service });
    if (clientService) await authenticated.register(clientCredentialRoutes, { clientService });
    if (media) await authenticated.register(mediaRoutes, { media, ...(dataDir !== undefined ? { dataDir } : {}) });
    // MEDIA-CREATE HOOK (issue 7, the builder's POST /api/media, admin/media-create.ts): needs the data directory and the boot files root.
    if (media && dataDir !== undefined && tftpRoot !== undefined) await authenticated.register(mediaCreateRoutes, { media, repo: service.repo, dataDir, tftpRoot });
  });
};
