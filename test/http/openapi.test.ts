import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as S from '../../src/app/schemas.js';
import { startHarness, type Harness } from './harness.js';

type Operation = {
  summary?: string; tags?: string[]; security?: unknown[]; parameters?: { in: string; name: string }[];
  requestBody?: { content: Record<string, { schema: unknown }> }; responses: Record<string, unknown>;
};
type Doc = {
  openapi: string; info: { title: string; version: string }; tags: { name: string }[];
  components: { securitySchemes: Record<string, { type: string; scheme: string }> };
  security: Record<string, unknown[]>[];
  paths: Record<string, Record<string, Operation>>;
};

let h: Harness;
let doc: Doc;
const schemasBefore = JSON.stringify(S);

beforeAll(async () => {
  h = await startHarness({ version: '9.9.9' });
  const r = await h.app.inject({ method: 'GET', url: '/openapi.json' });
  expect(r.statusCode).toBe(200);
  expect(r.headers['content-type']).toMatch(/^application\/json/);
  doc = r.json();
});
afterAll(() => h.close());

const EXPECTED_ROUTES = [
  ...S.PLAIN_KINDS.flatMap((k) => [`get /api/${k}`, `post /api/${k}`, `get /api/${k}/{id}`, `patch /api/${k}/{id}`, `delete /api/${k}/{id}`]),
  'get /api/deployments', 'post /api/deployments', 'get /api/deployments/{id}', 'patch /api/deployments/{id}', 'delete /api/deployments/{id}',
  'get /api/templates', 'post /api/templates', 'get /api/templates/{id}', 'get /api/templates/{id}/settings', 'delete /api/templates/{id}',
  'post /api/clear-pxe', 'get /api/collections/{id}/members', 'get /api/task-sequences/{id}/check',
  'get /api/settings', 'patch /api/settings', 'get /api/messages',
  'get /api/tokens', 'post /api/tokens', 'delete /api/tokens/{id}',
  'get /api/timeline/{mac}',
  'get /api/health',
];

describe('/openapi.json', () => {
  it('is an OpenAPI 3.1 document with the bearer scheme required by default', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info).toMatchObject({ title: expect.any(String), version: '9.9.9' });
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.security).toEqual([{ bearerAuth: [] }]);
  });

  it('lists exactly the admin routes', () => {
    const listed = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m} ${p}`));
    expect(listed.sort()).toEqual([...EXPECTED_ROUTES].sort());
  });

  it('gives every route a summary, a known tag, a 2xx and (except health) a 401 response', () => {
    const tags = new Set(doc.tags.map((t) => t.name));
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const where = `${method} ${path}`;
        expect(op.summary, where).toEqual(expect.any(String));
        expect(op.tags?.length, where).toBeGreaterThan(0);
        for (const t of op.tags ?? []) expect(tags.has(t), `${where} tag ${t}`).toBe(true);
        expect(Object.keys(op.responses).some((s) => s.startsWith('2')), where).toBe(true);
        if (path === '/api/health') expect(op.security, where).toEqual([]);
        else expect(op.responses['401'], where).toBeDefined();
        if (path.includes('{id}')) expect(op.parameters?.some((p) => p.in === 'path' && p.name === 'id'), where).toBe(true);
      }
    }
  });

  it('publishes the service\'s input schemas as request bodies', () => {
    const body = (method: string, path: string) => doc.paths[path]?.[method]?.requestBody?.content['application/json']?.schema;
    expect(body('post', '/api/deployments')).toEqual(JSON.parse(JSON.stringify(S.deploymentCreate)));
    expect(body('post', '/api/devices')).toEqual(JSON.parse(JSON.stringify(S.deviceCreate)));
    expect(body('patch', '/api/settings')).toEqual(JSON.parse(JSON.stringify(S.siteSettingsUpdate)));
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        if (method === 'post' || method === 'patch') expect(op.requestBody, `${method} ${path}`).toBeDefined();
      }
    }
    const messages = doc.paths['/api/messages']!.get!.parameters!.map((p) => `${p.in}:${p.name}`);
    expect(messages.sort()).toEqual(['query:afterId', 'query:deploymentId', 'query:deviceId', 'query:kind', 'query:limit']);
  });

  it('leaves the shared schemas untouched (fastify and swagger must not mutate them)', () => {
    expect(JSON.stringify(S)).toBe(schemasBefore);
  });
});
