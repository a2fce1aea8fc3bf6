/**
 * "Make available to the following" (rules 18–23) as a visibility matrix:
 * which boot sources see a deployment, and whether the WinPE wizard lists it.
 *
 * | availableTo        | AdvertFlags (rule 22) | full OS | PXE/media listed | PXE/media via SMSTSPreferredAdvertID |
 * |--------------------|-----------------------|---------|------------------|--------------------------------------|
 * | clients-only       | —                     | yes     | no               | no                                   |
 * | clients-media-pxe  | bit 18                | yes     | yes              | yes                                  |
 * | media-pxe          | bits 18+28            | no      | yes              | yes                                  |
 * | media-pxe-hidden   | bits 18+28+29         | no      | no (hidden)      | yes                                  |
 *
 * The AdvertFlags bits are shown for reference: pxepoint stores the enum, so
 * "hidden without bit 18" (invisible to PXE, rule 22) cannot be expressed.
 */
import type { AvailableTo } from '../site/model.js';
import type { BootSource, ExclusionReason } from './types.js';

/** Rule 21/22 bit values, for export to ConfigMgr-shaped tooling. */
export const ADVERT_FLAGS = {
  ENABLE_TS_FROM_CD_AND_PXE: 0x0004_0000,
  TARGETTOWINPE: 0x1000_0000,
  HIDDENINWINPE: 0x2000_0000,
} as const;

export function advertFlagsOf(availableTo: AvailableTo): number {
  switch (availableTo) {
    case 'clients-only': return 0;
    case 'clients-media-pxe': return ADVERT_FLAGS.ENABLE_TS_FROM_CD_AND_PXE;
    case 'media-pxe': return ADVERT_FLAGS.ENABLE_TS_FROM_CD_AND_PXE | ADVERT_FLAGS.TARGETTOWINPE;
    case 'media-pxe-hidden':
      return ADVERT_FLAGS.ENABLE_TS_FROM_CD_AND_PXE | ADVERT_FLAGS.TARGETTOWINPE | ADVERT_FLAGS.HIDDENINWINPE;
  }
}

/** Rule 19: the deployment can run from WinPE (PXE or media) at all. */
export function isMediaPxeEnabled(availableTo: AvailableTo): boolean {
  return availableTo !== 'clients-only';
}

/**
 * Why a boot source may not *list* a deployment, or null if it may.
 * Hidden ones are still runnable from WinPE through SMSTSPreferredAdvertID.
 */
export function visibilityExclusion(availableTo: AvailableTo, bootSource: BootSource): ExclusionReason | null {
  if (bootSource === 'full-os') {
    // Rule 23: media/PXE-only deployments (hidden or not) never reach Software Center.
    return availableTo === 'media-pxe' || availableTo === 'media-pxe-hidden' ? 'media-pxe-only' : null;
  }
  if (!isMediaPxeEnabled(availableTo)) return 'clients-only'; // rule 19
  if (availableTo === 'media-pxe-hidden') return 'hidden'; // rule 23
  return null;
}
