/**
 * Client API authentication (docs/decisions/0007): one-time boot tokens bound to
 * a machine, media credentials, client keys, sessions — and the audit of every
 * refusal.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LAB_PC_01, LAB_PC_02, NEW_MACHINE, startClientHarness, type ClientHarness, type Machine } from './harness.js';

let h: ClientHarness;
beforeEach(async () => {
  h = await startClientHarness();
});
afterEach(() => h.close());

const pxe = (machine: Machine, token: string, over: Record<string, unknown> = {}) =>
  ({ macs: [...machine.macs], smbiosGuid: machine.smbiosGuid, architecture: machine.architecture, bootSource: 'pxe' as const, pxeToken: token, ...over });

describe('identify with a PXE boot token (rule 59)', () => {
  it('resolves a known machine by MAC and SMBIOS GUID and answers a session', async () => {
    const { token } = await h.bootToken(LAB_PC_01);
    const r = await h.identify(pxe(LAB_PC_01, token));
    expect(r.statusCode).toBe(200);
    expect(r.headers['cache-control']).toBe('no-store');
    const body = r.json();
    expect(body).toMatchObject({ deviceName: 'LAB-PC-01', unknownObjectId: null, expiresIn: 8 * 3600 });
    expect(body.sessionToken).toMatch(/^pxs_[A-Za-z0-9_-]{40,}$/);
    expect((await h.call(body.sessionToken, 'GET', '/client/variables')).statusCode).toBe(200);
  });

  it('rule 62: an unknown machine runs as the unknown object of its architecture', async () => {
    const x64 = await h.boot(NEW_MACHINE);
    expect(x64).toMatchObject({ deviceId: null, deviceName: null, unknownObjectId: '2046820353' });
    const x86 = await h.boot({ ...NEW_MACHINE, macs: ['52:54:00:99:00:86'], smbiosGuid: null, architecture: 'x86' });
    expect(x86.unknownObjectId).toBe('2046820352');
  });

  it('accepts the MAC in any notation, and more MACs than the token knows (other NICs)', async () => {
    const { token } = await h.bootToken(LAB_PC_01);
    const r = await h.identify(pxe(LAB_PC_01, token, { macs: ['52-54-00-77-00-10', '52:54:00:aa:bb:cc'] }));
    expect(r.statusCode).toBe(200);
    expect(r.json().deviceName).toBe('LAB-PC-01');
  });

  it('refuses a replayed token with 401 and audits it', async () => {
    const { token, id } = await h.bootToken(LAB_PC_01);
    expect((await h.identify(pxe(LAB_PC_01, token))).statusCode).toBe(200);
    const again = await h.identify(pxe(LAB_PC_01, token));
    expect(again.statusCode).toBe(401);
    expect(again.json()).toMatchObject({ code: 'PXE_ERR_CLIENT_UNAUTHENTICATED' });
    expect(again.headers['www-authenticate']).toMatch(/^Bearer/);
    const [audit] = await h.refusals();
    expect(audit).toMatchObject({
      kind: 'audit', severity: 'warning', component: 'client-api',
      data: { reason: 'replayed-token', credential: 'pxe-token', credentialId: id, claimed: { macs: LAB_PC_01.macs, smbiosGuid: LAB_PC_01.smbiosGuid } },
    });
  });

  it('lets exactly one of two concurrent uses of a token through (atomic consumption)', async () => {
    const { token } = await h.bootToken(LAB_PC_01);
    const replies = await Promise.all(Array.from({ length: 5 }, () => h.identify(pxe(LAB_PC_01, token))));
    expect(replies.map((r) => r.statusCode).sort()).toEqual([200, 401, 401, 401, 401]);
    expect((await h.refusals()).map((m) => m.data.reason)).toEqual(['replayed-token', 'replayed-token', 'replayed-token', 'replayed-token']);
  });

  it('refuses an expired token with 401 and audits it', async () => {
    const { token } = await h.bootToken(LAB_PC_01, { ttlSeconds: 60 });
    h.advance(61);
    const r = await h.identify(pxe(LAB_PC_01, token));
    expect(r.statusCode).toBe(401);
    expect((await h.refusals()).map((m) => m.data.reason)).toEqual(['expired-token']);
  });

  it('refuses the token of machine A presented by machine B, audits it, and burns the token', async () => {
    const { token } = await h.bootToken(LAB_PC_01);
    const r = await h.identify(pxe(LAB_PC_02, token));
    expect(r.statusCode).toBe(401);
    const [audit] = await h.refusals();
    expect(audit!.data).toMatchObject({ reason: 'token-of-another-machine', claimed: { macs: LAB_PC_02.macs } });
    // The token was presented by another machine: it is spent, even for A.
    expect((await h.identify(pxe(LAB_PC_01, token))).statusCode).toBe(401);
  });

  it('refuses a forged identity: the right MAC with another SMBIOS GUID', async () => {
    const { token } = await h.bootToken(LAB_PC_01);
    const r = await h.identify(pxe(LAB_PC_01, token, { smbiosGuid: LAB_PC_02.smbiosGuid }));
    expect(r.statusCode).toBe(401);
    expect((await h.refusals()).map((m) => m.data.reason)).toEqual(['forged-identity']);
  });

  it('refuses a forged identity: an own token plus another device\'s MAC, to read that device\'s policy', async () => {
    const { token } = await h.bootToken(NEW_MACHINE);
    const r = await h.identify(pxe(NEW_MACHINE, token, { macs: [...NEW_MACHINE.macs, ...LAB_PC_01.macs] }));
    expect(r.statusCode).toBe(401);
    const [audit] = await h.refusals();
    expect(audit!.data).toMatchObject({ reason: 'forged-identity' });
    expect(audit!.data.otherDeviceIds).toHaveLength(1);
  });

  it('refuses a token issued for PXE when presented as boot media, and an unknown token', async () => {
    const { token } = await h.bootToken(LAB_PC_01);
    expect((await h.identify(pxe(LAB_PC_01, token, { bootSource: 'media' }))).statusCode).toBe(401);
    expect((await h.identify(pxe(LAB_PC_01, 'pxb_not-a-token'))).statusCode).toBe(401);
    expect((await h.refusals()).map((m) => m.data.reason)).toEqual(['wrong-boot-source', 'unknown-token']);
  });

  it('never writes a secret into the audit or status messages', async () => {
    const { token } = await h.bootToken(LAB_PC_01);
    const session = (await h.identify(pxe(LAB_PC_01, token))).json().sessionToken as string;
    await h.identify(pxe(LAB_PC_01, token));
    await h.call('pxs_forged', 'GET', '/client/policy');
    const all = JSON.stringify(await h.repo.statusMessages.list());
    expect(all).not.toContain(token);
    expect(all).not.toContain(session);
    expect(all).not.toContain('pxs_forged');
  });

  it('refuses a request with no credential, or two (400)', async () => {
    expect((await h.identify({ ...LAB_PC_01, macs: [...LAB_PC_01.macs], bootSource: 'pxe' })).statusCode).toBe(400);
    const { token } = await h.bootToken(LAB_PC_01);
    const two = await h.identify(pxe(LAB_PC_01, token, { clientKey: 'pxk_x' }));
    expect(two.statusCode).toBe(400);
    expect((await h.identify(pxe(LAB_PC_01, token, { macs: ['not-a-mac'] }))).json()).toMatchObject({ code: 'PXE_ERR_INVALID', field: 'body.macs.0' });
  });
});

describe('boot media credential and client key', () => {
  it('accepts a media token as {mediaId, secret}, once', async () => {
    const { token, id } = await h.bootToken(LAB_PC_01, { bootSource: 'media', ttlSeconds: 7 * 24 * 3600 });
    const body = { ...LAB_PC_01, macs: [...LAB_PC_01.macs], bootSource: 'media', mediaCredential: { mediaId: id, secret: token } };
    expect((await h.identify(body)).statusCode).toBe(200);
    expect((await h.identify(body)).statusCode).toBe(401);
    expect((await h.identify({ ...body, mediaCredential: { mediaId: id, secret: 'pxb_wrong' } })).statusCode).toBe(401);
    expect((await h.refusals()).map((m) => m.data.reason)).toEqual(['replayed-token', 'unknown-token']);
  });

  it('accepts a registered client key from the full OS, for its own device only', async () => {
    const device = (await h.repo.devices.list()).find((d) => d.name === 'LAB-PC-01')!;
    const reg = await h.admin('POST', `/api/devices/${device.id}/client-key`);
    expect(reg.statusCode).toBe(201);
    const { key } = reg.json();
    const body = { ...LAB_PC_01, macs: [...LAB_PC_01.macs], bootSource: 'full-os', clientKey: key };
    const r = await h.identify(body);
    expect(r.statusCode).toBe(200);
    expect(r.json().deviceId).toBe(device.id);
    expect((await h.identify(body)).statusCode).toBe(200); // not one-time
    expect((await h.identify({ ...body, macs: [...LAB_PC_02.macs], smbiosGuid: LAB_PC_02.smbiosGuid })).statusCode).toBe(401);
    expect((await h.identify({ ...body, bootSource: 'pxe' })).statusCode).toBe(401);
    expect((await h.refusals()).map((m) => m.data.reason)).toEqual(['token-of-another-machine', 'wrong-boot-source']);
    // Deleting the device deletes its keys.
    expect((await h.admin('DELETE', `/api/devices/${device.id}`)).statusCode).toBe(204);
    expect((await h.identify(body)).statusCode).toBe(401);
  });
});

describe('sessions', () => {
  it('refuses an unknown or expired session with 401 and audits it; no token at all is 401 unaudited', async () => {
    const { sessionToken } = await h.boot(LAB_PC_01);
    expect((await h.app.inject({ method: 'GET', url: '/client/policy' })).statusCode).toBe(401);
    expect((await h.call('pxs_unknown', 'GET', '/client/policy')).statusCode).toBe(401);
    h.advance(8 * 3600 + 1);
    const r = await h.call(sessionToken, 'GET', '/client/variables');
    expect(r.statusCode).toBe(401);
    expect(r.json().message).toMatch(/identify again/);
    expect((await h.refusals()).map((m) => m.data.reason)).toEqual(['unknown-session', 'expired-session']);
  });

  it('is bound to its machine: no client route takes a machine, and an API token is not a session', async () => {
    const routes = h.app.printRoutes({ commonPrefix: false });
    expect(routes).not.toMatch(/client.*:(id|deviceId|machine)/);
    const adminToken = (await h.service.createToken({ name: 'x' }, { name: 't', component: 't' })).secret;
    expect((await h.call(adminToken, 'GET', '/client/policy')).statusCode).toBe(401);
    const { sessionToken } = await h.boot(LAB_PC_01);
    expect((await h.call(sessionToken, 'GET', '/api/devices')).statusCode).toBe(401);
  });
});

describe('POST /api/boot-tokens', () => {
  it('needs an API token, validates, audits the issue, and stores only a hash', async () => {
    expect((await h.app.inject({ method: 'POST', url: '/api/boot-tokens', payload: { macs: LAB_PC_01.macs, bootSource: 'pxe' } })).statusCode).toBe(401);
    expect((await h.admin('POST', '/api/boot-tokens', { macs: [], bootSource: 'pxe' })).json()).toMatchObject({ code: 'PXE_ERR_INVALID' });
    expect((await h.admin('POST', '/api/boot-tokens', { macs: LAB_PC_01.macs, bootSource: 'full-os' })).statusCode).toBe(400);
    const r = await h.admin('POST', '/api/boot-tokens', { macs: LAB_PC_01.macs, bootSource: 'pxe', ttlSeconds: 600 });
    expect(r.statusCode).toBe(201);
    const { token, id, expiresAt } = r.json();
    expect(expiresAt).toBe('2026-11-26T08:10:00.000Z');
    const stored = await h.repo.credentials.bootTokens.get(id);
    expect(stored).toMatchObject({ macs: LAB_PC_01.macs, usedAt: null, issuedBy: 'token:tester' });
    expect(JSON.stringify(stored)).not.toContain(token);
    const audit = (await h.repo.statusMessages.list({ kind: 'audit' })).at(-1)!;
    expect(audit).toMatchObject({ actor: 'token:tester', data: { action: 'issue-boot-token', id } });
  });
});
