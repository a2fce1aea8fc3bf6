/**
 * Child process of interfaces.test.ts, run inside one client namespace: broadcasts a
 * PXE DISCOVER from port 68 on its interface (socket bound to the device, as a NIC's
 * firmware would send it) and prints the first OFFER for its xid as JSON, or
 * {"answered":false} after the wait.
 */
import dgram from 'node:dgram';
import { loadNativeNet } from '../../src/native/udp-device.js';
import { parseDhcpPacket } from '../../src/dhcp/packet.js';
import { isDhcpParseError } from '../../src/dhcp/errors.js';
import { serverIdentifier } from '../../src/dhcp/options.js';
import { clientPacket } from './listener-helpers.js';

const [device, mac, waitMs] = [process.argv[2]!, process.argv[3]!, Number(process.argv[4] ?? 1500)];
const native = loadNativeNet().addon;
if (!native) {
  process.stdout.write(JSON.stringify({ error: loadNativeNet().error }) + '\n');
  process.exit(1);
}
const xid = 0x7000 + Math.floor(Math.random() * 0x0fff);
const socket = dgram.createSocket('udp4');
socket.bind({ fd: native.openUdpSocket(device, '0.0.0.0', 68) }, () => {
  socket.setBroadcast(true);
  const timer = setTimeout(() => finish({ answered: false }), waitMs);
  const finish = (result: object): void => {
    clearTimeout(timer);
    process.stdout.write(JSON.stringify(result) + '\n');
    socket.close();
  };
  socket.on('message', (msg, from) => {
    const p = parseDhcpPacket(msg);
    if (isDhcpParseError(p) || p.op !== 2 || p.xid !== xid) return;
    finish({ answered: true, from: from.address, serverId: serverIdentifier(p) ?? null, file: p.file, siaddr: p.siaddr });
  });
  // Sent twice, as firmware retries; one answer is enough.
  const discover = clientPacket({ type: 1, mac, xid, arch: 7 });
  socket.send(discover, 67, '255.255.255.255');
  setTimeout(() => socket.send(discover, 67, '255.255.255.255'), 300);
});
