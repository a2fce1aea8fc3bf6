import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SECRET_MASK } from '../../src/http/admin/secret-variables.js';
import { startHarness, type Harness } from './harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

const vars = [{ name: 'OSDJoinPassword', value: 'S3cret!', secret: true }, { name: 'OSDComputerName', value: 'LAB01' }];

describe('secret variables', () => {
  it.each(['devices', 'collections'] as const)('are masked in every %s reply and survive a read-modify-write', async (kind) => {
    const body = kind === 'devices' ? { name: 'pc', macs: ['52:54:00:12:34:56'], variables: vars } : { name: 'c', variables: vars };
    const created = await h.api('POST', `/api/${kind}`, body);
    expect(created.statusCode, created.body).toBe(201);
    const entity = created.json();
    expect(entity.variables).toEqual([{ ...vars[0], value: SECRET_MASK }, vars[1]]);
    for (const url of [`/api/${kind}`, `/api/${kind}/${entity.id}`]) expect((await h.api('GET', url)).body).not.toContain('S3cret!');

    // Send back what was read, with one change: the stored secret stays.
    const changed = await h.api('PATCH', `/api/${kind}/${entity.id}`, { variables: [...entity.variables, { name: 'Extra', value: '1' }] });
    expect(changed.statusCode, changed.body).toBe(200);
    expect(changed.body).not.toContain('S3cret!');
    const stored = kind === 'devices' ? await h.repo.devices.get(entity.id) : await h.repo.collections.get(entity.id);
    expect(stored!.variables[0]).toEqual(vars[0]);
    expect(stored!.variables).toHaveLength(3);

    // A mask with no stored secret behind it is refused, not saved.
    const bad = await h.api('PATCH', `/api/${kind}/${entity.id}`, { variables: [{ name: 'Other', value: SECRET_MASK, secret: true }] });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ code: 'PXE_ERR_INVALID', field: 'body.variables.0.value' });
  });

  it('refuse the mask as the value of a new secret variable', async () => {
    const r = await h.api('POST', '/api/collections', { name: 'masked', variables: [{ name: 'P', value: SECRET_MASK, secret: true }] });
    expect(r.statusCode).toBe(400);
    expect(r.json()).toMatchObject({ code: 'PXE_ERR_INVALID', field: 'body.variables.0.value' });
  });

  it('are masked in collection member lists', async () => {
    const dev = await h.api('POST', '/api/devices', { name: 'pc2', macs: ['52:54:00:12:34:57'], variables: vars });
    const coll = await h.api('POST', '/api/collections', { name: 'c2', directMemberIds: [dev.json().id] });
    const members = await h.api('GET', `/api/collections/${coll.json().id}/members`);
    expect(members.body).not.toContain('S3cret!');
    expect(members.body).toContain(SECRET_MASK);
  });
});
