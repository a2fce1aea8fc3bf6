/**
 * The native Windows chain over TFTP (the ConfigMgr way), as a pure answer: which
 * boot program a firmware PXE client gets for a decision, and the BCD path that
 * goes with it in DHCP option 252 (rule 86). The boot manager then reads the BCD
 * and fetches boot.sdi and boot.wim over pxepoint's windowed TFTP, with the block
 * and window size the BCD names (rule 88).
 *
 *   BIOS   boot             boot/<arch>/pxeboot.n12   no key press (rules 67, 70)
 *          boot-with-prompt boot/<arch>/pxeboot.com   "Press F12 for network service boot" (rule 68)
 *          abort            boot/<arch>/abortpxe.com  boot the next device now (rule 70)
 *   UEFI   boot, prompt     boot/<arch>/bootmgfw.efi  (rule 83); bootmgfw.efi has no prompt of its
 *                                                       own: ConfigMgr prompts with wdsmgfw.efi, which
 *                                                       pxepoint does not hand out (docs/winpe.md)
 *          abort            no boot program: the firmware moves on by itself
 *
 * The names are the import's layout (import.ts). The DHCP responder wires this in
 * where it builds the boot answer (src/pxe, src/dhcp).
 */
import type { Architecture } from '../site/model.js';
import { bcdFile } from './import.js';

export type NativeAction = 'boot' | 'boot-with-prompt' | 'abort';

export interface NativeChainAnswer {
  /** TFTP path of the boot program (DHCP `file` / option 67). */
  bootFile: string;
  /** Option 252: the BCD the boot manager reads, in the backslash form bootmgr asks for. Null for abort. */
  bcdPath: string | null;
}

export function nativeChainFor(input: { action: NativeAction; firmware: 'bios' | 'uefi'; architecture: Architecture; bootImageId: string | null }): NativeChainAnswer | null {
  const { action, firmware, architecture, bootImageId } = input;
  const dir = `boot/${architecture}`;
  if (action === 'abort') return firmware === 'bios' ? { bootFile: `${dir}/abortpxe.com`, bcdPath: null } : null;
  if (bootImageId === null) return null;
  const bcdPath = `\\${bcdFile(bootImageId, firmware).replace(/\//g, '\\')}`;
  if (firmware === 'uefi') return { bootFile: `${dir}/bootmgfw.efi`, bcdPath };
  return { bootFile: `${dir}/${action === 'boot' ? 'pxeboot.n12' : 'pxeboot.com'}`, bcdPath };
}
