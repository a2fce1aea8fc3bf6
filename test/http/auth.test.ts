import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InjectOptions } from 'fastify';
import { startHarness, type Harness } from './harness.js';

let h: Harness;
let routes: { method: string; url: string; area: string }[];

beforeAll(async () => {
  h = await startHarness();
  // Every documented route: a route added later is covered without touching this test.
  const doc = (await h.app.inject({ method: 'GET', url: '/openapi.json' })).json() as { paths: Record<string, Record<string, unknown>> };
  routes = Object.entries(doc.paths)
    .filter(([path]) => path !== '/api/health')
    .flatMap(([path, ops]) => Object.keys(ops).map((method) => ({
      method: method.toUpperCase(),
      url: path.replace(/\{id\}/g, 'PXP00001').replace(/\{mac\}/g, '52-54-00-77-00-10'),
      area: path.split('/')[2] ?? '',
    })));
});
afterAll(() => h.close());

const send = (route: { method: string; url: string }, headers: Record<string, string>) =>
  h.app.inject({ method: route.method as InjectOptions['method'], url: route.url, headers, payload: route.method === 'POST' || route.method === 'PATCH' ? { name: 'x' } : undefined });

describe('admin API authentication', () => {
  it('documents a route in every area', () => {
    const areas = new Set(routes.map((r) => r.area));
    for (const area of ['devices', 'collections', 'packages', 'boot-images', 'task-sequences', 'distribution-points', 'dp-groups',
      'boundary-groups', 'deployments', 'templates', 'clear-pxe', 'settings', 'messages', 'tokens']) {
      expect(areas, area).toContain(area);
    }
    expect(routes.length).toBeGreaterThan(50);
  });

  const cases: [string, Record<string, string>][] = [
    ['no Authorization header', {}],
    ['an unknown token', { authorization: 'Bearer pxp_thisIsNotAToken' }],
    ['a secret without the pxp_ prefix', { authorization: 'Bearer hunter2' }],
    ['another scheme', { authorization: 'Basic dXNlcjpwYXNz' }],
    ['"Bearer" without a secret', { authorization: 'Bearer ' }],
  ];
  it.each(cases)('refuses every route with 401 for %s, and writes nothing', async (_label, headers) => {
    const before = await h.service.messages();
    for (const route of routes) {
      const r = await send(route, headers);
      expect(r.statusCode, `${route.method} ${route.url}`).toBe(401);
      expect(r.headers['www-authenticate'], `${route.method} ${route.url}`).toMatch(/^Bearer/);
      const body = r.json();
      expect(body.code).toBe('PXE_ERR_UNAUTHENTICATED');
      expect(body.message).toContain('pxepoint token create NAME');
    }
    expect(await h.service.messages()).toEqual(before);
  });

  it('answers 200 on every list route with a valid token', async () => {
    const lists = routes.filter((r) => r.method === 'GET' && !r.url.includes('PXP00001'));
    expect(lists.length).toBeGreaterThanOrEqual(13);
    for (const route of lists) {
      const r = await h.api('GET', route.url);
      expect(r.statusCode, route.url).toBe(200);
      expect(r.headers['cache-control']).toBe('no-store');
    }
  });

  it('accepts the scheme name in any case', async () => {
    const r = await h.app.inject({ method: 'GET', url: '/api/devices', headers: { authorization: `bearer ${h.secret}` } });
    expect(r.statusCode).toBe(200);
  });

  it('refuses a token once it is revoked', async () => {
    const created = await h.api('POST', '/api/tokens', { name: 'short-lived' });
    expect(created.statusCode).toBe(201);
    const { token, secret } = created.json();
    const auth = { authorization: `Bearer ${secret}` };
    expect((await h.app.inject({ method: 'GET', url: '/api/settings', headers: auth })).statusCode).toBe(200);
    expect((await h.api('DELETE', `/api/tokens/${token.id}`)).statusCode).toBe(204);
    const r = await h.app.inject({ method: 'GET', url: '/api/settings', headers: auth });
    expect(r.statusCode).toBe(401);
    expect(r.json().code).toBe('PXE_ERR_UNAUTHENTICATED');
  });

  it('leaves /api/health and /openapi.json open', async () => {
    const health = await h.app.inject({ method: 'GET', url: '/api/health' });
    expect(health.statusCode).toBe(200);
    expect(health.json()).toEqual({ status: 'ok' });
    expect((await h.app.inject({ method: 'GET', url: '/openapi.json' })).statusCode).toBe(200);
  });
});
