/**
 * boot/grub/grub.cfg of a medium (pure; table-tested in test/media/grub-config.test.ts).
 *
 * What it does, in order:
 * 1. output on the console and the first serial port (headless machines, QEMU tests);
 * 2. prints `pxepoint media <id> (<type>, <label>)`;
 * 3. on UEFI only: brings the network up (`net_bootp`) and announces the boot to
 *    the site, one site URL after the other until one answers:
 *      source (http,HOST:PORT)/boot/media/<id>/start.cfg?mac=<mac>&arch=<cpu>-<platform>&uuid=<smbios uuid>
 *    (arch is GRUB's ${grub_cpu}-${grub_platform}, e.g. x86_64-efi: the machine's
 *    firmware; the boot image's architecture is in the site's record already)
 *    The site's answer is GRUB script that sets `pxp_media_state` (ok | blocked |
 *    expired | unknown) and optionally `pxp_media_message`. blocked and expired stop
 *    here (message, sleep, halt) and never boot. No answer (no network, site down, an
 *    HTTP error page, which GRUB parses as script and which sets nothing) boots
 *    anyway: the WinPE client checks the medium with the site again (rules 101–102).
 *    BIOS GRUB from a CD has no NIC driver, so BIOS boots skip the announce.
 *    HTTPS site URLs are skipped (GRUB's http module speaks plain HTTP only).
 * 4. a single menu entry (default; timeout 0 when unattended, rule 97) that starts
 *    the boot image from the medium with wimboot: `linux16`/`initrd16` on BIOS,
 *    `linux`/`initrd` on UEFI (wimboot's documented GRUB usage), every file given as
 *    `newc:<name>:<path on the medium>`; media.json and variables.dat are injected
 *    into X:\Windows\System32 of the booted WinPE.
 *
 * Verified with GRUB 2.06 (Debian 2.06-13) x86_64-efi under OVMF with QEMU user
 * networking: after `net_bootp` the MAC is in `net_efinet0_dhcp_mac` (GRUB names
 * the interface "efinet0:dhcp" and turns ':' into '_' in variable names);
 * `net_default_mac` and `net_efinet0_mac` are empty. `smbios --type 1 --get-uuid 8
 * --set VAR` works (smbios.mod is in x86_64-efi). Adjacent quoted words concatenate,
 * so a URL is written as '…?mac='"${pxp_mac}"'&arch=…' and nothing in it but the
 * variables is interpreted.
 *
 * Every interpolated value is GRUB-quoted (labels are user input).
 */
import type { Architecture } from '../site/model.js';
import type { MediaType } from './types.js';

/** One file handed to wimboot: `newc:<name>:<path>` (path on the medium, '/'-separated, no leading '/'). */
export interface WimbootFile {
  name: string;
  path: string;
}

/** How one firmware starts the boot image: wimboot plus its files. */
export interface GrubBootEntry {
  wimboot: string;
  files: WimbootFile[];
}

export interface GrubConfigInput {
  mediaId: string;
  type: MediaType;
  label: string;
  architecture: Architecture;
  siteUrls: readonly string[];
  unattended: boolean;
  /** null: the boot image cannot start on that firmware (the entry says so and stops). */
  bios: GrubBootEntry | null;
  uefi: GrubBootEntry | null;
  /** Menu timeout when not unattended (seconds; default 5). */
  timeoutSeconds?: number;
  /** Seconds a blocked/expired message stays on screen before halt (default 30). */
  refuseSleepSeconds?: number;
}

/** Network interfaces whose DHCP MAC is tried, in order (efinet0:dhcp … efinet3:dhcp). */
const MAC_VARIABLES = [0, 1, 2, 3].map((i) => `net_efinet${i}_dhcp_mac`);

/**
 * A GRUB word holding `s` literally: single quotes (nothing is special inside
 * them, not even '\\'), a single quote written as '\''. Control characters become
 * '?' (a newline in a label must not start a new command even if validation
 * upstream missed it).
 */
export function grubQuote(s: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = s.replace(/[\u0000-\u001f\u007f]/g, '?');
  return `'${clean.replace(/'/g, `'\\''`)}'`;
}

/** Where GRUB fetches a site's announce script, or why it cannot. */
export type AnnounceTarget = { ok: true; device: string; path: string } | { ok: false; reason: string };

const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** `http://host:port/prefix` → `(http,host:port)` and `/prefix/boot/media/<id>/start.cfg`. */
export function announceTarget(siteUrl: string, mediaId: string): AnnounceTarget {
  let u: URL;
  try {
    u = new URL(siteUrl);
  } catch {
    return { ok: false, reason: 'not a URL' };
  }
  if (u.protocol === 'https:') return { ok: false, reason: 'GRUB announces over plain HTTP only' };
  if (u.protocol !== 'http:') return { ok: false, reason: `${u.protocol} is not http:` };
  if (!HOST.test(u.hostname)) return { ok: false, reason: 'GRUB needs an IPv4 address or a DNS name' };
  const port = u.port === '' ? '80' : u.port;
  const prefix = u.pathname.replace(/\/+$/, '');
  return { ok: true, device: `(http,${u.hostname}:${port})`, path: `${prefix}/boot/media/${encodeURIComponent(mediaId)}/start.cfg` };
}

const initrdArgs = (e: GrubBootEntry): string => e.files.map((f) => grubQuote(`newc:${f.name}:/${f.path}`)).join(' ');

export function generateGrubConfig(input: GrubConfigInput): string {
  const q = grubQuote;
  const timeout = input.unattended ? 0 : Math.max(1, Math.floor(input.timeoutSeconds ?? 5));
  const refuseSleep = Math.max(1, Math.floor(input.refuseSleepSeconds ?? 30));
  const title = `pxepoint media ${input.mediaId} (${input.type}, ${input.label})`;
  const L: string[] = [];
  L.push(
    '# pxepoint boot media: generated by `pxepoint media create`; changing it does not change what the site allows.',
    'serial --unit=0 --speed=115200',
    'terminal_output console serial',
    'terminal_input console serial',
    `echo ${q(title)}`,
    '',
    `set default=pxepoint`,
    `set timeout_style=menu`,
    `set timeout=${timeout}`,
    'set pxp_media_state=""',
    'set pxp_media_message=""',
    '',
    '# Announce the boot to the site (UEFI only: BIOS GRUB from a CD has no network driver).',
    'if [ "${grub_platform}" = "efi" ]; then',
    '  insmod efinet',
    '  insmod http',
    '  insmod smbios',
    `  echo ${q('pxepoint: network (DHCP)...')}`,
    '  net_bootp',
    '  set pxp_mac=""',
    ...MAC_VARIABLES.map((v) => `  if [ -z "\${pxp_mac}" ]; then set pxp_mac="\${${v}}"; fi`),
    '  set pxp_uuid=""',
    '  smbios --type 1 --get-uuid 8 --set pxp_uuid',
  );
  for (const url of input.siteUrls) {
    const t = announceTarget(url, input.mediaId);
    if (!t.ok) {
      L.push(`  # ${url.replace(/[\r\n]/g, ' ')}: not announced (${t.reason})`);
      continue;
    }
    L.push(
      '  if [ -z "${pxp_media_state}" ]; then',
      `    source ${q(`${t.device}${t.path}?mac=`)}"\${pxp_mac}"${q('&arch=')}"\${grub_cpu}-\${grub_platform}"${q('&uuid=')}"\${pxp_uuid}"`,
      '  fi',
    );
  }
  const refuse = (state: string, why: string): string[] => [
    `if [ "\${pxp_media_state}" = ${q(state)} ]; then`,
    `  echo ${q(`pxepoint: ${why}; this machine will not boot from it.`)}`,
    '  echo "${pxp_media_message}"',
    `  sleep ${refuseSleep}`,
    '  halt',
    `  echo ${q('pxepoint: halt failed; switch the machine off.')}`,
    '  while true; do sleep 3600; done',
    'fi',
  ];
  L.push(
    'fi',
    '',
    ...refuse('blocked', 'the site has blocked this medium (rule 102)'),
    ...refuse('expired', 'the media certificate is outside its validity dates (rules 101, 102)'),
    'if [ "${pxp_media_state}" = "unknown" ]; then',
    `  echo ${q('pxepoint: the site does not know this medium; the task sequence will ask it again after Windows PE starts.')}`,
    'fi',
    '',
    `menuentry ${q(`Start ${input.label} (pxepoint ${input.type} media)`)} --id pxepoint {`,
    '  if [ "${grub_platform}" = "efi" ]; then',
  );
  const entry = (e: GrubBootEntry | null, firmware: 'UEFI' | 'BIOS', linux: string, initrd: string): string[] => e === null
    ? [
      `    echo ${q(`pxepoint: this medium's ${input.architecture} boot image cannot start on ${firmware} firmware.`)}`,
      `    sleep ${refuseSleep}`,
      '    halt',
    ]
    : [
      `    echo ${q(`pxepoint: starting Windows PE (${firmware})...`)}`,
      `    ${linux} ${q(`/${e.wimboot}`)}`,
      `    ${initrd} ${initrdArgs(e)}`,
    ];
  L.push(
    ...entry(input.uefi, 'UEFI', 'linux', 'initrd'),
    '  else',
    ...entry(input.bios, 'BIOS', 'linux16', 'initrd16'),
    '  fi',
    '}',
    '',
  );
  return L.join('\n');
}
