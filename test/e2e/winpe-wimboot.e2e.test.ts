/**
 * Issue 8's end-to-end proof of the wimboot chain: a BIOS machine (SeaBIOS + the
 * iPXE NIC ROM) and a UEFI one (OVMF, which chains iPXE's snponly.efi over TFTP)
 * boot against pxepoint; each machine's iPXE script fetches, over
 * HTTP, exactly the files of the wimboot loader for a stand-in boot image
 * (a WIM made here by `wimlib-imagex capture`, imported with `pxepoint bootimage
 * import`), after the per-boot variables file.
 *
 * What is real and what is a stand-in:
 * - real: the firmware, iPXE, DHCP, pxepoint serve, the imported files, the BCD;
 * - stand-in: `boot/wimboot` is not the iPXE project's wimboot (GPL, not shipped,
 *   not installable from Debian) but a two-line iPXE script, so iPXE accepts it as
 *   the `kernel`, fetches every `initrd`, runs it at `boot` (it prints a marker and
 *   returns), and the boot script then calls back `step=exit`. Windows PE itself
 *   never runs, so what the injected variables file contains is checked where it is
 *   made (test/pxe/boot-files.test.ts, test/winpe/wimboot.test.ts); here: that the
 *   machine was served it (200, boot timeline) before wimboot's files, that the bytes
 *   on the wire (tcpdump on the machine's tap, plain HTTP) name the machine (MAC,
 *   SMBIOS GUID) and carry a boot token, and that iPXE held it as `variables.json`
 *   with every initrd when "wimboot" started (the stand-in prints `imgstat` on the
 *   serial console).
 *
 * Server-side checks: every file was answered 200 with as many bytes as the file's
 * size in the import manifest (images/<id>/winpe.json), and the files on disk
 * still have the manifest's SHA-256 (the bytes served are those files).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it, onTestFailed } from 'vitest';
import { readManifest, verifyManifest } from '../../src/winpe/import.js';
import { wimbootFiles } from '../../src/winpe/wimboot.js';
import { createLan, hasCommand, type TestLan } from './support/netns.js';
import { makeTftpRoot, startRadvd } from './support/peers.js';
import { describeE2e, missingPrerequisites } from './support/prereq.js';
import { prepareSite, startPxepoint, type Machine, type Pxepoint, type SiteIds } from './support/pxepoint.js';
import { waitFor } from './support/proc.js';
import { startCapture } from './support/capture.js';
import { httpExchanges } from './support/http-capture.js';
import { PXE_VARS } from '../../src/client/identity.js';
import { bootGuest, consoleTail, macDashes, type Firmware } from './support/qemu.js';
import { importStandInWinPe } from './support/winpe-standin.js';

const BOOT_LIMIT_MS = Number(process.env.PXP_E2E_BOOT_LIMIT_MS ?? 120_000);
const MACHINES: Record<Firmware, Machine> = {
  bios: { name: 'E2E-WINPE-BIOS', mac: '52:54:00:77:e8:01', uuid: '4b1d0000-7777-4000-8000-00000000e801' },
  uefi: { name: 'E2E-WINPE-UEFI', mac: '52:54:00:77:e8:02', uuid: '4b1d0000-7777-4000-8000-00000000e802' },
};
const STAND_IN_MARKER = 'pxepoint-e2e: stand-in wimboot ran';

interface TimelineEvent { kind: string; summary?: string; data?: Record<string, unknown> }

const missing = missingPrerequisites({ nativeAddon: true, dnsmasq: false });
if (!hasCommand('wimlib-imagex')) missing.push('wimlib-imagex (Debian package wimtools, .ci/packages.d/winpe.txt)');

describeE2e('WinPE over iPXE + wimboot: the script fetches exactly the wimboot files (BIOS and UEFI)', missing, () => {
  let lan: TestLan;
  let site: SiteIds;
  let pxe: Pxepoint;
  let tftpRoot: string;
  let bootImageId: string;

  beforeAll(async () => {
    // The peer's veth keeps the bridge up before QEMU opens its tap (--interface lists only running interfaces).
    lan = await createLan();
    await startRadvd(lan);
    tftpRoot = makeTftpRoot(join(lan.workDir, 'tftp'));
    const dataDir = join(lan.workDir, 'data');
    site = prepareSite(dataDir, Object.values(MACHINES));
    bootImageId = site.bootImageId;

    // A stand-in WinPE image, imported like a real one (BIOS programs included).
    importStandInWinPe({ workDir: lan.workDir, dataDir, bootImageId, tftpRoot, importFlags: ['--ramdisk-block-size', '1456', '--ramdisk-window-size', '8'] });
    // The stand-in for wimboot: an iPXE script (see the header).
    writeFileSync(join(tftpRoot, 'boot', 'wimboot'), `#!ipxe\necho ${STAND_IN_MARKER}\nimgstat\n`);

    pxe = await startPxepoint(lan, {
      mode: 'full', dataDir, tftpRoot, name: 'pxepoint-winpe', bindInterface: true,
      config: {
        pxe: { unknownComputerSupport: true },
        dhcp: { serverAddress: lan.serverIp, pools: [{ subnet: `${lan.subnet}/${lan.prefixLength}`, rangeStart: lan.poolStart, rangeEnd: lan.poolEnd }] },
      },
    });
  }, 180_000);

  afterAll(async () => {
    await pxe?.stop();
    await lan?.down();
  });

  for (const fw of ['bios', 'uefi'] as const) {
    const label = fw === 'bios' ? 'SeaBIOS + iPXE ROM: variables file, then wimboot, bootmgr.exe, BCD-bios' : 'OVMF + iPXE (snponly.efi over TFTP): variables file, then wimboot, bootmgfw.efi, BCD-uefi';
    it(`${label}, boot.sdi, boot.wim and the start-up files, sizes as imported`, async () => {
      const MACHINE = MACHINES[fw];
      let failed = false;
      onTestFailed(() => { failed = true; process.env.PXP_E2E_KEEP = '1'; });
      const dashes = macDashes(MACHINE.mac);
      const t0 = Date.now();
      const capture = await startCapture(lan, lan.taps[0]!, `winpe-${fw}`);
      const guest = bootGuest(lan, { firmware: fw, mac: MACHINE.mac, uuid: MACHINE.uuid, name: `winpe-${fw}` });
      try {
        await waitFor(() => pxe.httpHits().some((h) => h.time >= t0 && h.url.startsWith(`/boot/callback/${dashes}?step=exit`)) || !guest.process.running(), BOOT_LIMIT_MS, 250);
      } finally {
        await guest.stop();
        await capture.stop();
      }
      const hits = pxe.httpHits().filter((h) => h.time >= guest.startedAt);
      const why = (): string => [
        `--- serial console (${guest.serialLog}):`, consoleTail(guest.serial(), 40),
        '--- pxepoint HTTP requests:', ...hits.map((h) => `${h.method} ${h.url} → ${h.statusCode ?? '?'}`),
        `--- artifacts: ${lan.workDir}${failed ? ' (kept)' : ''}`,
      ].join('\n');

      const expected = wimbootFiles(tftpRoot, bootImageId, `images/${bootImageId}/boot.wim`, 'x64', fw);
      const bootmgr = fw === 'bios' ? 'bootmgr.exe' : 'bootmgfw.efi';
      expect(expected).toEqual([
        'boot/wimboot', `boot/x64/${bootmgr}`, `images/${bootImageId}/BCD-${fw}`, 'boot/boot.sdi', `images/${bootImageId}/boot.wim`,
        'boot/winpe/winpeshl.ini', 'boot/winpe/pxepoint-start.cmd',
      ]);
      const fileHits = hits.filter((h) => h.url.startsWith('/boot/files/'));
      const fetched = fileHits.map((h) => decodeURIComponent(h.url.slice('/boot/files/'.length).split('?')[0]!));
      expect(fetched, `the files fetched over HTTP are not exactly the wimboot script's\n${why()}`).toEqual(expected);
      expect(fileHits.map((h) => h.statusCode), why()).toEqual(expected.map(() => 200));
      expect(guest.serial(), `the stand-in wimboot did not run\n${why()}`).toContain(STAND_IN_MARKER);
      // What iPXE held when it started "wimboot" (the stand-in's imgstat on the serial console): the
      // per-boot variables file and every initrd, by the names wimboot would see.
      const held = [...guest.serial().slice(guest.serial().indexOf(STAND_IN_MARKER)).matchAll(/^(\S+) : (\d+) bytes/gm)].map((m) => m[1]);
      expect(held.sort(), `iPXE's images at boot\n${why()}`).toEqual(['BCD', 'boot.sdi', 'boot.wim', bootmgr, 'pxepoint-start.cmd', 'variables.json', 'winpeshl.ini'].sort());

      // On the wire: the variables file the machine was sent (plain HTTP, read back from the tap's capture)
      // names this machine and carries a boot token.
      const exchanges = httpExchanges(capture.file, `${lan.serverIp}:8080`);
      const vars = exchanges.filter((x) => x.method === 'GET' && x.path.startsWith('/boot/vars/'));
      const onWire = `HTTP on the tap (${capture.file}): ${exchanges.map((x) => `${x.method} ${x.path.replace(/^\/boot\/vars\/.*/, '/boot/vars/…')} → ${x.status ?? '?'}`).join('; ')}`;
      expect(vars.map((x) => x.status), onWire).toEqual([200]);
      const sentVars = new Map((JSON.parse(vars[0]!.body.toString('utf8')) as { variables: Array<{ name: string; value: string }> }).variables.map((v) => [v.name, v.value]));
      expect(sentVars.get(PXE_VARS.clientMac)?.toLowerCase(), onWire).toBe(MACHINE.mac.toLowerCase());
      expect(sentVars.get(PXE_VARS.smbiosGuid)?.toLowerCase(), onWire).toBe(MACHINE.uuid.toLowerCase());
      expect(sentVars.get(PXE_VARS.bootToken), onWire).toMatch(/^\S{16,}$/);

      // Server side: bytes sent per file (boot timeline) = the manifest's size; files on disk = the manifest's SHA-256.
      const manifest = (await readManifest(tftpRoot, bootImageId))!;
      expect(await verifyManifest(tftpRoot, manifest)).toEqual([]);
      const size = new Map(manifest.files.map((f) => [f.path, f.size]));
      const timeline = await pxe.get(`/api/timeline/${encodeURIComponent(MACHINE.mac)}`, site.adminToken);
      expect(timeline.status).toBe(200);
      const events = (JSON.parse(timeline.body) as { events: TimelineEvent[] }).events;
      const sent = events.filter((e) => e.kind === 'http.boot' && e.data?.kind === 'file').map((e) => ({ path: String(e.data?.path), status: e.data?.status, bytes: e.data?.bytes }));
      // The variables file (its route keeps its URL out of the request log) was served to this machine before wimboot's files.
      const varsAt = events.findIndex((e) => e.kind === 'http.boot' && e.data?.kind === 'variables' && e.data?.status === 200);
      const firstFileAt = events.findIndex((e) => e.kind === 'http.boot' && e.data?.kind === 'file');
      expect(varsAt, `no variables file served in the timeline: ${events.map((e) => e.summary).join('; ')}`).toBeGreaterThanOrEqual(0);
      expect(varsAt).toBeLessThan(firstFileAt);
      for (const p of expected.filter((f) => size.has(f))) {
        expect(sent, `no 200 with ${size.get(p)} bytes for ${p} in the timeline`).toContainEqual({ path: p, status: 200, bytes: size.get(p) });
      }
      expect(expected.filter((f) => !size.has(f))).toEqual(['boot/wimboot']); // the administrator's file, not imported
    });
  }
});
