/**
 * Child process of leases-crash.test.ts: full DHCP mode on loopback with leases in
 * <dataDir>, printing its ports; the test kills it with SIGKILL.
 */
import { openSqliteRepository } from '../../src/store/sqlite/open.js';
import { startDhcpServer } from '../../src/dhcp/server.js';
import { bootEveryone } from './listener-helpers.js';

const [dataDir, clientPort] = [process.argv[2]!, Number(process.argv[3])];
const repo = await openSqliteRepository({ dataDir });
const server = await startDhcpServer({
  mode: 'full', address: '127.0.0.1', dhcpPort: 0, pxePort: 0, clientPort, interfaces: [],
  pools: [{ subnet: '127.77.0.0/24', rangeStart: '127.77.0.10', rangeEnd: '127.77.0.250' }],
  leases: repo.leases, decide: bootEveryone,
});
process.stdout.write(`ready ${server.endpoints.find((e) => e.kind === 'dhcp')!.port}\n`);
