/**
 * Issue 4's end-to-end proof: real PXE firmware boots against pxepoint.
 *
 *   {OVMF UEFI PXE, SeaBIOS + iPXE ROM} × {full DHCP, ProxyDHCP beside dnsmasq}
 *     → the machine fetches its own iPXE script (GET /boot/<mac>.ipxe) and the script
 *       calls back (GET /boot/callback/<mac>?step=…), both as pxepoint recorded them;
 *   an unknown machine, with nothing deployed to All Unknown Computers
 *     → no boot answer from pxepoint, no TFTP request, no script, no callback; the
 *       firmware boots no further.
 *
 * One LAN of network namespaces for the whole file (support/netns.ts), radvd on it so
 * iPXE does not wait ~13 s for IPv6, one pxepoint per mode, one QEMU at a time. Every
 * wait is bounded; the logs, serial consoles and pcaps of a failed run are kept
 * (the path is printed). See docs/testing.md.
 */
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { join } from 'node:path';
import { formatSummary, startCapture, summarizeCapture, type Capture, type CaptureSummary } from './support/capture.js';
import { createLan, type TestLan } from './support/netns.js';
import { makeTftpRoot, startAddressOnlyDhcp, startRadvd } from './support/peers.js';
import { describeE2e, missingPrerequisites } from './support/prereq.js';
import { prepareSite, startPxepoint, type HttpHit, type Machine, type Pxepoint, type SiteIds } from './support/pxepoint.js';
import { waitFor, type BgProcess } from './support/proc.js';
import { bootGuest, consoleTail, macDashes, type Firmware, type Guest } from './support/qemu.js';

/** Start of QEMU → callback; TCG on 2 cores took 5–15 s here, the reference harness saw up to 38 s. */
const BOOT_LIMIT_MS = Number(process.env.PXP_E2E_BOOT_LIMIT_MS ?? 120_000);
/** How long the unknown machine is watched (its firmware gives up well within this). */
const UNKNOWN_WATCH_MS = Number(process.env.PXP_E2E_UNKNOWN_WATCH_MS ?? 45_000);

/** After the first callback, how long the script may run on (variables file, boot/exit steps). */
const AFTER_CALLBACK_MS = 8_000;

type Mode = 'full' | 'proxy';
interface TimelineEvent {
  id: number;
  kind: string;
  summary?: string;
  clientIp?: string | null;
  data?: Record<string, unknown>;
}
/** A DHCP decision that answers with boot information (the PXE decision's action, or the reason code of a full-mode offer/ack). */
const isBootDecision = (e: TimelineEvent): boolean =>
  e.kind === 'dhcp.decision' &&
  (['boot', 'boot-with-prompt'].includes(String(e.data?.action ?? e.data?.decision)) || ['required', 'available'].includes(String(e.data?.reasonCode)));

const machine = (fw: Firmware, mode: Mode): Machine => {
  const n = `${fw === 'bios' ? 1 : 2}${mode === 'full' ? 1 : 2}`;
  return { name: `E2E-${fw.toUpperCase()}-${mode.toUpperCase()}`, mac: `52:54:00:77:e2:${n}`, uuid: `4b1d0000-7777-4000-8000-00000000e2${n}` };
};
const KNOWN: Record<string, Machine> = Object.fromEntries(
  (['bios', 'uefi'] as const).flatMap((fw) => (['full', 'proxy'] as const).map((mode) => [`${fw}-${mode}`, machine(fw, mode)])),
);
/** Not in the database; no deployment targets All Unknown Computers. */
const UNKNOWN: Record<Mode, Machine> = {
  full: { name: 'unknown-full', mac: '52:54:00:77:e2:91', uuid: '4b1d0000-7777-4000-8000-00000000e291' },
  proxy: { name: 'unknown-proxy', mac: '52:54:00:77:e2:92', uuid: '4b1d0000-7777-4000-8000-00000000e292' },
};

const results: string[] = [];

describeE2e('PXE boot of real firmware against pxepoint', missingPrerequisites({ nativeAddon: true }), () => {
  let lan: TestLan;
  let site: SiteIds;
  let dataDir: string;
  let tftpRoot: string;
  let failed = false;

  beforeAll(async () => {
    lan = await createLan({ peer: true });
    await startRadvd(lan);
    tftpRoot = makeTftpRoot(join(lan.workDir, 'tftp'));
    dataDir = join(lan.workDir, 'data');
    site = prepareSite(dataDir, Object.values(KNOWN));
  }, 120_000);

  afterAll(async () => {
    if (results.length) process.stdout.write(`\nPXE end-to-end results:\n${results.map((r) => `  ${r}`).join('\n')}\n`);
    if (failed && lan) process.env.PXP_E2E_KEEP = '1';
    if (lan && (failed || process.env.PXP_E2E_KEEP === '1')) process.stdout.write(`e2e artifacts kept in ${lan.workDir}\n`);
    await lan?.down();
  });

  /** Boots `m` on the LAN with a capture on its tap; resolves when `until` holds, QEMU exits, or the limit passes. */
  async function boot(fw: Firmware, m: Machine, tag: string, until: (g: Guest) => boolean, limitMs: number): Promise<{ guest: Guest; summary: CaptureSummary; capture: Capture }> {
    const capture = await startCapture(lan, lan.taps[0]!, tag);
    const guest = bootGuest(lan, { firmware: fw, mac: m.mac, uuid: m.uuid, name: tag });
    try {
      await waitFor(() => until(guest) || !guest.process.running(), limitMs, 250);
    } finally {
      await guest.stop();
      await capture.stop();
    }
    return { guest, summary: summarizeCapture(capture.file), capture };
  }

  function explain(pxe: Pxepoint, guest: Guest, summary: CaptureSummary): string {
    const hits = pxe.httpHits().filter((h) => !h.url.startsWith('/api/'));
    const decisions = pxe
      .logLines()
      .filter((l) => /decision|dhcp|pxe|tftp/i.test(String(l.msg ?? '') + String(l.event ?? '') + String(l.component ?? '')))
      .slice(-15)
      .map((l) => JSON.stringify(l).slice(0, 400));
    return [
      `--- serial console (${guest.serialLog}):`, consoleTail(guest.serial()),
      `--- packets on the tap:`, formatSummary(summary),
      `--- pxepoint HTTP requests:`, ...hits.map((h) => `${h.method} ${h.url} → ${h.statusCode ?? '?'} from ${h.remoteAddress ?? '?'}`),
      `--- pxepoint log (DHCP/PXE/TFTP lines):`, ...decisions,
      `--- artifacts: ${lan.workDir}`,
    ].join('\n');
  }

  function modeSuite(mode: Mode): void {
    describe.sequential(mode === 'full' ? 'full DHCP mode' : 'ProxyDHCP mode beside dnsmasq (addresses only)', () => {
      let pxe: Pxepoint;
      let dnsmasq: BgProcess | undefined;

      beforeAll(async () => {
        if (mode === 'proxy') dnsmasq = await startAddressOnlyDhcp(lan);
        pxe = await startPxepoint(lan, {
          mode,
          dataDir,
          tftpRoot,
          name: `pxepoint-${mode}`,
          // Answer on the LAN bridge only (SO_BINDTODEVICE through the native addon). The
          // namespace has no default route, so a wildcard socket could not send to
          // 255.255.255.255 at all (see docs/testing.md).
          bindInterface: true,
          config: {
            // Unknown computer support on, and nothing deployed to All Unknown Computers: the
            // unknown machine is turned away for having no deployment (rule 46 allows it).
            pxe: { unknownComputerSupport: true },
            dhcp: {
              serverAddress: lan.serverIp,
              ...(mode === 'full' ? { pools: [{ subnet: `${lan.subnet}/${lan.prefixLength}`, rangeStart: lan.poolStart, rangeEnd: lan.poolEnd }] } : {}),
            },
          },
        });
      }, 90_000);

      afterAll(async () => {
        await pxe?.stop();
        await dnsmasq?.stop();
      });

      for (const fw of ['uefi', 'bios'] as const) {
        const label = fw === 'uefi' ? 'OVMF UEFI PXE (virtio-net)' : 'SeaBIOS + iPXE ROM (e1000)';
        it(`${label} reaches its iPXE script and the callback`, async () => {
          const m = KNOWN[`${fw}-${mode}`]!;
          const dashes = macDashes(m.mac);
          const scriptPath = `/boot/${dashes}.ipxe`;
          const isCallback = (h: HttpHit): boolean => h.url.startsWith(`/boot/callback/${dashes}?step=script`);
          onTestFailed(() => {
            failed = true;
          });
          const t0 = Date.now();
          // Boot until the script's first callback, then give the script a few seconds to run
          // on (variables file, boot/exit steps) so the log shows how the boot went on.
          let calledBackAt = 0;
          const { guest, summary } = await boot(fw, m, `${mode}-${fw}`, () => {
            if (calledBackAt === 0 && pxe.httpHits().some((h) => h.time >= t0 && isCallback(h))) calledBackAt = Date.now();
            const ended = pxe.httpHits().some((h) => h.time >= t0 && /step=(exit|boot)/.test(h.url) && h.url.startsWith(`/boot/callback/${dashes}`));
            return calledBackAt > 0 && (ended || Date.now() - calledBackAt > AFTER_CALLBACK_MS);
          }, BOOT_LIMIT_MS);
          const hits = pxe.httpHits().filter((h) => h.time >= guest.startedAt);
          const script = hits.find((h) => h.method === 'GET' && h.url.split('?')[0] === scriptPath);
          const callback = hits.find(isCallback);
          const seconds = callback ? ((callback.time - guest.startedAt) / 1000).toFixed(1) : null;
          const steps = hits.filter((h) => h.url.startsWith(`/boot/callback/${dashes}`)).map((h) => /step=([\w-]+)/.exec(h.url)?.[1] ?? '?');
          results.push(`${mode.padEnd(5)} ${fw.padEnd(4)} ${m.mac}: ${seconds ? `callback after ${seconds} s (steps: ${steps.join(', ')})` : 'FAILED'}`);
          const why = (): string => explain(pxe, guest, summary);

          // What pxepoint recorded: the script fetched by this machine, then its callback.
          expect(script, `pxepoint never served ${scriptPath}\n${why()}`).toBeDefined();
          expect(script!.statusCode, `GET ${scriptPath} answered ${script!.statusCode}\n${why()}`).toBe(200);
          expect(callback, `no callback GET /boot/callback/${dashes}?step=… within ${BOOT_LIMIT_MS / 1000} s\n${why()}`).toBeDefined();
          expect(callback!.statusCode ?? 200).toBeLessThan(400);
          expect(callback!.time).toBeGreaterThanOrEqual(script!.time);
          const leased = summary.dhcp.find((d) => d.op === 'reply' && d.mac === m.mac && d.type === 'ACK' && d.yiaddr !== '0.0.0.0');
          expect(leased, `no DHCP ACK with an address for ${m.mac}\n${why()}`).toBeDefined();
          expect(script!.remoteAddress, 'the script was fetched from the leased address').toBe(leased!.yiaddr);

          // Who answered what, on the wire.
          const fromPxepoint = summary.dhcp.filter((d) => d.op === 'reply' && d.mac === m.mac && d.src.startsWith(`${lan.serverIp}:`));
          expect(fromPxepoint.length, `pxepoint sent no DHCP reply to ${m.mac}\n${why()}`).toBeGreaterThan(0);
          if (mode === 'proxy') {
            // The address came from the other DHCP server; pxepoint gave none (yiaddr 0).
            expect(leased!.src.startsWith(`${lan.peerIp}:`), `the address should come from dnsmasq (${lan.peerIp})\n${why()}`).toBe(true);
            expect(fromPxepoint.every((d) => d.yiaddr === '0.0.0.0'), `pxepoint handed out an address in proxy mode\n${why()}`).toBe(true);
          } else {
            expect(leased!.src.startsWith(`${lan.serverIp}:`), `the address should come from pxepoint\n${why()}`).toBe(true);
          }
          // iPXE (the BIOS ROM, or snponly.efi chained by OVMF) was told its script's URL by pxepoint.
          const scriptUrl = `http://${lan.serverIp}:8080${scriptPath}`;
          expect(fromPxepoint.some((d) => d.bootFile === scriptUrl), `no DHCP reply from pxepoint names ${scriptUrl}\n${why()}`).toBe(true);
          if (fw === 'uefi') {
            // The firmware itself (no iPXE yet) was given the x64 chain loader…
            expect(fromPxepoint.some((d) => d.bootFile === 'boot/x64/snponly.efi'), `pxepoint never offered boot/x64/snponly.efi\n${why()}`).toBe(true);
            if (mode === 'proxy') {
              // …in proxy mode by the boot server: OVMF asks 4011 → 4011 after dnsmasq's ACK.
              expect(summary.dhcp.some((d) => d.op === 'reply' && d.mac === m.mac && d.src === `${lan.serverIp}:4011` && d.dst.endsWith(':4011') && d.bootFile === 'boot/x64/snponly.efi'),
                `no boot-server (4011) ACK from pxepoint\n${why()}`).toBe(true);
            }
            // OVMF's own PXE fetches the iPXE chain loader over TFTP from pxepoint.
            expect(summary.tftp.some((t) => t.kind === 'RRQ' && t.file.replace(/^\/+/, '') === 'boot/x64/snponly.efi' && t.dst.startsWith(`${lan.serverIp}:`)),
              `no TFTP read of boot/x64/snponly.efi\n${why()}`).toBe(true);
          }

          // The boot timeline pxepoint stored for this machine: its DHCP decision to boot, the
          // script and the callback, in that order.
          const timeline = await pxe.get(`/api/timeline/${encodeURIComponent(m.mac)}`, site.adminToken);
          expect(timeline.status, `GET /api/timeline/${m.mac}: ${timeline.body.slice(0, 300)}`).toBe(200);
          const events = (JSON.parse(timeline.body) as { events: TimelineEvent[] }).events;
          const shown = events.map((e) => `${e.kind} ${e.summary ?? ''}`).join('\n');
          const bootDecision = events.findIndex(isBootDecision);
          const scriptEvent = events.findIndex((e) => e.kind === 'http.boot' && e.data?.kind === 'script' && e.data?.status === 200);
          const callbackEvent = events.findIndex((e) => e.kind === 'http.boot' && e.data?.kind === 'callback' && e.data?.step === 'script' && e.data?.status === 200);
          expect(bootDecision, `no DHCP decision to boot in the timeline:\n${shown}`).toBeGreaterThanOrEqual(0);
          expect(scriptEvent, `no served script in the timeline:\n${shown}`).toBeGreaterThan(bootDecision);
          expect(callbackEvent, `no callback step=script in the timeline:\n${shown}`).toBeGreaterThan(scriptEvent);
          if (fw === 'uefi') {
            // …and, for OVMF, the whole chain loader sent over TFTP before the script.
            const sent = events.findIndex((e) => e.kind === 'tftp.transfer.end' && e.data?.file === 'boot/x64/snponly.efi' && e.data?.outcome === 'ok');
            expect(sent, `no completed TFTP transfer of boot/x64/snponly.efi in the timeline:\n${shown}`).toBeGreaterThan(bootDecision);
            expect(sent).toBeLessThan(scriptEvent);
          }
        });
      }

      it('an unknown machine (nothing deployed to All Unknown Computers) is not serviced and boots no further', async () => {
        onTestFailed(() => {
          failed = true;
        });
        const m = UNKNOWN[mode];
        const dashes = macDashes(m.mac);
        const gaveUp = (g: Guest): boolean => /No bootable device|No more network devices|Boot Failed|No filename or root path specified[\s\S]*No bootable/i.test(g.serial());
        const { guest, summary } = await boot('bios', m, `${mode}-unknown`, gaveUp, UNKNOWN_WATCH_MS);
        const why = (): string => explain(pxe, guest, summary);
        const hits = pxe.httpHits().filter((h) => h.url.includes(dashes) || h.url.includes(m.mac));
        const bootAnswers = summary.dhcp.filter((d) =>
          d.op === 'reply' && d.mac === m.mac && d.src.startsWith(`${lan.serverIp}:`) &&
          (Boolean(d.bootFile) || d.hasOption43 || (d.vendorClass ?? '').startsWith('PXEClient') || d.src.endsWith(':4011')));
        results.push(`${mode.padEnd(5)} unknown ${m.mac}: ${bootAnswers.length === 0 && hits.length === 0 ? 'not serviced (as expected)' : 'SERVICED (wrong)'}`);

        // The firmware did ask (otherwise this proves nothing)…
        expect(summary.dhcp.some((d) => d.op === 'request' && d.mac === m.mac), `the unknown machine sent no DHCP request\n${why()}`).toBe(true);
        // …and pxepoint gave it no boot answer, no boot program, no script, no callback.
        expect(bootAnswers.map((d) => `${d.type} from ${d.src} file=${d.bootFile ?? ''}`), `pxepoint answered the unknown machine for booting\n${why()}`).toEqual([]);
        if (mode === 'proxy') {
          expect(summary.dhcp.filter((d) => d.op === 'reply' && d.mac === m.mac && d.src.startsWith(`${lan.serverIp}:`)).length, `ProxyDHCP must stay silent\n${why()}`).toBe(0);
        } else {
          // Full mode is the LAN's DHCP server: the machine still gets an address, only that.
          expect(summary.dhcp.some((d) => d.op === 'reply' && d.type === 'ACK' && d.mac === m.mac && d.src.startsWith(`${lan.serverIp}:`) && d.yiaddr !== '0.0.0.0'),
            `full mode should still lease an address to the unknown machine\n${why()}`).toBe(true);
        }
        const leaseIps = new Set(summary.dhcp.filter((d) => d.mac === m.mac && d.yiaddr !== '0.0.0.0').map((d) => d.yiaddr));
        expect(summary.tftp.filter((t) => leaseIps.has(t.src.split(':')[0]!)), `the unknown machine asked for a boot program over TFTP\n${why()}`).toEqual([]);
        expect(hits.map((h) => h.url), `pxepoint served the unknown machine over HTTP\n${why()}`).toEqual([]);
        expect(guest.serial(), 'the firmware should have given up on the network boot').not.toMatch(/\.ipxe\.\.\. ok/);
        expect(gaveUp(guest), `the firmware did not give up on the network within ${UNKNOWN_WATCH_MS / 1000} s\n${why()}`).toBe(true);

        // What pxepoint recorded for it: it saw the machine and decided not to boot it.
        const timeline = await pxe.get(`/api/timeline/${encodeURIComponent(m.mac)}`, site.adminToken);
        expect(timeline.status, `GET /api/timeline/${m.mac}: ${timeline.body.slice(0, 300)}`).toBe(200);
        const events = (JSON.parse(timeline.body) as { events: TimelineEvent[] }).events;
        const shown = events.map((e) => `${e.kind} ${JSON.stringify(e.data ?? {}).slice(0, 300)}`).join('\n');
        const decisions = events.filter((e) => e.kind === 'dhcp.decision');
        expect(decisions.length, `pxepoint recorded no DHCP decision for the unknown machine (did it see it?)\n${why()}`).toBeGreaterThan(0);
        expect(decisions.filter((e) => isBootDecision(e) || e.data?.action === 'abort').map((e) => e.summary), `pxepoint decided to boot the unknown machine\n${shown}`).toEqual([]);
        expect(events.filter((e) => e.kind !== 'dhcp.decision').map((e) => `${e.kind} ${e.summary ?? ''}`), shown).toEqual([]);
        const reasons = [...new Set(decisions.map((e) => String(e.data?.reasonCode ?? e.data?.reason ?? '?')))];
        results[results.length - 1] += ` — recorded: ${reasons.join(', ')}`;
        expect(reasons, `unknown computer support is on and nothing targets All Unknown Computers: the reason should be no-deployment\n${shown}`).toContain('no-deployment');
      });
    });
  }

  modeSuite('full');
  modeSuite('proxy');
});
