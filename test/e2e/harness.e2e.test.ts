/**
 * Harness self-test: the namespace LAN, QEMU and the capture work, independent of
 * pxepoint. dnsmasq is the PXE server (DHCP + TFTP), iPXE fetches a script from a tiny
 * observer and calls it back: SeaBIOS + iPXE ROM (~5 s with radvd) and OVMF → TFTP
 * snponly.efi → iPXE (~13 s); ~25 s in all. When this fails, the machine is the problem; when only pxe-boot fails, pxepoint is.
 */
import { afterAll, beforeAll, expect, it, onTestFailed } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatSummary, startCapture, summarizeCapture } from './support/capture.js';
import { createLan, type TestLan } from './support/netns.js';
import { makeTftpRoot, startDnsmasqPxe, startObserver, startRadvd, type Observer } from './support/peers.js';
import { describeE2e, missingPrerequisites } from './support/prereq.js';
import { waitFor } from './support/proc.js';
import { bootGuest, consoleTail, macDashes } from './support/qemu.js';

const BOOT_LIMIT_MS = 90_000;

describeE2e('e2e harness self-test (dnsmasq as PXE server)', missingPrerequisites(), () => {
  let lan: TestLan;
  let observer: Observer;
  let failed = false;

  beforeAll(async () => {
    lan = await createLan({ peer: false });
    await startRadvd(lan);
    observer = await startObserver(lan);
    const tftpRoot = makeTftpRoot(join(lan.workDir, 'tftp'));
    await startDnsmasqPxe(lan, tftpRoot, `${observer.url}/boot.ipxe`);
  }, 60_000);

  afterAll(async () => {
    if (failed && lan) {
      process.env.PXP_E2E_KEEP = '1';
      process.stdout.write(`harness self-test artifacts kept in ${lan.workDir}\n`);
    }
    await lan?.down();
  });

  async function bootToObserver(firmware: 'bios' | 'uefi', mac: string): Promise<number> {
    onTestFailed(() => {
      failed = true;
    });
    const name = `selftest-${firmware}`;
    const cap = await startCapture(lan, lan.taps[0]!, name);
    const guest = bootGuest(lan, { firmware, mac, uuid: `4b1d0000-7777-4000-8000-0000${mac.replace(/:/g, '').slice(-8)}`, name });
    const done = await waitFor(() => {
      const lines = readFileSync(observer.logFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { t: number; url: string });
      return lines.find((l) => l.url.startsWith(`/done?mac=${macDashes(mac)}`)) ?? (guest.process.running() ? undefined : ({ t: -1, url: 'qemu exited' } as const));
    }, BOOT_LIMIT_MS);
    await guest.stop();
    await cap.stop();
    const seconds = done && done.t > 0 ? (done.t - guest.startedAt) / 1000 : null;
    const detail = `serial:\n${consoleTail(guest.serial())}\npackets:\n${formatSummary(summarizeCapture(cap.file))}`;
    expect(seconds, `no callback within ${BOOT_LIMIT_MS / 1000} s\n${detail}`).not.toBeNull();
    process.stdout.write(`harness self-test: ${firmware} start → callback ${seconds!.toFixed(1)} s\n`);
    return seconds!;
  }

  it('SeaBIOS + iPXE ROM boots to the observer callback', async () => {
    await bootToObserver('bios', '52:54:00:77:0e:10');
  });

  it('OVMF UEFI PXE boots snponly.efi over TFTP to the observer callback', async () => {
    await bootToObserver('uefi', '52:54:00:77:0e:20');
  });
});
