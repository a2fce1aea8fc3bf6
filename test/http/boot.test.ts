/** The boot routes (/boot/…) with inject: scripts, variables files, callbacks, boot files. */
import { mkdtempSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subscribe } from '../../src/events.js';
import { BootSessions, type IssueBootToken } from '../../src/pxe/boot-sessions.js';
import { prepareBoot } from '../../src/pxe/prepare.js';
import { deployment, decide, pxeRequest, pxeSite, MAC_KNOWN } from '../pxe/helpers.js';
import { startHarness, type Harness } from './harness.js';

const IP = '10.77.0.50';
const OTHER_IP = '10.77.0.66';
let issued = 0;
const issueToken: IssueBootToken = async () => ({ token: `pxpbt_secret${++issued}`, id: `tok-${issued}`, expiresAt: new Date(Date.now() + 1800_000).toISOString() });

let h: Harness;
let sessions: BootSessions;
let root: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'pxp-bootfiles-'));
  mkdirSync(join(root, 'boot', 'x64'), { recursive: true });
  writeFileSync(join(root, 'boot', 'x64', 'snponly.efi'), Buffer.from('0123456789abcdef'));
  mkdirSync(join(root, 'images', 'PXP00B01'), { recursive: true });
  writeFileSync(join(root, 'images', 'PXP00B01', 'boot.wim'), 'wim');
  const outside = mkdtempSync(join(tmpdir(), 'pxp-outside-'));
  writeFileSync(join(outside, 'secret.txt'), 'secret');
  symlinkSync(join(outside, 'secret.txt'), join(root, 'boot', 'escape.txt'));
  sessions = new BootSessions();
  h = await startHarness({ boot: { sessions, filesRoot: root } });
});
afterAll(async () => h.close());

async function boot(action: 'required' | 'available' | 'nothing', mac = MAC_KNOWN, clientIp: string | null = IP) {
  const snap = pxeSite({ deployments: action === 'nothing' ? [] : [deployment('PXP20002', { purpose: action })] });
  const req = pxeRequest({ mac, isIpxe: true, clientIp });
  const d = decide(snap, { mac, isIpxe: true, clientIp }, { whenNothingApplies: 'abort' });
  return prepareBoot(d, req, { sessions, issueToken });
}

const get = (url: string, ip = IP, headers: Record<string, string> = {}) =>
  h.app.inject({ method: 'GET', url, remoteAddress: ip, headers: { host: '10.77.0.2:8080', ...headers } });

describe('GET /boot/:mac.ipxe', () => {
  it('serves the script of a machine with a boot session, with absolute URLs from the Host header', async () => {
    const s = await boot('required');
    const r = await get('/boot/52-54-00-77-00-10.ipxe');
    expect(r.statusCode).toBe(200);
    expect(r.headers['cache-control']).toBe('no-store');
    expect(r.body).toMatch(/^#!ipxe\n/);
    expect(r.body).toContain('http://10.77.0.2:8080/boot/callback/52-54-00-77-00-10?step=script');
    expect(r.body).toContain(`http://10.77.0.2:8080/boot/vars/${s!.variablesName}`);
  });
  it('refuses another address once the machine\'s address is known', async () => {
    await boot('required');
    expect((await get('/boot/52-54-00-77-00-10.ipxe', OTHER_IP)).statusCode).toBe(403);
  });
  it('binds the address at first contact when DHCP did not tell it', async () => {
    await boot('required', '52:54:00:77:00:77', null);
    expect((await get('/boot/52-54-00-77-00-77.ipxe', '10.77.0.77')).statusCode).toBe(200);
    expect((await get('/boot/52-54-00-77-00-77.ipxe', OTHER_IP)).statusCode).toBe(403);
    expect(sessions.byIp('10.77.0.77')?.mac).toBe('52:54:00:77:00:77');
  });
  it('404 for a machine without a session, and for a non-MAC', async () => {
    expect((await get('/boot/52-54-00-00-00-01.ipxe')).statusCode).toBe(404);
    const bad = await get('/boot/not-a-mac.ipxe');
    expect(bad.statusCode).toBe(404);
    expect(bad.json().code).toBe('PXE_ERR_BOOT_NOT_FOUND');
  });
  it('IPv4-mapped IPv6 peers count as their IPv4 address', async () => {
    await boot('required');
    expect((await get('/boot/52-54-00-77-00-10.ipxe', `::ffff:${IP}`)).statusCode).toBe(200);
  });
  it('an abort session gets a script that exits', async () => {
    await boot('nothing', '52:54:00:77:00:55');
    const r = await get('/boot/52-54-00-77-00-55.ipxe');
    expect(r.statusCode).toBe(200);
    expect(r.body).toContain('exit 0');
    expect(r.body).not.toContain('/boot/vars/');
  });
});

describe('GET /boot/vars/:name', () => {
  it('serves the variables file by its unguessable name, to the machine only', async () => {
    const s = (await boot('available'))!;
    expect(s.variablesName).toMatch(/^[A-Za-z0-9_-]{43}\.json$/);
    const r = await get(`/boot/vars/${s.variablesName}`);
    expect(r.statusCode).toBe(200);
    expect(r.headers['cache-control']).toBe('no-store');
    const vars = Object.fromEntries((r.json() as { variables: { name: string; value: string }[] }).variables.map((v) => [v.name, v.value]));
    expect(vars).toMatchObject({ SMSTSSiteURL: 'http://10.77.0.2:8080', _SMSTSMediaType: 'PXE', _SMSTSClientMAC: MAC_KNOWN, _PXPBootToken: s.token!.token, _PXPPXEDeploymentID: 'PXP20002', _PXPPXEMandatory: '0' });
  });
  it('refuses the wrong address', async () => {
    const s = (await boot('required'))!;
    const r = await get(`/boot/vars/${s.variablesName}`, OTHER_IP);
    expect(r.statusCode).toBe(403);
    expect(r.body).not.toContain('pxpbt_');
  });
  it('refuses while the machine\'s address is unknown', async () => {
    const s = (await boot('required', '52:54:00:77:00:88', null))!;
    expect((await get(`/boot/vars/${s.variablesName}`)).statusCode).toBe(403);
  });
  it.each([
    ['a guessed name', 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.json'],
    ['the MAC', '52-54-00-77-00-10.json'],
    ['a traversal', '..%2F..%2Fetc%2Fpasswd'],
  ])('404 for %s', async (_, name) => {
    await boot('required');
    expect((await get(`/boot/vars/${name}`)).statusCode).toBe(404);
  });
  it('the name changes with every new boot decision', async () => {
    const a = (await boot('required'))!;
    const b = (await boot('available'))!;
    expect(a.variablesName).not.toBe(b.variablesName);
    expect((await get(`/boot/vars/${a.variablesName}`)).statusCode).toBe(404);
    expect((await get(`/boot/vars/${b.variablesName}`)).statusCode).toBe(200);
  });
});

describe('GET /boot/callback/:mac', () => {
  it('accepts a known step and publishes http.boot', async () => {
    await boot('required');
    const seen: Record<string, unknown>[] = [];
    const off = subscribe('http.boot', (e) => seen.push(e));
    try {
      const r = await get('/boot/callback/52-54-00-77-00-10?step=script');
      expect(r.statusCode).toBe(200);
      expect(seen).toContainEqual(expect.objectContaining({ kind: 'callback', mac: MAC_KNOWN, step: 'script', ip: IP, status: 200 }));
    } finally {
      off();
    }
  });
  it.each([
    ['unknown step', '/boot/callback/52-54-00-77-00-10?step=pwned', IP, 400],
    ['no step', '/boot/callback/52-54-00-77-00-10', IP, 400],
    ['no session', '/boot/callback/52-54-00-00-00-02?step=script', IP, 404],
    ['wrong address', '/boot/callback/52-54-00-77-00-10?step=script', OTHER_IP, 403],
  ])('%s → %i', async (_, url, ip, status) => {
    await boot('required');
    expect((await get(url, ip)).statusCode).toBe(status);
  });
});

describe('GET /boot/files/*', () => {
  it('streams a boot file', async () => {
    const r = await get('/boot/files/boot/x64/snponly.efi');
    expect(r.statusCode).toBe(200);
    expect(r.body).toBe('0123456789abcdef');
    expect(r.headers['accept-ranges']).toBe('bytes');
  });
  it('honours one Range', async () => {
    const r = await get('/boot/files/boot/x64/snponly.efi', IP, { range: 'bytes=4-7' });
    expect(r.statusCode).toBe(206);
    expect(r.body).toBe('4567');
    expect(r.headers['content-range']).toBe('bytes 4-7/16');
  });
  it('416 for an unsatisfiable range', async () => {
    expect((await get('/boot/files/boot/x64/snponly.efi', IP, { range: 'bytes=99-' })).statusCode).toBe(416);
  });
  it('matches case-insensitively like TFTP (Windows clients)', async () => {
    expect((await get('/boot/files/BOOT/X64/SNPONLY.EFI')).statusCode).toBe(200);
  });
  it.each([
    ['dot-dot', '/boot/files/../../etc/passwd'],
    ['encoded dot-dot', '/boot/files/boot/%2e%2e/%2e%2e/etc/passwd'],
    ['backslash dot-dot', '/boot/files/boot%5C..%5C..%5Cetc%5Cpasswd'],
    ['drive letter', '/boot/files/C:/Windows/win.ini'],
    ['NUL', '/boot/files/boot/x64/snponly.efi%00.txt'],
  ])('refuses path traversal: %s', async (_, url) => {
    const r = await get(url);
    expect([400, 403, 404]).toContain(r.statusCode);
    expect(r.body).not.toContain('root:');
  });
  it('refuses a symlink that leaves the root', async () => {
    const r = await get('/boot/files/boot/escape.txt');
    expect(r.statusCode).toBe(403);
    expect(r.body).not.toContain('secret');
  });
  it('404 for a missing file and for a directory', async () => {
    expect((await get('/boot/files/boot/x64/nothing.efi')).statusCode).toBe(404);
    expect((await get('/boot/files/boot/x64')).statusCode).toBe(404);
  });
});

describe('without the boot option', () => {
  it('no /boot routes', async () => {
    const plain = await startHarness();
    try {
      expect((await plain.app.inject({ method: 'GET', url: '/boot/52-54-00-77-00-10.ipxe' })).statusCode).toBe(404);
    } finally {
      await plain.close();
    }
  });
});
