import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InjectOptions } from 'fastify';
import { PLAIN_KINDS } from '../../src/app/schemas.js';
import { SAMPLES, createDeployableSite } from './fixtures.js';
import { ACTOR, startHarness, type Harness } from './harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

type Step = { method: InjectOptions['method']; url: string; body?: unknown; expect: number };

describe('audit trail', () => {
  it('every change through every mutating route leaves an audit message naming the token', async () => {
    const site = await createDeployableSite(h);
    const ids: Record<string, string> = {};
    const steps: ((ids: Record<string, string>) => Step)[] = [];
    for (const kind of PLAIN_KINDS) {
      steps.push(() => ({ method: 'POST', url: `/api/${kind}`, body: { ...SAMPLES[kind].create, ...(kind === 'devices' ? { macs: ['52:54:00:aa:bb:cc'] } : {}) }, expect: 201 }));
      steps.push((i) => ({ method: 'PATCH', url: `/api/${kind}/${i[kind]}`, body: SAMPLES[kind].patch, expect: 200 }));
      steps.push((i) => ({ method: 'DELETE', url: `/api/${kind}/${i[kind]}`, expect: 204 }));
    }
    steps.push(
      () => ({ method: 'POST', url: '/api/deployments', body: { taskSequenceId: site.taskSequenceId, collectionId: site.collectionId }, expect: 201 }),
      (i) => ({ method: 'PATCH', url: `/api/deployments/${i.deployments}`, body: { comment: 'c' }, expect: 200 }),
      () => ({ method: 'POST', url: '/api/templates', body: { name: 't', fromDeploymentId: ids.deployments }, expect: 201 }),
      (i) => ({ method: 'DELETE', url: `/api/templates/${i.templates}`, expect: 204 }),
      (i) => ({ method: 'DELETE', url: `/api/deployments/${i.deployments}`, expect: 204 }),
      () => ({ method: 'POST', url: '/api/clear-pxe', body: { collectionId: site.collectionId }, expect: 200 }),
      () => ({ method: 'PATCH', url: '/api/settings', body: { siteName: 'audited' }, expect: 200 }),
      () => ({ method: 'POST', url: '/api/tokens', body: { name: 'other' }, expect: 201 }),
      (i) => ({ method: 'DELETE', url: `/api/tokens/${i.tokens}`, expect: 204 }),
    );

    const covered = new Set<string>();
    for (const make of steps) {
      const step = make(ids);
      const before = await h.service.messages({ kind: 'audit', limit: 100_000 });
      const r = await h.api(step.method, step.url, step.body);
      expect(r.statusCode, `${step.method} ${step.url}: ${r.body}`).toBe(step.expect);
      const area = step.url.split('/')[2]!;
      if (step.method === 'POST' && r.statusCode === 201) {
        const json = r.json();
        ids[area] = json.id ?? json.deployment?.id ?? json.token?.id;
      }
      const after = await h.service.messages({ kind: 'audit', limit: 100_000 });
      const added = after.slice(before.length);
      expect(added.length, `${step.method} ${step.url}`).toBeGreaterThanOrEqual(1);
      for (const m of added) expect(m, `${step.method} ${step.url}`).toMatchObject({ actor: ACTOR, component: 'admin-api', kind: 'audit' });
      covered.add(`${step.method} ${step.url.replace(/\/(PXP|SMS|1677)[0-9A-F]+$/, '/{id}')}`);
    }

    // The table above covers every documented route that changes something.
    const doc = (await h.app.inject({ method: 'GET', url: '/openapi.json' })).json() as { paths: Record<string, Record<string, unknown>> };
    const mutating = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).filter((m) => m !== 'get').map((m) => `${m.toUpperCase()} ${path}`));
    expect([...covered].sort()).toEqual(mutating.sort());
  });

  it('reads leave no audit message', async () => {
    const before = await h.service.messages({ limit: 100_000 });
    for (const url of ['/api/devices', '/api/deployments', '/api/settings', '/api/tokens', '/api/messages']) await h.api('GET', url);
    expect(await h.service.messages({ limit: 100_000 })).toEqual(before);
  });
});
