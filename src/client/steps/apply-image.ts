/**
 * Apply Operating System Image, for a "directory image": the package's files are
 * copied into `<target>/os/`. Like applying an image to a freshly formatted
 * partition, whatever was in `os/` before is removed first. The step's own
 * "access content directly" skips verification for this image only (rule 117).
 */
import { cp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { StepRunner } from './types.js';
import { ensureStepPackage, unverifiedNote } from './types.js';

export const OS_DIR = 'os';

export const applyImage: StepRunner = async (step, ctx) => {
  const r = await ensureStepPackage(step, ctx);
  if ('ok' in r) return r;
  const dest = join(ctx.targetDir, OS_DIR);
  await rm(dest, { recursive: true, force: true });
  await cp(r.dir, dest, { recursive: true, errorOnExist: false, force: true });
  ctx.env.setEngine('_PXPOSDir', dest);
  return {
    ok: true,
    message: `image ${r.pkg.id} (${r.pkg.name}) applied to ${dest}${r.unverified ? unverifiedNote(r.pkg.id) : ''}`,
    ...(r.unverified ? { unverifiedPackages: [r.pkg.id] } : {}),
  };
};
