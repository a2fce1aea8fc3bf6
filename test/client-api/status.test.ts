/**
 * POST /client/status: the rule 139 state machine, status messages (rule 140),
 * unknown computers becoming records (rule 64), the PXE marker (rules 40–41),
 * and the deployment summary (rule 143).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CLIENT_STATES as S, type Device } from '../../src/site/model.js';
import { LAB_PC_01, LAB_PC_02, NEW_MACHINE, startClientHarness, type ClientHarness } from './harness.js';

let h: ClientHarness;
beforeEach(async () => {
  h = await startClientHarness();
});
afterEach(() => h.close());

const report = (session: string, deploymentId: string, state: number, extra: Record<string, unknown> = {}) =>
  h.call(session, 'POST', '/client/status', { deploymentId, state, message: `state ${state}`, ...extra });

async function device(id: string): Promise<Device> {
  const r = await h.admin('GET', `/api/devices/${id}`);
  expect(r.statusCode).toBe(200);
  return r.json();
}

describe('rule 139: the per-client state machine', () => {
  it('accepts a whole run, keeps the last state per device and deployment, and writes rule 140 message ids', async () => {
    const { sessionToken, deviceId } = await h.boot(LAB_PC_01);
    const dep = await h.deploymentId('Clients, media and PXE');
    for (const state of [S.Accepted, S.DownloadInProgress, S.DownloadComplete, S.Running, S.Running, S.RebootPending, S.Running, S.Succeeded]) {
      const r = await report(sessionToken, dep, state, { stepIndex: 1 });
      expect(r.statusCode, `state ${state}`).toBe(200);
      expect(r.json()).toEqual({ accepted: true });
    }
    const states = (await h.admin('GET', `/api/devices/${deviceId}/status`)).json();
    expect(states).toEqual([expect.objectContaining({ deviceId, deploymentId: dep, state: S.Succeeded, stateName: 'Succeeded', lastMessageId: 11171, lastMessage: 'state 13' })]);
    const messages = await h.repo.statusMessages.list({ kind: 'status', deploymentId: dep });
    expect(messages.map((m) => m.messageId)).toEqual([0, 0, 0, 11142, 11142, 11142, 11142, 11171]);
    expect(messages.at(-1)).toMatchObject({ component: 'client-api', actor: `device:${deviceId}`, deviceId, data: { state: 13, previousState: 9, stepIndex: 1 } });
  });

  it('refuses transitions the state machine does not allow (409, rule 139)', async () => {
    const { sessionToken } = await h.boot(LAB_PC_01);
    const dep = await h.deploymentId('Clients, media and PXE');
    const first = await report(sessionToken, dep, S.Succeeded);
    expect(first.statusCode).toBe(409);
    expect(first.json()).toMatchObject({ code: 'PXE_ERR_CLIENT_STATE', rule: 139 });
    expect(first.json().message).toMatch(/Succeeded \(13\) cannot follow no status/);

    expect((await report(sessionToken, dep, S.Running)).statusCode).toBe(200);
    // Rule 35: a running task sequence cannot be cancelled.
    expect((await report(sessionToken, dep, S.Canceled)).statusCode).toBe(409);
    expect((await report(sessionToken, dep, S.Failed)).statusCode).toBe(200);
    // An ended run: no second end (a replayed or turned-around outcome) without a new start.
    expect((await report(sessionToken, dep, S.Failed)).statusCode).toBe(409);
    expect((await report(sessionToken, dep, S.Succeeded)).statusCode).toBe(409);
    expect((await report(sessionToken, dep, S.Running)).statusCode).toBe(200); // a rerun
    expect((await report(sessionToken, dep, S.Succeeded)).statusCode).toBe(200);
  });

  it('rule 140: refuses a message id that names another state', async () => {
    const { sessionToken } = await h.boot(LAB_PC_01);
    const dep = await h.deploymentId('Clients, media and PXE');
    await report(sessionToken, dep, S.Running);
    const r = await report(sessionToken, dep, S.Failed, { messageId: 11171 });
    expect(r.statusCode).toBe(400);
    expect(r.json()).toMatchObject({ field: 'body.messageId', rule: 140 });
  });

  it('refuses (403, audited) a report on a deployment that is not in the machine\'s policy', async () => {
    const { sessionToken } = await h.boot(LAB_PC_01);
    const clientsOnly = await h.deploymentId('Only Configuration Manager clients');
    const r = await report(sessionToken, clientsOnly, S.Running);
    expect(r.statusCode).toBe(403);
    const [audit] = await h.refusals();
    expect(audit).toMatchObject({ deploymentId: clientsOnly, data: { reason: 'not-in-policy', credential: 'session' } });
    // Another machine's deployment (All Unknown Computers) is just as foreign to a known machine (rule 61).
    expect((await report(sessionToken, await h.deploymentId('New machines'), S.Running)).statusCode).toBe(403);
  });
});

describe('rule 64: unknown computers', () => {
  it('after a successful run becomes a device, in All Systems and matching collections, known at the next boot', async () => {
    const rule = await h.admin('POST', '/api/collections', { name: 'New hardware', rules: [{ kind: 'mac', pattern: '52:54:00:99:*' }] });
    const custom = rule.json().id as string;
    const dep = await h.deploymentId('New machines');
    const { sessionToken } = await h.boot(NEW_MACHINE);
    expect((await report(sessionToken, dep, S.Running)).json()).toEqual({ accepted: true });
    const done = await report(sessionToken, dep, S.Succeeded, { variables: [{ name: 'OSDComputerName', value: 'new-pc-01' }] });
    expect(done.statusCode).toBe(200);
    const deviceId = done.json().deviceId as string;
    expect(deviceId).toMatch(/^\d+$/);

    expect(await device(deviceId)).toMatchObject({
      name: 'NEW-PC-01', macs: NEW_MACHINE.macs, smbiosGuid: NEW_MACHINE.smbiosGuid, architecture: 'x64', provisional: false, unknownObject: null,
    });
    const members = (id: string) => h.admin('GET', `/api/collections/${id}/members`).then((r) => (r.json() as Device[]).map((d) => d.id));
    expect(await members('SMS00001')).toContain(deviceId);
    expect(await members(custom)).toEqual([deviceId]);
    expect(await members('SMS000US')).not.toContain(deviceId);
    // The run's history is the new record's.
    expect((await h.admin('GET', `/api/devices/${deviceId}/status`)).json()).toEqual([expect.objectContaining({ deploymentId: dep, state: S.Succeeded })]);
    const audit = (await h.repo.statusMessages.list({ kind: 'audit', deviceId })).at(-1)!;
    expect(audit.text).toMatch(/created device .* for an unknown computer .* succeeded \(rule 64\)/);

    // The same session is now the device's (rule 61: no more All Unknown Computers deployments).
    const p = (await h.call(sessionToken, 'GET', '/client/policy')).json();
    expect(p.offered.map((o: { deploymentId: string }) => o.deploymentId)).not.toContain(dep);
    // The next boot is a known machine.
    const next = await h.boot(NEW_MACHINE);
    expect(next).toMatchObject({ deviceId, deviceName: 'NEW-PC-01', unknownObjectId: null });
  });

  it('after a failed run leaves a provisional "Unknown" record; the machine is known next boot, and a later success clears it', async () => {
    const dep = await h.deploymentId('New machines');
    const { sessionToken } = await h.boot(NEW_MACHINE);
    await report(sessionToken, dep, S.Running);
    const failed = await report(sessionToken, dep, S.Failed, { messageId: 11170 });
    expect(failed.statusCode).toBe(200);
    const deviceId = failed.json().deviceId as string;
    const record = await device(deviceId);
    expect(record).toMatchObject({ provisional: true, macs: NEW_MACHINE.macs });
    expect(record.name).toMatch(/^MININT-[A-Z0-9]{7}$/);
    expect((await h.admin('GET', '/api/collections/SMS00001/members')).json().map((d: Device) => d.id)).toContain(deviceId);

    const next = await h.boot(NEW_MACHINE);
    expect(next).toMatchObject({ deviceId, unknownObjectId: null });
    // Known now: it no longer gets the unknown-computer deployment (rule 61); give it one as a device.
    const coll = (await h.admin('POST', '/api/collections', { name: 'Rebuild', directMemberIds: [deviceId] })).json().id as string;
    const ts = (await h.repo.taskSequences.list()).find((t) => t.name === 'Deploy Windows 11')!;
    const d2 = (await h.admin('POST', '/api/deployments', { taskSequenceId: ts.id, collectionId: coll, settings: { deploymentSettings: { purpose: 'available', availableTo: 'media-pxe' } } })).json().deployment.id as string;
    await report(next.sessionToken, d2, S.Running);
    expect((await report(next.sessionToken, d2, S.Succeeded, { variables: [{ name: 'OSDComputerName', value: 'REBUILT-01' }] })).json()).toEqual({ accepted: true });
    expect(await device(deviceId)).toMatchObject({ provisional: false, name: 'REBUILT-01' });
  });

  it('binds to a record an administrator created for the machine during its run, moving the run\'s history there', async () => {
    const dep = await h.deploymentId('New machines');
    const { sessionToken } = await h.boot(NEW_MACHINE);
    await report(sessionToken, dep, S.Running);
    const created = await h.admin('POST', '/api/devices', { name: 'PRESTAGED-01', macs: NEW_MACHINE.macs });
    const id = created.json().id as string;
    const done = await report(sessionToken, dep, S.Succeeded);
    expect(done.json()).toEqual({ accepted: true, deviceId: id });
    expect(await h.repo.devices.findByMac(NEW_MACHINE.macs[0])).toHaveLength(1);
    expect((await h.admin('GET', `/api/devices/${id}/status`)).json()).toEqual([expect.objectContaining({ deploymentId: dep, state: S.Succeeded })]);
    expect((await h.admin('GET', `/api/deployments/${dep}/summary`)).json()).toMatchObject({ success: 1, inProgress: 0, error: 0 });
  });

  it('keeps concurrent unknown machines apart until their records exist', async () => {
    const dep = await h.deploymentId('New machines');
    const a = await h.boot(NEW_MACHINE);
    const b = await h.boot({ macs: ['52:54:00:99:00:02'], smbiosGuid: null, architecture: 'x64' });
    await report(a.sessionToken, dep, S.Running);
    await report(b.sessionToken, dep, S.Running);
    expect((await report(b.sessionToken, dep, S.Failed)).statusCode).toBe(200);
    const ok = await report(a.sessionToken, dep, S.Succeeded);
    expect(ok.statusCode).toBe(200);
    const summary = (await h.admin('GET', `/api/deployments/${dep}/summary`)).json();
    expect(summary).toMatchObject({ success: 1, error: 1, inProgress: 0 });
  });
});

describe('rules 40–41: the last-PXE-deployment marker', () => {
  it('is set when a required deployment starts from PXE, stops its redelivery, and is cleared by clear-pxe', async () => {
    const hidden = await h.deploymentId('Hidden');
    const preferred = [{ name: 'SMSTSPreferredAdvertID', value: hidden }];
    const first = await h.boot(LAB_PC_01, { variables: preferred });
    expect((await h.call(first.sessionToken, 'GET', '/client/policy')).json().autoRun.deploymentId).toBe(hidden);
    expect((await report(first.sessionToken, hidden, S.Running)).statusCode).toBe(200);
    const marked = await device(first.deviceId!);
    expect(marked.pxe).toEqual({ lastPxeDeploymentId: hidden, lastPxeDeploymentTime: '2026-11-26T08:00:00.000Z' });

    // The run goes on: its content stays reachable and it may finish…
    const pkgs = (await h.call(first.sessionToken, 'GET', '/client/policy')).json();
    expect(pkgs.autoRun).toBeNull();
    const agent = (await h.repo.packages.list()).find((p) => p.name === 'Deployment Agent')!;
    expect((await h.call(first.sessionToken, 'GET', `/client/content/${agent.id}/inventory.sh`)).statusCode).toBe(200);
    expect((await report(first.sessionToken, hidden, S.Succeeded)).statusCode).toBe(200);

    // …but the next PXE boot does not get it again.
    const second = await h.boot(LAB_PC_01, { variables: preferred });
    const p2 = (await h.call(second.sessionToken, 'GET', '/client/policy')).json();
    expect(p2.autoRun).toBeNull();
    expect(p2.preferredError).toMatchObject({ id: hidden, reason: 'pxe-already-delivered' });

    expect((await h.admin('POST', '/api/clear-pxe', { deviceId: first.deviceId })).json()).toEqual({ cleared: [first.deviceId] });
    expect((await device(first.deviceId!)).pxe).toEqual({ lastPxeDeploymentId: null, lastPxeDeploymentTime: null });
    const third = await h.boot(LAB_PC_01, { variables: preferred });
    expect((await h.call(third.sessionToken, 'GET', '/client/policy')).json().autoRun.deploymentId).toBe(hidden);
  });

  it('is not set by an available deployment, nor by a required one started from boot media', async () => {
    const available = await h.deploymentId('Clients, media and PXE');
    const pxe = await h.boot(LAB_PC_01);
    await report(pxe.sessionToken, available, S.Running);
    expect((await device(pxe.deviceId!)).pxe.lastPxeDeploymentId).toBeNull();

    const hidden = await h.deploymentId('Hidden');
    const { token, id } = await h.bootToken(LAB_PC_02, { bootSource: 'media', variables: [{ name: 'SMSTSPreferredAdvertID', value: hidden }] });
    const media = (await h.identify({ ...LAB_PC_02, macs: [...LAB_PC_02.macs], bootSource: 'media', mediaCredential: { mediaId: id, secret: token } })).json();
    expect((await report(media.sessionToken, hidden, S.Running)).statusCode).toBe(200);
    expect((await device(media.deviceId)).pxe.lastPxeDeploymentId).toBeNull();
  });
});

describe('rule 143: deployment summary', () => {
  it('counts success, in progress, error, and unknown (targeted with no status)', async () => {
    const dep = await h.deploymentId('Clients, media and PXE');
    const empty = (await h.admin('GET', `/api/deployments/${dep}/summary`)).json();
    expect(empty).toEqual({ deploymentId: dep, collectionId: expect.any(String), targeted: 2, success: 0, inProgress: 0, error: 0, unknown: 2 });

    const a = await h.boot(LAB_PC_01);
    const b = await h.boot(LAB_PC_02);
    await report(a.sessionToken, dep, S.Running);
    expect((await h.admin('GET', `/api/deployments/${dep}/summary`)).json()).toMatchObject({ success: 0, inProgress: 1, error: 0, unknown: 1 });
    await report(b.sessionToken, dep, S.Failed);
    await report(a.sessionToken, dep, S.Succeeded);
    expect((await h.admin('GET', `/api/deployments/${dep}/summary`)).json()).toMatchObject({ targeted: 2, success: 1, inProgress: 0, error: 1, unknown: 0 });

    expect((await h.admin('GET', '/api/deployments/PXP2FFFF/summary')).statusCode).toBe(404);
    expect((await h.admin('GET', '/api/devices/99999999/status')).statusCode).toBe(404);
  });
});
