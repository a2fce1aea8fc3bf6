/**
 * Generic CRUD for every plain entity kind (schemas.ts PLAIN_KINDS), one route
 * set per kind: /api/devices, /api/collections, /api/packages, /api/boot-images,
 * /api/task-sequences, /api/distribution-points, /api/dp-groups,
 * /api/boundary-groups. The body schemas are the service's own (schemas.ts).
 */
import type { FastifyPluginAsync } from 'fastify';
import type { SiteService } from '../../app/site-service.js';
import { HANDLERS } from '../../app/entities.js';
import { ENTITY_SCHEMAS, PLAIN_KINDS, type PlainKind } from '../../app/schemas.js';
import { actorOf } from '../auth.js';
import { anObject, idParams, listOf, noContent, responses } from './route-schemas.js';
import { maskSecrets, restoreMaskedSecrets } from './secret-variables.js';

type IdRoute = { Params: { id: string } };

export const entityRoutes: FastifyPluginAsync<{ service: SiteService }> = async (app, { service }) => {
  for (const kind of PLAIN_KINDS) routesFor(kind);

  function routesFor(kind: PlainKind): void {
    const noun = HANDLERS[kind].noun;
    const tags = [kind];
    const one = anObject(`the ${noun}`);

    app.get(`/${kind}`, {
      schema: { tags, summary: `List ${noun}s`, response: responses({ 200: listOf(`every ${noun}`) }) },
    }, async () => (await service.list(kind)).map(maskSecrets));

    app.get<IdRoute>(`/${kind}/:id`, {
      schema: { tags, summary: `Get a ${noun}`, params: idParams, response: responses({ 200: one }, [404]) },
    }, async (req) => maskSecrets(await service.get(kind, req.params.id)));

    app.post(`/${kind}`, {
      schema: {
        tags, summary: `Create a ${noun}`, body: ENTITY_SCHEMAS[kind].create,
        response: responses({ 201: anObject(`the new ${noun}, with its id`) }, [400, 409]),
      },
    }, async (req, reply) => {
      // A mask in a new object stands for nothing: refused rather than stored as the value.
      const created = await service.create(kind, restoreMaskedSecrets(req.body, undefined), actorOf(req));
      return reply.code(201).send(maskSecrets(created));
    });

    app.patch<IdRoute>(`/${kind}/:id`, {
      schema: {
        tags, summary: `Change a ${noun}`, description: 'Only the fields sent change.',
        params: idParams, body: ENTITY_SCHEMAS[kind].update, response: responses({ 200: anObject(`the changed ${noun}`) }, [400, 404, 409]),
      },
    }, async (req) => {
      const actor = actorOf(req);
      const body = (req.body as { variables?: unknown }).variables === undefined
        ? req.body
        : restoreMaskedSecrets(req.body, await service.get(kind, req.params.id));
      return maskSecrets(await service.update(kind, req.params.id, body, actor));
    });

    app.delete<IdRoute>(`/${kind}/:id`, {
      schema: { tags, summary: `Delete a ${noun}`, params: idParams, response: responses({ 204: noContent }, [404, 409]) },
    }, async (req, reply) => {
      await service.remove(kind, req.params.id, actorOf(req));
      return reply.code(204).send();
    });
  }
};
