/**
 * Deployment templates (rule 4): saved wizard settings, without the pages a
 * template never stores (scheduling, software installation, pre-download).
 */
import type { FastifyPluginAsync } from 'fastify';
import type { SiteService } from '../../app/site-service.js';
import { templateCreate } from '../../app/schemas.js';
import { actorOf } from '../auth.js';
import { anObject, idParams, listOf, noContent, responses } from './route-schemas.js';

type IdRoute = { Params: { id: string } };
const tags = ['templates'];
const idOrName = {
  ...idParams,
  properties: { id: { type: 'string', minLength: 1, maxLength: 256, description: 'template id or name' } },
};

export const templateRoutes: FastifyPluginAsync<{ service: SiteService }> = async (app, { service }) => {
  app.get('/templates', {
    schema: { tags, summary: 'List deployment templates', response: responses({ 200: listOf('every template') }) },
  }, () => service.listTemplates());

  app.get<IdRoute>('/templates/:id', {
    schema: { tags, summary: 'Get a deployment template by id or name', params: idOrName, response: responses({ 200: anObject('the template') }, [404]) },
  }, (req) => service.getTemplate(req.params.id));

  app.get<IdRoute>('/templates/:id/settings', {
    schema: {
      tags,
      summary: 'A template\'s settings as deployment wizard input',
      description: 'What POST /api/deployments starts from when given this template.',
      params: idOrName,
      response: responses({ 200: anObject('wizard settings, page by page') }, [404]),
    },
  }, (req) => service.templateAsSettings(req.params.id));

  app.post('/templates', {
    schema: {
      tags,
      summary: 'Save a deployment template',
      description: 'From an existing deployment (fromDeploymentId) or from the settings given.',
      body: templateCreate,
      response: responses({ 201: anObject('the new template') }, [400, 409]),
    },
  }, async (req, reply) => reply.code(201).send(await service.saveTemplate(req.body, actorOf(req))));

  app.delete<IdRoute>('/templates/:id', {
    schema: { tags, summary: 'Delete a deployment template', params: idParams, response: responses({ 204: noContent }, [404]) },
  }, async (req, reply) => {
    await service.removeTemplate(req.params.id, actorOf(req));
    return reply.code(204).send();
  });
};
