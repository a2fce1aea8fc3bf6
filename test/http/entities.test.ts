import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PLAIN_KINDS } from '../../src/app/schemas.js';
import { SAMPLES } from './fixtures.js';
import { ACTOR, startHarness, type Harness } from './harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

describe.each(PLAIN_KINDS)('/api/%s', (kind) => {
  const { create, patch } = SAMPLES[kind];

  it('creates, reads, lists, changes and deletes one', async () => {
    const before = (await h.api('GET', `/api/${kind}`)).json() as { id: string }[];

    const created = await h.api('POST', `/api/${kind}`, create);
    expect(created.statusCode, created.body).toBe(201);
    const entity = created.json();
    expect(entity.id).toEqual(expect.any(String));
    expect(entity.name).toBe(create.name);

    const got = await h.api('GET', `/api/${kind}/${entity.id}`);
    expect(got.statusCode).toBe(200);
    expect(got.json()).toEqual(entity);

    const listed = (await h.api('GET', `/api/${kind}`)).json() as { id: string }[];
    expect(listed.map((e) => e.id)).toEqual(expect.arrayContaining([...before.map((e) => e.id), entity.id]));
    expect(listed).toHaveLength(before.length + 1);

    const changed = await h.api('PATCH', `/api/${kind}/${entity.id}`, patch);
    expect(changed.statusCode, changed.body).toBe(200);
    expect(changed.json()).toMatchObject({ ...patch, id: entity.id });
    expect((await h.api('GET', `/api/${kind}/${entity.id}`)).json()).toEqual(changed.json());

    const deleted = await h.api('DELETE', `/api/${kind}/${entity.id}`);
    expect(deleted.statusCode).toBe(204);
    expect(deleted.body).toBe('');

    const gone = await h.api('GET', `/api/${kind}/${entity.id}`);
    expect(gone.statusCode).toBe(404);
    expect(gone.json()).toMatchObject({ code: 'PXE_ERR_NOT_FOUND', id: entity.id });
    expect((await h.api('GET', `/api/${kind}`)).json()).toEqual(before);

    // Each change was audited under the token's name.
    const audits = (await h.service.messages({ kind: 'audit' })).filter((m) => m.data.id === entity.id && m.data.entity === kind);
    expect(audits.map((m) => m.data.action)).toEqual(['create', 'update', 'delete']);
    for (const m of audits) expect(m).toMatchObject({ actor: ACTOR, component: 'admin-api', data: { entity: kind } });
  });

  it('answers 404 with a JSON error for an id that does not exist', async () => {
    for (const [method, body] of [['GET', undefined], ['PATCH', patch], ['DELETE', undefined]] as const) {
      const r = await h.api(method, `/api/${kind}/NOPE0001`, body);
      expect(r.statusCode, method).toBe(404);
      expect(r.json(), method).toMatchObject({ code: 'PXE_ERR_NOT_FOUND', id: 'NOPE0001' });
    }
  });
});

describe('conflicts and built-ins', () => {
  it('answers 409 for a second device with the same MAC, naming the field', async () => {
    const first = await h.api('POST', '/api/devices', { name: 'a', macs: ['52:54:00:00:00:01'] });
    expect(first.statusCode).toBe(201);
    const second = await h.api('POST', '/api/devices', { name: 'b', macs: ['525400000001'] });
    expect(second.statusCode).toBe(409);
    expect(second.json()).toMatchObject({ code: 'PXE_ERR_CONFLICT', field: 'body.macs' });
  });

  it('answers 409 PXE_ERR_BUILTIN when deleting All Systems', async () => {
    const r = await h.api('DELETE', '/api/collections/SMS00001');
    expect(r.statusCode).toBe(409);
    expect(r.json().code).toBe('PXE_ERR_BUILTIN');
  });

  it('answers 400 naming the field for a reference to nothing', async () => {
    const r = await h.api('POST', '/api/dp-groups', { name: 'g', distributionPointIds: ['PXP0FFFF'] });
    expect(r.statusCode).toBe(400);
    expect(r.json()).toMatchObject({ code: 'PXE_ERR_INVALID', field: 'body.distributionPointIds' });
  });
});
