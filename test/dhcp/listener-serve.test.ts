/** The DHCP role wired into `pxepoint serve` (src/server.ts): decision from the site, boot session, answer. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { subscribe } from '../../src/events.js';
import { DhcpMessageType } from '../../src/dhcp/option-codes.js';
import { messageType } from '../../src/dhcp/options.js';
import { capturedDhcp } from './captures.js';
import { testSocket } from './listener-helpers.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

describe('pxepoint serve with the pxe role', () => {
  it('starts ProxyDHCP, decides from the site and answers a known machine', { timeout: 30_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pxp-serve-dhcp-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const client = await testSocket();
    cleanups.push(() => client.close());
    const events: Record<string, unknown>[] = [];
    cleanups.push(subscribe('dhcp.decision', (e) => events.push(e)));
    const config = resolveConfig({}, {
      dataDir: dir, listen: '127.0.0.1', httpPort: 0, dhcpPort: 0, pxePort: 0, tftpPort: 0, dhcpMode: 'proxy',
      dhcp: { clientPort: client.port }, logLevel: 'silent',
    });
    const server: RunningServer = await startServer(config, { sampleSite: true, logger: pino({ level: 'silent' }) });
    cleanups.push(() => server.close());
    expect(server.dhcp).not.toBeNull();
    expect(server.dhcp!.mode).toBe('proxy');
    const port = server.dhcp!.endpoints.find((e) => e.kind === 'dhcp')!.port;
    // OVMF of LAB-PC-02 (52:54:00:77:00:20), a known machine of the sample site.
    const discover = capturedDhcp('proxy-uefi')[0]!;
    await client.send(discover.datagram.payload, port);
    const got = await client.next(3000);
    const decision = events.find((e) => e.mac === '52:54:00:77:00:20');
    // The sample site deploys "available" to LAB-* machines: a prompt, and an answer.
    expect(decision).toMatchObject({ channel: 'proxy', decision: 'boot-with-prompt', reasonCode: 'available', deviceId: expect.any(String) });
    expect(messageType(got!.packet)).toBe(DhcpMessageType.Offer);
    expect(got!.packet.file).toBe('boot/x64/snponly.efi');
    expect(typeof decision!.latencyMs).toBe('number');
  });

  it('refuses full mode without a pool, naming the config to add', { timeout: 30_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pxp-serve-dhcp-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const config = resolveConfig({}, { dataDir: dir, listen: '127.0.0.1', httpPort: 0, dhcpPort: 0, pxePort: 0, dhcpMode: 'full', logLevel: 'silent' });
    await expect(startServer(config, { logger: pino({ level: 'silent' }) })).rejects.toThrow(/needs at least one pool/);
  });
});
