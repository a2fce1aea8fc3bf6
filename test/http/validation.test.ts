import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InjectOptions } from 'fastify';
import { isPxeError } from '../../src/errors.js';
import { startHarness, type Harness } from './harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ bodyLimit: 64 * 1024 });
});
afterAll(() => h.close());

interface BadRequest {
  label: string;
  method: InjectOptions['method'];
  url: string;
  /** The list route whose content must not change. */
  list: string;
  /** A JS value sent as JSON, or a raw string with `contentType`. */
  body?: unknown;
  raw?: string;
  contentType?: string;
  status?: number;
  code?: string;
  field?: string;
  message?: string;
}

const bad: BadRequest[] = [
  { label: 'unknown field', method: 'POST', url: '/api/devices', list: '/api/devices', body: { name: 'pc', nmae: 'typo' }, field: 'body.nmae', message: 'body.nmae: is not a known field' },
  { label: 'unknown nested field', method: 'PATCH', url: '/api/settings', list: '/api/settings', body: { deploymentVerification: { defaultSiz: 5 } }, field: 'body.deploymentVerification.defaultSiz' },
  { label: 'wrong type', method: 'POST', url: '/api/devices', list: '/api/devices', body: { name: 42 }, field: 'body.name', message: 'body.name: must be string' },
  { label: 'no coercion of "true"', method: 'POST', url: '/api/distribution-points', list: '/api/distribution-points', body: { name: 'dp', url: 'http://dp/', pxeEnabled: 'true' }, field: 'body.pxeEnabled' },
  { label: 'bad enum', method: 'POST', url: '/api/boot-images', list: '/api/boot-images', body: { name: 'pe', architecture: 'ia64', imagePath: 'a/b.wim' }, field: 'body.architecture', message: 'body.architecture: must be one of x86, x64, arm64' },
  {
    label: 'bad enum deep in the wizard', method: 'POST', url: '/api/deployments', list: '/api/deployments',
    body: { taskSequenceId: 'PXP00001', collectionId: 'SMS000US', settings: { deploymentSettings: { purpose: 'mandatory' } } },
    field: 'body.settings.deploymentSettings.purpose', message: 'body.settings.deploymentSettings.purpose: must be one of available, required',
  },
  { label: 'missing required field', method: 'POST', url: '/api/boot-images', list: '/api/boot-images', body: { name: 'pe' }, field: 'body.architecture', message: 'body.architecture: is required' },
  { label: 'an array instead of an object', method: 'POST', url: '/api/packages', list: '/api/packages', body: [{ name: 'p' }], field: 'body' },
  { label: 'no body at all', method: 'POST', url: '/api/packages', list: '/api/packages', field: 'body' },
  { label: 'invalid JSON', method: 'POST', url: '/api/packages', list: '/api/packages', raw: '{"name": "p",', contentType: 'application/json', field: 'body' },
  { label: 'empty JSON body', method: 'POST', url: '/api/packages', list: '/api/packages', raw: '', contentType: 'application/json', field: 'body' },
  { label: 'prototype poisoning', method: 'POST', url: '/api/packages', list: '/api/packages', raw: '{"name":"p","__proto__":{"admin":true}}', contentType: 'application/json', field: 'body' },
  { label: 'not JSON', method: 'POST', url: '/api/packages', list: '/api/packages', raw: 'name=p', contentType: 'application/x-www-form-urlencoded', status: 415, code: 'PXE_ERR_UNSUPPORTED_MEDIA_TYPE' },
  { label: 'too large', method: 'POST', url: '/api/packages', list: '/api/packages', body: { name: 'p', description: 'x'.repeat(70 * 1024) }, status: 413, code: 'PXE_ERR_BODY_TOO_LARGE', message: 'request body is larger than the limit of 65536 bytes; send a smaller change' },
  // clearPxeBody's oneOf is checked before additionalProperties, so Ajv names the field that is missing.
  { label: 'a typo in clear-pxe', method: 'POST', url: '/api/clear-pxe', list: '/api/messages?limit=1000', body: { deviceID: '16777217' }, field: 'body.deviceId' },
  { label: 'an unknown field next to a valid clear-pxe', method: 'POST', url: '/api/clear-pxe', list: '/api/messages?limit=1000', body: { deviceId: '16777217', force: true }, field: 'body.force' },
  { label: 'a token without a name', method: 'POST', url: '/api/tokens', list: '/api/tokens', body: {}, field: 'body.name', message: 'body.name: is required' },
  { label: 'an unknown query parameter', method: 'GET', url: '/api/messages?kidn=audit', list: '/api/messages?limit=1000', field: 'querystring.kidn' },
  { label: 'a query parameter out of range', method: 'GET', url: '/api/messages?limit=0', list: '/api/messages?limit=1000', field: 'querystring.limit' },
  { label: 'a query parameter of the wrong type', method: 'GET', url: '/api/messages?afterId=ten', list: '/api/messages?limit=1000', field: 'querystring.afterId', message: 'querystring.afterId: must be integer' },
];

describe('malformed requests', () => {
  it.each(bad.map((b) => [b.label, b] as const))('%s → refused, naming the problem, nothing written', async (_label, b) => {
    const before = (await h.api('GET', b.list)).json();
    const auditsBefore = await h.service.messages({ kind: 'audit' });
    const r = b.raw === undefined
      ? await h.api(b.method, b.url, b.body)
      : await h.app.inject({ method: b.method, url: b.url, payload: b.raw, headers: { authorization: `Bearer ${h.secret}`, 'content-type': b.contentType ?? 'application/json' } });
    expect(r.statusCode, r.body).toBe(b.status ?? 400);
    expect(r.headers['content-type']).toMatch(/^application\/json/);
    const body = r.json();
    expect(body.code).toBe(b.code ?? 'PXE_ERR_INVALID');
    expect(body.message).toEqual(expect.any(String));
    if (b.field !== undefined) expect(body.field).toBe(b.field);
    if (b.field !== undefined) expect(body.message.startsWith(`${b.field}: `)).toBe(true);
    if (b.message !== undefined) expect(body.message).toBe(b.message);
    expect(JSON.stringify(body)).not.toMatch(/at .*\.(ts|js):\d+/); // no stack trace
    expect((await h.api('GET', b.list)).json()).toEqual(before);
    expect(await h.service.messages({ kind: 'audit' })).toEqual(auditsBefore);
  });

  it('words a refusal exactly as the service (and so the CLI) does', async () => {
    const body = { taskSequenceId: 'PXP00001', collectionId: 'SMS000US', settings: { distributionPoints: { deploymentOption: 'stream' } } };
    let direct: unknown;
    try {
      await h.service.createDeployment(body, { name: 'cli:test', component: 'cli' });
    } catch (e) {
      direct = e;
    }
    expect(isPxeError(direct)).toBe(true);
    const r = await h.api('POST', '/api/deployments', body);
    expect(r.statusCode).toBe(400);
    expect(r.json()).toEqual((direct as { toJSON(): unknown }).toJSON());
  });

  it('limits bodies to 1 MiB by default', async () => {
    const d = await startHarness();
    try {
      const post = (n: number) => d.api('POST', '/api/packages', { name: 'p', description: 'x'.repeat(n) });
      expect((await post(1024 * 1024)).statusCode).toBe(413);
      // Under the limit it reaches the schema (description is at most 4000 characters).
      expect((await post(900 * 1024)).json()).toMatchObject({ code: 'PXE_ERR_INVALID', field: 'body.description' });
    } finally {
      await d.close();
    }
  });

  it('answers 404 in JSON for an unknown route, with or without a token', async () => {
    for (const r of [await h.api('GET', '/api/devicez'), await h.app.inject({ method: 'GET', url: '/nowhere' })]) {
      expect(r.statusCode).toBe(404);
      expect(r.json().code).toBe('PXE_ERR_ROUTE_NOT_FOUND');
    }
    const wrongMethod = await h.api('PUT', '/api/devices/16777217', { name: 'x' });
    expect(wrongMethod.statusCode).toBe(404);
  });
});
