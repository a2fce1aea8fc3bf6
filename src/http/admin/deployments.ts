/**
 * Deployments: the deploy wizard over HTTP. POST runs every wizard rule
 * (deploy/wizard.ts via SiteService.createDeployment) and answers 201 with the
 * deployment and the wizard's warnings; a refusal is a 422 naming its rule.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { SiteService } from '../../app/site-service.js';
import { deploymentCreate, deploymentUpdate } from '../../app/schemas.js';
import { actorOf } from '../auth.js';
import { anObject, idParams, listOf, noContent, responses } from './route-schemas.js';

type IdRoute = { Params: { id: string } };
const tags = ['deployments'];

const outcome = (description: string) => ({
  type: 'object',
  additionalProperties: true,
  description,
  properties: {
    deployment: anObject('the deployment (every wizard page, plus id, highRisk, createdBy…)'),
    warnings: { type: 'array', items: { type: 'string' }, description: 'what the wizard would have warned about' },
  },
});

export const deploymentRoutes: FastifyPluginAsync<{ service: SiteService }> = async (app, { service }) => {
  app.get('/deployments', {
    schema: { tags, summary: 'List deployments', response: responses({ 200: listOf('every deployment') }) },
  }, () => service.listDeployments());

  app.get<IdRoute>('/deployments/:id', {
    schema: { tags, summary: 'Get a deployment', params: idParams, response: responses({ 200: anObject('the deployment') }, [404]) },
  }, (req) => service.getDeployment(req.params.id));

  app.post('/deployments', {
    schema: {
      tags,
      summary: 'Deploy a task sequence to a collection (the deploy wizard)',
      description: 'Settings left out come from the template (templateId) or the defaults. High-risk deployments need acceptHighRisk.',
      body: deploymentCreate,
      response: responses({ 201: outcome('the new deployment and the wizard\'s warnings') }, [400, 404, 409, 422]),
    },
  }, async (req, reply) => reply.code(201).send(await service.createDeployment(req.body, actorOf(req))));

  app.patch<IdRoute>('/deployments/:id', {
    schema: {
      tags,
      summary: 'Change a deployment\'s settings (the wizard runs again)',
      params: idParams,
      body: deploymentUpdate,
      response: responses({ 200: outcome('the changed deployment and the wizard\'s warnings') }, [400, 404, 422]),
    },
  }, (req) => service.updateDeployment(req.params.id, req.body, actorOf(req)));

  app.delete<IdRoute>('/deployments/:id', {
    schema: { tags, summary: 'Delete a deployment', params: idParams, response: responses({ 204: noContent }, [404]) },
  }, async (req, reply) => {
    await service.removeDeployment(req.params.id, actorOf(req));
    return reply.code(204).send();
  });
};
