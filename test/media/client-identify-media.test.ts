/**
 * POST /client/identify with a registered medium's credential (issue 7): the
 * medium is checked by the registry (rules 101–102: blocked, certificate dates,
 * the shared secret), every accepted boot is a status message, every refusal an
 * audit message; and the media variables the client sends (SMSTSPreferredAdvertID
 * naming an "Only media and PXE (hidden)" deployment) drive the selection as PXE
 * variables do (rules 20, 23, 24, 26).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PolicyResponse } from '../../src/policy/client-api.js';
import type { Variable } from '../../src/site/model.js';
import { LAB_PC_01, LAB_PC_02, NEW_MACHINE, startClientHarness, type ClientHarness, type Machine } from '../client-api/harness.js';
import { ADMIN, MEDIA_SECRET, mediaRecord } from './site-fixtures.js';

let h: ClientHarness;
beforeEach(async () => {
  h = await startClientHarness();
  await h.clients.media.register(mediaRecord('M-LAB'), ADMIN);
});
afterEach(() => h.close());

const viaMedia = (machine: Machine, over: Record<string, unknown> = {}, variables?: Variable[]) => ({
  macs: [...machine.macs], smbiosGuid: machine.smbiosGuid, architecture: machine.architecture, bootSource: 'media',
  mediaCredential: { mediaId: 'M-LAB', secret: MEDIA_SECRET }, ...(variables ? { variables } : {}), ...over,
});
const policyOf = async (session: string): Promise<PolicyResponse> => (await h.call(session, 'GET', '/client/policy')).json();
const mediaBoots = async () => (await h.repo.statusMessages.list({ kind: 'status' })).filter((m) => m.data.action === 'media-boot');

describe('identify with a registered medium (rules 101–102)', () => {
  it('opens a media session for a known machine, and records the boot as a status message', async () => {
    const r = await h.identify(viaMedia(LAB_PC_01));
    expect(r.statusCode).toBe(200);
    const body = r.json();
    expect(body).toMatchObject({ deviceName: 'LAB-PC-01', unknownObjectId: null });
    const session = await h.repo.credentials.sessions.findByHash((await import('node:crypto')).createHash('sha256').update(body.sessionToken).digest('hex'));
    expect(session).toMatchObject({ bootSource: 'media', credential: { kind: 'media', id: 'M-LAB' }, macs: LAB_PC_01.macs });
    const [boot] = await mediaBoots();
    expect(boot).toMatchObject({
      kind: 'status', component: 'media', deviceId: body.deviceId,
      data: { mediaId: 'M-LAB', stage: 'client', sessionId: session!.id, macs: LAB_PC_01.macs, smbiosGuid: LAB_PC_01.smbiosGuid, architecture: 'x64' },
    });
    const identified = (await h.repo.statusMessages.list({ kind: 'status' })).find((m) => m.data.action === 'client-identified');
    expect(identified).toMatchObject({ data: { credential: 'media', credentialId: 'M-LAB' } });
  });

  it('rule 101: one credential serves every machine booting the medium, known or unknown, again and again', async () => {
    const a = await h.identify(viaMedia(LAB_PC_01));
    const b = await h.identify(viaMedia(LAB_PC_02));
    const c = await h.identify(viaMedia(NEW_MACHINE));
    const again = await h.identify(viaMedia(LAB_PC_01));
    expect([a, b, c, again].map((r) => r.statusCode)).toEqual([200, 200, 200, 200]);
    expect(b.json().deviceName).toBe('LAB-PC-02');
    expect(c.json()).toMatchObject({ deviceId: null, unknownObjectId: '2046820353' });
    expect(await mediaBoots()).toHaveLength(4);
  });

  it('rule 102: a blocked medium is refused with 403 PXE_ERR_MEDIA_BLOCKED and audited; unblocked, it works again', async () => {
    await h.clients.media.block('M-LAB', ADMIN, 'stolen');
    const r = await h.identify(viaMedia(LAB_PC_01));
    expect(r.statusCode).toBe(403);
    expect(r.json()).toMatchObject({ code: 'PXE_ERR_MEDIA_BLOCKED', mediaId: 'M-LAB' });
    expect(r.body).not.toContain(MEDIA_SECRET);
    const [audit] = await h.refusals();
    expect(audit).toMatchObject({ kind: 'audit', severity: 'warning', data: { reason: 'blocked-media', credential: 'media', credentialId: 'M-LAB', claimed: { macs: LAB_PC_01.macs } } });
    expect(JSON.stringify(audit)).not.toContain(MEDIA_SECRET);
    expect(await mediaBoots()).toEqual([]);
    await h.clients.media.unblock('M-LAB', ADMIN);
    expect((await h.identify(viaMedia(LAB_PC_01))).statusCode).toBe(200);
  });

  it('rules 101–102: an expired media certificate is refused (403 PXE_ERR_MEDIA_CERTIFICATE_EXPIRED), and one not valid yet', async () => {
    h.advance(366 * 24 * 3600);
    const r = await h.identify(viaMedia(LAB_PC_01));
    expect(r.statusCode).toBe(403);
    expect(r.json().code).toBe('PXE_ERR_MEDIA_CERTIFICATE_EXPIRED');
    await h.clients.media.register(mediaRecord('M-LATER', { certificateNotBefore: '2029-01-01T00:00:00.000Z', certificateNotAfter: '2030-01-01T00:00:00.000Z' }), ADMIN);
    const later = await h.identify(viaMedia(LAB_PC_01, { mediaCredential: { mediaId: 'M-LATER', secret: MEDIA_SECRET } }));
    expect(later.statusCode).toBe(403);
    expect(later.json().code).toBe('PXE_ERR_MEDIA_CERTIFICATE_NOT_YET_VALID');
    expect((await h.refusals()).map((m) => m.data.reason)).toEqual(['media-certificate-expired', 'media-certificate-not-yet-valid']);
  });

  it('a wrong secret is the vague 401 of every credential, audited as bad-media-secret; a blocked medium is not revealed to it', async () => {
    await h.clients.media.block('M-LAB', ADMIN);
    const r = await h.identify(viaMedia(LAB_PC_01, { mediaCredential: { mediaId: 'M-LAB', secret: 'pxm_guess' } }));
    expect(r.statusCode).toBe(401);
    expect(r.json()).toMatchObject({ code: 'PXE_ERR_CLIENT_UNAUTHENTICATED', credential: 'media' });
    expect((await h.refusals())[0]).toMatchObject({ data: { reason: 'bad-media-secret', credentialId: 'M-LAB' } });
  });

  it('refuses the media credential for another boot source (401 wrong-boot-source)', async () => {
    const r = await h.identify(viaMedia(LAB_PC_01, { bootSource: 'pxe' }));
    expect(r.statusCode).toBe(401);
    expect((await h.refusals())[0]).toMatchObject({ data: { reason: 'wrong-boot-source', credential: 'media' } });
  });

  it('a mediaId that is not a registered medium keeps the per-machine boot token behaviour', async () => {
    const { token, id } = await h.bootToken(LAB_PC_01, { bootSource: 'media' });
    const body = viaMedia(LAB_PC_01, { mediaCredential: { mediaId: id, secret: token } });
    expect((await h.identify(body)).statusCode).toBe(200);
    expect((await h.identify(body)).statusCode).toBe(401); // one-time, bound: not a medium
    expect(await mediaBoots()).toEqual([]);
    expect((await h.identify(viaMedia(LAB_PC_01, { mediaCredential: { mediaId: 'M-UNKNOWN', secret: MEDIA_SECRET } }))).statusCode).toBe(401);
  });
});

describe('media variables drive selection as PXE variables do (rules 20, 23, 24, 26)', () => {
  it('without SMSTSPreferredAdvertID the hidden deployment is not offered to a media boot (rule 23)', async () => {
    const { sessionToken } = (await h.identify(viaMedia(LAB_PC_01))).json();
    const p = await policyOf(sessionToken);
    const hidden = await h.deploymentId('Hidden');
    expect(p.offered.map((o) => o.deploymentId)).not.toContain(hidden);
    expect(p.excluded).toEqual(expect.arrayContaining([{ deploymentId: hidden, reason: 'hidden' }]));
    expect(p.autoRun).toBeNull();
  });

  it('rules 20, 24: SMSTSPreferredAdvertID from the medium runs the hidden deployment with no prompt', async () => {
    const hidden = await h.deploymentId('Hidden');
    const r = await h.identify(viaMedia(LAB_PC_01, {}, [{ name: 'SMSTSPreferredAdvertID', value: hidden }, { name: '_SMSTSMediaType', value: 'BootMedia' }]));
    expect(r.statusCode).toBe(200);
    const p = await policyOf(r.json().sessionToken);
    expect(p.autoRun).toMatchObject({ deploymentId: hidden, purpose: 'required' });
    expect(p.prompt).toBe(false);
    expect(p.preferredError).toBeNull();
    const vars = (await h.call(r.json().sessionToken, 'GET', '/client/variables')).json().variables as Variable[];
    expect(vars.find((v) => v.name === 'SMSTSPreferredAdvertID')?.value).toBe(hidden);
  });

  it('the site does not know the media variables: a second machine booting the same medium without them gets none', async () => {
    const hidden = await h.deploymentId('Hidden');
    await h.identify(viaMedia(LAB_PC_01, {}, [{ name: 'SMSTSPreferredAdvertID', value: hidden }]));
    const { sessionToken } = (await h.identify(viaMedia(LAB_PC_02))).json();
    const vars = (await h.call(sessionToken, 'GET', '/client/variables')).json().variables as Variable[];
    expect(vars.some((v) => v.name === 'SMSTSPreferredAdvertID')).toBe(false);
    expect((await policyOf(sessionToken)).autoRun).toBeNull();
  });

  it('rule 25 (decision 0006): a preferred id naming a deployment not targeted to the machine is an error, nothing runs on its own', async () => {
    const hidden = await h.deploymentId('Hidden');
    const { sessionToken } = (await h.identify(viaMedia(NEW_MACHINE, {}, [{ name: 'SMSTSPreferredAdvertID', value: hidden }]))).json();
    const p = await policyOf(sessionToken);
    expect(p.autoRun).toBeNull();
    expect(p.preferredError).toMatchObject({ id: hidden });
  });
});
