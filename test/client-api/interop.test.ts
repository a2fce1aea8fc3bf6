/**
 * Interop: the reference client (src/client) against the real server on
 * loopback — the sample site, a boot token, identify, policy, content with
 * hash verification, status reports — ending in rule 64 for an unknown machine.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { identityFromFlags } from '../../src/client/identity.js';
import { runClientSession } from '../../src/client/session.js';
import { CLIENT_STATES } from '../../src/site/model.js';
import { NEW_MACHINE, startClientHarness, type ClientHarness } from './harness.js';

let h: ClientHarness;
let url: string;
let target: string;
beforeEach(async () => {
  h = await startClientHarness();
  url = await h.app.listen({ host: '127.0.0.1', port: 0 });
  target = mkdtempSync(join(tmpdir(), 'pxepoint-interop-'));
});
afterEach(async () => {
  await h.close();
  rmSync(target, { recursive: true, force: true });
});

describe('the reference client against the server', () => {
  it('rule 64: an unknown machine picks the offered deployment, runs it, and becomes a device', async () => {
    const dep = await h.deploymentId('New machines');
    const { token } = await h.bootToken(NEW_MACHINE);
    const result = await runClientSession({
      identity: identityFromFlags({
        site: url, macs: [...NEW_MACHINE.macs], guid: NEW_MACHINE.smbiosGuid, arch: 'x64', boot: 'pxe', token,
        variables: [{ name: 'OSDComputerName', value: 'INTEROP-01' }],
      }),
      targetDir: target,
      select: dep,
      sleep: async () => undefined,
    });
    expect(result.message ?? '', result.message ?? '').not.toMatch(/error/i);
    expect(result.exitCode).toBe(0);
    expect(result.identity).toMatchObject({ deviceId: null, unknownObjectId: '2046820353' });
    const device = (await h.repo.devices.findByMac(NEW_MACHINE.macs[0]))[0];
    expect(device).toMatchObject({ name: 'INTEROP-01', provisional: false, smbiosGuid: NEW_MACHINE.smbiosGuid });
    expect((await h.repo.clientStatus.get(device!.id, dep))?.state).toBe(CLIENT_STATES.Succeeded);
    // The token was one-time: the same boot cannot be replayed.
    expect((await h.identify({ ...NEW_MACHINE, macs: [...NEW_MACHINE.macs], bootSource: 'pxe', pxeToken: token })).statusCode).toBe(401);
  });
});
