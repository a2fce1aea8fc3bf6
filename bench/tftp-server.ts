/**
 * pxepoint's TFTP server as a child process of the bench, so its RSS can be sampled
 * on its own. Prints one JSON line `{ "port": N }` when listening; exits on SIGTERM
 * or when its stdin closes (it never outlives the bench).
 */
import { startTftpServer } from '../src/tftp/server.js';

const root = process.argv[2];
if (!root) {
  console.error('usage: tftp-server.ts ROOT');
  process.exit(2);
}
const server = await startTftpServer({ address: '127.0.0.1', port: 0, root, maxTransfers: 128, maxPerClient: 128 });
process.stdout.write(JSON.stringify({ port: server.port, pid: process.pid }) + '\n');
const stop = async (): Promise<void> => {
  process.stderr.write(JSON.stringify({ stats: server.stats() }) + '\n');
  await server.close();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.stdin.on('end', () => void stop());
process.stdin.resume();
