/**
 * Harness self-test only: a tiny HTTP server the booted iPXE talks to, run inside the
 * server namespace (`node --import tsx observer.ts IP PORT LOGFILE`).
 *   GET /boot.ipxe   an iPXE script that calls GET /done?mac=${netX/mac:hexhyp}&…
 *   GET /done?…      recorded; answers a script that powers the machine off
 * Every request is appended to LOGFILE as one JSON line {t, ip, url}.
 */
import { appendFileSync } from 'node:fs';
import { createServer } from 'node:http';

const [ip = '10.77.0.1', port = '8099', log = 'observer.requests'] = process.argv.slice(2);
const base = `http://${ip}:${port}`;
const script = `#!ipxe
echo E2E: script on \${platform}/\${buildarch} mac \${netX/mac} ip \${netX/ip}
chain ${base}/done?mac=\${netX/mac:hexhyp}&platform=\${platform}&uuid=\${uuid} || shell
`;
const done = `#!ipxe
echo E2E: done
poweroff || sleep 600
`;

createServer((req, res) => {
  appendFileSync(log, JSON.stringify({ t: Date.now(), ip: req.socket.remoteAddress, url: req.url }) + '\n');
  const path = (req.url ?? '').split('?')[0];
  if (path === '/boot.ipxe') res.end(script);
  else if (path === '/done') res.end(done);
  else {
    res.statusCode = 404;
    res.end('not found\n');
  }
}).listen(Number(port), ip, () => console.log(`observer listening on ${base}`));
