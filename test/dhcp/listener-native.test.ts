/** `pxe.chain: native` through the real listener of `pxepoint serve` (src/server.ts onServiced), on loopback. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config.js';
import { startServer } from '../../src/server.js';
import { subscribe } from '../../src/events.js';
import { DhcpMessageType, DhcpOptionCode } from '../../src/dhcp/option-codes.js';
import { getOption, messageType, wdsBcdPath } from '../../src/dhcp/options.js';
import { encodeDhcpPacket } from '../../src/dhcp/packet.js';
import { capturedDhcp } from './captures.js';
import { testSocket } from './listener-helpers.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function serve(chain: 'ipxe' | 'native') {
  const dir = mkdtempSync(join(tmpdir(), 'pxp-native-dhcp-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const client = await testSocket();
  cleanups.push(() => client.close());
  const config = resolveConfig({}, {
    dataDir: dir, listen: '127.0.0.1', httpPort: 0, dhcpPort: 0, pxePort: 0, tftpPort: 0, dhcpMode: 'proxy',
    dhcp: { clientPort: client.port }, pxe: { chain }, logLevel: 'silent',
  });
  const server = await startServer(config, { sampleSite: true, logger: pino({ level: 'silent' }) });
  cleanups.push(() => server.close());
  const port = server.dhcp!.endpoints.find((e) => e.kind === 'dhcp')!.port;
  return { client, port };
}

describe('pxe.chain native through the listener', () => {
  it('offers OVMF bootmgfw.efi and the BCD path in option 252', { timeout: 30_000 }, async () => {
    const { client, port } = await serve('native');
    const events: Record<string, unknown>[] = [];
    cleanups.push(subscribe('dhcp.decision', (e) => events.push(e)));
    // OVMF of LAB-PC-02 (52:54:00:77:00:20), a known machine of the sample site ("available": boot-with-prompt).
    await client.send(capturedDhcp('proxy-uefi')[0]!.datagram.payload, port);
    const got = await client.next(3000);
    expect(got).not.toBeNull();
    expect(events.find((e) => e.mac === '52:54:00:77:00:20')).toMatchObject({ decision: 'boot-with-prompt' });
    expect(messageType(got!.packet)).toBe(DhcpMessageType.Offer);
    expect(got!.packet.file).toBe('boot/x64/bootmgfw.efi');
    expect(wdsBcdPath(got!.packet)).toMatch(/^\\images\\[^\\]+\\BCD-uefi$/);
  });

  it('leaves iPXE clients on HTTP, without option 252', { timeout: 30_000 }, async () => {
    const { client, port } = await serve('native');
    // LAB-PC-02's DISCOVER again, now from iPXE (option 77 "iPXE").
    const p = capturedDhcp('proxy-uefi')[0]!.packet;
    await client.send(encodeDhcpPacket({ ...p, options: [...p.options, { code: DhcpOptionCode.UserClass, data: Buffer.from('iPXE') }] }), port);
    const got = await client.next(3000);
    expect(got).not.toBeNull();
    expect(got!.packet.file).toMatch(/^http:\/\//);
    expect(getOption(got!.packet, DhcpOptionCode.WdsBcdPath)).toBeUndefined();
  });

  it('keeps the iPXE chain (no option 252) by default', { timeout: 30_000 }, async () => {
    const { client, port } = await serve('ipxe');
    await client.send(capturedDhcp('proxy-uefi')[0]!.datagram.payload, port);
    const got = await client.next(3000);
    expect(got!.packet.file).toBe('boot/x64/snponly.efi');
    expect(getOption(got!.packet, DhcpOptionCode.WdsBcdPath)).toBeUndefined();
  });
});
