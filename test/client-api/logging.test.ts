/** Secrets of the client API (boot tokens, sessions, client keys) never reach the log (STYLE: pino redaction). */
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { CLIENT_STATES } from '../../src/site/model.js';
import { LAB_PC_01, startClientHarness, type ClientHarness } from './harness.js';

let h: ClientHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('client API logging', () => {
  it('logs requests and refusals without any credential', async () => {
    const chunks: string[] = [];
    const stream = new Writable({ write(chunk: Buffer, _enc, done) { chunks.push(chunk.toString()); done(); } });
    h = await startClientHarness({ logger: pino({ level: 'trace' }, stream) });
    const { token } = await h.bootToken(LAB_PC_01);
    const body = { ...LAB_PC_01, macs: [...LAB_PC_01.macs], bootSource: 'pxe', pxeToken: token };
    const session = (await h.identify(body)).json().sessionToken as string;
    await h.identify(body); // a replay: refused
    await h.identify({ ...body, pxeToken: token, unknownField: token }); // invalid: 400
    await h.call(session, 'GET', '/client/policy');
    await h.call(session, 'POST', '/client/status', { deploymentId: await h.deploymentId('Clients, media and PXE'), state: CLIENT_STATES.Succeeded, message: 'x' }); // 409
    const device = (await h.repo.devices.findByMac(LAB_PC_01.macs[0]))[0]!;
    const { key } = (await h.admin('POST', `/api/devices/${device.id}/client-key`)).json();
    await h.identify({ ...body, pxeToken: undefined, bootSource: 'full-os', clientKey: key });
    const text = chunks.join('');
    expect(text.split('\n').filter(Boolean).length).toBeGreaterThan(10);
    for (const secret of [token, session, key]) expect(text).not.toContain(secret);
  });
});
