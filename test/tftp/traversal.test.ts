import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subscribe } from '../../src/events.js';
import { startTftpServer, type TftpServer } from '../../src/tftp/server.js';
import { exchange } from './helpers/client.js';

/** Escape attempts must be answered with ERROR 1 or 2, never with DATA, and be logged. */
let base: string;
let server: TftpServer;
const refused: Array<Record<string, unknown>> = [];
let unsub: () => void;

beforeAll(async () => {
  base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'pxepoint-tftp-trav-')));
  const root = path.join(base, 'root');
  fs.mkdirSync(path.join(root, 'boot'), { recursive: true });
  fs.writeFileSync(path.join(root, 'boot', 'ok.bin'), 'fine');
  fs.writeFileSync(path.join(base, 'secret.txt'), 'TOP SECRET');
  fs.symlinkSync(path.join(base, 'secret.txt'), path.join(root, 'link-to-secret'));
  fs.symlinkSync(base, path.join(root, 'boot', 'up'));
  fs.symlinkSync('/etc', path.join(root, 'etc-link'));
  unsub = subscribe('tftp.request.refused', (d) => refused.push(d));
  server = await startTftpServer({ address: '127.0.0.1', port: 0, root });
});
afterAll(async () => {
  unsub();
  await server.close();
  fs.rmSync(base, { recursive: true, force: true });
});

const rrqBytes = (...fields: string[]): Buffer =>
  Buffer.concat([Buffer.from([0, 1]), ...fields.map((f) => Buffer.from(f + '\0', 'latin1'))]);

const attempts: Array<[string, Buffer]> = [
  ['../secret.txt', rrqBytes('../secret.txt', 'octet')],
  ['..\\secret.txt', rrqBytes('..\\secret.txt', 'octet')],
  ['boot/../../secret.txt', rrqBytes('boot/../../secret.txt', 'octet')],
  ['\\..\\..\\secret.txt', rrqBytes('\\..\\..\\secret.txt', 'octet')],
  ['/etc/passwd', rrqBytes('/etc/passwd', 'octet')],
  ['/../../../../etc/passwd', rrqBytes('/../../../../etc/passwd', 'octet')],
  ['C:\\Windows\\win.ini', rrqBytes('C:\\Windows\\win.ini', 'octet')],
  ['%2e%2e%2fsecret.txt', rrqBytes('%2e%2e%2fsecret.txt', 'octet')],
  ['..%2fsecret.txt', rrqBytes('..%2fsecret.txt', 'octet')],
  ['..%5csecret.txt', rrqBytes('..%5csecret.txt', 'octet')],
  ['boot/ok.bin%00../../secret.txt', rrqBytes('boot/ok.bin%00../../secret.txt', 'octet')],
  ['NUL then traversal in the next field', rrqBytes('boot/ok.bin', '../../secret.txt', 'octet')],
  ['NUL-shifted traversal, malformed', rrqBytes('x', '../secret.txt', 'octet', 'blksize')],
  ['control character', rrqBytes('boot/ok.bin\n../../secret.txt', 'octet')],
  ['symlink to a file outside', rrqBytes('link-to-secret', 'octet')],
  ['symlink to a directory outside', rrqBytes('boot/up/secret.txt', 'octet')],
  ['symlink to /etc', rrqBytes('etc-link/passwd', 'octet')],
  ['case-insensitive symlink escape', rrqBytes('LINK-TO-SECRET', 'octet', 'tsize', '0')],
  ['the root itself', rrqBytes('/', 'octet')],
];

describe('path traversal is refused with ERROR 1 or 2 and logged', () => {
  it.each(attempts)('%s', async (label, packet) => {
    const before = refused.length;
    const reply = await exchange(server.port, packet);
    expect(reply, `${label}: no answer`).not.toBeNull();
    const msg = (reply as { msg: Buffer }).msg;
    expect(msg.readUInt16BE(0), `${label}: must be an ERROR, not DATA/OACK`).toBe(5);
    expect([1, 2]).toContain(msg.readUInt16BE(2));
    expect(msg.includes(Buffer.from('SECRET'))).toBe(false);
    await new Promise((r) => setTimeout(r, 5));
    expect(refused.length).toBeGreaterThan(before);
  });

  it('the inside file next to the traps is still served', async () => {
    const reply = await exchange(server.port, rrqBytes('BOOT\\OK.BIN', 'octet'));
    expect(reply?.msg.readUInt16BE(0)).toBe(3);
    expect(reply?.msg.subarray(4).toString()).toBe('fine');
  });
});
