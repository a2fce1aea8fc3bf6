/**
 * API tokens. Only a hash of each secret is stored; the secret is shown once, in
 * the reply that creates the token. Replies never carry the hash either.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { SiteService } from '../../app/site-service.js';
import { tokenCreate } from '../../app/schemas.js';
import type { ApiToken } from '../../site/model.js';
import { actorOf } from '../auth.js';
import { idParams, noContent, responses } from './route-schemas.js';

type IdRoute = { Params: { id: string } };
const tags = ['tokens'];

export type PublicToken = Omit<ApiToken, 'hash'>;
export const publicToken = ({ hash: _hash, ...rest }: ApiToken): PublicToken => rest;

const tokenSchema = {
  type: 'object',
  additionalProperties: true,
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    createdAt: { type: 'string' },
    lastUsedAt: { anyOf: [{ type: 'string' }, { type: 'null' }] },
  },
};

export const tokenRoutes: FastifyPluginAsync<{ service: SiteService }> = async (app, { service }) => {
  app.get('/tokens', {
    schema: { tags, summary: 'List API tokens (never their secrets)', response: responses({ 200: { type: 'array', items: tokenSchema } }) },
  }, async () => (await service.listTokens()).map(publicToken));

  app.post('/tokens', {
    schema: {
      tags,
      summary: 'Create an API token',
      description: 'The reply is the only time the secret is shown; keep it.',
      body: tokenCreate,
      response: responses({
        201: { type: 'object', additionalProperties: true, properties: { token: tokenSchema, secret: { type: 'string', description: 'send as "Authorization: Bearer <secret>"' } } },
      }, [400]),
    },
  }, async (req, reply) => {
    const { token, secret } = await service.createToken(req.body, actorOf(req));
    return reply.code(201).send({ token: publicToken(token), secret });
  });

  app.delete<IdRoute>('/tokens/:id', {
    schema: { tags, summary: 'Revoke an API token', params: idParams, response: responses({ 204: noContent }, [404]) },
  }, async (req, reply) => {
    await service.revokeToken(req.params.id, actorOf(req));
    return reply.code(204).send();
  });
};
