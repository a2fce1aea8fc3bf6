/**
 * Which boot image a PXE client gets (rules 75, 78, 79):
 *  1. the boot images of the task sequences of every deployment PXE may offer the
 *     machine ("Use a boot image", rule 81), PXE-enabled ones only (rule 75:
 *     "Deploy this boot image from the PXE-enabled distribution point");
 *  2. an exact architecture match first, then a compatible one, in the order
 *     `bootImageArchitectures` gives (rule 79);
 *  3. among several at the same step, the highest deployment ID by string
 *     comparison — so a higher site code beats a newer deployment (rule 78).
 */
import type { Architecture, BootImage } from '../site/model.js';
import type { PolicySnapshot } from '../policy/types.js';

export interface BootImageCandidate {
  deploymentId: string;
  taskSequenceId: string;
}

export type BootImageChoice =
  | { ok: true; bootImage: BootImage; deploymentId: string; exact: boolean }
  | { ok: false; message: string };

export function chooseBootImage(
  candidates: readonly BootImageCandidate[], acceptable: readonly Architecture[], snapshot: PolicySnapshot,
): BootImageChoice {
  const usable: { deploymentId: string; image: BootImage }[] = [];
  const notPxeEnabled = new Set<string>();
  let withoutImage = 0;
  for (const c of candidates) {
    const imageId = snapshot.taskSequences.get(c.taskSequenceId)?.bootImageId ?? null;
    const image = imageId === null ? undefined : snapshot.bootImages.get(imageId);
    if (image === undefined) withoutImage++;
    else if (!image.deployFromPxe) notPxeEnabled.add(image.id);
    else usable.push({ deploymentId: c.deploymentId, image });
  }
  for (const [step, arch] of acceptable.entries()) {
    let best: { deploymentId: string; image: BootImage } | undefined;
    for (const u of usable) {
      if (u.image.architecture === arch && (best === undefined || u.deploymentId > best.deploymentId)) best = u;
    }
    if (best !== undefined) return { ok: true, bootImage: best.image, deploymentId: best.deploymentId, exact: step === 0 };
  }

  const found = [...new Set(usable.map((u) => `${u.image.id} (${u.image.architecture})`))];
  const parts = [`Matching Processor Architecture Boot Image not found: the client runs ${acceptable.length > 0 ? acceptable.join(' or ') : 'no boot image architecture pxepoint serves'}`];
  if (found.length > 0) parts.push(`the deployed task sequences use ${found.join(', ')}`);
  if (notPxeEnabled.size > 0) parts.push(`boot image(s) ${[...notPxeEnabled].sort().join(', ')} are not enabled for PXE (tick "Deploy this boot image from the PXE-enabled distribution point", rule 75)`);
  if (withoutImage > 0) parts.push(`${withoutImage} deployment(s) have a task sequence without a boot image (rule 81)`);
  if (acceptable.length === 1 && acceptable[0] === 'x86' && usable.some((u) => u.image.architecture === 'x64')) {
    parts.push('a BIOS client needs an x86 boot image unless its CPU is known to be x64-capable (rules 76–77)');
  }
  return { ok: false, message: parts.join('; ') };
}
