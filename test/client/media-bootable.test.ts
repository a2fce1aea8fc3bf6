/**
 * Bootable media in the reference client (issue 7; configmgr-rules.md rules 20,
 * 97, 99, 102, 105–108, 113) against the fake site of helpers.ts: the medium's
 * checks happen before any network contact; the password comes from a file,
 * the environment or the terminal; an unattended medium asks for nothing but
 * the password; the identify request carries the media credential and the
 * media variables.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { runFromMedia, type MediaRunOptions } from '../../src/client/media.js';
import { EXIT } from '../../src/client/select.js';
import { REFERENCE_CLIENT_ERRORS } from '../../src/client/error-codes.js';
import { MEDIA_ERRORS } from '../../src/media/types.js';
import { closedPort } from '../support/closed-port.js';
import { deployment, policy, step, startFakeSite, tempDir, type FakeSite } from './helpers.js';
import { writeMediaFixture, type MediaFixtureOptions } from './support/media-fixture.js';

const DAY = 24 * 3600_000;
const isoAt = (t: number): string => new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z');
const MAC = '52:54:00:77:07:01';
const GUID = '4b1d0000-7777-4000-8000-000000000701';

let site: FakeSite;
beforeAll(async () => {
  site = await startFakeSite();
});
afterAll(async () => {
  await site.close();
});
beforeEach(() => {
  site.identifies.length = 0;
  site.statuses.length = 0;
  site.state.policy = policy();
  site.state.variables = [];
  site.state.identify = { sessionToken: 'session-secret-123', expiresIn: 3600, deviceId: '16777217', deviceName: 'LAB-PC-01', unknownObjectId: null };
});
afterEach(() => {
  vi.restoreAllMocks();
});

const bootable = (extra: Partial<MediaFixtureOptions> = {}): ReturnType<typeof writeMediaFixture> =>
  writeMediaFixture({ type: 'bootable', siteUrls: [site.url], ...extra });

const run = (dir: string, extra: Partial<MediaRunOptions> = {}): ReturnType<typeof runFromMedia> =>
  runFromMedia({ mediaPath: dir, targetDir: tempDir(), flags: { macs: [MAC], guid: GUID }, apiAttempts: 1, sleep: async () => undefined, ...extra });

const hidden = deployment('PXP20004', [step({ type: 'set-variable', variableName: 'OSDComputerName', variableValue: 'MEDIA-PC' })], { availableTo: 'media-pxe-hidden', purpose: 'available' });
const twoOffered = policy({
  offered: [deployment('PXP20001', [step({ type: 'set-variable', variableName: 'A', variableValue: '1' })]), deployment('PXP20002', [step({ type: 'set-variable', variableName: 'B', variableValue: '2' })])],
  prompt: true,
});

describe('the medium is checked before the network is touched (rules 99, 102)', () => {
  it('refuses a wrong password with exit 6 and makes no network contact', async () => {
    const medium = bootable({ password: 'right one' });
    const fetchSpy = vi.spyOn(globalThis, 'fetch');
    const r = await run(medium.dir, { password: 'wrong one' });
    expect(r.exitCode).toBe(EXIT.media);
    expect(r.errorCode).toBe(MEDIA_ERRORS.wrongPassword);
    expect(r.message).toMatch(/does not open medium/);
    expect(fetchSpy).not.toHaveBeenCalled();
    expect(site.identifies).toHaveLength(0);
  });

  it('refuses when a password is needed and none can be had (no file, no environment, no terminal)', async () => {
    const medium = bootable({ password: 'pw' });
    const r = await run(medium.dir);
    expect(r.exitCode).toBe(EXIT.media);
    expect(r.errorCode).toBe(MEDIA_ERRORS.passwordRequired);
    expect(r.message).toMatch(/--password-file F, set PXEPOINT_MEDIA_PASSWORD/);
    expect(site.identifies).toHaveLength(0);
  });

  it('refuses an expired media certificate locally, before identify (rule 102), and one not yet valid', async () => {
    const expired = bootable({ certificateNotBefore: isoAt(Date.now() - 30 * DAY), certificateNotAfter: isoAt(Date.now() - DAY) });
    const fetchSpy = vi.spyOn(globalThis, 'fetch');
    const r = await run(expired.dir);
    expect(r.exitCode).toBe(EXIT.media);
    expect(r.errorCode).toBe(MEDIA_ERRORS.certificateExpired);
    expect(r.message).toMatch(/expired at .*rule 102/);
    expect(fetchSpy).not.toHaveBeenCalled();
    expect(site.identifies).toHaveLength(0);

    const early = bootable({ certificateNotBefore: isoAt(Date.now() + DAY), certificateNotAfter: isoAt(Date.now() + 30 * DAY) });
    const r2 = await run(early.dir);
    expect(r2.errorCode).toBe(MEDIA_ERRORS.certificateNotYetValid);
    expect(site.identifies).toHaveLength(0);
  });
});

describe('the password: --password-file, PXEPOINT_MEDIA_PASSWORD, the terminal (rule 99)', () => {
  it('takes it from a file (first line)', async () => {
    const medium = bootable({ password: 'from a file' });
    const file = join(tempDir(), 'pw');
    writeFileSync(file, 'from a file\nignored second line\n', { mode: 0o600 });
    const r = await run(medium.dir, { passwordFile: file });
    expect(r.errorCode).not.toBe(MEDIA_ERRORS.wrongPassword);
    expect(site.identifies).toHaveLength(1);
    const wrong = join(tempDir(), 'pw');
    writeFileSync(wrong, 'nope\n');
    const r2 = await run(medium.dir, { passwordFile: wrong });
    expect(r2.errorCode).toBe(MEDIA_ERRORS.wrongPassword);
    expect(r2.message).toMatch(/password file/);
  });

  it('asks on the terminal, three tries; the password never reaches the log', async () => {
    const medium = bootable({ password: 'typed at the keyboard' });
    const answers = ['typo', 'typed at the keyboard'];
    const askPassword = vi.fn(async () => answers.shift() ?? null);
    const r = await run(medium.dir, { askPassword });
    expect(askPassword).toHaveBeenCalledTimes(2);
    expect(site.identifies).toHaveLength(1);
    const { readFileSync } = await import('node:fs');
    const log = readFileSync(r.logPath, 'utf8');
    expect(log).not.toContain('typed at the keyboard');
    expect(log).not.toContain(medium.secret);
    expect(log).toMatch(/password: given \(prompt\)/);

    const never = vi.fn(async () => 'wrong');
    const r2 = await run(medium.dir, { askPassword: never });
    expect(never).toHaveBeenCalledTimes(3);
    expect(r2.exitCode).toBe(EXIT.media);
    expect(r2.errorCode).toBe(MEDIA_ERRORS.wrongPassword);
  });

  it('never asks when the medium has no password', async () => {
    const medium = bootable();
    const askPassword = vi.fn(async () => 'x');
    await run(medium.dir, { askPassword });
    expect(askPassword).not.toHaveBeenCalled();
    expect(site.identifies).toHaveLength(1);
  });
});

describe('identify with the medium (rules 20, 97, 106–108)', () => {
  it('sends the media credential, the media variables and _SMSMediaGuid/_SMSTSMediaType/_SMSTSLaunchMode; runs the deployment SMSTSPreferredAdvertID names, unattended', async () => {
    site.state.policy = policy({ autoRun: hidden });
    const medium = bootable({ unattended: true, password: 'pw', variables: [{ name: 'SMSTSPreferredAdvertID', value: 'PXP20004' }, { name: 'Site', value: 'Lab' }] });
    const askPassword = vi.fn(async () => 'pw');
    const ask = vi.fn(async () => '1');
    const r = await run(medium.dir, { askPassword, ask });

    expect(r.exitCode).toBe(EXIT.ok);
    expect(r.selection).toEqual({ deploymentId: 'PXP20004', how: 'preferred' });
    expect(r.media).toMatchObject({ mediaId: medium.mediaId, type: 'bootable', launchMode: 'UFD', unattended: true, siteUrl: site.url });
    expect(askPassword).toHaveBeenCalledTimes(1);
    expect(ask).not.toHaveBeenCalled();
    const body = site.identifies[0]!;
    expect(body).toMatchObject({ bootSource: 'media', macs: [MAC], smbiosGuid: GUID, architecture: 'x64', mediaCredential: { mediaId: medium.mediaId, secret: medium.secret } });
    expect(body).not.toHaveProperty('pxeToken');
    expect(body.variables).toEqual(expect.arrayContaining([
      { name: 'SMSTSPreferredAdvertID', value: 'PXP20004' },
      { name: 'Site', value: 'Lab' },
      { name: '_SMSMediaGuid', value: medium.mediaId },
      { name: '_SMSTSMediaType', value: 'BootMedia' },
      { name: '_SMSTSLaunchMode', value: 'UFD' },
    ]));
    expect(site.statuses.at(-1)).toMatchObject({ deploymentId: 'PXP20004', state: 13, messageId: 11171 });
  });

  it('an unattended medium never prompts except for the password: a needed choice stops with exit 4 (rule 97)', async () => {
    site.state.policy = twoOffered;
    const medium = bootable({ unattended: true, password: 'pw' });
    const questions: string[] = [];
    const askPassword = vi.fn(async (q: string) => (questions.push(q), 'pw'));
    const ask = vi.fn(async (q: string) => (questions.push(q), '1'));
    const r = await run(medium.dir, { askPassword, ask });
    expect(r.exitCode).toBe(EXIT.noSelection);
    expect(r.message).toMatch(/--unattended does not guess/);
    expect(ask).not.toHaveBeenCalled();
    expect(questions).toEqual([expect.stringMatching(/^Password for medium/)]);
  });

  it('an attended medium shows the selection page', async () => {
    site.state.policy = twoOffered;
    const medium = bootable();
    const ask = vi.fn(async () => '2');
    const r = await run(medium.dir, { ask });
    expect(ask).toHaveBeenCalledTimes(1);
    expect(r.selection).toEqual({ deploymentId: 'PXP20002', how: 'selected' });
    expect(r.exitCode).toBe(EXIT.ok);
  });

  it('tries the medium\'s site URLs in order: an unreachable one is skipped; --site overrides them', async () => {
    const port = await closedPort();
    site.state.policy = policy({ autoRun: hidden });
    const medium = bootable({ siteUrls: [`http://127.0.0.1:${port}`, site.url] });
    const r = await run(medium.dir);
    expect(r.exitCode).toBe(EXIT.ok);
    expect(r.media?.siteUrl).toBe(site.url);
    expect(site.identifies).toHaveLength(1);

    const dead = bootable({ siteUrls: [`http://127.0.0.1:${port}`] });
    const r2 = await run(dead.dir);
    expect(r2.exitCode).toBe(EXIT.site);
    expect(r2.errorCode).toBe(REFERENCE_CLIENT_ERRORS.unreachable);
    const r3 = await run(dead.dir, { flags: { macs: [MAC], site: site.url } });
    expect(r3.exitCode).toBe(EXIT.ok);
    expect(r3.media?.siteUrl).toBe(site.url);
  });

  it('a medium the site blocked is exit 6 with the site\'s code (rule 102)', async () => {
    site.state.identify = { status: 403, error: { code: 'PXE_ERR_MEDIA_BLOCKED', message: 'medium PXM-1 is blocked' } };
    const medium = bootable();
    const r = await run(medium.dir);
    expect(r.exitCode).toBe(EXIT.media);
    expect(r.errorCode).toBe(MEDIA_ERRORS.blocked);
    expect(r.message).toMatch(/this medium cannot be used: .*blocked/);
  });
});

describe('the prestart command (rule 105)', () => {
  it('runs before selection, in a shell, and the variables it writes to PXEPOINT_TSENV_FILE reach identify', async () => {
    site.state.policy = policy({ autoRun: hidden });
    const medium = bootable({
      unattended: true,
      variables: [{ name: 'Wanted', value: 'PXP20004' }],
      prestart: 'echo "SMSTSPreferredAdvertID=$Wanted" >> "$PXEPOINT_TSENV_FILE"; echo "# a comment" >> "$PXEPOINT_TSENV_FILE"; echo "Launched=$_SMSTSLaunchMode" >> "$PXEPOINT_TSENV_FILE"',
    });
    const r = await run(medium.dir);
    expect(r.exitCode).toBe(EXIT.ok);
    expect(site.identifies[0]!.variables).toEqual(expect.arrayContaining([
      { name: 'SMSTSPreferredAdvertID', value: 'PXP20004' },
      { name: 'Launched', value: 'UFD' },
    ]));
  });

  it('a failing prestart stops the run with exit 7 before the site is contacted', async () => {
    const medium = bootable({ prestart: 'echo "no network card" >&2; exit 3' });
    const r = await run(medium.dir);
    expect(r.exitCode).toBe(EXIT.prestart);
    expect(r.errorCode).toBe(REFERENCE_CLIENT_ERRORS.prestart);
    expect(r.message).toMatch(/exited with code 3/);
    expect(site.identifies).toHaveLength(0);
  });

  it('is bounded in time, and may not set read-only or oversized variables (rule 113)', async () => {
    const slow = bootable({ prestart: 'sleep 30' });
    const started = Date.now();
    const r = await run(slow.dir, { prestartTimeoutMs: 300 });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(r.exitCode).toBe(EXIT.prestart);
    expect(r.message).toMatch(/did not finish within/);

    const readOnly = bootable({ prestart: 'echo "_SMSTSMediaType=PXE" >> "$PXEPOINT_TSENV_FILE"' });
    const r2 = await run(readOnly.dir);
    expect(r2.exitCode).toBe(EXIT.prestart);
    expect(r2.message).toMatch(/read-only/);

    const big = bootable({ prestart: 'printf "Big=%05000d\\n" 0 >> "$PXEPOINT_TSENV_FILE"' });
    const r3 = await run(big.dir);
    expect(r3.exitCode).toBe(EXIT.prestart);
    expect(r3.message).toMatch(/at most 4000/);
    expect(site.identifies).toHaveLength(0);
  });
});
