/**
 * Stand-alone media in the reference client (issue 7; configmgr-rules.md rules
 * 92, 103, 109, 118): runs from a medium directory with no network, refuses
 * to start outside its date range, detects a flipped byte in package content.
 * Media are written with the real sealing and certificate code
 * (support/media-fixture.ts).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runFromMedia } from '../../src/client/media.js';
import { EXIT } from '../../src/client/select.js';
import { MEDIA_ERRORS, MEDIA_PATHS, mediaContentDir } from '../../src/media/types.js';
import { closedPort } from '../support/closed-port.js';
import { tempDir } from './helpers.js';
import { mediaStep, writeMediaFixture, type MediaFixtureOptions } from './support/media-fixture.js';

const DAY = 24 * 3600_000;
const isoAt = (t: number): string => new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** The stand-alone task sequence the cases run: a package, a command that reads it, an image, a variable. */
function standalone(extra: Partial<MediaFixtureOptions> = {}): MediaFixtureOptions {
  return {
    type: 'standalone',
    variables: [{ name: 'MediaVar', value: 'from-the-medium' }],
    policyVariables: [{ name: 'OSDTimeZone', value: 'UTC' }, { name: 'MediaVar', value: 'from-policy (overridden)' }],
    taskSequence: {
      id: 'PXP00010',
      name: 'Deploy Windows 11 (stand-alone)',
      steps: [
        mediaStep(0, { type: 'download-package', name: 'Get agent', packageId: 'PXP00001' }),
        mediaStep(1, {
          type: 'run-command', name: 'Run agent', packageId: 'PXP00001',
          commandLine: 'sh ./agent.sh > "$_PXPTargetDir/agent.out"',
        }),
        mediaStep(2, { type: 'apply-image', name: 'Apply image', packageId: 'PXP00002' }),
        mediaStep(3, { type: 'set-variable', name: 'Name it', variableName: 'OSDComputerName', variableValue: 'MEDIA-PC' }),
      ],
    },
    packages: [
      {
        id: 'PXP00001',
        files: {
          'agent.sh': [
            'echo "media=$_SMSTSMediaType launch=$_SMSTSLaunchMode guid=$_SMSMediaGuid pkg=$_SMSTSPackageID"',
            'echo "advert=${_SMSTSAdvertID-unset} client=${_SMSTSClientGUID-unset}"',
            'echo "var=$MediaVar tz=$OSDTimeZone cli=${CliVar-unset}"',
            'cat data/payload.txt',
          ].join('\n') + '\n',
          'data/payload.txt': 'payload from the medium\n',
        },
      },
      { id: 'PXP00002', files: { 'boot.ini': '[boot loader]\n', 'Windows/System32/README.txt': 'stand-in OS\n' } },
    ],
    ...extra,
  };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('stand-alone media (rules 92, 109, 118)', () => {
  it('runs with the network unplugged: no fetch function, a closed site port, and no connection attempted at all', async () => {
    const port = await closedPort();
    const medium = writeMediaFixture(standalone({ siteUrls: [`http://127.0.0.1:${port}`] }));
    const target = tempDir();
    // Proof that nothing reaches for the network: fetch and every TCP connect are trapped.
    const fetchSpy = vi.spyOn(globalThis, 'fetch').mockImplementation(() => Promise.reject(new Error('network used')));
    const connectSpy = vi.spyOn(Socket.prototype, 'connect');
    const steps: string[] = [];

    const r = await runFromMedia({ mediaPath: medium.dir, targetDir: target, flags: { variables: [{ name: 'CliVar', value: 'from-cli' }] }, onStep: (s) => steps.push(`${s.index}:${s.result}`) });

    expect(fetchSpy).not.toHaveBeenCalled();
    expect(connectSpy).not.toHaveBeenCalled();
    expect(r.message).toBeNull();
    expect(r.exitCode).toBe(EXIT.ok);
    expect(r.media).toMatchObject({ mediaId: medium.mediaId, type: 'standalone', launchMode: 'UFD', siteUrl: null });
    expect(r.run?.succeeded).toBe(true);
    expect(steps).toEqual(['0:succeeded', '1:succeeded', '2:succeeded', '3:succeeded']);
    expect(r.run?.statusSent).toBe(0);

    const out = readFileSync(join(target, 'agent.out'), 'utf8');
    // Rules 107, 108, 106: FullMedia, a directory is a UFD, the medium's id; rule 109: no advert, no client GUID.
    expect(out).toContain(`media=FullMedia launch=UFD guid=${medium.mediaId} pkg=PXP00010`);
    expect(out).toContain('advert=unset client=unset');
    // Rule 104 / 113 precedence: policy < media variables < --var.
    expect(out).toContain('var=from-the-medium tz=UTC cli=from-cli');
    expect(out).toContain('payload from the medium');
    expect(readFileSync(join(target, 'os', 'Windows', 'System32', 'README.txt'), 'utf8')).toBe('stand-in OS\n');
    expect(r.run?.variables).toContainEqual({ name: 'OSDComputerName', value: 'MEDIA-PC' });

    // Status cannot be sent: every message is in the run log instead.
    const log = readFileSync(r.logPath, 'utf8');
    expect(log).toMatch(/status \(stand-alone media, not sent: no network\): state 9, message 11140/);
    expect(log).toMatch(/status \(stand-alone media, not sent: no network\): state 13, message 11171/);
    expect(log).toMatch(/SHA-256 verified against the sealed policy \(rule 118\)/);
    expect(log).not.toContain(medium.secret);
  });

  it('detects a byte flipped in a package file on the medium: the step fails with PXE_ERR_MEDIA_CONTENT_HASH and nothing of it is kept (rule 118)', async () => {
    const medium = writeMediaFixture(standalone());
    const file = join(medium.dir, ...mediaContentDir('PXP00002', 1).split('/'), 'Windows', 'System32', 'README.txt');
    const bytes = readFileSync(file);
    bytes[3] = bytes[3]! ^ 0x01;
    writeFileSync(file, bytes);
    const target = tempDir();

    const r = await runFromMedia({ mediaPath: medium.dir, targetDir: target });

    expect(r.exitCode).toBe(EXIT.failed);
    const failed = r.run!.steps.find((s) => s.result === 'failed')!;
    expect(failed).toMatchObject({ index: 2, name: 'Apply image', failure: MEDIA_ERRORS.contentHash });
    expect(failed.message).toMatch(/README\.txt: sha256 [0-9a-f]{64}, the policy says [0-9a-f]{64}.*PXE_ERR_MEDIA_CONTENT_HASH/);
    expect(r.run!.steps.map((s) => s.result)).toEqual(['succeeded', 'succeeded', 'failed', 'not-run']);
    expect(existsSync(join(target, '_SMSTSPackages', 'PXP00002'))).toBe(false);
    expect(existsSync(join(target, 'os'))).toBe(false);
    expect(readFileSync(r.logPath, 'utf8')).toMatch(/state 11, message 11170/);
  });

  it('detects a package file of the wrong size, and one missing from the medium (rule 118)', async () => {
    const medium = writeMediaFixture(standalone());
    const dir = join(medium.dir, ...mediaContentDir('PXP00001', 1).split('/'));
    writeFileSync(join(dir, 'data', 'payload.txt'), 'payload from the medium, and more\n');
    const r = await runFromMedia({ mediaPath: medium.dir, targetDir: tempDir() });
    expect(r.run!.steps[0]).toMatchObject({ result: 'failed', failure: MEDIA_ERRORS.contentHash });
    expect(r.run!.steps[0]!.message).toMatch(/bytes, the policy says/);

    const again = writeMediaFixture(standalone());
    const { rmSync } = await import('node:fs');
    rmSync(join(again.dir, ...mediaContentDir('PXP00001', 1).split('/'), 'agent.sh'));
    const r2 = await runFromMedia({ mediaPath: again.dir, targetDir: tempDir() });
    expect(r2.run!.steps[0]).toMatchObject({ result: 'failed', failure: MEDIA_ERRORS.contentHash });
    expect(r2.run!.steps[0]!.message).toMatch(/missing from the medium/);
  });

  it('opens a password-protected policy.dat with the medium\'s password and runs it', async () => {
    const medium = writeMediaFixture(standalone({ password: 'correct horse' }));
    const r = await runFromMedia({ mediaPath: medium.dir, targetDir: tempDir(), password: 'correct horse' });
    expect(r.exitCode).toBe(EXIT.ok);
    // The policy is encrypted, not just signed: without the password it is unreadable.
    expect(readFileSync(join(medium.dir, ...MEDIA_PATHS.standalonePolicy.split('/')), 'utf8')).not.toContain('Deploy Windows 11');
  });
});

describe('stand-alone media date range (rule 103): checked against the machine clock before anything else', () => {
  const cases = [
    { when: 'before its start', validFrom: isoAt(Date.now() + DAY), validUntil: isoAt(Date.now() + 10 * DAY), says: /valid from/ },
    { when: 'after its end', validFrom: isoAt(Date.now() - 10 * DAY), validUntil: isoAt(Date.now() - DAY), says: /expired at/ },
  ];
  for (const c of cases) {
    it(`does not start ${c.when}: no password asked, no prestart, nothing run (exit 6)`, async () => {
      const target = tempDir();
      const marker = join(target, 'prestart-ran');
      const medium = writeMediaFixture(standalone({ validFrom: c.validFrom, validUntil: c.validUntil, password: 'pw', prestart: `touch ${marker}` }));
      const askPassword = vi.fn(async () => 'pw');
      const r = await runFromMedia({ mediaPath: medium.dir, targetDir: target, askPassword });
      expect(r.exitCode).toBe(EXIT.media);
      expect(r.errorCode).toBe(MEDIA_ERRORS.outsideValidity);
      expect(r.message).toMatch(c.says);
      expect(r.message).toMatch(/rule 103/);
      expect(askPassword).not.toHaveBeenCalled();
      expect(existsSync(marker)).toBe(false);
      expect(existsSync(join(target, '_SMSTSPackages'))).toBe(false);
      expect(r.run).toBeNull();
    });
  }

  it('starts inside its range, by the clock it is given', async () => {
    const from = Date.parse('2030-01-01T00:00:00Z');
    const medium = writeMediaFixture(standalone({ validFrom: isoAt(from), validUntil: isoAt(from + 30 * DAY) }));
    const inside = await runFromMedia({ mediaPath: medium.dir, targetDir: tempDir(), now: () => new Date(from + DAY) });
    expect(inside.exitCode).toBe(EXIT.ok);
    const after = await runFromMedia({ mediaPath: medium.dir, targetDir: tempDir(), now: () => new Date(from + 31 * DAY) });
    expect(after.errorCode).toBe(MEDIA_ERRORS.outsideValidity);
  });

  it('cannot be extended by editing media.json: the range is signed in the media certificate', async () => {
    const medium = writeMediaFixture(standalone({ validFrom: isoAt(Date.now() - 10 * DAY), validUntil: isoAt(Date.now() - DAY) }));
    const file = join(medium.dir, ...MEDIA_PATHS.descriptor.split('/'));
    const doc = JSON.parse(readFileSync(file, 'utf8')) as { validUntil: string; certificate: { body: { validUntil: string } } };
    doc.validUntil = isoAt(Date.now() + 365 * DAY);
    writeFileSync(file, JSON.stringify(doc));
    const edited = await runFromMedia({ mediaPath: medium.dir, targetDir: tempDir() });
    expect(edited.exitCode).toBe(EXIT.media);
    expect(edited.errorCode).toBe(MEDIA_ERRORS.format);
    expect(edited.message).toMatch(/signed in the media certificate/);
    // Editing the certificate's copy as well breaks its signature.
    doc.certificate.body.validUntil = doc.validUntil;
    writeFileSync(file, JSON.stringify(doc));
    const both = await runFromMedia({ mediaPath: medium.dir, targetDir: tempDir() });
    expect(both.exitCode).toBe(EXIT.media);
    expect(both.run).toBeNull();
    expect(both.errorCode).toBe(MEDIA_ERRORS.tampered);
  });
});

describe('a medium changed after it was built is refused (rules 100, 118)', () => {
  it('refuses a tampered variables.dat (signed, no password) and a tampered policy.dat, before anything runs', async () => {
    const medium = writeMediaFixture(standalone());
    const file = join(medium.dir, ...MEDIA_PATHS.variables.split('/'));
    const sealed = JSON.parse(readFileSync(file, 'utf8')) as { payload: string };
    const secrets = JSON.parse(Buffer.from(sealed.payload, 'base64').toString('utf8')) as { variables: { name: string; value: string }[] };
    secrets.variables.push({ name: 'SMSTSPreferredAdvertID', value: 'EVIL0001' });
    sealed.payload = Buffer.from(JSON.stringify(secrets)).toString('base64');
    writeFileSync(file, JSON.stringify(sealed));
    const target = tempDir();
    const r = await runFromMedia({ mediaPath: medium.dir, targetDir: target });
    expect(r.exitCode).toBe(EXIT.media);
    expect(r.errorCode).toBe(MEDIA_ERRORS.tampered);
    expect(existsSync(join(target, '_SMSTSPackages'))).toBe(false);

    const other = writeMediaFixture(standalone());
    const pfile = join(other.dir, ...MEDIA_PATHS.standalonePolicy.split('/'));
    const p = JSON.parse(readFileSync(pfile, 'utf8')) as { payload: string };
    p.payload = Buffer.from(Buffer.from(p.payload, 'base64').toString('utf8').replace('Deploy Windows 11', 'Deploy Evil 11')).toString('base64');
    writeFileSync(pfile, JSON.stringify(p));
    const r2 = await runFromMedia({ mediaPath: other.dir, targetDir: tempDir() });
    expect(r2.exitCode).toBe(EXIT.media);
    expect(r2.errorCode).toBe(MEDIA_ERRORS.tampered);
  });

  it('refuses a tampered password-sealed variables.dat (the AEAD tag) as tampered or wrong password, never opened', async () => {
    const medium = writeMediaFixture(standalone({ password: 'pw' }));
    const file = join(medium.dir, ...MEDIA_PATHS.variables.split('/'));
    const sealed = JSON.parse(readFileSync(file, 'utf8')) as { ciphertext: string };
    const ct = Buffer.from(sealed.ciphertext, 'base64');
    ct[0] = ct[0]! ^ 0x80;
    sealed.ciphertext = ct.toString('base64');
    writeFileSync(file, JSON.stringify(sealed));
    const r = await runFromMedia({ mediaPath: medium.dir, targetDir: tempDir(), password: 'pw' });
    expect(r.exitCode).toBe(EXIT.media);
    // AES-GCM cannot tell a wrong key from altered bytes: either code is a refusal.
    expect([MEDIA_ERRORS.tampered, MEDIA_ERRORS.wrongPassword]).toContain(r.errorCode);
  });

  it('refuses a media certificate whose dates were edited, one swapped from another medium, and a media.json that is not one', async () => {
    const a = writeMediaFixture(standalone());
    const cert = a.descriptor.certificate;
    a.rewriteDescriptor({ ...a.descriptor, certificate: { ...cert, body: { ...cert.body, notAfter: '2099-01-01T00:00:00Z' } } });
    const r = await runFromMedia({ mediaPath: a.dir, targetDir: tempDir() });
    expect(r.exitCode).toBe(EXIT.media);
    expect(r.errorCode).toBe(MEDIA_ERRORS.tampered);

    const b = writeMediaFixture(standalone());
    const d = writeMediaFixture(standalone());
    b.rewriteDescriptor({ ...b.descriptor, certificate: d.descriptor.certificate });
    const r1 = await runFromMedia({ mediaPath: b.dir, targetDir: tempDir() });
    expect(r1.exitCode).toBe(EXIT.media);
    expect(r1.errorCode).toBe(MEDIA_ERRORS.format); // media.json's parser: certificate.body.mediaId is not the medium's

    const c = writeMediaFixture(standalone());
    writeFileSync(join(c.dir, ...MEDIA_PATHS.descriptor.split('/')), '{"format":"something else"}');
    const r2 = await runFromMedia({ mediaPath: c.dir, targetDir: tempDir() });
    expect(r2.exitCode).toBe(EXIT.media);
    expect(r2.errorCode).toBe(MEDIA_ERRORS.format);

    const r3 = await runFromMedia({ mediaPath: tempDir(), targetDir: tempDir() });
    expect(r3.errorCode).toBe(MEDIA_ERRORS.format);
    expect(r3.message).toMatch(/not a pxepoint medium/);
  });
});
