/**
 * The client API under /client/ (contract: policy/client-api.ts). POST
 * /client/identify carries its credential in the body; every other route needs
 * `Authorization: Bearer <sessionToken>` and answers for that session's machine
 * only — no route takes a machine or device id, so one machine cannot name
 * another's. Errors have the admin API's shape (one error handler).
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { ClientService } from '../../app/client-service.js';
import { identifyBody, statusBody } from '../../app/client-schemas.js';
import { bearerSecret } from '../auth.js';
import { contentRoute } from './content.js';
import { CLIENT_TAGS, clientResponses, identifyReply, policyReply, sessionSecurity, statusReply, variablesReply } from './schemas.js';
import { bindSession, originOf, sessionOf } from './session.js';

export interface ClientApiOptions {
  clientService: ClientService;
}

/** How this client reached the site ("http://10.77.0.1:8080"), for absolute content locations. */
const siteUrlOf = (request: FastifyRequest): string => `${request.protocol}://${request.host}`;

export const clientApi: FastifyPluginAsync<ClientApiOptions> = async (app, { clientService }) => {
  // Policies, variables (secret ones included) and session tokens: nothing here may be cached.
  app.addHook('onSend', async (_req, reply) => {
    void reply.header('cache-control', 'no-store');
  });

  app.post('/identify', {
    schema: {
      tags: CLIENT_TAGS,
      summary: 'Identify a machine with its boot token, media credential or client key; answers a session',
      description: 'Exactly one credential. A boot token is one-time and bound to the MAC/SMBIOS GUID it was issued for. Refusals are audited.',
      security: [],
      body: identifyBody,
      response: clientResponses({ 200: identifyReply }, [400, 409]),
    },
  }, (req) => clientService.identify(req.body, originOf(req)));

  await app.register(async (authed) => {
    authed.addHook('onRequest', async (req) => {
      bindSession(req, await clientService.authenticate(bearerSecret(req.headers.authorization), originOf(req)));
    });

    authed.get('/policy', {
      schema: { tags: CLIENT_TAGS, summary: 'What this machine may run, and why the rest is excluded', security: sessionSecurity, response: clientResponses({ 200: policyReply }) },
    }, (req) => clientService.policy(sessionOf(req), siteUrlOf(req), originOf(req)));

    authed.get('/variables', {
      schema: { tags: CLIENT_TAGS, summary: 'This machine\'s task sequence variables', security: sessionSecurity, response: clientResponses({ 200: variablesReply }) },
    }, (req) => clientService.variables(sessionOf(req)));

    authed.post('/status', {
      schema: {
        tags: CLIENT_TAGS,
        summary: 'Report this machine\'s state of a deployment (rule 139)',
        security: sessionSecurity,
        body: statusBody,
        response: clientResponses({ 200: statusReply }, [400, 403, 409]),
      },
    }, (req) => clientService.reportStatus(sessionOf(req), req.body, originOf(req)));

    await authed.register(contentRoute, { clientService });
  });
};
