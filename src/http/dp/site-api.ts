/**
 * The site's content API under /api/content/ (bearer token, like the rest of /api/):
 * what distribution points poll and report (docs/decisions/0010-content-distribution.md)
 * and what operators ask.
 *
 *   GET  /api/content/site-key                               the manifest-signing public key (DPs pin it)
 *   GET  /api/content/dps/:dpId/assignments                  what this DP should hold
 *   PUT  /api/content/dps/:dpId/packages/:packageId          a DP's report {version, state, detail?, validated?}
 *   POST /api/content/dps/:dpId/packages/:packageId/request  on-demand distribution (rule 125)
 *   POST /api/content/dps/:dpId/validate                     validate everything on the DP at its next poll
 *   POST /api/content/packages/:packageId/distribute         {distributionPointIds?, groupIds?}
 *   GET  /api/content/status?packageId=                      versions and per-DP states
 */
import type { FastifyPluginAsync } from 'fastify';
import type { SiteService } from '../../app/site-service.js';
import {
  assignmentsOf, distribute, recordReport, requestOnDemand, requestValidation, resolveTargets,
} from '../../content/distribution.js';
import type { SiteContent } from '../../content/site-content.js';
import { DP_CONTENT_STATES, type DpContentState } from '../../site/model.js';
import { actorOf, requireBearerToken } from '../auth.js';

const id = { type: 'string', minLength: 1, maxLength: 64 } as const;
const reportBody = {
  type: 'object', additionalProperties: false, required: ['version', 'state'],
  properties: {
    version: { type: 'integer', minimum: 1 },
    state: { type: 'string', enum: [...DP_CONTENT_STATES] },
    detail: { type: ['string', 'null'], maxLength: 2000 },
    validated: { type: 'boolean' },
  },
} as const;
const distributeBody = {
  type: 'object', additionalProperties: false,
  properties: { distributionPointIds: { type: 'array', items: id, maxItems: 1000 }, groupIds: { type: 'array', items: id, maxItems: 1000 } },
} as const;

type DpRoute = { Params: { dpId: string } };
type DpPackageRoute = { Params: { dpId: string; packageId: string } };

export const siteContentApi: FastifyPluginAsync<{ service: SiteService; content: SiteContent }> = async (app, { service, content }) => {
  requireBearerToken(app, service);
  app.addHook('onSend', async (_req, reply) => {
    void reply.header('cache-control', 'no-store');
  });
  const repo = content.repo;
  const now = (): string => new Date().toISOString();

  app.get('/site-key', async () => ({ publicKeyPem: content.publicKeyPem(), keyId: content.key.keyId }));

  app.get<DpRoute>('/dps/:dpId/assignments', { schema: { params: { type: 'object', properties: { dpId: id } } } },
    async (req) => ({ assignments: await assignmentsOf(repo, req.params.dpId) }));

  app.put<DpPackageRoute & { Body: { version: number; state: DpContentState; detail?: string | null; validated?: boolean } }>(
    '/dps/:dpId/packages/:packageId', { schema: { body: reportBody } },
    async (req) => ({ recorded: (await recordReport(repo, req.params.dpId, req.params.packageId, req.body, now())) !== null }),
  );

  app.post<DpPackageRoute>('/dps/:dpId/packages/:packageId/request', async (req) => {
    const state = await requestOnDemand(repo, req.params.dpId, req.params.packageId, now());
    return { assigned: state };
  });

  app.post<DpRoute>('/dps/:dpId/validate', async (req) => ({ requested: await requestValidation(repo, req.params.dpId, actorOf(req), now()) }));

  app.post<{ Params: { packageId: string }; Body: { distributionPointIds?: string[]; groupIds?: string[] } }>(
    '/packages/:packageId/distribute', { schema: { body: distributeBody } },
    async (req) => {
      const targets = await resolveTargets(repo, req.body?.distributionPointIds ?? [], req.body?.groupIds ?? []);
      return distribute(repo, [req.params.packageId], targets, actorOf(req), now());
    },
  );

  app.get<{ Querystring: { packageId?: string } }>('/status', { schema: { querystring: { type: 'object', additionalProperties: false, properties: { packageId: id } } } },
    async (req) => ({
      versions: await repo.content.listVersions(req.query.packageId),
      distributionPoints: await repo.content.listDpStates(req.query.packageId ? { packageId: req.query.packageId } : {}),
    }));
};
