/** The client API in /openapi.json: its own tag and bearer scheme, the request schemas, every route documented. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { identifyBody, statusBody } from '../../src/app/client-schemas.js';
import { startClientHarness, type ClientHarness } from './harness.js';

type Operation = { summary?: string; tags?: string[]; security?: unknown[]; responses: Record<string, unknown>; requestBody?: { content: Record<string, { schema: unknown }> } };
let h: ClientHarness;
let doc: { paths: Record<string, Record<string, Operation>>; components: { securitySchemes: Record<string, unknown> }; tags: { name: string }[] };

beforeAll(async () => {
  h = await startClientHarness();
  const r = await h.app.inject({ method: 'GET', url: '/openapi.json' });
  expect(r.statusCode).toBe(200);
  doc = r.json();
});
afterAll(() => h.close());

describe('/openapi.json with the client API', () => {
  it('lists the client routes under the "client" tag with the clientSession scheme (identify: none)', () => {
    const client = Object.entries(doc.paths).filter(([p]) => p.startsWith('/client/'));
    expect(client.flatMap(([p, ops]) => Object.keys(ops).filter((m) => m !== 'head').map((m) => `${m} ${p}`)).sort()).toEqual([
      'get /client/content/{packageId}/{*}', 'get /client/policy', 'get /client/variables', 'post /client/identify', 'post /client/status',
    ].sort());
    expect(doc.tags.map((t) => t.name)).toContain('client');
    expect(doc.components.securitySchemes.clientSession).toMatchObject({ type: 'http', scheme: 'bearer' });
    for (const [path, ops] of client) {
      for (const [method, op] of Object.entries(ops)) {
        expect(op.tags, `${method} ${path}`).toEqual(['client']);
        expect(op.summary).toEqual(expect.any(String));
        expect(op.responses['401']).toBeDefined();
        expect(op.security).toEqual(path === '/client/identify' ? [] : [{ clientSession: [] }]);
      }
    }
    const body = (method: string, path: string) => doc.paths[path]?.[method]?.requestBody?.content['application/json']?.schema;
    expect(body('post', '/client/identify')).toEqual(JSON.parse(JSON.stringify(identifyBody)));
    expect(body('post', '/client/status')).toEqual(JSON.parse(JSON.stringify(statusBody)));
  });

  it('lists the admin additions under the admin bearer scheme', () => {
    for (const [method, path] of [['post', '/api/boot-tokens'], ['post', '/api/devices/{id}/client-key'], ['get', '/api/devices/{id}/status'], ['get', '/api/deployments/{id}/summary']] as const) {
      const op = doc.paths[path]?.[method];
      expect(op, `${method} ${path}`).toBeDefined();
      expect(op!.security).toBeUndefined(); // the document default: bearerAuth
      expect(op!.responses['401']).toBeDefined();
    }
  });
});
