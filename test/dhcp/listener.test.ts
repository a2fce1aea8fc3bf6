/**
 * The DHCP listeners on loopback, high ports: ProxyDHCP on the "67" port, the boot
 * server on the "4011" port, full mode DORA, relays, restarts, the ignore list and
 * the response delay. Pools are 127.x subnets and the server is bound to 127.0.0.1,
 * so even a unicast reply stays on this host.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startDhcpServer, type DhcpServer, type DhcpServerOptions } from '../../src/dhcp/server.js';
import { DhcpMessageType, DhcpOptionCode } from '../../src/dhcp/option-codes.js';
import { getOption, messageType, serverIdentifier, vendorClass } from '../../src/dhcp/options.js';
import { encodeDhcpPacket } from '../../src/dhcp/packet.js';
import { pxeVendorOptions } from '../../src/dhcp/pxe-options.js';
import { subscribe } from '../../src/events.js';
import { openSqliteRepository } from '../../src/store/sqlite/open.js';
import type { SiteRepository } from '../../src/site/repository.js';
import { capturedDhcp } from './captures.js';
import { bootEveryone, clientPacket, testSocket, type TestSocket } from './listener-helpers.js';

const POOL = { subnet: '127.77.0.0/24', rangeStart: '127.77.0.100', rangeEnd: '127.77.0.199', router: '127.77.0.1' };
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup(extra: Partial<DhcpServerOptions> = {}): Promise<{ server: DhcpServer; client: TestSocket; dhcpPort: number; pxePort: number }> {
  const client = await testSocket();
  cleanups.push(() => client.close());
  const server = await startDhcpServer({
    mode: 'proxy', address: '127.0.0.1', dhcpPort: 0, pxePort: 0, clientPort: client.port, interfaces: [],
    httpPort: 8080, decide: bootEveryone, ...extra,
  });
  cleanups.push(() => server.close());
  const dhcpPort = server.endpoints.find((e) => e.kind === 'dhcp')!.port;
  const pxePort = server.endpoints.find((e) => e.kind === 'pxe')!.port;
  return { server, client, dhcpPort, pxePort };
}

async function memoryRepo(): Promise<SiteRepository> {
  const repo = await openSqliteRepository({ file: ':memory:' });
  cleanups.push(() => repo.close());
  return repo;
}

describe('ProxyDHCP mode', () => {
  it('answers a captured OVMF DISCOVER on the DHCP port with boot info and no address', async () => {
    const { client, dhcpPort } = await setup();
    const discover = capturedDhcp('proxy-uefi')[0]!;
    await client.send(discover.datagram.payload, dhcpPort);
    const got = await client.next();
    expect(got).not.toBeNull();
    const offer = got!.packet;
    expect(messageType(offer)).toBe(DhcpMessageType.Offer);
    expect(offer.xid).toBe(discover.packet.xid);
    expect(offer.yiaddr).toBe('0.0.0.0');
    expect(offer.siaddr).toBe('127.0.0.1');
    expect(offer.file).toBe('boot/x64/snponly.efi');
    expect(vendorClass(offer)).toBe('PXEClient');
    expect(serverIdentifier(offer)).toBe('127.0.0.1');
    // UEFI firmware gets no option 43 (it asks on 4011 next, as with dnsmasq).
    expect(getOption(offer, DhcpOptionCode.VendorSpecific)).toBeUndefined();
    expect(getOption(offer, DhcpOptionCode.ClientMachineIdentifier)).toEqual(getOption(discover.packet, DhcpOptionCode.ClientMachineIdentifier));
  });

  it('gives BIOS ROMs option 43 "use the boot file" and iPXE an http:// URL', async () => {
    const { client, dhcpPort } = await setup();
    await client.send(clientPacket({ type: 1, mac: '52:54:00:00:00:01', vendorClass: 'PXEClient:Arch:00000:UNDI:002001', arch: 0 }), dhcpPort);
    const bios = (await client.next())!.packet;
    expect(pxeVendorOptions(bios)?.discoveryControl).toBe(8);
    const ipxe = capturedDhcp('proxy-uefi-ipxe')[0]!;
    await client.send(ipxe.datagram.payload, dhcpPort);
    const offer = (await client.next())!.packet;
    expect(offer.file).toMatch(/^http:\/\/127\.0\.0\.1:8080\/boot\/[0-9a-f-]{17}\.ipxe$/);
  });

  it('answers UEFI HTTP Boot with option 60 HTTPClient and an http:// URL', async () => {
    const { client, dhcpPort } = await setup();
    await client.send(clientPacket({ type: 1, mac: '52:54:00:00:00:0c', vendorClass: 'HTTPClient:Arch:00016:UNDI:003000', arch: 16 }), dhcpPort);
    const offer = (await client.next())!.packet;
    expect(vendorClass(offer)).toBe('HTTPClient');
    expect(offer.file).toMatch(/^http:\/\/127\.0\.0\.1:8080\//);
  });

  it('never answers a client that is not a PXE client', async () => {
    const { server, client, dhcpPort } = await setup();
    await client.send(clientPacket({ type: 1, mac: '52:54:00:00:00:02', vendorClass: null }), dhcpPort);
    await client.send(clientPacket({ type: 1, mac: '52:54:00:00:00:03', vendorClass: 'MSFT 5.0' }), dhcpPort);
    expect(await client.next(300)).toBeNull();
    expect(server.stats.ignored).toBe(2);
  });

  it('answers the OVMF boot-server REQUEST (4011→4011) back to its source port with an ACK', async () => {
    const { client, pxePort } = await setup();
    const request = capturedDhcp('proxy-uefi').find((c) => c.datagram.dstPort === 4011)!;
    await client.send(request.datagram.payload, pxePort);
    const got = (await client.next())!;
    expect(messageType(got.packet)).toBe(DhcpMessageType.Ack);
    expect(got.packet.xid).toBe(request.packet.xid);
    expect(got.packet.file).toBe('boot/x64/snponly.efi');
    expect(got.from.port).toBe(pxePort);
  });

  it('answers iPXE boot-server discovery (68→4011, xid 0) echoing the boot item', async () => {
    const { client, pxePort } = await setup();
    const request = capturedDhcp('proxy-bios').find((c) => c.datagram.dstPort === 4011)!;
    expect(request.packet.xid).toBe(0);
    await client.send(request.datagram.payload, pxePort);
    const ack = (await client.next())!.packet;
    expect(messageType(ack)).toBe(DhcpMessageType.Ack);
    expect(ack.xid).toBe(0);
    expect(pxeVendorOptions(ack)?.bootItem).toEqual(pxeVendorOptions(request.packet)?.bootItem);
    expect(ack.file).toMatch(/^http:\/\/127\.0\.0\.1:8080\/boot\/52-54-00-77-00-10\.ipxe$/);
  });

  it('stays silent when the decision says ignore, and publishes the decision', async () => {
    const events: Record<string, unknown>[] = [];
    cleanups.push(subscribe('dhcp.decision', (e) => events.push(e)));
    const { client, dhcpPort } = await setup({
      decide: () => ({ ...bootEveryone({ mac: '', isIpxe: false, isHttpBoot: false }), action: 'ignore', reasonCode: 'no-deployment', reason: 'no advertisements found' }),
    });
    await client.send(clientPacket({ type: 1, mac: '52:54:00:00:00:04' }), dhcpPort);
    expect(await client.next(300)).toBeNull();
    expect(events.at(-1)).toMatchObject({ mac: '52:54:00:00:00:04', decision: 'ignore', reasonCode: 'no-deployment' });
    expect(typeof events.at(-1)!.latencyMs).toBe('number');
  });

  it('never answers a MAC on the ignore list file (rule 55)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pxp-ignore-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'ignore.txt');
    writeFileSync(file, '# lab machines\n52:54:00:00:00:05\n\n52-54-00-00-00-06\n');
    const { server, client, dhcpPort } = await setup({ macIgnoreListFile: file });
    expect([...server.macIgnoreList]).toEqual(['52:54:00:00:00:05', '52:54:00:00:00:06']);
    await client.send(clientPacket({ type: 1, mac: '52:54:00:00:00:05' }), dhcpPort);
    expect(await client.next(300)).toBeNull();
    await client.send(clientPacket({ type: 1, mac: '52:54:00:00:00:07' }), dhcpPort);
    expect(await client.next()).not.toBeNull();
  });

  it('refuses an ignore list with a line that is not a MAC', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pxp-ignore-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'ignore.txt');
    writeFileSync(file, '52:54:00:00:00:05\n52:54:00:00:00\n');
    await expect(setup({ macIgnoreListFile: file })).rejects.toThrow(/line 2/);
  });

  it('waits the response delay before answering (rule 50)', async () => {
    const { client, dhcpPort } = await setup({ responseDelaySeconds: 0.4 });
    const t0 = Date.now();
    await client.send(clientPacket({ type: 1, mac: '52:54:00:00:00:08' }), dhcpPort);
    expect(await client.next(2000)).not.toBeNull();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(380);
  });

  it('answers a relayed DISCOVER by unicast to the relay and records option 82', async () => {
    const relay = await testSocket();
    cleanups.push(() => relay.close());
    const events: Record<string, unknown>[] = [];
    const requests: unknown[] = [];
    cleanups.push(subscribe('dhcp.decision', (e) => events.push(e)));
    const { client, dhcpPort } = await setup({
      relayPort: relay.port,
      decide: (req) => {
        requests.push(req.relay);
        return bootEveryone(req);
      },
    });
    const option82 = Buffer.from([1, 3, 0x65, 0x74, 0x31, 2, 2, 0xab, 0xcd]);
    await relay.send(clientPacket({ type: 1, mac: '52:54:00:00:00:09', giaddr: '127.0.0.1', options: [{ code: 82, data: option82 }] }), dhcpPort);
    const got = (await relay.next())!;
    expect(got.packet.giaddr).toBe('127.0.0.1');
    expect(getOption(got.packet, DhcpOptionCode.RelayAgentInformation)).toEqual(option82);
    expect(await client.next(200)).toBeNull();
    expect(requests[0]).toEqual({ giaddr: '127.0.0.1', circuitId: '657431', remoteId: 'abcd' });
    expect(events.at(-1)!.relay).toEqual({ giaddr: '127.0.0.1', circuitId: '657431', remoteId: 'abcd' });
  });

  it('counts and drops invalid packets, and goes on answering', async () => {
    const invalid: Record<string, unknown>[] = [];
    cleanups.push(subscribe('dhcp.packet.invalid', (e) => invalid.push(e)));
    const { server, client, dhcpPort } = await setup();
    await client.send(Buffer.from('not dhcp at all'), dhcpPort);
    await client.send(clientPacket({ type: 1, mac: '52:54:00:00:00:0a' }), dhcpPort);
    expect(await client.next()).not.toBeNull();
    expect(server.stats.invalid).toBe(1);
    expect(invalid[0]).toMatchObject({ code: 'PXE_ERR_DHCP_TRUNCATED' });
  });
});

describe('without the native addon', () => {
  it('starts on one wildcard socket and says why', async () => {
    const { server, client, dhcpPort } = await setup({ native: null });
    expect(server.warnings.join()).toMatch(/answering on every interface through one socket/);
    await client.send(clientPacket({ type: 1, mac: '52:54:00:00:00:0b' }), dhcpPort);
    expect(await client.next()).not.toBeNull();
  });

  it('refuses --interface with a clear error', async () => {
    await expect(setup({ native: null, interfaces: ['lo'] })).rejects.toThrow(/--interface needs the native addon/);
  });
});

describe('full DHCP mode', () => {
  it('DORA: offers an address from the pool and ACKs it once the lease is stored', async () => {
    const repo = await memoryRepo();
    const { client, dhcpPort } = await setup({ mode: 'full', leases: repo.leases, pools: [POOL] });
    const mac = '52:54:00:10:00:01';
    await client.send(clientPacket({ type: 1, mac, vendorClass: null, xid: 1 }), dhcpPort);
    const offer = (await client.next())!.packet;
    expect(messageType(offer)).toBe(DhcpMessageType.Offer);
    expect(offer.yiaddr).toMatch(/^127\.77\.0\.1\d\d$/);
    expect(getOption(offer, DhcpOptionCode.SubnetMask)).toEqual(Buffer.from([255, 255, 255, 0]));
    expect(getOption(offer, DhcpOptionCode.Router)).toEqual(Buffer.from([127, 77, 0, 1]));
    expect(getOption(offer, DhcpOptionCode.LeaseTime)!.readUInt32BE(0)).toBe(3600);
    expect(vendorClass(offer)).toBeUndefined();
    expect(offer.file).toBe('');
    await client.send(clientPacket({ type: 3, mac, vendorClass: null, xid: 2, requestedIp: offer.yiaddr, serverId: '127.0.0.1' }), dhcpPort);
    const ack = (await client.next())!.packet;
    expect(messageType(ack)).toBe(DhcpMessageType.Ack);
    expect(ack.yiaddr).toBe(offer.yiaddr);
    const stored = await repo.leases.get(offer.yiaddr);
    expect(stored).toMatchObject({ mac, state: 'bound', subnet: '127.77.0.0/24' });
  });

  it('gives PXE clients boot info with their address (siaddr, file, option 60, 66/67 when asked)', async () => {
    const repo = await memoryRepo();
    const { client, dhcpPort } = await setup({ mode: 'full', leases: repo.leases, pools: [POOL] });
    await client.send(clientPacket({ type: 1, mac: '52:54:00:10:00:02', arch: 7 }), dhcpPort);
    const offer = (await client.next())!.packet;
    expect(offer.yiaddr).toMatch(/^127\.77\.0\./);
    expect(offer.siaddr).toBe('127.0.0.1');
    expect(offer.file).toBe('boot/x64/snponly.efi');
    expect(vendorClass(offer)).toBe('PXEClient');
    expect(getOption(offer, DhcpOptionCode.BootfileName)?.toString()).toBe('boot/x64/snponly.efi');
    expect(getOption(offer, DhcpOptionCode.TftpServerName)?.toString()).toBe('127.0.0.1');
  });

  it('gives a PXE client the decision ignores an address without boot info', async () => {
    const repo = await memoryRepo();
    const { client, dhcpPort } = await setup({
      mode: 'full', leases: repo.leases, pools: [POOL],
      decide: () => ({ ...bootEveryone({ mac: '', isIpxe: false, isHttpBoot: false }), action: 'ignore', reasonCode: 'unknown-not-supported', reason: 'unknown' }),
    });
    await client.send(clientPacket({ type: 1, mac: '52:54:00:10:00:0b', arch: 7 }), dhcpPort);
    const offer = (await client.next())!.packet;
    expect(offer.yiaddr).toMatch(/^127\.77\.0\./);
    expect(offer.file).toBe('');
    expect(vendorClass(offer)).toBeUndefined();
  });

  it('NAKs a REQUEST for an address of another client and ignores one for another server', async () => {
    const repo = await memoryRepo();
    const { client, dhcpPort } = await setup({ mode: 'full', leases: repo.leases, pools: [POOL] });
    await client.send(clientPacket({ type: 1, mac: '52:54:00:10:00:03', vendorClass: null }), dhcpPort);
    const offer = (await client.next())!.packet;
    await client.send(clientPacket({ type: 3, mac: '52:54:00:10:00:03', vendorClass: null, requestedIp: offer.yiaddr, serverId: '127.0.0.1' }), dhcpPort);
    expect(messageType((await client.next())!.packet)).toBe(DhcpMessageType.Ack);
    await client.send(clientPacket({ type: 3, mac: '52:54:00:10:00:04', vendorClass: null, requestedIp: offer.yiaddr }), dhcpPort);
    const nak = (await client.next())!.packet;
    expect(messageType(nak)).toBe(DhcpMessageType.Nak);
    await client.send(clientPacket({ type: 3, mac: '52:54:00:10:00:04', vendorClass: null, requestedIp: '127.77.0.150', serverId: '127.0.0.9' }), dhcpPort);
    expect(await client.next(300)).toBeNull();
  });

  it('hands a reserved MAC its fixed address', async () => {
    const repo = await memoryRepo();
    const { client, dhcpPort } = await setup({ mode: 'full', leases: repo.leases, pools: [POOL], reservations: [{ mac: '52:54:00:10:00:05', ip: '127.77.0.20' }] });
    await client.send(clientPacket({ type: 1, mac: '52:54:00:10:00:05', vendorClass: null }), dhcpPort);
    expect((await client.next())!.packet.yiaddr).toBe('127.77.0.20');
  });

  it('answers a relayed DORA through the relay (giaddr → pool of that subnet)', async () => {
    const repo = await memoryRepo();
    const relay = await testSocket();
    cleanups.push(() => relay.close());
    const { client, dhcpPort } = await setup({ mode: 'full', leases: repo.leases, pools: [POOL, { subnet: '127.0.0.0/24', rangeStart: '127.0.0.100', rangeEnd: '127.0.0.120' }], relayPort: relay.port });
    await relay.send(clientPacket({ type: 1, mac: '52:54:00:10:00:06', vendorClass: null, giaddr: '127.0.0.1', broadcast: false }), dhcpPort);
    const offer = (await relay.next())!.packet;
    expect(offer.yiaddr).toMatch(/^127\.0\.0\.1[0-2]\d$/);
    await relay.send(clientPacket({ type: 3, mac: '52:54:00:10:00:06', vendorClass: null, giaddr: '127.0.0.1', requestedIp: offer.yiaddr, serverId: '127.0.0.1' }), dhcpPort);
    const ack = (await relay.next())!.packet;
    expect(messageType(ack)).toBe(DhcpMessageType.Ack);
    expect(await client.next(200)).toBeNull();
    expect((await repo.leases.get(ack.yiaddr))!.relay).toEqual({ giaddr: '127.0.0.1', circuitId: null, remoteId: null });
  });

  it('keeps leases across a restart (reopened store)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pxp-leases-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    let repo = await openSqliteRepository({ dataDir: dir });
    let { server, client, dhcpPort } = await setup({ mode: 'full', leases: repo.leases, pools: [POOL] });
    const mac = '52:54:00:10:00:07';
    await client.send(clientPacket({ type: 1, mac, vendorClass: null }), dhcpPort);
    const offer = (await client.next())!.packet;
    await client.send(clientPacket({ type: 3, mac, vendorClass: null, requestedIp: offer.yiaddr, serverId: '127.0.0.1' }), dhcpPort);
    expect(messageType((await client.next())!.packet)).toBe(DhcpMessageType.Ack);
    await server.close();
    await repo.close();

    repo = await openSqliteRepository({ dataDir: dir });
    cleanups.push(() => repo.close());
    ({ server, client, dhcpPort } = await setup({ mode: 'full', leases: repo.leases, pools: [POOL] }));
    expect(server.leaseBook!.leaseOf(mac)?.ip).toBe(offer.yiaddr);
    // Another client never gets the address; the owner gets it back.
    await client.send(clientPacket({ type: 1, mac: '52:54:00:10:00:08', vendorClass: null, requestedIp: offer.yiaddr }), dhcpPort);
    expect((await client.next())!.packet.yiaddr).not.toBe(offer.yiaddr);
    await client.send(clientPacket({ type: 1, mac, vendorClass: null }), dhcpPort);
    expect((await client.next())!.packet.yiaddr).toBe(offer.yiaddr);
  });

  it('RELEASE and DECLINE are stored and not answered; INFORM gets configuration only', async () => {
    const repo = await memoryRepo();
    const { server, client, dhcpPort } = await setup({ mode: 'full', leases: repo.leases, pools: [POOL] });
    const mac = '52:54:00:10:00:09';
    await client.send(clientPacket({ type: 1, mac, vendorClass: null }), dhcpPort);
    const offer = (await client.next())!.packet;
    await client.send(clientPacket({ type: 3, mac, vendorClass: null, requestedIp: offer.yiaddr, serverId: '127.0.0.1' }), dhcpPort);
    await client.next();
    await client.send(clientPacket({ type: DhcpMessageType.Release, mac, vendorClass: null, ciaddr: offer.yiaddr, serverId: '127.0.0.1', broadcast: false }), dhcpPort);
    expect(await client.next(300)).toBeNull();
    expect((await repo.leases.get(offer.yiaddr))!.state).toBe('released');
    // INFORM is answered to ciaddr (here the test client's own loopback address).
    await client.send(clientPacket({ type: DhcpMessageType.Inform, mac, vendorClass: null, ciaddr: '127.0.0.1', broadcast: false }), dhcpPort);
    const ack = (await client.next())!.packet;
    expect(messageType(ack)).toBe(DhcpMessageType.Ack);
    expect(ack.yiaddr).toBe('0.0.0.0');
    expect(getOption(ack, DhcpOptionCode.LeaseTime)).toBeUndefined();
    expect(server.stats.released).toBe(1);
    // DECLINE of an offered address quarantines it.
    await client.send(clientPacket({ type: 1, mac: '52:54:00:10:00:0a', vendorClass: null }), dhcpPort);
    const offer2 = (await client.next())!.packet;
    await client.send(clientPacket({ type: DhcpMessageType.Decline, mac: '52:54:00:10:00:0a', vendorClass: null, requestedIp: offer2.yiaddr, serverId: '127.0.0.1' }), dhcpPort);
    expect(await client.next(300)).toBeNull();
    expect((await repo.leases.get(offer2.yiaddr))!.state).toBe('declined');
  });

  it('still answers the boot server port in full mode', async () => {
    const repo = await memoryRepo();
    const { client, pxePort } = await setup({ mode: 'full', leases: repo.leases, pools: [POOL] });
    const request = capturedDhcp('proxy-uefi').find((c) => c.datagram.dstPort === 4011)!;
    await client.send(encodeDhcpPacket(request.packet), pxePort);
    expect(messageType((await client.next())!.packet)).toBe(DhcpMessageType.Ack);
  });
});
