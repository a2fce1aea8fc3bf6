/**
 * What administrators do for the client API: issue a one-time boot token for a
 * machine (tests, media builders, manual boots), register a device's client key,
 * and read deployment status — the summary of rule 143 and a device's states of
 * rule 139. Secrets are shown once, in the reply that creates them.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { ClientService, IssueBootTokenInput } from '../../app/client-service.js';
import { bootTokenIssue } from '../../app/client-schemas.js';
import { actorOf } from '../auth.js';
import { anObject, idParams, listOf, responses } from './route-schemas.js';

type IdRoute = { Params: { id: string } };

export const clientCredentialRoutes: FastifyPluginAsync<{ clientService: ClientService }> = async (app, { clientService }) => {
  app.post('/boot-tokens', {
    schema: {
      tags: ['tokens'],
      summary: 'Issue a one-time boot token for a machine',
      description: 'Bound to the MACs / SMBIOS GUID given; the client presents it once to POST /client/identify (as pxeToken, or as the media credential {mediaId: id, secret: token}).',
      body: bootTokenIssue,
      response: responses({
        201: {
          type: 'object',
          additionalProperties: true,
          properties: { token: { type: 'string', description: 'the secret; shown only here' }, id: { type: 'string' }, expiresAt: { type: 'string' } },
        },
      }, [400]),
    },
  }, async (req, reply) => reply.code(201).send(await clientService.issueBootToken(req.body as IssueBootTokenInput, actorOf(req))));

  app.post<IdRoute>('/devices/:id/client-key', {
    schema: {
      tags: ['devices'],
      summary: 'Register a client key for a device (full-OS clients identify with it)',
      params: idParams,
      response: responses({
        201: {
          type: 'object',
          additionalProperties: true,
          properties: { key: { type: 'string', description: 'the secret; shown only here' }, id: { type: 'string' }, deviceId: { type: 'string' } },
        },
      }, [400, 404]),
    },
  }, async (req, reply) => reply.code(201).send(await clientService.registerClientKey(req.params.id, actorOf(req))));

  app.get<IdRoute>('/devices/:id/status', {
    schema: {
      tags: ['devices'],
      summary: 'The device\'s last state of every deployment (rule 139)',
      params: idParams,
      response: responses({ 200: listOf('deviceId, deploymentId, state, stateName, lastMessageId, lastMessage, updatedAt') }, [404]),
    },
  }, (req) => clientService.deviceStatus(req.params.id));

  app.get<IdRoute>('/deployments/:id/summary', {
    schema: {
      tags: ['deployments'],
      summary: 'Deployment status: success, in progress, error, unknown (rule 143)',
      params: idParams,
      response: responses({ 200: anObject('deploymentId, collectionId, targeted, success, inProgress, error, unknown') }, [404]),
    },
  }, (req) => clientService.deploymentSummary(req.params.id));
};
