/**
 * Child process of interfaces.test.ts, run inside the test's server namespace:
 * a ProxyDHCP server on ports 67/4011 answering only on the interfaces given.
 * Prints "ready" (or "error …"), serves until stdin closes.
 */
import { startDhcpServer } from '../../src/dhcp/server.js';
import { bootEveryone } from './listener-helpers.js';

const interfaces = JSON.parse(process.argv[2] ?? '[]') as string[];
try {
  const server = await startDhcpServer({ mode: 'proxy', address: '0.0.0.0', dhcpPort: 67, pxePort: 4011, interfaces, decide: bootEveryone });
  process.stdout.write(`ready ${JSON.stringify(server.endpoints)}\n`);
  process.stdin.resume();
  process.stdin.on('end', () => void server.close().then(() => process.exit(0)));
} catch (e) {
  process.stdout.write(`error ${(e as Error).message}\n`);
  process.exit(1);
}
