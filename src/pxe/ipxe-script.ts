/**
 * The per-machine iPXE script (`/boot/<mac-with-dashes>.ipxe`): what iPXE runs
 * after the chain loader. It
 *   1. says who the machine is and what was decided (comments and one echo line);
 *   2. reports `GET /boot/callback/<mac>?step=script` (the e2e tests and the boot
 *      timeline observe it);
 *   3. for an available deployment, waits for F12 (BIOS) or Enter (UEFI) — rule
 *      68 — and falls through to the next boot device (`exit`) when no key comes;
 *   4. fetches the variables file (`imgfetch`, kept as `variables.json`: wimboot
 *      injects it into WinPE), and boots the boot image over HTTP — a WinPE .wim
 *      through wimboot (src/winpe/wimboot.ts) — or, when no loader can boot it
 *      (no wimboot under the files root), prints why and exits;
 *   5. for 'abort', prints the reason and exits at once (abortpxe.com's job).
 *
 * Key codes are iPXE's (src/include/ipxe/keys.h): F12 is KEY_ANSI(24, '~') =
 * 0x197e; Enter arrives as CR, 0x0d, from the BIOS, EFI and serial consoles.
 * Every interpolated value is checked or quoted so a device name cannot inject
 * script commands.
 */
import { bootFilePath, macWithDashes } from './decide.js';
import type { BootSession } from './boot-sessions.js';

export const PROMPT_KEYS = {
  /** iPXE KEY_F12: the BIOS network-boot key (rule 68, pxeboot.com). */
  F12: 0x197e,
  /** Carriage return: the UEFI network-boot key (rule 68). */
  Enter: 0x0d,
} as const;

export type CallbackStep = 'script' | 'prompt-accepted' | 'prompt-timeout' | 'variables' | 'boot' | 'exit';
export const CALLBACK_STEPS: readonly CallbackStep[] = ['script', 'prompt-accepted', 'prompt-timeout', 'variables', 'boot', 'exit'];

/**
 * How to boot a boot image from iPXE: the script lines, or null when iPXE cannot
 * boot it directly. The seam WinPE (wimboot: kernel + initrd lines) plugs into.
 */
export type BootImageLoader = (image: {
  path: string;
  url: string;
  bootImageId: string;
  /** The client's firmware (WinPE: bootmgr.exe + BIOS BCD, or bootmgfw.efi + UEFI BCD). */
  firmware?: 'bios' | 'uefi';
  /** The script's base URL, for a loader that fetches more files than the image. */
  baseUrl?: string;
  /** The boot image's architecture (its boot programs live under boot/<arch>/). */
  architecture?: string;
}) => string[] | null;

/** Images iPXE executes itself: EFI/PXE executables, iPXE scripts, Linux-style kernels. */
export const chainLoader: BootImageLoader = ({ path, url }) =>
  /\.(ipxe|efi|kpxe|kkpxe|pxe|lkrn|0)$/i.test(path) ? [`chain --autofree ${url}`] : null;

export interface IpxeScriptOptions {
  /** Base URL the machine fetches from, e.g. "http://10.77.0.2:8080" (no trailing slash). */
  baseUrl: string;
  /** Seconds the F12/Enter prompt waits (default 10). */
  promptTimeoutSeconds?: number;
  /** Tried in order; the first that returns lines boots the image. Default: [chainLoader]. */
  loaders?: readonly BootImageLoader[];
}

/** Text safe inside an iPXE `echo`/`prompt` argument: printable ASCII, no `$`, `{`, `}`, quotes or separators. */
export function scriptText(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?').replace(/[${}"'\\|&;#]/g, '_').slice(0, 200);
}

/** A comment line: printable ASCII only, so nothing ends the comment early. */
const comment = (text: string): string => `# ${text.replace(/[^\x20-\x7e]/g, '?')}`;

/** A URL path segment iPXE passes through unchanged. */
const urlPath = (p: string): string => p.split('/').map((s) => encodeURIComponent(s)).join('/');

export function callbackUrl(baseUrl: string, mac: string, step: CallbackStep): string {
  return `${baseUrl}/boot/callback/${macWithDashes(mac)}?step=${step}`;
}

export function renderIpxeScript(session: BootSession, opts: IpxeScriptOptions): string {
  const d = session.decision;
  const base = opts.baseUrl.replace(/\/+$/, '');
  const uefi = session.request.architecture.row.firmware === 'uefi';
  const lines: string[] = [
    '#!ipxe',
    comment(`pxepoint boot script for ${session.mac}`),
    comment(d.deviceId !== null ? `device ${d.deviceId} (matched by ${d.matchedBy ?? '?'})` : `unknown computer, object ${d.unknownObjectId ?? '?'}`),
    comment(`architecture ${session.request.architecture.row.code} (${session.request.architecture.row.name}), ${uefi ? 'UEFI' : 'BIOS'}`),
    comment(`decision ${d.action} (${d.reasonCode}): ${d.reason}`),
    comment(`deployment ${d.deploymentId ?? '-'}, boot image ${d.bootImageId ?? '-'} (${d.bootImageArchitecture ?? '-'}) ${d.bootImagePath ?? ''}`.trimEnd()),
    comment(`session ${session.id}`),
    '',
  ];
  const callback = (step: CallbackStep): string =>
    `imgfetch --name pxpcb ${callbackUrl(base, session.mac, step)} && imgfree pxpcb || echo pxepoint: callback ${step} not acknowledged`;
  lines.push(callback('script'));

  if (d.action !== 'boot' && d.action !== 'boot-with-prompt') {
    lines.push(`echo pxepoint: ${scriptText(`no boot action for ${session.mac}: ${d.reasonCode}`)}`, `echo pxepoint: booting to the next device`, callback('exit'), 'exit 0', '');
    return lines.join('\n');
  }

  if (d.action === 'boot-with-prompt') {
    const key = uefi ? 'Enter' : 'F12';
    const ms = Math.round((opts.promptTimeoutSeconds ?? 10) * 1000);
    lines.push(
      comment(`rule 68: an available deployment boots only when someone presses ${key}`),
      `prompt --key 0x${PROMPT_KEYS[key].toString(16)} --timeout ${ms} Press ${key} for network service boot || goto pxp_no_key`,
      callback('prompt-accepted'),
    );
  }

  const image = d.bootImagePath;
  const loaders = opts.loaders ?? [chainLoader];
  const boot = image === null || image === undefined || d.bootImageId === null
    ? null
    : loaders.reduce<string[] | null>((found, load) => found ?? load({ path: image, url: `${base}${urlPath(bootFilePath(image))}`, bootImageId: d.bootImageId!, firmware: uefi ? 'uefi' : 'bios', baseUrl: base, ...(d.bootImageArchitecture ? { architecture: d.bootImageArchitecture } : {}) }), null);

  if (session.variablesName !== null) {
    lines.push(`imgfetch --name variables.json ${base}/boot/vars/${session.variablesName} || goto pxp_failed`, callback('variables'));
  }
  if (boot === null) {
    lines.push(
      `echo pxepoint: ${scriptText(`boot image ${d.bootImageId ?? '?'} (${image ?? 'no file'}) cannot be booted by iPXE yet (WinPE needs wimboot)`)}`,
      callback('exit'),
      'exit 0',
    );
  } else {
    lines.push(callback('boot'), ...boot, 'goto pxp_failed');
  }
  lines.push('', ':pxp_failed', 'echo pxepoint: boot failed', callback('exit'), 'exit 1');
  if (d.action === 'boot-with-prompt') {
    lines.push('', ':pxp_no_key', 'echo pxepoint: no key pressed: booting to the next device', callback('prompt-timeout'), 'exit 0');
  }
  lines.push('');
  return lines.join('\n');
}
