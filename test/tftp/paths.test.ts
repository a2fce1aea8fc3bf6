import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { looksLikeTraversal, normalizeRequestName, resolveUnderRoot, TftpAccessError } from '../../src/tftp/paths.js';

describe('normalizeRequestName', () => {
  it.each([
    ['pxelinux.0', ['pxelinux.0']],
    ['/pxelinux.0', ['pxelinux.0']],
    ['\\SMSBoot\\x64\\pxeboot.com', ['SMSBoot', 'x64', 'pxeboot.com']],
    ['smsboot\\x64/bootmgr.exe', ['smsboot', 'x64', 'bootmgr.exe']],
    ['//a//./b/', ['a', 'b']],
    ['\\SMSTemp\\2014.09.05.18.20.31.0001.{GUID}.boot.var', ['SMSTemp', '2014.09.05.18.20.31.0001.{GUID}.boot.var']],
    ['/etc/passwd', ['etc', 'passwd']], // absolute paths are relative to the root
    ['a..b/c...', ['a..b', 'c...']],
  ])('%s → %j', (raw, segments) => {
    expect(normalizeRequestName(raw)).toMatchObject({ ok: true, segments });
  });

  it.each([
    '../etc/passwd',
    '..\\..\\windows\\win.ini',
    'a/../../b',
    'boot/..',
    '..',
    'C:\\Windows\\system.ini',
    'c:/x',
    'a\u0000b',
    'a\nb',
    '..%2f..%2fetc%2fpasswd',
    '%2e%2e/etc/passwd',
    'file%00.txt',
    '..%5cboot.ini',
    '',
    '/',
    '\\\\',
    'x'.repeat(2000),
  ])('refuses %j', (raw) => {
    expect(normalizeRequestName(raw).ok).toBe(false);
  });

  it('reinterprets UTF-8 bytes that arrive latin1-decoded', () => {
    const wire = Buffer.from('café.txt', 'utf8').toString('latin1');
    expect(normalizeRequestName(wire)).toMatchObject({ ok: true, segments: ['café.txt'] });
  });

  it('gives a lower-case key for generated-file lookup', () => {
    expect(normalizeRequestName('\\SMSTemp\\X.VAR')).toMatchObject({ key: 'smstemp/x.var' });
  });
});

describe('looksLikeTraversal (any request field)', () => {
  it.each([
    ['octet', false],
    ['netascii', false],
    ['boot/x..y', false],
    ['../etc/passwd', true],
    ['a\\..\\b', true],
    ['%2E%2E', true],
    ['C:\\boot.ini', true],
  ])('%s → %s', (field, want) => {
    expect(looksLikeTraversal(field)).toBe(want);
  });
});

describe('resolveUnderRoot', () => {
  let base: string;
  let root: string;
  beforeAll(() => {
    base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'pxepoint-tftp-paths-')));
    root = path.join(base, 'root');
    fs.mkdirSync(path.join(root, 'SMSBoot', 'x64'), { recursive: true });
    fs.writeFileSync(path.join(root, 'SMSBoot', 'x64', 'pxeboot.com'), 'nbp');
    fs.writeFileSync(path.join(root, 'Exact.bin'), 'upper');
    fs.writeFileSync(path.join(root, 'exact.bin'), 'lower');
    fs.writeFileSync(path.join(base, 'secret.txt'), 'secret');
    fs.symlinkSync(path.join(base, 'secret.txt'), path.join(root, 'escape.txt'));
    fs.symlinkSync(base, path.join(root, 'escapedir'));
    fs.symlinkSync(path.join(root, 'SMSBoot'), path.join(root, 'alias'));
    fs.symlinkSync(path.join(base, 'nothing'), path.join(root, 'dangling'));
  });
  afterAll(() => fs.rmSync(base, { recursive: true, force: true }));

  it('matches case-insensitively on a case-sensitive disk', async () => {
    expect(await resolveUnderRoot(root, ['smsboot', 'X64', 'PXEBOOT.COM'])).toBe(path.join(root, 'SMSBoot', 'x64', 'pxeboot.com'));
  });
  it('prefers the exact spelling when several names differ only in case', async () => {
    expect(await resolveUnderRoot(root, ['exact.bin'])).toBe(path.join(root, 'exact.bin'));
    expect(await resolveUnderRoot(root, ['Exact.bin'])).toBe(path.join(root, 'Exact.bin'));
    expect(await resolveUnderRoot(root, ['EXACT.BIN'])).toBe(path.join(root, 'Exact.bin'));
  });
  it('returns null for missing files and dangling links', async () => {
    expect(await resolveUnderRoot(root, ['nope'])).toBeNull();
    expect(await resolveUnderRoot(root, ['smsboot', 'nope', 'x'])).toBeNull();
    expect(await resolveUnderRoot(root, ['dangling'])).toBeNull();
  });
  it('follows symlinks that stay inside the root', async () => {
    expect(await resolveUnderRoot(root, ['alias', 'x64', 'pxeboot.com'])).toBe(path.join(root, 'SMSBoot', 'x64', 'pxeboot.com'));
  });
  it('refuses symlinks that leave the root, before probing beyond them', async () => {
    await expect(resolveUnderRoot(root, ['escape.txt'])).rejects.toBeInstanceOf(TftpAccessError);
    await expect(resolveUnderRoot(root, ['escapedir', 'secret.txt'])).rejects.toBeInstanceOf(TftpAccessError);
    await expect(resolveUnderRoot(root, ['escapedir', 'does-not-exist'])).rejects.toBeInstanceOf(TftpAccessError);
  });
});
