/**
 * Issue 7's end-to-end proof: boot media built by `pxepoint media create`.
 *
 *   1. A site with a hidden deployment ("Only media and PXE (hidden)", rule 20) and an
 *      imported stand-in WinPE boot image; bootable media built with
 *      `--unattended --var SMSTSPreferredAdvertID=<that deployment>`.
 *   2. The ISO is read by independent readers (xorriso, isoinfo): every planned file is
 *      there, and El Torito holds both a BIOS and a UEFI boot image.
 *   3. OVMF (UEFI) boots the ISO in QEMU on a LAN of network namespaces with pxepoint in
 *      full DHCP mode: GRUB from the medium gets an address and announces the boot
 *      (GET /boot/media/<id>/start.cfg); the site records that medium's boot as a status
 *      message.
 *   4. SeaBIOS boots the same ISO: GRUB from the medium starts (BIOS GRUB has no NIC
 *      driver, so no announce there) and hands over to the boot image's loader. The
 *      stand-in for wimboot is iPXE's ipxe.lkrn (a real Linux-format kernel), so "the
 *      loader started" is iPXE's banner on the serial console.
 *   5. The reference client run from the same ISO (`pxepoint client --media`) identifies
 *      with the media credential and runs the hidden deployment unattended to success;
 *      the site records the success.
 *
 * There is no real WinPE here (docs/winpe.md); what stands in is said where it is used.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createLan, hasCommand, type TestLan } from './support/netns.js';
import { makeTftpRoot } from './support/peers.js';
import { describeE2e, missingPrerequisites } from './support/prereq.js';
import { prepareSite, pxepointCli, REPO_ROOT, startPxepoint, type Machine, type Pxepoint, type SiteIds } from './support/pxepoint.js';
import { waitFor } from './support/proc.js';
import { bootGuest, consoleTail, IPXE_DIR, type Guest } from './support/qemu.js';
import { importStandInWinPe } from './support/winpe-standin.js';

const BOOT_LIMIT_MS = Number(process.env.PXP_E2E_BOOT_LIMIT_MS ?? 120_000);
const MACHINES = {
  uefi: { name: 'E2E-MEDIA-UEFI', mac: '52:54:00:77:e9:01', uuid: '4b1d0000-7777-4000-8000-00000000e901' },
  bios: { name: 'E2E-MEDIA-BIOS', mac: '52:54:00:77:e9:02', uuid: '4b1d0000-7777-4000-8000-00000000e902' },
  client: { name: 'MEDIA-CLIENT-1', mac: '52:54:00:77:e9:03', uuid: '4b1d0000-7777-4000-8000-00000000e903' },
} satisfies Record<string, Machine>;

const missing = missingPrerequisites({ nativeAddon: true, dnsmasq: false, radvd: false });
for (const [cmd, pkg] of [['wimlib-imagex', 'wimtools'], ['grub-mkrescue', 'grub-common, grub-pc-bin, grub-efi-amd64-bin'], ['xorriso', 'xorriso'], ['mformat', 'mtools'], ['isoinfo', 'genisoimage']] as const) {
  if (!hasCommand(cmd)) missing.push(`${cmd} (Debian package ${pkg}, .ci/packages.d/media.txt)`);
}
if (!existsSync(join(IPXE_DIR, 'ipxe.lkrn'))) missing.push(`${join(IPXE_DIR, 'ipxe.lkrn')} (Debian package ipxe)`);

interface Message { id: number; kind: string; text: string; deviceId: string | null; deploymentId: string | null; data: Record<string, unknown> }

describeE2e('Boot media: built, read back, booted under OVMF and SeaBIOS, run unattended from the same ISO', missing, () => {
  let lan: TestLan;
  let site: SiteIds;
  let pxe: Pxepoint;
  let dataDir: string;
  let tftpRoot: string;
  let hiddenDeploymentId: string;
  let mediaId: string;
  let clientDeviceId: string;
  let iso: string;

  const messages = (): Message[] => {
    const out = pxepointCli(dataDir, ['messages', '--limit', '500']);
    return Array.isArray(out) ? (out as Message[]) : [];
  };
  const mediaBoots = (stage: string): Message[] =>
    messages().filter((m) => m.data?.mediaId === mediaId && (m.data?.stage === stage || m.data?.action === `media-boot-${stage}`));

  beforeAll(async () => {
    lan = await createLan();
    tftpRoot = makeTftpRoot(join(lan.workDir, 'tftp'));
    dataDir = join(lan.workDir, 'data');
    site = prepareSite(dataDir, [MACHINES.uefi, MACHINES.bios]);

    // The hidden deployment the medium names (rule 20): available, "Only media and PXE (hidden)".
    const stepsFile = join(lan.workDir, 'media-steps.json');
    writeFileSync(stepsFile, JSON.stringify({ steps: [{ name: 'Set computer name', type: 'set-variable', variableName: 'OSDComputerName', variableValue: 'FROM-MEDIA' }] }));
    const ts = pxepointCli(dataDir, ['ts', 'create', '--name', 'E2E media task sequence', '--boot-image', site.bootImageId, '--steps-file', stepsFile]) as { id: string };
    // The client machine is known, in a collection of its own that only the hidden deployment targets.
    const client = MACHINES.client;
    clientDeviceId = (pxepointCli(dataDir, ['device', 'create', '--name', client.name, '--mac', client.mac, '--guid', client.uuid, '--arch', 'x64']) as { id: string }).id;
    const collection = pxepointCli(dataDir, ['collection', 'create', '--name', 'Media clients', '--rule-name', 'MEDIA-CLIENT-*']) as { id: string };
    const dep = pxepointCli(dataDir, ['deploy', '--ts', ts.id, '--collection', collection.id, '--purpose', 'available', '--available-to', 'media-pxe-hidden']) as { deployment?: { id: string }; id?: string };
    hiddenDeploymentId = (dep.deployment?.id ?? dep.id)!;

    // A stand-in WinPE image imported like a real one; the stand-in wimboot is iPXE's
    // ipxe.lkrn, a real Linux-format kernel that GRUB's linux16 starts under BIOS.
    importStandInWinPe({ workDir: lan.workDir, dataDir, bootImageId: site.bootImageId, tftpRoot });
    copyFileSync(join(IPXE_DIR, 'ipxe.lkrn'), join(tftpRoot, 'boot', 'wimboot'));

    pxe = await startPxepoint(lan, {
      mode: 'full', dataDir, tftpRoot, name: 'pxepoint-media', bindInterface: true,
      config: { dhcp: { serverAddress: lan.serverIp, pools: [{ subnet: `${lan.subnet}/${lan.prefixLength}`, rangeStart: lan.poolStart, rangeEnd: lan.poolEnd }] } },
    });

    iso = join(lan.workDir, 'out', 'site-media.iso');
    mkdirSync(dirname(iso), { recursive: true });
    const built = pxepointCli(dataDir, [
      'media', 'create', '--type', 'bootable', '--boot-image', site.bootImageId, '--out', iso, '--root', tftpRoot,
      '--site-url', pxe.baseUrl, '--unattended', '--label', 'E2E media', '--var', `SMSTSPreferredAdvertID=${hiddenDeploymentId}`,
    ]) as { record?: { id: string }; id?: string };
    mediaId = (built.record?.id ?? built.id)!;
    expect(mediaId, JSON.stringify(built)).toMatch(/\S/);
  }, 240_000);

  afterAll(async () => {
    await pxe?.stop();
    await lan?.down();
  });

  it('the ISO reads back with xorriso and isoinfo: the planned files, BIOS and UEFI El Torito entries', () => {
    const found = execFileSync('xorriso', ['-indev', iso, '-find', '/', '-type', 'f'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    for (const path of ['/pxepoint/media.json', '/pxepoint/variables.dat', '/boot/grub/grub.cfg', '/MediaLabel.txt']) expect(found).toContain(`'${path}'`);
    expect(found).toMatch(/\/pxepoint\/boot\/.*boot\.wim/);
    const eltorito = execFileSync('xorriso', ['-indev', iso, '-report_el_torito', 'plain'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    expect(eltorito).toMatch(/El Torito boot img :\s+1\s+BIOS/);
    expect(eltorito).toMatch(/El Torito boot img :\s+2\s+UEFI/);
    const pvd = execFileSync('isoinfo', ['-d', '-i', iso], { encoding: 'utf8' });
    expect(pvd).toMatch(/Volume id:\s+\S/);
    const joliet = execFileSync('isoinfo', ['-J', '-f', '-i', iso], { encoding: 'utf8' });
    expect(joliet).toContain('/pxepoint/media.json');
  });

  async function bootIso(fw: 'uefi' | 'bios', m: Machine, until: (g: Guest) => boolean): Promise<Guest> {
    const guest = bootGuest(lan, { firmware: fw, mac: m.mac, uuid: m.uuid, name: `media-${fw}`, cdrom: iso });
    try {
      await waitFor(() => until(guest) || !guest.process.running(), BOOT_LIMIT_MS, 250);
    } finally {
      await guest.stop();
    }
    return guest;
  }

  it('OVMF boots the ISO; GRUB announces the boot and the site records that medium\'s boot', async () => {
    const before = mediaBoots('loader').length;
    const guest = await bootIso('uefi', MACHINES.uefi, () => mediaBoots('loader').length > before);
    const hits = pxe.httpHits().filter((h) => h.url.startsWith(`/boot/media/${mediaId}/`));
    const why = `\n--- serial:\n${consoleTail(guest.serial(), 40)}\n--- HTTP: ${hits.map((h) => `${h.method} ${h.url} → ${h.statusCode}`).join('; ')}\n--- artifacts: ${lan.workDir}`;
    expect(guest.serial(), why).toContain(`pxepoint media ${mediaId}`);
    expect(hits.some((h) => h.statusCode === 200), why).toBe(true);
    const boots = mediaBoots('loader').slice(before);
    expect(boots.length, why).toBeGreaterThan(0);
    expect(JSON.stringify(boots[0]), why).toContain(MACHINES.uefi.mac);
  }, BOOT_LIMIT_MS + 30_000);

  it('SeaBIOS boots the ISO: GRUB from the medium starts and hands over to the boot image loader', async () => {
    const afterBanner = (text: string): string => (text.includes(`pxepoint media ${mediaId}`) ? text.slice(text.indexOf(`pxepoint media ${mediaId}`)) : '');
    const guest = await bootIso('bios', MACHINES.bios, (g) => /iPXE/.test(afterBanner(g.serial())));
    const serial = guest.serial();
    const why = `\n--- serial:\n${consoleTail(serial, 40)}\n--- artifacts: ${lan.workDir}`;
    expect(serial, why).toContain(`pxepoint media ${mediaId}`);
    // ipxe.lkrn standing in for wimboot: its banner proves GRUB loaded and started the loader.
    expect(afterBanner(serial), why).toMatch(/iPXE/);
  }, BOOT_LIMIT_MS + 30_000);

  it('the reference client run from the same ISO runs the hidden deployment unattended to success', () => {
    const target = join(lan.workDir, 'client-target');
    const m = MACHINES.client;
    const r = spawnSync('ip', ['netns', 'exec', lan.srvNs, process.execPath, '--import', 'tsx', join(REPO_ROOT, 'src', 'cli', 'run.ts'),
      'client', '--media', iso, '--target', target, '--mac', m.mac, '--guid', m.uuid, '--json'], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 120_000, input: '' });
    const why = `exit ${r.status}\n${r.stdout}\n${r.stderr}`;
    expect(r.status, why).toBe(0);
    const result = JSON.parse(r.stdout) as { run?: { succeeded: boolean; deploymentId: string } };
    expect(result.run?.succeeded, why).toBe(true);
    expect(result.run?.deploymentId, why).toBe(hiddenDeploymentId);
    // The site: the media credential was used for this machine, and the run's success recorded.
    const device = clientDeviceId;
    expect(mediaBoots('client').some((b) => JSON.stringify(b).includes(m.mac)), why).toBe(true);
    const done = messages().filter((x) => x.deploymentId === hiddenDeploymentId && x.deviceId === device && /succe/i.test(x.text));
    expect(done.length, why).toBeGreaterThan(0);
  }, 150_000);
});
