/**
 * Issue 5, done-when: an end-to-end test on loopback with the real server
 * (`pxepoint serve` from source) and the reference client (`pxepoint client`
 * from source), each case asserting on what the site recorded (admin API) and on
 * the files in the client's target directory.
 *
 * The site is the sample site (`--sample-site`: LAB-PC-01/02 in "Lab
 * Workstations" with an available, a clients-only and a hidden required
 * deployment of "Deploy Windows 11"; an available deployment to All Unknown
 * Computers; package content on disk) plus what the cases add through the admin
 * API: a machine with a required deployment, and one whose deployment expired
 * yesterday.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPxepoint, startServeChild, waitForExit, type ServerChild, adminApi } from '../support/child.js';

const root = mkdtempSync(join(tmpdir(), 'pxepoint-client-flow-'));
const dataDir = join(root, 'data');
let server: ServerChild | null = null;
let admin = '';

const LAB_PC_01 = { mac: '52:54:00:77:00:10', guid: '4b1d0000-7777-4000-8000-000000000010' };
const LAB_PC_02 = { mac: '52:54:00:77:00:20', guid: '4b1d0000-7777-4000-8000-000000000020' };
const REQ_PC = { mac: '52:54:00:77:05:01', guid: '4b1d0000-7777-4000-8000-000000000501' };
const EXP_PC = { mac: '52:54:00:77:05:02', guid: '4b1d0000-7777-4000-8000-000000000502' };
const NEW_PC = { mac: '52:54:00:77:0e:01', guid: '4b1d0000-7777-4000-8000-000000000e01' };
const TAMPER_PC = { mac: '52:54:00:77:05:03', guid: '4b1d0000-7777-4000-8000-000000000503' };

const api = <T = unknown>(method: string, path: string, body?: unknown): Promise<T> => adminApi<T>(server!.url, admin, method, path, body);

interface DeviceStatusRow { deploymentId: string; state: number; lastMessageId: number | null; lastMessage: string }
const statusOf = (deviceId: string): Promise<DeviceStatusRow[]> => api<DeviceStatusRow[]>('GET', `/api/devices/${deviceId}/status`);

async function bootToken(machine: { mac: string; guid: string }): Promise<string> {
  return (await api<{ token: string }>('POST', '/api/boot-tokens', { macs: [machine.mac], smbiosGuid: machine.guid, bootSource: 'pxe' })).token;
}

/** The PXE variables file a PXE responder would hand this machine (docs/client.md). */
function varsFile(machine: { mac: string; guid: string }, token: string, extra: { name: string; value: string }[] = []): string {
  const file = join(mkdtempSync(join(root, 'vars-')), 'variables.json');
  writeFileSync(file, JSON.stringify({ variables: [
    { name: 'SMSTSSiteURL', value: server!.url },
    { name: '_SMSTSMediaType', value: 'PXE' },
    { name: '_SMSTSLaunchMode', value: 'PXE' },
    { name: '_SMSTSClientMAC', value: machine.mac },
    { name: '_PXPSMBIOSGUID', value: machine.guid },
    { name: '_PXPArchitecture', value: 'x64' },
    { name: '_PXPBootToken', value: token },
    ...extra,
  ] }, null, 2), { mode: 0o600 });
  return file;
}

const target = (): string => mkdtempSync(join(root, 'target-'));

interface ClientJson {
  exitCode: number;
  message: string | null;
  identity: { deviceId: string | null; deviceName: string | null; unknownObjectId: string | null } | null;
  offered: { deploymentId: string }[];
  excluded: { deploymentId: string; reason: string }[];
  selection: { deploymentId: string; how: string } | null;
  run: { succeeded: boolean; deploymentId: string; deviceId: string | null; steps: { result: string }[] } | null;
}

async function client(args: string[], input?: string): Promise<{ code: number | null; json: ClientJson; stderr: string }> {
  const r = await runPxepoint(['client', '--json', ...args], { timeoutMs: 60_000, ...(input !== undefined ? { input } : {}) });
  let json: ClientJson;
  try {
    json = JSON.parse(r.stdout) as ClientJson;
  } catch {
    throw new Error(`pxepoint client printed no JSON (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
  return { code: r.code, json, stderr: r.stderr };
}

/** What the sample site's "Deploy Windows 11" leaves in the target directory. */
function expectDeployWindows11Files(dir: string): void {
  expect(readFileSync(join(dir, 'os', 'boot.ini'), 'utf8')).toMatch(/./);
  expect(existsSync(join(dir, 'os', 'Windows', 'System32', 'README.txt'))).toBe(true);
  expect(existsSync(join(dir, '_SMSTSPackages', 'PXP00001', 'post-install.sh'))).toBe(true);
  expect(JSON.parse(readFileSync(join(dir, '_SMSTSRestart'), 'utf8'))).toMatchObject({ stepName: 'Restart' });
  expect(readFileSync(join(dir, '_SMSTSLog', 'smsts.log'), 'utf8')).toMatch(/task sequence PXP\w+ succeeded/);
}

/** The sample site's deployments, found by their targets (see fixtures/sample-site/site.json). */
const sample = { clientsOnly: '', available: '', unknown: '', hidden: '' };

let ids: {
  reqDevice: string; reqDeployment: string; expDevice: string; expDeployment: string; lab01: string; lab02: string;
  tamperDevice: string; tamperPackage: string; tamperSource: string;
};

beforeAll(async () => {
  server = await startServeChild(['--data-dir', dataDir, '--sample-site', '--listen', '127.0.0.1', '--http-port', '0', '--dhcp-mode', 'off', '--log-level', 'warn']);
  admin = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();

  // Never a silent skip: without the server side of the client API there is nothing to test.
  const probe = await fetch(`${server.url}/client/identify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  if (probe.status === 404) throw new Error('the server side of the client API (POST /client/identify) has not landed: this end-to-end test cannot run');

  const devices = await api<{ id: string; name: string }[]>('GET', '/api/devices');
  const byName = (n: string): string => devices.find((d) => d.name === n)!.id;
  const tasks = await api<{ id: string; name: string }[]>('GET', '/api/task-sequences');
  const deployments = await api<{ id: string; collectionId: string; deploymentSettings: { availableTo: string } }[]>('GET', '/api/deployments');
  const find = (pred: (d: (typeof deployments)[number]) => boolean): string => {
    const d = deployments.find(pred);
    if (!d) throw new Error('the sample site changed: a deployment this test relies on is missing');
    return d.id;
  };
  sample.clientsOnly = find((d) => d.deploymentSettings.availableTo === 'clients-only');
  sample.available = find((d) => d.deploymentSettings.availableTo === 'clients-media-pxe');
  sample.unknown = find((d) => d.collectionId === 'SMS000US');
  sample.hidden = find((d) => d.deploymentSettings.availableTo === 'media-pxe-hidden');
  const deployWindows = tasks.find((t) => t.name === 'Deploy Windows 11')!.id;

  // A known machine whose only deployment is required (media and PXE).
  const req = await api<{ id: string }>('POST', '/api/devices', { name: 'REQ-PC-01', macs: [REQ_PC.mac], smbiosGuid: REQ_PC.guid, architecture: 'x64' });
  const reqColl = await api<{ id: string }>('POST', '/api/collections', { name: 'Required OSD', directMemberIds: [req.id] });
  const reqDep = await api<{ deployment: { id: string } }>('POST', '/api/deployments', {
    taskSequenceId: deployWindows, collectionId: reqColl.id, comment: 'e2e: required, media and PXE',
    settings: { deploymentSettings: { purpose: 'required', availableTo: 'media-pxe' }, scheduling: { assignments: [{ kind: 'asap' }] } },
    acceptHighRisk: true,
  });

  // A machine whose (available) deployment expired yesterday (rule 28: PXE ignores it, full OS does not).
  const day = 24 * 3600_000;
  const noOffset = (t: number): string => new Date(t).toISOString().slice(0, 19);
  const exp = await api<{ id: string }>('POST', '/api/devices', { name: 'EXP-PC-01', macs: [EXP_PC.mac], smbiosGuid: EXP_PC.guid, architecture: 'x64' });
  const expColl = await api<{ id: string }>('POST', '/api/collections', { name: 'Expired deployment', directMemberIds: [exp.id] });
  const expDep = await api<{ deployment: { id: string } }>('POST', '/api/deployments', {
    taskSequenceId: deployWindows, collectionId: expColl.id, comment: 'e2e: expired yesterday',
    settings: {
      deploymentSettings: { purpose: 'available', availableTo: 'clients-media-pxe' },
      scheduling: { available: { at: noOffset(Date.now() - 3 * day), utc: true }, expires: { at: noOffset(Date.now() - day), utc: true } },
    },
  });

  // Content altered on the distribution point after policy was issued: its first step appends to the
  // package's source file (client and site share this machine), so the download that follows gets
  // bytes whose SHA-256 is not the one in the policy the client already holds.
  const tamperSource = join(root, 'tamper-src');
  mkdirSync(tamperSource);
  writeFileSync(join(tamperSource, 'payload.txt'), 'original content\n');
  const tamperPkg = await api<{ id: string }>('POST', '/api/packages', { name: 'Tamper target', sourcePath: tamperSource });
  const bootImages = await api<{ id: string; architecture: string }[]>('GET', '/api/boot-images');
  const tamperTs = await api<{ id: string }>('POST', '/api/task-sequences', {
    name: 'Tampered content', bootImageId: bootImages.find((b) => b.architecture === 'x64')!.id,
    steps: [
      { name: 'Alter the DP copy', type: 'run-command', commandLine: `printf 'evil' >> '${join(tamperSource, 'payload.txt')}'` },
      { name: 'Download payload', type: 'download-package', packageId: tamperPkg.id },
      { name: 'Never runs', type: 'run-command', commandLine: 'touch never-ran' },
    ],
  });
  const tamper = await api<{ id: string }>('POST', '/api/devices', { name: 'TAMPER-PC-01', macs: [TAMPER_PC.mac], smbiosGuid: TAMPER_PC.guid, architecture: 'x64' });
  const tamperColl = await api<{ id: string }>('POST', '/api/collections', { name: 'Tamper test', directMemberIds: [tamper.id] });
  await api('POST', '/api/deployments', {
    taskSequenceId: tamperTs.id, collectionId: tamperColl.id,
    settings: { deploymentSettings: { purpose: 'required', availableTo: 'media-pxe' }, scheduling: { assignments: [{ kind: 'asap' }] } },
    acceptHighRisk: true,
  });

  ids = {
    reqDevice: req.id, reqDeployment: reqDep.deployment.id, expDevice: exp.id, expDeployment: expDep.deployment.id, lab01: byName('LAB-PC-01'), lab02: byName('LAB-PC-02'),
    tamperDevice: tamper.id, tamperPackage: tamperPkg.id, tamperSource,
  };
}, 60_000);

afterAll(async () => {
  if (server) {
    server.child.kill('SIGTERM');
    await waitForExit(server.child);
  }
  rmSync(root, { recursive: true, force: true });
});

describe('client flow end to end (real server, reference client, loopback)', () => {
  it('a known machine with a required deployment runs it unattended to success', async () => {
    const dir = target();
    const r = await client(['--vars', varsFile(REQ_PC, await bootToken(REQ_PC)), '--target', dir, '--unattended']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.identity).toMatchObject({ deviceId: ids.reqDevice, deviceName: 'REQ-PC-01' });
    expect(r.json.selection).toEqual({ deploymentId: ids.reqDeployment, how: 'required' });
    expect(r.json.run!.steps.every((s) => s.result === 'succeeded')).toBe(true);
    expectDeployWindows11Files(dir);
    // What the site recorded: Succeeded (13) with 11171.
    expect(await statusOf(ids.reqDevice)).toEqual([expect.objectContaining({ deploymentId: ids.reqDeployment, state: 13, lastMessageId: 11171 })]);
    const messages = await api<{ messageId: number; deploymentId: string | null }[]>('GET', `/api/messages?deviceId=${ids.reqDevice}&deploymentId=${ids.reqDeployment}`);
    expect(messages.every((m) => m.deploymentId === ids.reqDeployment)).toBe(true);
    // Start, steps, the restart (Reboot Pending), the end.
    expect(messages.map((m) => m.messageId)).toEqual(expect.arrayContaining([11140, 11134, 11142, 11171]));

    // Rule 40: a required PXE deployment is delivered once; the next boot gets nothing until Clear Required PXE Deployments.
    const again = await client(['--vars', varsFile(REQ_PC, await bootToken(REQ_PC)), '--target', target(), '--unattended']);
    expect(again.code).toBe(3);
    expect(again.json.excluded).toContainEqual({ deploymentId: ids.reqDeployment, reason: 'pxe-already-delivered' });
  }, 90_000);

  it('a machine with only available deployments is offered the list (never the hidden one) and runs the one picked', async () => {
    // Unattended refuses to guess.
    const refused = await client(['--vars', varsFile(LAB_PC_02, await bootToken(LAB_PC_02)), '--target', target(), '--unattended']);
    expect(refused.code).toBe(4);
    expect(refused.json.offered.map((d) => d.deploymentId)).toEqual([sample.available]);
    expect(refused.json.excluded).toEqual(expect.arrayContaining([{ deploymentId: sample.hidden, reason: 'hidden' }, { deploymentId: sample.clientsOnly, reason: 'clients-only' }]));

    // The user picks on stdin, as on the "Select a task sequence to run" page.
    const dir = target();
    const r = await runPxepoint(['client', '--vars', varsFile(LAB_PC_02, await bootToken(LAB_PC_02)), '--target', dir], { input: '1\n', timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`Select a task sequence to run:\\n {2}1\\) ${sample.available} {2}Deploy Windows 11`));
    expect(r.stdout).not.toContain(sample.hidden);
    expect(r.stdout).toContain(`running ${sample.available}: Deploy Windows 11 (selected)`);
    expectDeployWindows11Files(dir);
    expect(await statusOf(ids.lab02)).toContainEqual(expect.objectContaining({ deploymentId: sample.available, state: 13, lastMessageId: 11171 }));
  }, 90_000);

  it('a hidden deployment is not listed and runs only through SMSTSPreferredAdvertID', async () => {
    // --select cannot reach it: it is not offered.
    const notListed = await client(['--vars', varsFile(LAB_PC_01, await bootToken(LAB_PC_01)), '--target', target(), '--select', sample.hidden]);
    expect(notListed.code).toBe(4);
    expect(notListed.json.message).toMatch(new RegExp(`${sample.hidden} is not offered.*SMSTSPreferredAdvertID`));
    expect((await statusOf(ids.lab01)).find((s) => s.deploymentId === sample.hidden)).toBeUndefined();

    // SMSTSPreferredAdvertID in the PXE variables file runs it with no prompt (rule 24).
    const dir = target();
    const r = await client(['--vars', varsFile(LAB_PC_01, await bootToken(LAB_PC_01), [{ name: 'SMSTSPreferredAdvertID', value: sample.hidden }]), '--target', dir, '--unattended']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.selection).toEqual({ deploymentId: sample.hidden, how: 'preferred' });
    expectDeployWindows11Files(dir);
    expect(await statusOf(ids.lab01)).toContainEqual(expect.objectContaining({ deploymentId: sample.hidden, state: 13, lastMessageId: 11171 }));
  }, 90_000);

  it('an unknown machine runs the All Unknown Computers deployment once, and is known afterwards', async () => {
    const dir = target();
    const first = await client([
      '--vars', varsFile(NEW_PC, await bootToken(NEW_PC), [{ name: 'OSDComputerName', value: 'NEW-PC-01' }]),
      '--target', dir, '--select', sample.unknown,
    ]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.json.identity).toMatchObject({ deviceId: null, unknownObjectId: '2046820353' }); // x64 Unknown Computer (rule 62)
    expect(first.json.offered.map((d) => d.deploymentId)).toEqual([sample.unknown]);
    expectDeployWindows11Files(dir);
    const created = first.json.run!.deviceId;
    expect(created).toMatch(/^\d+$/);
    const device = await api<{ name: string; macs: string[]; provisional: boolean }>('GET', `/api/devices/${created}`);
    expect(device).toMatchObject({ name: 'NEW-PC-01', macs: [NEW_PC.mac], provisional: false });
    expect(await statusOf(created!)).toContainEqual(expect.objectContaining({ deploymentId: sample.unknown, state: 13, lastMessageId: 11171 }));

    // Next boot: known (rule 64), and the unknown-computers deployment is no longer offered (rule 61).
    const second = await client(['--vars', varsFile(NEW_PC, await bootToken(NEW_PC)), '--target', target(), '--unattended']);
    expect(second.json.identity).toMatchObject({ deviceId: created, deviceName: 'NEW-PC-01', unknownObjectId: null });
    expect(second.json.offered.map((d) => d.deploymentId)).not.toContain(sample.unknown);
    expect(second.code).toBe(3);
    expect(second.json.message).toMatch(/no task sequence is available/);
  }, 90_000);

  it('a deployment that expired yesterday still runs from PXE, but not for a full-OS client', async () => {
    const dir = target();
    const pxe = await client(['--vars', varsFile(EXP_PC, await bootToken(EXP_PC)), '--target', dir, '--select', ids.expDeployment]);
    expect(pxe.code, pxe.stderr).toBe(0);
    expect(pxe.json.offered.map((d) => d.deploymentId)).toEqual([ids.expDeployment]);
    expectDeployWindows11Files(dir);
    expect(await statusOf(ids.expDevice)).toContainEqual(expect.objectContaining({ deploymentId: ids.expDeployment, state: 13 }));

    const { key } = await api<{ key: string }>('POST', `/api/devices/${ids.expDevice}/client-key`);
    const fullOs = await client(['--site', server!.url, '--mac', EXP_PC.mac, '--guid', EXP_PC.guid, '--boot', 'full-os', '--client-key', key, '--target', target(), '--select', ids.expDeployment]);
    expect(fullOs.code).toBe(3);
    expect(fullOs.json.identity).toMatchObject({ deviceId: ids.expDevice });
    expect(fullOs.json.offered).toEqual([]);
    expect(fullOs.json.excluded).toContainEqual({ deploymentId: ids.expDeployment, reason: 'expired' });
  }, 90_000);

  it('content altered on the distribution point fails its step on the hash check and nothing of it is kept (rule 116)', async () => {
    const dir = target();
    const r = await client(['--vars', varsFile(TAMPER_PC, await bootToken(TAMPER_PC)), '--target', dir, '--unattended']);
    expect(r.code).toBe(1);
    expect(r.json.run!.steps.map((s) => s.result)).toEqual(['succeeded', 'failed', 'not-run']);
    expect(readFileSync(join(ids.tamperSource, 'payload.txt'), 'utf8')).toBe('original content\nevil'); // the DP copy was altered
    expect(readdirSync(join(dir, '_SMSTSPackages'))).toEqual([]); // nothing of the bad copy kept
    expect(existsSync(join(dir, 'never-ran'))).toBe(false);
    expect(readFileSync(join(dir, '_SMSTSLog', 'smsts.log'), 'utf8')).toMatch(/payload\.txt from .*: (size|hash) mismatch/);
    const [row] = (await statusOf(ids.tamperDevice));
    expect(row).toMatchObject({ state: 11, lastMessageId: 11170 });
    expect(row!.lastMessage).toMatch(/Download payload.*SHA-256 \(rule 116\)/);
  }, 90_000);
});
