/**
 * GET /client/policy, /client/variables and /client/content: what a session's
 * machine may run (through the pure selection, policy/select.ts), its variables
 * (rules 65, 113) and the content of its packages — and nothing of anyone else's.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PolicyResponse } from '../../src/policy/client-api.js';
import { LAB_PC_01, NEW_MACHINE, startClientHarness, type ClientHarness } from './harness.js';

let h: ClientHarness;
beforeEach(async () => {
  h = await startClientHarness();
});
afterEach(() => h.close());

const policyOf = async (session: string): Promise<PolicyResponse> => {
  const r = await h.call(session, 'GET', '/client/policy');
  expect(r.statusCode).toBe(200);
  return r.json();
};
const variablesOf = async (session: string): Promise<Record<string, string>> => {
  const r = await h.call(session, 'GET', '/client/variables');
  expect(r.statusCode).toBe(200);
  return Object.fromEntries((r.json().variables as { name: string; value: string }[]).map((v) => [v.name, v.value]));
};

describe('GET /client/policy', () => {
  it('rules 19, 23: a known PXE machine is offered its media/PXE deployment, not the clients-only or hidden ones', async () => {
    const { sessionToken } = await h.boot(LAB_PC_01);
    const p = await policyOf(sessionToken);
    const offeredId = await h.deploymentId('Clients, media and PXE');
    expect(p.offered.map((o) => o.deploymentId)).toEqual([offeredId]);
    expect(p).toMatchObject({ autoRun: null, prompt: true, preferredError: null });
    expect(p.excluded).toEqual(expect.arrayContaining([
      { deploymentId: await h.deploymentId('Only Configuration Manager clients'), reason: 'clients-only' },
      { deploymentId: await h.deploymentId('Hidden'), reason: 'hidden' },
    ]));
  });

  it('fills the task sequence, the packages with size and SHA-256 of every file (rule 116), and absolute locations', async () => {
    const { sessionToken } = await h.boot(LAB_PC_01);
    const [d] = (await policyOf(sessionToken)).offered;
    expect(d!.taskSequence.name).toBe('Deploy Windows 11');
    expect(d!.taskSequence.steps.map((s) => [s.index, s.type])).toEqual([
      [0, 'download-package'], [1, 'apply-image'], [2, 'download-package'], [3, 'set-variable'], [4, 'run-command'], [5, 'restart'],
    ]);
    expect(d!.deploymentOption).toBe('download-when-needed');
    expect(d!.packages.map((p) => p.name)).toEqual(['Deployment Agent', 'Windows 11 Image', 'Lab Drivers']);
    const agent = d!.packages[0]!;
    expect(agent.files.map((f) => f.path)).toEqual(['inventory.sh', 'post-install.sh']);
    const source = (await h.repo.packages.get(agent.id))!.sourcePath!;
    for (const f of agent.files) {
      const bytes = readFileSync(join(source, f.path));
      expect(f).toEqual({ path: f.path, size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') });
    }
    expect(agent.locations).toEqual([`http://localhost:80/client/content/${agent.id}/`]);
    const image = d!.packages[1]!;
    expect(image.files.some((f) => f.path.includes('/'))).toBe(true); // nested folders, '/'-separated
  });

  it('rules 60–61: an unknown machine gets the All Unknown Computers deployment only', async () => {
    const { sessionToken } = await h.boot(NEW_MACHINE);
    const p = await policyOf(sessionToken);
    expect(p.offered.map((o) => o.deploymentId)).toEqual([await h.deploymentId('New machines')]);
    expect(p.offered[0]!.packages).toHaveLength(3);
  });

  it('rule 24: SMSTSPreferredAdvertID from the token runs the hidden deployment with no prompt', async () => {
    const hidden = await h.deploymentId('Hidden');
    const { sessionToken } = await h.boot(LAB_PC_01, { variables: [{ name: 'SMSTSPreferredAdvertID', value: hidden }] });
    const p = await policyOf(sessionToken);
    expect(p.autoRun).toMatchObject({ deploymentId: hidden, purpose: 'required', taskSequence: { name: 'Deploy Windows 11' } });
    expect(p.prompt).toBe(false);
  });

  it('rule 26: SMSTSPreferredAdvertID set by the client itself (identify variables) is honoured too', async () => {
    const hidden = await h.deploymentId('Hidden');
    const { token } = await h.bootToken(LAB_PC_01);
    const r = await h.identify({ ...LAB_PC_01, macs: [...LAB_PC_01.macs], bootSource: 'pxe', pxeToken: token,
      variables: [{ name: 'SMSTSPreferredAdvertID', value: hidden }, { name: '_SMSTSClientMAC', value: LAB_PC_01.macs[0] }] });
    expect(r.statusCode).toBe(200);
    expect((await policyOf(r.json().sessionToken)).autoRun?.deploymentId).toBe(hidden);
  });

  it('sees a site change at once (the cached snapshot is rebuilt on site.change)', async () => {
    const { sessionToken } = await h.boot(LAB_PC_01);
    expect((await policyOf(sessionToken)).offered).toHaveLength(1);
    const ts = (await h.repo.taskSequences.list()).find((t) => t.name === 'Deploy Windows 11')!;
    expect((await h.admin('PATCH', `/api/task-sequences/${ts.id}`, { disabled: true })).statusCode).toBe(200);
    const p = await policyOf(sessionToken);
    expect(p.offered).toEqual([]);
    expect(p.excluded.map((e) => e.reason)).toContain('task-sequence-disabled');
  });
});

describe('GET /client/variables', () => {
  it('rule 65: a known machine gets its device and collection variables; an unknown one collection variables only', async () => {
    // Computer variables on the x64 Unknown Computer object must not reach an unknown machine (rule 65).
    expect((await h.admin('PATCH', '/api/devices/2046820353', { variables: [{ name: 'ObjectVar', value: 'no' }] })).statusCode).toBe(200);
    expect((await h.admin('PATCH', '/api/collections/SMS000US', { variables: [{ name: 'UnknownCollectionVar', value: 'yes' }] })).statusCode).toBe(200);

    const known = await variablesOf((await h.boot(LAB_PC_01)).sessionToken);
    expect(known).toMatchObject({ OSDComputerName: 'LAB-PC-01', OSDTimeZone: 'UTC' });
    expect(known).not.toHaveProperty('UnknownCollectionVar');

    const unknown = await variablesOf((await h.boot(NEW_MACHINE)).sessionToken);
    expect(unknown).toEqual({ UnknownCollectionVar: 'yes' });
  });

  it('rule 113: the client\'s own variables override collection and device ones', async () => {
    const { sessionToken } = await h.boot(LAB_PC_01, { variables: [{ name: 'osdtimezone', value: 'CET' }] });
    const v = await variablesOf(sessionToken);
    expect(v.osdtimezone ?? v.OSDTimeZone).toBe('CET');
  });
});

describe('GET /client/content/:packageId/*', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'pxepoint-content-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  async function agentPackage(session: string) {
    const [d] = (await policyOf(session)).offered;
    return d!.packages[0]!;
  }

  it('streams a file of a package in the policy, matching its hash; honours Range', async () => {
    const { sessionToken } = await h.boot(LAB_PC_01);
    const pkg = await agentPackage(sessionToken);
    const file = pkg.files[1]!;
    const r = await h.call(sessionToken, 'GET', `/client/content/${pkg.id}/${file.path}`);
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toBe('application/octet-stream');
    expect(r.headers['accept-ranges']).toBe('bytes');
    expect(createHash('sha256').update(r.rawPayload).digest('hex')).toBe(file.sha256);

    const part = await h.call(sessionToken, 'GET', `/client/content/${pkg.id}/${file.path}`, undefined, { range: 'bytes=2-5' });
    expect(part.statusCode).toBe(206);
    expect(part.headers['content-range']).toBe(`bytes 2-5/${file.size}`);
    expect(part.rawPayload).toEqual(r.rawPayload.subarray(2, 6));
    const tail = await h.call(sessionToken, 'GET', `/client/content/${pkg.id}/${file.path}`, undefined, { range: 'bytes=-3' });
    expect(tail.rawPayload).toEqual(r.rawPayload.subarray(file.size - 3));
    const beyond = await h.call(sessionToken, 'GET', `/client/content/${pkg.id}/${file.path}`, undefined, { range: `bytes=${file.size}-` });
    expect(beyond.statusCode).toBe(416);
    expect(beyond.headers['content-range']).toBe(`bytes */${file.size}`);
  });

  it('never leaves the package folder: "..", encoded "..", absolute paths and links are 404', async () => {
    const { sessionToken } = await h.boot(LAB_PC_01);
    const pkg = await agentPackage(sessionToken);
    for (const path of ['%2e%2e/%2e%2e/site.json', '..%2f..%2fsite.json', '%2fetc%2fpasswd', 'a/%2e/b', 'inventory.sh%00']) {
      const r = await h.call(sessionToken, 'GET', `/client/content/${pkg.id}/${path}`);
      expect(r.statusCode, path).toBe(404);
      // Either the router already normalised the dots away, or the route refused the path.
      expect(['PXE_ERR_CONTENT_NOT_FOUND', 'PXE_ERR_ROUTE_NOT_FOUND'], path).toContain(r.json().code);
    }
    for (const path of ['..%2f..%2fsite.json', '%2fetc%2fpasswd', 'inventory.sh%00']) {
      expect((await h.call(sessionToken, 'GET', `/client/content/${pkg.id}/${path}`)).json().code, path).toBe('PXE_ERR_CONTENT_NOT_FOUND');
    }
    // A link inside the package folder that points out of it.
    const source = (await h.repo.packages.get(pkg.id))!.sourcePath!;
    const pkgDir = join(dir, 'pkg');
    mkdirSync(pkgDir);
    writeFileSync(join(pkgDir, 'ok.txt'), 'ok');
    writeFileSync(join(dir, 'secret.txt'), 'secret');
    symlinkSync(join(dir, 'secret.txt'), join(pkgDir, 'link.txt'));
    expect((await h.admin('PATCH', `/api/packages/${pkg.id}`, { sourcePath: pkgDir })).statusCode).toBe(200);
    expect((await h.call(sessionToken, 'GET', `/client/content/${pkg.id}/ok.txt`)).statusCode).toBe(200);
    expect((await h.call(sessionToken, 'GET', `/client/content/${pkg.id}/link.txt`)).statusCode).toBe(404);
    expect((await agentPackage(sessionToken)).files.map((f) => f.path)).toEqual(['ok.txt']); // links are not listed either
    expect(dirname(source)).not.toBe(dir);
  });

  it('refuses (403, audited) a package that is not in the session\'s policy', async () => {
    writeFileSync(join(dir, 'tool.exe'), 'tool');
    const created = await h.admin('POST', '/api/packages', { name: 'Finance tools', sourcePath: dir });
    const other = created.json().id as string;
    const { sessionToken } = await h.boot(LAB_PC_01);
    const r = await h.call(sessionToken, 'GET', `/client/content/${other}/tool.exe`);
    expect(r.statusCode).toBe(403);
    expect(r.json()).toMatchObject({ code: 'PXE_ERR_CLIENT_FORBIDDEN' });
    const [audit] = await h.refusals();
    expect(audit!.data).toMatchObject({ reason: 'not-in-policy', credential: 'session', packageId: other });
    // An unknown machine's session cannot read the known machines' content either when it is not in its policy.
    const unknown = (await h.boot(NEW_MACHINE)).sessionToken;
    expect((await h.call(unknown, 'GET', `/client/content/${other}/tool.exe`)).statusCode).toBe(403);
  });
});
