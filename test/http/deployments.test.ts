import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTOR, startHarness, type Harness } from './harness.js';
import { createDeployableSite, type DeployableSite } from './fixtures.js';

let h: Harness;
let site: DeployableSite;
beforeAll(async () => {
  h = await startHarness();
  site = await createDeployableSite(h);
});
afterAll(() => h.close());

describe('/api/deployments (the deploy wizard)', () => {
  it('creates a deployment: 201 with {deployment, warnings}, audited under the token', async () => {
    const r = await h.api('POST', '/api/deployments', {
      taskSequenceId: site.taskSequenceId,
      collectionId: site.collectionId,
      comment: 'lab rebuild',
      settings: { deploymentSettings: { availableTo: 'clients-media-pxe' }, userExperience: { allowRunIndependently: false } },
    });
    expect(r.statusCode, r.body).toBe(201);
    const { deployment, warnings } = r.json();
    expect(deployment).toMatchObject({
      id: expect.stringMatching(/^PXP2[0-9A-F]{4}$/),
      taskSequenceId: site.taskSequenceId,
      collectionId: site.collectionId,
      comment: 'lab rebuild',
      createdBy: ACTOR,
      deploymentSettings: { purpose: 'available', availableTo: 'clients-media-pxe' },
      userExperience: { allowRunIndependently: true }, // rule 7 turned it back on…
    });
    expect(warnings.join(' ')).toContain('rule 7'); // …and said so

    expect((await h.api('GET', `/api/deployments/${deployment.id}`)).json()).toEqual(deployment);
    expect((await h.api('GET', '/api/deployments')).json()).toContainEqual(deployment);
    const audit = await h.service.messages({ kind: 'audit', deploymentId: deployment.id });
    expect(audit).toEqual([expect.objectContaining({ actor: ACTOR, component: 'admin-api', data: expect.objectContaining({ action: 'create', entity: 'deployments' }) })]);

    const changed = await h.api('PATCH', `/api/deployments/${deployment.id}`, { comment: 'lab rebuild, week 2', settings: { userExperience: { showProgress: false } } });
    expect(changed.statusCode, changed.body).toBe(200);
    expect(changed.json().deployment).toMatchObject({ comment: 'lab rebuild, week 2', userExperience: { showProgress: false } });

    expect((await h.api('DELETE', `/api/deployments/${deployment.id}`)).statusCode).toBe(204);
    expect((await h.api('GET', `/api/deployments/${deployment.id}`)).statusCode).toBe(404);
    expect((await h.service.messages({ kind: 'audit', deploymentId: deployment.id })).map((m) => [m.actor, m.data.action]))
      .toEqual([[ACTOR, 'create'], [ACTOR, 'update'], [ACTOR, 'delete']]);
  });

  it('answers 422 naming the rule when the wizard refuses, and writes nothing', async () => {
    const before = (await h.api('GET', '/api/deployments')).json();
    const r = await h.api('POST', '/api/deployments', {
      taskSequenceId: site.taskSequenceId,
      collectionId: site.collectionId,
      settings: { deploymentSettings: { purpose: 'available', sendWakeUpPackets: true } },
    });
    expect(r.statusCode).toBe(422);
    expect(r.json()).toMatchObject({ code: 'PXE_ERR_REQUIRED_ONLY_OPTION', rule: 6, field: 'settings.deploymentSettings.sendWakeUpPackets' });
    expect((await h.api('GET', '/api/deployments')).json()).toEqual(before);
  });

  it('answers 404 for a task sequence that does not exist', async () => {
    const r = await h.api('POST', '/api/deployments', { taskSequenceId: 'PXP0FFFF', collectionId: site.collectionId });
    expect(r.statusCode).toBe(404);
    expect(r.json().code).toBe('PXE_ERR_NOT_FOUND');
  });

  it('needs acceptHighRisk for a high-risk deployment, and audits the acceptance', async () => {
    const server = await h.api('POST', '/api/devices', { name: 'site-server', macs: ['52:54:00:77:00:99'], isSiteSystem: true });
    const coll = await h.api('POST', '/api/collections', { name: 'Servers', directMemberIds: [server.json().id] });
    const body = {
      taskSequenceId: site.taskSequenceId,
      collectionId: coll.json().id,
      settings: { deploymentSettings: { purpose: 'required', availableTo: 'media-pxe' } },
    };
    const refused = await h.api('POST', '/api/deployments', body);
    expect(refused.statusCode).toBe(422);
    expect(refused.json()).toMatchObject({ code: 'PXE_ERR_HIGH_RISK_NOT_ACCEPTED', rule: 135, field: 'acceptHighRisk', warnings: [expect.any(String)] });

    const accepted = await h.api('POST', '/api/deployments', { ...body, acceptHighRisk: true });
    expect(accepted.statusCode, accepted.body).toBe(201);
    const { deployment } = accepted.json();
    expect(deployment.highRisk).toMatchObject({ accepted: true, memberCountAtCreation: 1 });
    const audit = await h.service.messages({ kind: 'audit', deploymentId: deployment.id });
    expect(audit.find((m) => m.data.action === 'high-risk-accepted')).toMatchObject({ actor: ACTOR, severity: 'warning' });
  });
});

describe('/api/templates', () => {
  it('saves a template from settings, reads it by id and by name, deploys from it and deletes it', async () => {
    const saved = await h.api('POST', '/api/templates', {
      name: 'PXE only',
      settings: { deploymentSettings: { availableTo: 'media-pxe' }, userExperience: { showProgress: false } },
    });
    expect(saved.statusCode, saved.body).toBe(201);
    const template = saved.json();
    expect((await h.api('GET', `/api/templates/${template.id}`)).json()).toEqual(template);
    expect((await h.api('GET', '/api/templates/PXE%20only')).json()).toEqual(template);
    const asSettings = await h.api('GET', `/api/templates/${template.id}/settings`);
    expect(asSettings.json()).toMatchObject({ deploymentSettings: { availableTo: 'media-pxe' } });

    const dup = await h.api('POST', '/api/templates', { name: 'PXE only', settings: {} });
    expect(dup.statusCode).toBe(409);
    expect(dup.json()).toMatchObject({ code: 'PXE_ERR_CONFLICT', field: 'body.name' });

    const d = await h.api('POST', '/api/deployments', { taskSequenceId: site.taskSequenceId, collectionId: site.collectionId, templateId: template.id });
    expect(d.statusCode, d.body).toBe(201);
    expect(d.json().deployment).toMatchObject({ templateId: template.id, deploymentSettings: { availableTo: 'media-pxe' }, userExperience: { showProgress: false } });

    expect((await h.api('DELETE', `/api/templates/${template.id}`)).statusCode).toBe(204);
    expect((await h.api('GET', `/api/templates/${template.id}`)).statusCode).toBe(404);
    const actions = (await h.service.messages({ kind: 'audit' })).filter((m) => m.data.entity === 'templates').map((m) => [m.actor, m.data.action]);
    expect(actions).toEqual([[ACTOR, 'create'], [ACTOR, 'delete']]);
  });
});
