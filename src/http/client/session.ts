/** The authenticated client session of a request, and where the request came from. */
import type { FastifyRequest } from 'fastify';
import type { RequestOrigin } from '../../app/client-service.js';
import type { ClientSession } from '../../site/model.js';

const sessions = new WeakMap<FastifyRequest, ClientSession>();

export function bindSession(request: FastifyRequest, session: ClientSession): void {
  sessions.set(request, session);
}

/** The session of an authenticated client request. */
export function sessionOf(request: FastifyRequest): ClientSession {
  const s = sessions.get(request);
  if (!s) throw new Error('sessionOf() called outside the authenticated client routes');
  return s;
}

export const originOf = (request: FastifyRequest): RequestOrigin => ({ remoteAddress: request.ip });
