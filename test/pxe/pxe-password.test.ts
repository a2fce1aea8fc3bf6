/**
 * The PXE password (rules 47, 73, 100, 115): set and cleared from the CLI and the
 * admin API (only a derived key stored, never the password), the per-boot variables
 * file served sealed while it is set and plain when not (HTTP and TFTP), and the
 * client's openPxeVariables.
 */
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { clearPxePassword, setPxePassword } from '../../src/app/pxe-password.js';
import { PXE_VARS } from '../../src/client/identity.js';
import { isSealedPxeVariables, openPxeVariables, pxePasswordFor } from '../../src/client/pxe-password.js';
import { pxeErrorCode } from '../support/pxe-error-code.js';
import { loadOrCreateSiteKey } from '../../src/content/signing.js';
import { deriveSealKey, sealPayload, sealPayloadWithKey } from '../../src/media/seal.js';
import { MEDIA_ERRORS } from '../../src/media/types.js';
import { BootSessions, type IssueBootToken } from '../../src/pxe/boot-sessions.js';
import { bootFilesResolver } from '../../src/pxe/boot-files.js';
import { prepareBoot } from '../../src/pxe/prepare.js';
import { PXE_PASSWORD_FILE, PxePasswordSource, pxePasswordPath, readPxePasswordKey, writePxePasswordKey } from '../../src/pxe/pxe-password.js';
import { PXE_DECISION_VARS } from '../../src/pxe/variables-file.js';
import { TftpAccessError } from '../../src/tftp/paths.js';
import { startHarness, type Harness } from '../http/harness.js';
import { openSqliteRepository } from '../../src/store/sqlite/open.js';
import { runCli } from '../support/cli.js';
import { deployment, decide, pxeRequest, pxeSite, MAC_KNOWN } from './helpers.js';

const FAST = { N: 1 << 10, r: 8, p: 1 };
const PASSWORD = 'Pxe-Pässwörd 42!';
const dirs: string[] = [];
const tempDir = (prefix: string): string => {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** Every file under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]));
}

/** Rule 47/73: the password must be in no file under the data directory, in any encoding a program would write it. */
function expectPasswordNowhere(dataDir: string, password: string): void {
  const needles = [Buffer.from(password, 'utf8'), Buffer.from(password, 'utf16le'), Buffer.from(Buffer.from(password, 'utf8').toString('base64'), 'utf8')];
  const files = filesUnder(dataDir);
  expect(files.length).toBeGreaterThan(0);
  for (const f of files) {
    const bytes = readFileSync(f);
    for (const n of needles) expect(bytes.includes(n), `${f} holds the password`).toBe(false);
  }
}

let issued = 0;
const issueToken: IssueBootToken = async () => ({ token: `pxpbt_secret${++issued}`, id: `tok-${issued}`, expiresAt: new Date(Date.now() + 1800_000).toISOString() });
const IP = '10.77.0.50';

async function boot(sessions: BootSessions) {
  const snap = pxeSite({ deployments: [deployment('PXP20002', { purpose: 'required' })] });
  const req = pxeRequest({ mac: MAC_KNOWN, isIpxe: true, clientIp: IP });
  const d = decide(snap, { mac: MAC_KNOWN, isIpxe: true, clientIp: IP }, { whenNothingApplies: 'abort' });
  return (await prepareBoot(d, req, { sessions, issueToken }))!;
}

const byName = (vars: { name: string; value: string }[]): Record<string, string> => Object.fromEntries(vars.map((v) => [v.name, v.value]));

describe('openPxeVariables (client, rules 73, 115)', () => {
  const plain = JSON.stringify({ variables: [{ name: PXE_VARS.siteUrl, value: 'http://10.77.0.2:8080' }, { name: PXE_VARS.bootToken, value: 'pxpbt_x' }] });
  const derived = deriveSealKey(PASSWORD, FAST);
  const sealed = sealPayloadWithKey(JSON.parse(plain), { purpose: 'pxe-variables', mediaId: 'tok-1', derived }).toString('utf8');

  it('plain JSON (no PXE password on the site): the variables; a password given is not needed', () => {
    expect(isSealedPxeVariables(plain)).toBe(false);
    expect(byName(openPxeVariables(plain, null))).toEqual({ [PXE_VARS.siteUrl]: 'http://10.77.0.2:8080', [PXE_VARS.bootToken]: 'pxpbt_x' });
    expect(openPxeVariables(plain, 'anything')).toEqual(openPxeVariables(plain, null));
  });
  it('sealed, with the password: the same variables', () => {
    expect(isSealedPxeVariables(sealed)).toBe(true);
    expect(openPxeVariables(sealed, PASSWORD)).toEqual(openPxeVariables(plain, null));
    expect(openPxeVariables(sealed, PASSWORD.normalize('NFD'))).toEqual(openPxeVariables(plain, null)); // NFC
  });
  it.each([
    ['rule 73: no password → passwordRequired', sealed, null, MEDIA_ERRORS.passwordRequired],
    ['rule 73: empty password → passwordRequired', sealed, '', MEDIA_ERRORS.passwordRequired],
    ['rule 73: wrong password → wrongPassword', sealed, 'pxe-password', MEDIA_ERRORS.wrongPassword],
    ['rule 100: changed ciphertext → wrongPassword (GCM)', JSON.stringify({ ...JSON.parse(sealed), ciphertext: Buffer.from('tampered!').toString('base64') }), PASSWORD, MEDIA_ERRORS.wrongPassword],
    ['relabelled mediaId → wrongPassword (AAD)', JSON.stringify({ ...JSON.parse(sealed), mediaId: 'tok-2' }), PASSWORD, MEDIA_ERRORS.wrongPassword],
    ['a media variables.dat is not a PXE variables file', JSON.stringify({ ...JSON.parse(sealed), purpose: 'variables' }), PASSWORD, MEDIA_ERRORS.format],
    ['not JSON', 'garbage', null, 'PXE_ERR_CLIENT_VARS_FILE'],
    ['JSON without variables', '{"x":1}', null, 'PXE_ERR_CLIENT_VARS_FILE'],
  ])('%s', (_n, text, password, code) => {
    expect(pxeErrorCode(() => openPxeVariables(text, password))).toBe(code);
  });
  it('a signed (not encrypted) envelope is refused: pxepoint never serves one', () => {
    const key = loadOrCreateSiteKey(tempDir('pxp-pxepw-key-'));
    const signed = sealPayload(JSON.parse(plain), { purpose: 'pxe-variables', mediaId: 'tok-1', siteKey: key }).toString('utf8');
    expect(pxeErrorCode(() => openPxeVariables(signed, null))).toBe(MEDIA_ERRORS.format);
  });
  it('the error messages never hold the password', () => {
    try {
      openPxeVariables(sealed, 'my-wrong-guess');
    } catch (e) {
      expect(String((e as Error).message)).not.toContain('my-wrong-guess');
    }
  });
});

describe('key file and PxePasswordSource (rules 47/73: passwordSet = the key file exists)', () => {
  it('stores only {salt, scrypt params, key}, mode 0600, and reads it back', async () => {
    const dataDir = tempDir('pxp-pxepw-store-');
    const src = new PxePasswordSource(dataDir);
    expect(src.isSet()).toBe(false);
    const repo = await openSqliteRepository({ file: ':memory:' });
    await setPxePassword(repo, dataDir, PASSWORD, { name: 'test', component: 'test' }, { scrypt: FAST });
    const file = pxePasswordPath(dataDir);
    expect(file).toBe(join(dataDir, PXE_PASSWORD_FILE));
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const doc = JSON.parse(readFileSync(file, 'utf8'));
    expect(Object.keys(doc).sort()).toEqual(['format', 'kdf', 'key']);
    expect(Object.keys(doc.kdf).sort()).toEqual(['N', 'name', 'p', 'r', 'salt']);
    expectPasswordNowhere(dataDir, PASSWORD);
    // In this process the change is seen at once.
    expect(src.isSet()).toBe(true);
    const state = readPxePasswordKey(dataDir);
    expect(state.state).toBe('set');
    if (state.state === 'set') expect(deriveSealKey(PASSWORD, FAST, state.derived.salt).key.equals(state.derived.key)).toBe(true);
    await clearPxePassword(repo, dataDir, { name: 'test', component: 'test' });
    expect(src.isSet()).toBe(false);
    await repo.close();
  });

  it('a change by another process is seen within maxAgeMs (one stat per interval)', () => {
    const dataDir = tempDir('pxp-pxepw-fresh-');
    let now = 1_000_000;
    const src = new PxePasswordSource(dataDir, { clock: () => now, maxAgeMs: 1000 });
    expect(src.isSet()).toBe(false);
    // "Another process": the bytes appear without this process's write function.
    const other = tempDir('pxp-pxepw-other-');
    writePxePasswordKey(other, deriveSealKey(PASSWORD, FAST));
    mkdirSync(join(dataDir, 'keys'), { recursive: true });
    expect(src.isSet()).toBe(false); // (the write above bumped the local generation; nothing here yet)
    writeFileSync(pxePasswordPath(dataDir), readFileSync(pxePasswordPath(other)), { mode: 0o600 });
    expect(src.isSet()).toBe(false); // cached for maxAgeMs
    now += 1000;
    expect(src.isSet()).toBe(true);
    rmSync(pxePasswordPath(dataDir));
    now += 999;
    expect(src.isSet()).toBe(true);
    now += 1;
    expect(src.isSet()).toBe(false);
  });

  it('a damaged key file counts as set (fail closed) and says why', () => {
    const dataDir = tempDir('pxp-pxepw-broken-');
    mkdirSync(join(dataDir, 'keys'), { recursive: true });
    writeFileSync(pxePasswordPath(dataDir), '{"format":"pxepoint-pxe-password/1","kdf":{"name":"scrypt","salt":"AAAA","N":3,"r":8,"p":1},"key":"AA=="}');
    const changes: string[] = [];
    const src = new PxePasswordSource(dataDir, { onChange: (s) => changes.push(s) });
    expect(src.isSet()).toBe(true);
    expect(src.current()).toMatchObject({ state: 'broken' });
    expect(changes).toEqual(['broken']);
  });
});

describe('CLI: pxepoint settings pxe-password set|show|clear', () => {
  const env = process.env.PXEPOINT_PXE_PASSWORD;
  afterEach(() => {
    if (env === undefined) delete process.env.PXEPOINT_PXE_PASSWORD;
    else process.env.PXEPOINT_PXE_PASSWORD = env;
  });

  it('set from --password-file (first line), show, clear; audited; the password in no file of the data directory', async () => {
    const dataDir = tempDir('pxp-pxepw-cli-');
    const pwFile = join(tempDir('pxp-pxepw-pwfile-'), 'pw.txt');
    writeFileSync(pwFile, `${PASSWORD}\nsecond line ignored\n`);
    const set = await runCli(dataDir, 'settings', 'pxe-password', 'set', '--password-file', pwFile);
    expect(set.code, set.err).toBe(0);
    expect(set.out).toContain('PXE password set');
    expect(set.out + set.err).not.toContain(PASSWORD);
    expect(statSync(pxePasswordPath(dataDir)).mode & 0o777).toBe(0o600);
    const state = readPxePasswordKey(dataDir);
    expect(state.state).toBe('set');
    if (state.state === 'set') expect(deriveSealKey(PASSWORD, state.derived.params, state.derived.salt).key.equals(state.derived.key)).toBe(true);
    expect((await runCli(dataDir, 'settings', 'pxe-password', 'show')).out).toContain('a PXE password is set');
    const shown = JSON.parse((await runCli(dataDir, 'settings', 'pxe-password', 'show', '--json')).out);
    expect(shown).toEqual({ passwordSet: true, kdf: { name: 'scrypt', N: 65536, r: 8, p: 1 } });
    expectPasswordNowhere(dataDir, PASSWORD); // keys/, the SQLite database and its WAL

    const cleared = await runCli(dataDir, 'settings', 'pxe-password', 'clear');
    expect(cleared.code).toBe(0);
    expect(cleared.out).toContain('PXE password cleared');
    expect(readPxePasswordKey(dataDir).state).toBe('unset');
    expect((await runCli(dataDir, 'settings', 'pxe-password', 'clear')).out).toContain('no PXE password was set');

    const audits = JSON.parse((await runCli(dataDir, 'messages', '--audit', '--json')).out) as { text: string; data: Record<string, unknown> }[];
    const mine = audits.filter((m) => m.data.setting === 'pxe-password');
    expect(mine.map((m) => m.text)).toEqual(['set the PXE password', 'cleared the PXE password']);
    expect(JSON.stringify(mine)).not.toContain(PASSWORD);
    expectPasswordNowhere(dataDir, PASSWORD);
  });

  it('set from PXEPOINT_PXE_PASSWORD; a second set is "changed"', async () => {
    const dataDir = tempDir('pxp-pxepw-cli-env-');
    process.env.PXEPOINT_PXE_PASSWORD = PASSWORD;
    expect((await runCli(dataDir, 'settings', 'pxe-password', 'set')).code).toBe(0);
    process.env.PXEPOINT_PXE_PASSWORD = 'another one';
    expect((await runCli(dataDir, 'settings', 'pxe-password', 'set')).code).toBe(0);
    const state = readPxePasswordKey(dataDir);
    if (state.state !== 'set') throw new Error('not set');
    expect(deriveSealKey('another one', state.derived.params, state.derived.salt).key.equals(state.derived.key)).toBe(true);
    const audits = JSON.parse((await runCli(dataDir, 'messages', '--audit', '--json')).out) as { text: string }[];
    expect(audits.map((m) => m.text)).toEqual(expect.arrayContaining(['set the PXE password', 'changed the PXE password']));
    expectPasswordNowhere(dataDir, PASSWORD);
    expectPasswordNowhere(dataDir, 'another one');
  });

  it.each([
    ['no source at all', [] as string[], 2],
    ['a password on the command line', ['hunter2'], 2],
    ['both --password-file and --password-stdin', ['--password-file', '/nonexistent', '--password-stdin'], 2],
    ['an unreadable password file', ['--password-file', '/nonexistent/pw'], 2],
  ])('refuses %s (exit 2, nothing stored)', async (_n, args, code) => {
    delete process.env.PXEPOINT_PXE_PASSWORD;
    const dataDir = tempDir('pxp-pxepw-cli-bad-');
    const r = await runCli(dataDir, 'settings', 'pxe-password', 'set', ...args);
    expect(r.code).toBe(code);
    expect(readPxePasswordKey(dataDir).state).toBe('unset');
  });

  it('refuses an empty password file (PXE_ERR_INVALID)', async () => {
    const dataDir = tempDir('pxp-pxepw-cli-empty-');
    const pwFile = join(tempDir('pxp-pxepw-pwfile-'), 'pw.txt');
    writeFileSync(pwFile, '\n');
    const r = await runCli(dataDir, 'settings', 'pxe-password', 'set', '--password-file', pwFile);
    expect(r.code).not.toBe(0);
    expect(r.err).toContain('empty');
    expect(readPxePasswordKey(dataDir).state).toBe('unset');
  });
});

describe('admin API: PUT/GET/DELETE /api/settings/pxe-password', () => {
  let h: Harness;
  let dataDir: string;
  let log = '';
  beforeAll(async () => {
    dataDir = tempDir('pxp-pxepw-api-');
    const stream = new Writable({ write(chunk: Buffer, _e, done) { log += chunk.toString(); done(); } });
    h = await startHarness({ dataDir, logger: pino({ level: 'trace' }, stream) });
  });
  afterAll(() => h.close());

  it('sets (never echoing the password), reports, clears; audited without the secret; not in the log', async () => {
    expect((await h.api('GET', '/api/settings/pxe-password')).json()).toEqual({ passwordSet: false });
    const r = await h.api('PUT', '/api/settings/pxe-password', { password: PASSWORD });
    expect(r.statusCode, r.body).toBe(200);
    expect(r.body).not.toContain(PASSWORD);
    expect(r.json()).toEqual({ passwordSet: true, kdf: { name: 'scrypt', N: 65536, r: 8, p: 1 } });
    expect((await h.api('GET', '/api/settings/pxe-password')).json()).toMatchObject({ passwordSet: true });
    expect(statSync(pxePasswordPath(dataDir)).mode & 0o777).toBe(0o600);
    expectPasswordNowhere(dataDir, PASSWORD);

    const d = await h.api('DELETE', '/api/settings/pxe-password');
    expect(d.statusCode).toBe(200);
    expect(d.json()).toEqual({ passwordSet: false, cleared: true });
    expect(readPxePasswordKey(dataDir).state).toBe('unset');

    const audits = (await h.service.messages({ kind: 'audit' })).filter((m) => m.data.setting === 'pxe-password');
    expect(audits.map((m) => m.text)).toEqual(['set the PXE password', 'cleared the PXE password']);
    expect(audits.every((m) => m.actor === 'token:tester')).toBe(true);
    expect(JSON.stringify(audits)).not.toContain(PASSWORD);
    // A logged request body is redacted (app.ts REDACT_PATHS 'password'), and fastify logs no body anyway.
    h.app.log.info({ body: { password: PASSWORD } }, 'probe');
    expect(log.length).toBeGreaterThan(0);
    expect(log).not.toContain(PASSWORD);
  });

  it.each([
    ['empty', { password: '' }],
    ['a newline in it', { password: 'a\nb' }],
    ['not a string', { password: 42 }],
    ['an extra member', { password: 'x', echo: true }],
    ['no body member', {}],
  ])('400 for %s, nothing stored', async (_n, body) => {
    const r = await h.api('PUT', '/api/settings/pxe-password', body);
    expect(r.statusCode, r.body).toBe(400);
    expect(readPxePasswordKey(dataDir).state).toBe('unset');
  });

  it('needs the API token', async () => {
    const r = await h.app.inject({ method: 'PUT', url: '/api/settings/pxe-password', payload: { password: 'x' } });
    expect(r.statusCode).toBe(401);
    expect((await h.app.inject({ method: 'DELETE', url: '/api/settings/pxe-password' })).statusCode).toBe(401);
  });
});

describe('serving the variables file (rules 47, 73, 100): sealed with a password, plain without', () => {
  let h: Harness;
  let dataDir: string;
  let sessions: BootSessions;
  let source: PxePasswordSource;
  beforeAll(async () => {
    dataDir = tempDir('pxp-pxepw-serve-');
    sessions = new BootSessions();
    source = new PxePasswordSource(dataDir);
    h = await startHarness({ dataDir, boot: { sessions, pxePassword: source.lookup } });
  });
  afterAll(() => h.close());
  const get = (url: string) => h.app.inject({ method: 'GET', url, remoteAddress: IP, headers: { host: '10.77.0.2:8080' } });
  const tftp = () => bootFilesResolver(sessions, { baseUrl: 'http://10.77.0.2:8080', script: {}, variables: { pxePassword: source.lookup } });
  const readTftp = async (name: string): Promise<string> => {
    const src = await tftp().open(name, { address: IP, port: 2070 });
    return (await src!.read(0, src!.size)).toString('utf8');
  };

  it('without a password: the plain JSON, unchanged (no password flag)', async () => {
    const s = await boot(sessions);
    const r = await get(`/boot/vars/${s.variablesName}`);
    expect(r.statusCode).toBe(200);
    expect(isSealedPxeVariables(r.body)).toBe(false);
    const vars = byName(r.json().variables);
    expect(vars[PXE_VARS.bootToken]).toBe(s.token!.token);
    expect(vars[PXE_DECISION_VARS.passwordRequired]).toBeUndefined();
  });

  it('with a password set through the API: sealed at once (HTTP and TFTP, same name), openable only with the password', async () => {
    expect((await h.api('PUT', '/api/settings/pxe-password', { password: PASSWORD })).statusCode).toBe(200);
    const s = await boot(sessions);
    const r = await get(`/boot/vars/${s.variablesName}`);
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toContain('application/json');
    expect(r.headers['cache-control']).toBe('no-store');
    expect(r.body).not.toContain(s.token!.token);
    expect(r.body).not.toContain('SMSTSSiteURL');
    const envelope = r.json();
    // mediaId binds the envelope to this boot: the boot token's id (not the token).
    expect(envelope).toMatchObject({ format: 'pxepoint-sealed/1', purpose: 'pxe-variables', mediaId: s.token!.id, protection: 'password', cipher: 'aes-256-gcm' });
    expect(pxeErrorCode(() => openPxeVariables(r.body, null))).toBe(MEDIA_ERRORS.passwordRequired);
    expect(pxeErrorCode(() => openPxeVariables(r.body, 'guess'))).toBe(MEDIA_ERRORS.wrongPassword);
    const vars = byName(openPxeVariables(r.body, PASSWORD));
    expect(vars).toMatchObject({ [PXE_VARS.bootToken]: s.token!.token, [PXE_VARS.mediaType]: 'PXE', [PXE_VARS.clientMac]: MAC_KNOWN, [PXE_DECISION_VARS.passwordRequired]: '1' });

    const overTftp = await readTftp(`boot/vars/${s.variablesName}`);
    expect(overTftp).not.toContain(s.token!.token);
    expect(byName(openPxeVariables(overTftp, PASSWORD))[PXE_VARS.bootToken]).toBe(s.token!.token);
    // Each serving is a fresh seal (new nonce), same key: no scrypt per request.
    expect(JSON.parse(overTftp).nonce).not.toBe(envelope.nonce);
    expect(JSON.parse(overTftp).kdf.salt).toBe(envelope.kdf.salt);
  });

  it('cleared: plain again at once', async () => {
    expect((await h.api('DELETE', '/api/settings/pxe-password')).statusCode).toBe(200);
    const s = await boot(sessions);
    const r = await get(`/boot/vars/${s.variablesName}`);
    expect(isSealedPxeVariables(r.body)).toBe(false);
    expect(byName(r.json().variables)[PXE_VARS.bootToken]).toBe(s.token!.token);
  });

  it('an unusable key file: refused (503 over HTTP, an error over TFTP), never served in the clear', async () => {
    mkdirSync(join(dataDir, 'keys'), { recursive: true });
    writeFileSync(pxePasswordPath(dataDir), 'not json');
    chmodSync(pxePasswordPath(dataDir), 0o600);
    const fresh = new PxePasswordSource(dataDir);
    expect(fresh.isSet()).toBe(true);
    const s = await boot(sessions);
    const h2 = await startHarness({ boot: { sessions, pxePassword: fresh.lookup } });
    try {
      const r = await h2.app.inject({ method: 'GET', url: `/boot/vars/${s.variablesName}`, remoteAddress: IP, headers: { host: '10.77.0.2:8080' } });
      expect(r.statusCode).toBe(503);
      expect(r.json().code).toBe('PXE_ERR_BOOT_UNAVAILABLE');
      expect(r.body).not.toContain(s.token!.token);
    } finally {
      await h2.close();
    }
    const resolver = bootFilesResolver(sessions, { baseUrl: 'http://x', script: {}, variables: { pxePassword: fresh.lookup } });
    const opening = resolver.open(`boot/vars/${s.variablesName}`, { address: IP, port: 2070 });
    await expect(opening).rejects.toThrow(/cannot be used/);
    await expect(resolver.open(`boot/vars/${s.variablesName}`, { address: IP, port: 2070 })).rejects.not.toBeInstanceOf(TftpAccessError);
    rmSync(pxePasswordPath(dataDir));
  });
});

describe('pxePasswordFor (client, rule 115: file, environment, then the welcome-page prompt)', () => {
  const plain = JSON.stringify({ variables: [{ name: PXE_VARS.siteUrl, value: 'http://x' }] });
  const sealed = sealPayloadWithKey(JSON.parse(plain), { purpose: 'pxe-variables', mediaId: 'tok-1', derived: deriveSealKey(PASSWORD, FAST) }).toString('utf8');
  const never = async (): Promise<string | null> => {
    throw new Error('asked although not needed');
  };
  it('asks nothing for a plain file', async () => {
    expect(await pxePasswordFor(plain, { env: 'x', ask: never })).toBeNull();
  });
  it('sealed: the password file (first line) first, then the environment, then the prompt', async () => {
    const f = join(tempDir('pxp-pxepw-for-'), 'pw');
    writeFileSync(f, `${PASSWORD}\r\nignored\n`);
    expect(await pxePasswordFor(sealed, { passwordFile: f, env: 'env-pw', ask: never })).toBe(PASSWORD);
    expect(await pxePasswordFor(sealed, { env: 'env-pw', ask: never })).toBe('env-pw');
    const asked: string[] = [];
    expect(await pxePasswordFor(sealed, { env: '', ask: async (q) => (asked.push(q), PASSWORD) })).toBe(PASSWORD);
    expect(asked).toEqual(['PXE password: ']);
    expect(await pxePasswordFor(sealed, {})).toBeNull();
    await expect(pxePasswordFor(sealed, { passwordFile: '/nonexistent/pw' })).rejects.toMatchObject({ code: MEDIA_ERRORS.passwordRequired });
    expect(byName(openPxeVariables(sealed, (await pxePasswordFor(sealed, { passwordFile: f }))!))[PXE_VARS.siteUrl]).toBe('http://x');
  });
});
