/**
 * What operators do besides editing objects: Clear Required PXE Deployments
 * (rule 40), collection membership, the rule 1 reference check of a task
 * sequence, the site settings, and the status/audit message log.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { SiteService } from '../../app/site-service.js';
import { clearPxeBody, siteSettingsUpdate } from '../../app/schemas.js';
import { clearPxePassword, pxePasswordStatus, setPxePassword } from '../../app/pxe-password.js';
import { MAX_PXE_PASSWORD_LENGTH } from '../../pxe/pxe-password.js';
import type { MessageKind } from '../../site/model.js';
import { actorOf } from '../auth.js';
import { anObject, idParams, listOf, responses } from './route-schemas.js';
import { maskSecrets } from './secret-variables.js';

type IdRoute = { Params: { id: string } };

/** Default and largest page of messages; page forward with afterId = the last id seen. */
export const MESSAGE_PAGE = { default: 100, max: 1000 } as const;

const messagesQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    kind: { type: 'string', enum: ['status', 'audit'] },
    deviceId: { type: 'string', minLength: 1, maxLength: 64 },
    deploymentId: { type: 'string', minLength: 1, maxLength: 64 },
    afterId: { type: 'integer', minimum: 0, description: 'only messages with a greater id (oldest first)' },
    limit: { type: 'integer', minimum: 1, maximum: MESSAGE_PAGE.max, default: MESSAGE_PAGE.default },
  },
} as const;

type MessagesRoute = {
  Querystring: { kind?: MessageKind; deviceId?: string; deploymentId?: string; afterId?: number; limit?: number };
};

/**
 * PUT /api/settings/pxe-password (rules 47, 73): write-only. The password is never
 * echoed, stored or logged — the body member is `password`, which the HTTP logger
 * redacts (app.ts REDACT_PATHS), and only its scrypt-derived key is stored.
 */
const pxePasswordBody = {
  type: 'object',
  additionalProperties: false,
  required: ['password'],
  properties: { password: { type: 'string', minLength: 1, maxLength: MAX_PXE_PASSWORD_LENGTH * 2, writeOnly: true, description: 'the PXE password (write-only; never returned or logged)' } },
} as const;
const pxePasswordReply = anObject('passwordSet; kdf (the scrypt cost, never the salt or key); problem when the stored key is unusable');

export const operationRoutes: FastifyPluginAsync<{ service: SiteService; dataDir?: string }> = async (app, { service, dataDir }) => {
  app.post('/clear-pxe', {
    schema: {
      tags: ['operations'],
      summary: 'Clear Required PXE Deployments of a device or of every member of a collection',
      description: 'The machines boot the required PXE deployment again (rules 40–41).',
      body: clearPxeBody,
      response: responses({
        200: { type: 'object', additionalProperties: true, properties: { cleared: { type: 'array', items: { type: 'string' } } }, description: 'ids of the devices cleared' },
      }, [400, 404]),
    },
  }, (req) => service.clearPxe(req.body, actorOf(req)));

  app.get<IdRoute>('/collections/:id/members', {
    schema: { tags: ['collections'], summary: 'Devices in a collection', params: idParams, response: responses({ 200: listOf('the member devices') }, [404]) },
  }, async (req) => (await service.members(req.params.id)).map(maskSecrets));

  app.get<IdRoute>('/task-sequences/:id/check', {
    schema: {
      tags: ['task-sequences'],
      summary: 'Check a task sequence\'s references (rule 1)',
      description: 'Lists every reference that is not valid; a task sequence with any cannot be deployed.',
      params: idParams,
      response: responses({
        200: {
          type: 'object',
          additionalProperties: true,
          properties: { taskSequenceId: { type: 'string' }, deployable: { type: 'boolean' }, problems: listOf('each invalid reference: kind, stepIndex, stepName, referenceId, message') },
        },
      }, [404]),
    },
  }, async (req) => {
    const problems = await service.checkTaskSequence(req.params.id);
    return { taskSequenceId: req.params.id, deployable: problems.length === 0, problems };
  });

  app.get('/settings', {
    schema: { tags: ['settings'], summary: 'Site settings', response: responses({ 200: anObject('siteCode, siteName, deploymentVerification') }) },
  }, () => service.getSettings());

  app.patch('/settings', {
    schema: {
      tags: ['settings'],
      summary: 'Change site settings',
      description: 'The site code is fixed at installation.',
      body: siteSettingsUpdate,
      response: responses({ 200: anObject('the changed settings') }, [400, 422]),
    },
  }, (req) => service.updateSettings(req.body, actorOf(req)));

  if (dataDir !== undefined) {
    // Rules 47/73: the PXE password (src/pxe/pxe-password.ts; docs/pxe.md "PXE password").
    app.get('/settings/pxe-password', {
      schema: { tags: ['settings'], summary: 'Whether a PXE password is set', response: responses({ 200: pxePasswordReply }) },
    }, () => pxePasswordStatus(dataDir));

    app.put<{ Body: { password: string } }>('/settings/pxe-password', {
      schema: {
        tags: ['settings'],
        summary: 'Set or change the PXE password',
        description: 'With a PXE password, every per-boot PXE variables file (boot token and variables) is served sealed: only the password opens it. Only a key derived from the password (scrypt) is stored; the password is never returned or logged.',
        body: pxePasswordBody,
        response: responses({ 200: pxePasswordReply }, [400]),
      },
    }, (req) => setPxePassword(service.repo, dataDir, req.body.password, actorOf(req)));

    app.delete('/settings/pxe-password', {
      schema: { tags: ['settings'], summary: 'Clear the PXE password (variables files are served in the clear again)', response: responses({ 200: anObject('passwordSet: false; cleared: whether one was set') }) },
    }, (req) => clearPxePassword(service.repo, dataDir, actorOf(req)));
  }

  app.get<MessagesRoute>('/messages', {
    schema: {
      tags: ['messages'],
      summary: 'Status and audit messages, oldest first',
      description: `At most \`limit\` (default ${MESSAGE_PAGE.default}) messages; read on with afterId = the last id received.`,
      querystring: messagesQuery,
      response: responses({ 200: listOf('messages: id, time, kind, severity, component, actor, text, deviceId, deploymentId, data') }, [400]),
    },
  }, (req) => {
    const { kind, deviceId, deploymentId, afterId, limit } = req.query;
    return service.messages({
      ...(kind !== undefined ? { kind } : {}),
      ...(deviceId !== undefined ? { deviceId } : {}),
      ...(deploymentId !== undefined ? { deploymentId } : {}),
      ...(afterId !== undefined ? { afterId } : {}),
      limit: limit ?? MESSAGE_PAGE.default,
    });
  });
};
