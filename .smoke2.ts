import { startTftpServer } from './src/tftp/server.js';
const s = await startTftpServer({ address: '127.0.0.1', port: 0, root: '/tmp/tb/root' });
console.log(s.port);
setTimeout(async () => { await s.close(); process.exit(0); }, 6000);
