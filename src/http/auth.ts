/**
 * Bearer-token authentication of the admin API. The token's name becomes the
 * actor of every change the request makes, so the audit trail says which token
 * did what. Runs as an onRequest hook: an unauthenticated request is refused
 * before its body is even read.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Actor, SiteService } from '../app/site-service.js';
import { unauthenticated } from './error-codes.js';

/** The component named in audit messages written through the admin API. */
export const ADMIN_API_COMPONENT = 'admin-api';

const actors = new WeakMap<FastifyRequest, Actor>();

/** The authenticated actor of a request (only inside the admin routes). */
export function actorOf(request: FastifyRequest): Actor {
  const actor = actors.get(request);
  if (!actor) throw unauthenticated('this request was not authenticated');
  return actor;
}

/** "Bearer <secret>" → secret; undefined for anything else. */
export function bearerSecret(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const m = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
  return m?.[1];
}

export function requireBearerToken(app: FastifyInstance, service: SiteService): void {
  app.addHook('onRequest', async (request) => {
    const header = request.headers.authorization;
    const secret = bearerSecret(header);
    if (secret === undefined) {
      throw unauthenticated(header === undefined ? 'no API token was sent' : 'the Authorization header is not "Bearer <secret>"');
    }
    const token = await service.authenticate(secret);
    if (!token) throw unauthenticated('the API token is not valid (unknown or revoked)');
    actors.set(request, { name: `token:${token.name}`, component: ADMIN_API_COMPONENT });
  });
}
