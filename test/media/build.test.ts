/**
 * `pxepoint media create` end to end on real tools (grub-mkrescue, xorriso, mtools,
 * wimlib for the stand-in boot image), checked by independent readers: xorriso
 * (-find, -report_el_torito, -extract) and isoinfo (genisoimage). Also: a failed
 * or interrupted build leaves nothing under --out and no scratch files, an
 * existing --out survives a failed rebuild, --format dir, and stand-alone media
 * carry the package files with the SHA-256 of their sealed policy (rule 118).
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MediaService } from '../../src/app/media-service.js';
import { SiteService } from '../../src/app/site-service.js';
import { SiteContent } from '../../src/content/site-content.js';
import { isPxeError } from '../../src/errors.js';
import { buildHttpApp } from '../../src/http/app.js';
import { buildMedia, type BuildMediaDeps } from '../../src/media/build.js';
import { checkMediaCertificate } from '../../src/media/certificate.js';
import { parseMediaDescriptor } from '../../src/media/descriptor.js';
import { DEFAULT_ISO_TOOLS, parseXorrisoProgress, volumeIdOf, type BuildProgress } from '../../src/media/iso-image.js';
import { openPayload } from '../../src/media/seal.js';
import { MEDIA_ERRORS, type MediaSecrets, type StandalonePolicy } from '../../src/media/types.js';
import type { SiteRepository } from '../../src/site/repository.js';
import { openSqliteRepository } from '../../src/store/sqlite/open.js';
import { runCli } from '../support/cli.js';
import { itWithTools } from '../support/tools.js';

const run = promisify(execFile);
const TOOLS = { 'grub-mkrescue': 'grub-common', xorriso: 'xorriso', mformat: 'mtools', isoinfo: 'genisoimage', 'wimlib-imagex': 'wimtools' };
const ACTOR = { name: 'cli:test', component: 'cli' };
const FAST_SCRYPT = { N: 1 << 10, r: 8, p: 1 };
const SITE = 'http://10.0.2.100:8099';

let dir: string;
let dataDir: string;
let root: string;
let bootImageId = '';
let repo: SiteRepository;

const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');
const fileSha = (f: string): string => sha(fs.readFileSync(f));

/** Files of an ISO as xorriso lists them. */
async function xorrisoFiles(iso: string): Promise<string[]> {
  const { stdout } = await run('xorriso', ['-indev', iso, '-find', '/', '-type', 'f'], { maxBuffer: 64 << 20 });
  return stdout.split('\n').filter((l) => l.startsWith("'")).map((l) => l.slice(1, -1));
}

/** One file out of an ISO (xorriso -osirrox). */
async function extract(iso: string, inIso: string): Promise<Buffer> {
  const to = path.join(dir, `x-${Math.random().toString(16).slice(2)}`);
  await run('xorriso', ['-osirrox', 'on', '-indev', iso, '-extract', inIso, to]);
  const b = fs.readFileSync(to);
  fs.chmodSync(to, 0o600);
  fs.rmSync(to, { force: true });
  return b;
}

/** Whatever the build may leave beside its output: hidden temp/scratch names. */
const leftovers = (folder: string): string[] => fs.readdirSync(folder).filter((n) => n.startsWith('.'));

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pxp-media-build-'));
  dataDir = path.join(dir, 'data');
  root = path.join(dir, 'tftp');
  fs.mkdirSync(dataDir);
  fs.mkdirSync(root);
});
afterAll(async () => {
  await repo?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

it('parses xorriso progress lines and makes volume ids from labels', () => {
  expect(parseXorrisoProgress('xorriso : UPDATE :  42.17% done, estimate finish Thu Nov 26 07:00:00 2026')).toBe(42.17);
  expect(parseXorrisoProgress('xorriso : UPDATE :     661 files added in 1 seconds')).toBeNull();
  expect(volumeIdOf("Lab's media — Büro 2")).toBe('LAB_S_MEDIA_BURO_2');
  expect(volumeIdOf('x'.repeat(40))).toHaveLength(32);
  expect(volumeIdOf('???')).toBe('PXEPOINT');
});

describe('media create', () => {
  /** A stand-in WinPE boot image captured with wimlib and imported like a real one, plus a stand-in wimboot. */
  async function importStandIn(): Promise<void> {
    if (bootImageId !== '') return;
    const tree = path.join(dir, 'pe');
    for (const [rel, text] of Object.entries({
      'Windows/System32/boot/winload.efi': 'MZ stand-in winload.efi',
      'Windows/System32/boot/winload.exe': 'MZ stand-in winload.exe',
      'Windows/Boot/EFI/bootmgfw.efi': 'MZ stand-in bootmgfw.efi',
      'Windows/Boot/PXE/bootmgr.exe': 'MZ stand-in bootmgr.exe',
      'Windows/Boot/DVD/EFI/boot.sdi': 'stand-in boot.sdi',
    })) {
      fs.mkdirSync(path.dirname(path.join(tree, rel)), { recursive: true });
      fs.writeFileSync(path.join(tree, rel), text);
    }
    const wim = path.join(dir, 'standin.wim');
    await run('wimlib-imagex', ['capture', tree, wim, 'Microsoft Windows PE (stand-in)', '--boot', '--compress=none']);
    const r = await runCli(dataDir, 'bootimage', 'import', '--arch', 'x64', '--wim', wim, '--root', root, '--json');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    bootImageId = (JSON.parse(r.out) as { bootImage: { id: string } }).bootImage.id;
    fs.writeFileSync(path.join(root, 'boot', 'wimboot'), 'stand-in wimboot (an iPXE-project binary in real use)');
    repo = await openSqliteRepository({ dataDir });
  }

  const deps = (over: Partial<BuildMediaDeps> = {}): BuildMediaDeps => ({
    repo, media: new MediaService(repo), dataDir, tftpRoot: root, defaultSiteUrls: [SITE], actor: ACTOR, scrypt: FAST_SCRYPT, ...over,
  });

  itWithTools(TOOLS, 'bootable ISO: every planned file, BIOS and UEFI El Torito, Rock Ridge and Joliet, registered; the site knows its certificate', async () => {
    await importStandIn();
    const out = path.join(dir, 'out', 'lab.iso');
    fs.mkdirSync(path.dirname(out));
    process.env.PXEPOINT_MEDIA_PASSWORD = 'correct horse';
    let r;
    try {
      r = await runCli(dataDir, 'media', 'create', '--type', 'bootable', '--boot-image', bootImageId, '--out', out, '--root', root,
        '--site-url', SITE, '--site-url', 'http://backup.example:8080', '--label', "Lab's media", '--unattended',
        '--var', 'SMSTSPreferredAdvertID=PXP29999', '--var', 'OSDComputerName=LAB-01', '--prestart', 'cmd /c echo hi', '--json');
    } finally {
      delete process.env.PXEPOINT_MEDIA_PASSWORD;
    }
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const result = JSON.parse(r.out) as { record: Record<string, unknown> & { id: string }; outPath: string; warnings: string[] };
    expect(result.outPath).toBe(out);
    expect(result.record).not.toHaveProperty('secretHash');
    expect(JSON.stringify(result)).not.toContain('correct horse');
    expect(result.warnings.join('\n')).toMatch(/SMSTSPreferredAdvertID "PXP29999" names no deployment/);
    const id = result.record.id;
    expect(result.record).toMatchObject({ type: 'bootable', label: "Lab's media", bootImageId, unattended: true, passwordRequired: true, variableNames: ['SMSTSPreferredAdvertID', 'OSDComputerName'], imagePath: out, imageSha256: fileSha(out) });
    expect(leftovers(path.dirname(out))).toEqual([]);

    // xorriso lists every planned path.
    const files = await xorrisoFiles(out);
    for (const p of ['MediaLabel.txt', 'boot/grub/grub.cfg', 'pxepoint/media.json', 'pxepoint/variables.dat', 'pxepoint/boot/wimboot', 'pxepoint/boot/bootmgr.exe', 'pxepoint/boot/bootmgfw.efi', 'pxepoint/boot/bcd-bios', 'pxepoint/boot/bcd-uefi', 'pxepoint/boot/boot.sdi', 'pxepoint/boot/boot.wim', 'pxepoint/boot/winpeshl.ini', 'pxepoint/boot/pxepoint-start.cmd']) {
      expect(files).toContain(`/${p}`);
    }
    expect(files.some((f) => f.startsWith('/pxepoint/standalone') || f.startsWith('/pxepoint/content'))).toBe(false);
    // isoinfo: volume id from the label, Rock Ridge and Joliet; Joliet names hold the medium's files.
    const { stdout: pvd } = await run('isoinfo', ['-d', '-i', out]);
    expect(pvd).toMatch(/Volume id: LAB_S_MEDIA\n/);
    expect(pvd).toMatch(/Rock Ridge signatures version \d+ found/);
    expect(pvd).toMatch(/Joliet with UCS level 3 found/);
    expect(pvd).toMatch(/El Torito VD version 1 found/);
    const { stdout: joliet } = await run('isoinfo', ['-J', '-f', '-i', out], { maxBuffer: 64 << 20 });
    for (const p of ['/MediaLabel.txt', '/pxepoint/media.json', '/pxepoint/boot/boot.wim', '/boot/grub/grub.cfg']) expect(joliet.split('\n')).toContain(p);
    // El Torito: a BIOS and a UEFI boot image.
    const { stdout: eltorito } = await run('xorriso', ['-indev', out, '-report_el_torito', 'plain'], { maxBuffer: 1 << 20 });
    expect(eltorito).toMatch(/El Torito boot img :\s+1\s+BIOS\s+y/);
    expect(eltorito).toMatch(/El Torito boot img :\s+2\s+UEFI\s+y/);
    // Hybrid: an MBR boot signature for dd to a USB stick.
    const head = Buffer.alloc(512);
    const fd = fs.openSync(out, 'r');
    fs.readSync(fd, head, 0, 512, 0);
    fs.closeSync(fd);
    expect(head.readUInt16LE(510)).toBe(0xaa55);

    // The files are the boot image's, byte for byte.
    expect(sha(await extract(out, '/pxepoint/boot/boot.wim'))).toBe(fileSha(path.join(root, 'images', bootImageId, 'boot.wim')));
    expect(sha(await extract(out, '/pxepoint/boot/bcd-uefi'))).toBe(fileSha(path.join(root, 'images', bootImageId, 'BCD-uefi')));
    expect((await extract(out, '/MediaLabel.txt')).toString()).toBe("label=Lab's media\r\n");
    const grubCfg = (await extract(out, '/boot/grub/grub.cfg')).toString();
    expect(grubCfg).toContain(`echo 'pxepoint media ${id} (bootable, Lab'\\''s media)'`);
    expect(grubCfg).toContain('set timeout=0');
    expect(grubCfg).toContain(`(http,10.0.2.100:8099)/boot/media/${id}/start.cfg?mac=`);
    expect(grubCfg).toContain(`(http,backup.example:8080)/boot/media/${id}/start.cfg?mac=`);
    // media.json: the descriptor, with a certificate the site's key verifies.
    const descriptor = parseMediaDescriptor((await extract(out, '/pxepoint/media.json')).toString());
    expect(descriptor).toMatchObject({ mediaId: id, type: 'bootable', label: "Lab's media", bootImageId, siteUrls: [SITE, 'http://backup.example:8080'], unattended: true, passwordRequired: true, validFrom: null, validUntil: null, createdBy: expect.stringMatching(/^cli:/) });
    expect(checkMediaCertificate(descriptor.certificate, descriptor.sitePublicKey, new Date())).toEqual({ ok: true });
    const days = (Date.parse(descriptor.certificate.body.notAfter) - Date.parse(descriptor.certificate.body.notBefore)) / 86_400_000;
    expect(days).toBe(365);
    // variables.dat opens only with the password; it holds the secret whose hash the site keeps.
    const sealed = await extract(out, '/pxepoint/variables.dat');
    expect(sealed.toString()).not.toContain('LAB-01');
    const secrets = openPayload<MediaSecrets>(sealed, { purpose: 'variables', mediaId: id, password: 'correct horse', sitePublicKey: descriptor.sitePublicKey });
    expect(secrets.variables).toEqual([{ name: 'SMSTSPreferredAdvertID', value: 'PXP29999' }, { name: 'OSDComputerName', value: 'LAB-01' }]);
    expect(secrets.prestart).toEqual({ commandLine: 'cmd /c echo hi' });
    const stored = await repo.media.get(id);
    expect(stored?.secretHash).toBe(sha(secrets.secret));
    expect(secrets.secret).toMatch(/^pxm_[A-Za-z0-9_-]{43}$/);
  }, 120_000);

  itWithTools(TOOLS, 'a tool failing mid-way leaves no file at --out, no temp or scratch files, and an existing --out as it was', async () => {
    await importStandIn();
    const outDir = path.join(dir, 'fail');
    fs.mkdirSync(outDir);
    const out = path.join(outDir, 'media.iso');
    // The real grub-mkrescue, with one more graft point whose source does not exist: xorriso fails after GRUB was prepared.
    const wrapper = path.join(dir, 'grub-mkrescue-failing');
    fs.writeFileSync(wrapper, '#!/bin/sh\nexec grub-mkrescue "$@" pxepoint/extra.bin=/nonexistent/extra.bin\n', { mode: 0o755 });
    const tools = { ...DEFAULT_ISO_TOOLS, grubMkrescue: wrapper };
    const before = (await repo.media.list()).length;
    const err = await buildMedia({ type: 'bootable', bootImageId }, out, 'iso', deps({ tools })).catch((e: unknown) => e);
    expect(isPxeError(err) && err.code).toBe(MEDIA_ERRORS.build);
    expect((err as Error).message).toMatch(/grub-mkrescue failed/);
    expect(fs.readdirSync(outDir)).toEqual([]);
    expect((await repo.media.list()).length).toBe(before);

    // A tool that writes half an image then dies: same; and the earlier image survives.
    fs.writeFileSync(out, 'THE EARLIER IMAGE');
    const half = path.join(dir, 'grub-mkrescue-half');
    fs.writeFileSync(half, '#!/bin/sh\nwhile [ "$1" != "-o" ]; do shift; done\nhead -c 100000 /dev/zero > "$2"\necho "xorriso : FAILURE : simulated" >&2\nexit 1\n', { mode: 0o755 });
    const err2 = await buildMedia({ type: 'bootable', bootImageId }, out, 'iso', deps({ tools: { ...DEFAULT_ISO_TOOLS, grubMkrescue: half } })).catch((e: unknown) => e);
    expect((err2 as Error).message).toMatch(/simulated/);
    expect(fs.readdirSync(outDir)).toEqual(['media.iso']);
    expect(fs.readFileSync(out, 'utf8')).toBe('THE EARLIER IMAGE');
    expect((await repo.media.list()).length).toBe(before);
  }, 120_000);

  itWithTools(TOOLS, 'an interrupted build (SIGINT in the CLI = abort) and a failed registration leave nothing behind', async () => {
    await importStandIn();
    const outDir = path.join(dir, 'abort');
    fs.mkdirSync(outDir);
    const out = path.join(outDir, 'media.iso');
    const abort = new AbortController();
    const stages: BuildProgress['stage'][] = [];
    const err = await buildMedia({ type: 'bootable', bootImageId }, out, 'iso', deps({
      signal: abort.signal,
      onProgress: (p) => { stages.push(p.stage); if (p.stage === 'boot-loader') setTimeout(() => abort.abort(), 50); },
    })).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/interrupted/);
    expect(stages).toContain('boot-loader');
    expect(fs.readdirSync(outDir)).toEqual([]);

    // The site refuses the registration: the new image is removed.
    const failing = { register: async () => { throw new Error('registry unavailable'); } } as unknown as MediaService;
    await expect(buildMedia({ type: 'bootable', bootImageId }, out, 'iso', deps({ media: failing }))).rejects.toThrow(/registry unavailable/);
    expect(fs.readdirSync(outDir)).toEqual([]);
  }, 120_000);

  itWithTools(TOOLS, '--format dir writes the medium\'s tree; an earlier medium there is replaced, any other folder is refused', async () => {
    await importStandIn();
    const out = path.join(dir, 'usb');
    const r = await runCli(dataDir, 'media', 'create', '--type', 'bootable', '--boot-image', bootImageId, '--format', 'dir', '--out', out, '--root', root, '--site-url', SITE, '--json');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const first = JSON.parse(r.out) as { record: { id: string; imageSha256: string | null } };
    expect(first.record.imageSha256).toBeNull();
    const d = parseMediaDescriptor(fs.readFileSync(path.join(out, 'pxepoint/media.json'), 'utf8'));
    expect(d.mediaId).toBe(first.record.id);
    expect(d.passwordRequired).toBe(false);
    expect(fileSha(path.join(out, 'pxepoint/boot/boot.wim'))).toBe(fileSha(path.join(root, 'images', bootImageId, 'boot.wim')));
    expect(fs.readFileSync(path.join(out, 'boot/grub/grub.cfg'), 'utf8')).toContain('set timeout=5');
    // A UEFI loader for a FAT32 stick made from the folder: a PE image that finds the medium by media.json.
    const loader = fs.readFileSync(path.join(out, 'EFI/BOOT/BOOTX64.EFI'));
    expect(loader.subarray(0, 2).toString()).toBe('MZ');
    expect(loader.includes(Buffer.from('search --no-floppy --set=root --file /pxepoint/media.json; then'))).toBe(true);
    // Without a password variables.dat is signed, readable by anyone holding the medium.
    const secrets = openPayload<MediaSecrets>(fs.readFileSync(path.join(out, 'pxepoint/variables.dat')), { purpose: 'variables', mediaId: d.mediaId, password: null, sitePublicKey: d.sitePublicKey });
    expect(secrets.mediaId).toBe(d.mediaId);

    const again = await runCli(dataDir, 'media', 'create', '--type', 'bootable', '--boot-image', bootImageId, '--format', 'dir', '--out', out, '--root', root, '--site-url', SITE, '--json');
    expect(again.code).toBe(0);
    const second = JSON.parse(again.out) as { record: { id: string } };
    expect(parseMediaDescriptor(fs.readFileSync(path.join(out, 'pxepoint/media.json'), 'utf8')).mediaId).toBe(second.record.id);
    expect(leftovers(dir)).toEqual([]);

    const other = path.join(dir, 'not-a-medium');
    fs.mkdirSync(other);
    fs.writeFileSync(path.join(other, 'precious.txt'), 'keep me');
    const refused = await runCli(dataDir, 'media', 'create', '--type', 'bootable', '--boot-image', bootImageId, '--format', 'dir', '--out', other, '--root', root, '--site-url', SITE);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/not empty and holds no medium/);
    expect(fs.readdirSync(other)).toEqual(['precious.txt']);
  }, 120_000);

  itWithTools(TOOLS, 'stand-alone ISO: the task sequence sealed, every package file on the medium with the SHA-256 of the policy (rule 118)', async () => {
    await importStandIn();
    const service = new SiteService(repo);
    const pkg = await service.create('packages', { name: 'Tools' }, ACTOR);
    const src = path.join(dir, 'pkg-src');
    fs.mkdirSync(path.join(src, 'sub dir'), { recursive: true });
    fs.writeFileSync(path.join(src, 'setup.cmd'), '@echo installing\r\n');
    fs.writeFileSync(path.join(src, 'sub dir', 'data=1.bin'), Buffer.from([0, 1, 2, 3, 255]));
    const content = await SiteContent.open(repo, dataDir);
    const added = await content.addContent(pkg.id, src, ACTOR);
    const ts = await service.create('task-sequences', {
      name: 'Offline deploy', bootImageId,
      steps: [
        { name: 'Install tools', type: 'run-command', packageId: pkg.id, commandLine: 'setup.cmd' },
        { name: 'Mark', type: 'set-variable', variableName: 'Done', variableValue: '1' },
      ],
    }, ACTOR);
    const out = path.join(dir, 'standalone.iso');
    const result = await buildMedia({ type: 'standalone', bootImageId, taskSequenceId: ts.id, validFrom: '2026-01-01', validUntil: '2030-01-01T00:00:00Z', password: 'pw' }, out, 'iso', deps({ defaultSiteUrls: [] }));
    expect(result.record).toMatchObject({ type: 'standalone', taskSequenceId: ts.id, validFrom: '2026-01-01T00:00:00.000Z', validUntil: '2030-01-01T00:00:00.000Z' });
    const files = await xorrisoFiles(out);
    const descriptor = parseMediaDescriptor((await extract(out, '/pxepoint/media.json')).toString());
    expect(descriptor.siteUrls).toEqual([]);
    const policy = openPayload<StandalonePolicy>(await extract(out, '/pxepoint/standalone/policy.dat'), { purpose: 'policy', mediaId: descriptor.mediaId, password: 'pw', sitePublicKey: descriptor.sitePublicKey });
    expect(policy.taskSequence.id).toBe(ts.id);
    expect(policy.taskSequence.steps.map((s) => s.type)).toEqual(['run-command', 'set-variable']);
    expect(policy.packages).toHaveLength(1);
    const p = policy.packages[0]!;
    expect(p).toMatchObject({ id: pkg.id, version: added.version });
    expect(p.files.map((f) => f.path).sort()).toEqual(['setup.cmd', 'sub dir/data=1.bin']);
    for (const f of p.files) {
      const inIso = `/pxepoint/content/${pkg.id}/v${added.version}/${f.path}`;
      expect(files).toContain(inIso);
      const bytes = await extract(out, inIso);
      expect(bytes.length).toBe(f.size);
      expect(sha(bytes)).toBe(f.sha256);
      expect(sha(bytes)).toBe(fileSha(path.join(src, ...f.path.split('/'))));
    }
  }, 120_000);

  itWithTools(TOOLS, 'refusals: rule 92 offline steps, content missing, rule 103 dates on bootable media, no site URL, tools checked before the site data', async () => {
    await importStandIn();
    const service = new SiteService(repo);
    const pkg = await service.create('packages', { name: 'No content yet' }, ACTOR);
    const online = await service.create('task-sequences', { name: 'Needs the network', bootImageId, steps: [{ name: 'Download', type: 'download-package', packageId: pkg.id }] }, ACTOR);
    const noContent = await service.create('task-sequences', { name: 'Content missing', bootImageId, steps: [{ name: 'Run', type: 'run-command', packageId: pkg.id, commandLine: 'x' }] }, ACTOR);
    const out = path.join(dir, 'refused.iso');
    const fail = async (raw: unknown, over: Partial<BuildMediaDeps> = {}): Promise<string> => {
      const e = await buildMedia(raw, out, 'iso', deps(over)).catch((x: unknown) => x);
      expect(isPxeError(e)).toBe(true);
      return (e as Error).message;
    };
    expect(await fail({ type: 'standalone', bootImageId, taskSequenceId: online.id })).toMatch(/step 1 "Download" downloads package content.*rule 92/);
    expect(await fail({ type: 'standalone', bootImageId, taskSequenceId: noContent.id })).toMatch(new RegExp(`package ${pkg.id} "No content yet" has no content version .*pxepoint package add-content ${pkg.id}`));
    expect(await fail({ type: 'bootable', bootImageId, validUntil: '2030-01-01' })).toMatch(/stand-alone media \(rule 103\)/);
    expect(await fail({ type: 'bootable', bootImageId }, { defaultSiteUrls: [] })).toMatch(/give --site-url/);
    expect(await fail({ type: 'standalone', bootImageId })).toMatch(/--ts/);
    expect(await fail({ type: 'bootable', bootImageId, variables: [{ name: '_SMSTSMediaType', value: 'x' }] })).toMatch(/body\.variables\.0\.name/);
    expect(await fail({ type: 'bootable', bootImageId, variables: [{ name: 'A', value: '1' }, { name: 'a', value: '2' }] })).toMatch(/given twice/);
    expect(await fail({ type: 'bootable', bootImageId, variables: [{ name: 'A', value: 'x'.repeat(4001) }] })).toMatch(/variables\.0\.value/);
    expect(await fail({ type: 'bootable', bootImageId, certValidFrom: '2027-01-01', certValidUntil: '2026-01-01' })).toMatch(/rule 101/);
    expect(await fail({ type: 'bootable', bootImageId: 'PXP09999' })).toMatch(/PXP09999/);
    expect(await fail({ type: 'bootable', bootImageId }, { tools: { ...DEFAULT_ISO_TOOLS, grubLibDir: path.join(dir, 'no-grub') } })).toMatch(/GRUB for i386-pc \(Debian package grub-pc-bin\).*GRUB for x86_64-efi \(Debian package grub-efi-amd64-bin\)/);
    expect(fs.existsSync(out)).toBe(false);
    expect(leftovers(dir)).toEqual([]);
    // wimboot missing: WIMBOOT_MISSING_HINT.
    fs.renameSync(path.join(root, 'boot', 'wimboot'), path.join(dir, 'wimboot.away'));
    try {
      expect(await fail({ type: 'bootable', bootImageId })).toMatch(/wimboot is missing: download the latest release/);
    } finally {
      fs.renameSync(path.join(dir, 'wimboot.away'), path.join(root, 'boot', 'wimboot'));
    }
  }, 120_000);

  itWithTools(TOOLS, 'POST /api/media: builds into <dataDir>/media/<id>.iso, 201 with the record and imageUrl, never the password', async () => {
    await importStandIn();
    const service = new SiteService(repo);
    const { secret: token } = await service.createToken({ name: 'media-builder' }, ACTOR);
    let logged = '';
    const logStream = new Writable({ write(chunk: Buffer, _enc, cb) { logged += chunk.toString(); cb(); } });
    const app = await buildHttpApp({ service, media: new MediaService(repo), dataDir, tftpRoot: root, logger: pino({ level: 'debug' }, logStream) });
    try {
      const auth = { authorization: `Bearer ${token}`, host: '10.9.8.7:8080' };
      const res = await app.inject({ method: 'POST', url: '/api/media', headers: auth, payload: { type: 'bootable', bootImageId, label: 'API media', password: 'api-secret-pw', variables: [{ name: 'SMSTSPreferredAdvertID', value: 'PXP29998' }] } });
      expect(res.statusCode, res.body).toBe(201);
      expect(res.body).not.toContain('api-secret-pw');
      const body = res.json() as { record: { id: string; imagePath: string; imageSha256: string; passwordRequired: boolean }; imageUrl: string; warnings: string[] };
      expect(body.record).not.toHaveProperty('secretHash');
      expect(body.record.passwordRequired).toBe(true);
      expect(body.imageUrl).toBe(`/api/media/${body.record.id}/image`);
      expect(body.warnings.join()).toMatch(/PXP29998/);
      const iso = path.join(dataDir, 'media', `${body.record.id}.iso`);
      expect(body.record.imagePath).toBe(iso);
      expect(fileSha(iso)).toBe(body.record.imageSha256);
      expect(leftovers(path.join(dataDir, 'media'))).toEqual([]);
      // The site's address defaults to the one the request came in on.
      expect(parseMediaDescriptor((await extract(iso, '/pxepoint/media.json')).toString()).siteUrls).toEqual(['http://10.9.8.7:8080']);
      // The image downloads from imageUrl (admin/media.ts).
      const img = await app.inject({ method: 'GET', url: body.imageUrl, headers: auth });
      expect(img.statusCode).toBe(200);
      expect(sha(img.rawPayload)).toBe(body.record.imageSha256);

      const bad = await app.inject({ method: 'POST', url: '/api/media', headers: auth, payload: { type: 'bootable', bootImageId, validUntil: '2030-01-01' } });
      expect(bad.statusCode).toBe(400);
      expect(bad.json()).toMatchObject({ code: MEDIA_ERRORS.build });
      const unknownField = await app.inject({ method: 'POST', url: '/api/media', headers: auth, payload: { type: 'bootable', bootImageId, out: '/etc/passwd' } });
      expect(unknownField.statusCode).toBe(400);
      expect(unknownField.json()).toMatchObject({ code: 'PXE_ERR_INVALID', field: 'body.out' });
      const noAuth = await app.inject({ method: 'POST', url: '/api/media', payload: { type: 'bootable', bootImageId } });
      expect(noAuth.statusCode).toBe(401);
      // The password is in no log line; a body that gets logged has it blanked.
      app.log.info({ body: { type: 'bootable', password: 'api-secret-pw' } }, 'a logged request body');
      expect(logged).toContain('a logged request body');
      expect(logged).toContain('"password":"[redacted]"');
      expect(logged).not.toContain('api-secret-pw');
    } finally {
      await app.close();
    }
  }, 120_000);
});
