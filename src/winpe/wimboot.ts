/**
 * The fast path for iPXE clients: wimboot (iPXE project, GPL, brought by the
 * administrator) boots the boot.wim over HTTP, and injects pxepoint's per-boot
 * files into the running WinPE without touching the WIM on disk.
 *
 * wimboot's rules (ipxe/wimboot README and ipxe.org/wimboot): it is the `kernel`;
 * every other loaded image is a file of its virtual disk, named by `-n NAME` (and
 * the image's command line, which older iPXE uses as the name); the boot manager
 * (bootmgr.exe on BIOS, bootmgfw.efi on UEFI), BCD, boot.sdi and boot.wim are
 * used as such; any other file is injected into X:\Windows\System32 of the booted
 * image. The script has already fetched the per-boot variables file as
 * `variables.json` (ipxe-script.ts), so it lands as X:\Windows\System32\variables.json;
 * winpeshl.ini (also injected) makes WinPE run pxepoint-start.cmd, which starts
 * the deployment agent with that file.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { BootImageLoader } from '../pxe/ipxe-script.js';
import { bcdFile } from './import.js';
import { STARTUP_FILES } from './startup.js';

/** Where wimboot is looked for under the boot files root: per architecture first, then shared. */
export const WIMBOOT_PATHS = (arch: string): string[] => [`boot/${arch}/wimboot`, 'boot/wimboot'];


export const WIMBOOT_MISSING_HINT =
  'wimboot is missing: download the latest release from the iPXE project (https://github.com/ipxe/wimboot/releases/latest, file "wimboot") and place it at <tftpRoot>/boot/wimboot (or boot/<arch>/wimboot for one architecture); pxepoint does not ship it (GPL)';

export interface WimbootLoaderOptions {
  /** The boot files root (the TFTP root served under /boot/files/). */
  root: string;
  /** Called when an image would boot with wimboot but wimboot is absent (log it). */
  onMissing?: (hint: string, bootImageId: string) => void;
}

const seg = (p: string): string => p.split('/').map((s) => encodeURIComponent(s)).join('/');

/** The wimboot loader: null for anything but a .wim, or when wimboot is absent (the script then says WinPE needs wimboot). */
export function wimbootLoader(opts: WimbootLoaderOptions): BootImageLoader {
  const exists = (rel: string): boolean => existsSync(path.join(opts.root, rel));
  return ({ path: imagePath, url, bootImageId, firmware, baseUrl, architecture }) => {
    if (!/\.wim$/i.test(imagePath)) return null;
    const base = baseUrl ?? url.replace(/\/boot\/files\/.*$/, '');
    const file = (rel: string): string => `${base}/boot/files/${seg(rel)}`;
    const arch = architecture ?? 'x64';
    const wimboot = WIMBOOT_PATHS(arch).find(exists);
    if (wimboot === undefined) {
      opts.onMissing?.(WIMBOOT_MISSING_HINT, bootImageId);
      return null;
    }
    const fw = firmware ?? 'uefi';
    const bootmgr = fw === 'uefi' ? { rel: `boot/${arch}/bootmgfw.efi`, name: 'bootmgfw.efi' } : { rel: `boot/${arch}/bootmgr.exe`, name: 'bootmgr.exe' };
    const lines = [
      `kernel ${file(wimboot)} gui`,
      // wimboot extracts the boot manager from the WIM itself when it is not given.
      ...(exists(bootmgr.rel) ? [`initrd -n ${bootmgr.name} ${file(bootmgr.rel)} ${bootmgr.name}`] : []),
      `initrd -n BCD ${file(bcdFile(bootImageId, fw))} BCD`,
      `initrd -n boot.sdi ${file('boot/boot.sdi')} boot.sdi`,
      `initrd -n boot.wim ${url} boot.wim`,
      `initrd -n winpeshl.ini ${file(STARTUP_FILES.winpeshl)} winpeshl.ini`,
      `initrd -n pxepoint-start.cmd ${file(STARTUP_FILES.start)} pxepoint-start.cmd`,
      ...(exists(STARTUP_FILES.agent) ? [`initrd -n pxepoint-agent.cmd ${file(STARTUP_FILES.agent)} pxepoint-agent.cmd`] : []),
      'boot',
    ];
    return lines;
  };
}

/** The files the wimboot script of an image fetches, as paths under the root (tests compare them with the HTTP log). */
export function wimbootFiles(root: string, bootImageId: string, imagePath: string, arch: string, firmware: 'bios' | 'uefi'): string[] {
  const lines = wimbootLoader({ root })({ path: imagePath, url: `http://x/boot/files/${seg(imagePath)}`, bootImageId, firmware, baseUrl: 'http://x', architecture: arch });
  if (lines === null) return [];
  return lines.flatMap((l) => {
    const m = /^(?:kernel|initrd(?: -n \S+)?) http:\/\/x\/boot\/files\/(\S+)/.exec(l);
    return m ? [decodeURIComponent(m[1]!)] : [];
  });
}
