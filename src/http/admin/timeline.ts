/**
 * GET /api/timeline/:mac — a machine's boot timeline (src/pxe/timeline.ts): DHCP
 * decisions, TFTP transfers and HTTP boot requests in the order they happened.
 * `afterId` pages forward (poll with the last id seen); `limit` (default 200,
 * at most 1000) keeps the newest when `afterId` is not given.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { SiteService } from '../../app/site-service.js';
import { invalid } from '../../errors.js';
import { parseMac } from '../../site/identifiers.js';
import { responses } from './route-schemas.js';

type TimelineRoute = { Params: { mac: string }; Querystring: { afterId?: number; limit?: number } };

export const DEFAULT_TIMELINE_LIMIT = 200;
export const MAX_TIMELINE_LIMIT = 1000;

const eventSchema = {
  type: 'object',
  additionalProperties: true,
  properties: {
    id: { type: 'integer' },
    time: { type: 'string' },
    mac: { type: 'string' },
    kind: { type: 'string', enum: ['dhcp.decision', 'tftp.transfer.end', 'tftp.request.refused', 'http.boot'] },
    clientIp: { anyOf: [{ type: 'string' }, { type: 'null' }] },
    summary: { type: 'string' },
    data: { type: 'object', additionalProperties: true },
  },
};

export const timelineRoutes: FastifyPluginAsync<{ service: SiteService }> = async (app, { service }) => {
  app.get<TimelineRoute>('/timeline/:mac', {
    schema: {
      tags: ['timeline'],
      summary: 'A machine\'s boot timeline (DHCP, TFTP, HTTP), oldest first',
      params: {
        type: 'object', additionalProperties: false, required: ['mac'],
        properties: { mac: { type: 'string', minLength: 1, maxLength: 64, description: 'MAC address, e.g. 52:54:00:77:00:10 or 52-54-00-77-00-10' } },
      },
      querystring: {
        type: 'object', additionalProperties: false,
        properties: {
          afterId: { type: 'integer', minimum: 0, description: 'only events after this id (forward paging)' },
          limit: { type: 'integer', minimum: 1, maximum: MAX_TIMELINE_LIMIT, description: `default ${DEFAULT_TIMELINE_LIMIT}` },
        },
      },
      response: responses({
        200: { type: 'object', additionalProperties: true, properties: { mac: { type: 'string' }, events: { type: 'array', items: eventSchema } } },
      }, [400]),
    },
  }, async (req) => {
    const mac = parseMac(req.params.mac);
    if (mac === null) throw invalid('params.mac', `"${req.params.mac}" is not a MAC address; write it like 52:54:00:77:00:10`);
    const limit = req.query.limit ?? DEFAULT_TIMELINE_LIMIT;
    const events = req.query.afterId !== undefined
      ? await service.repo.bootEvents.list({ mac, afterId: req.query.afterId, limit })
      : (await service.repo.bootEvents.list({ mac, limit, newestFirst: true })).reverse();
    return { mac, events };
  });
};
