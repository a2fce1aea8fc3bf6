/**
 * pxepoint's TFTP server in a child process (so the server and the test's clients
 * each get a core): serves argv[2] on 127.0.0.1, an ephemeral port, and prints
 * `port <n>` once listening. Runs until killed.
 */
import { startTftpServer } from '../../../src/tftp/server.js';

const root = process.argv[2];
if (!root) throw new Error('usage: serve-tftp.ts ROOT');
const server = await startTftpServer({ address: '127.0.0.1', port: 0, root });
process.stdout.write(`port ${server.port}\n`);
process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));
