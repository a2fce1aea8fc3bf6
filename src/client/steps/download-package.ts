/**
 * Download Package Content: fetch every file of the package from its locations,
 * verify size and SHA-256 (rule 116, unless access-directly, rule 117), keep it
 * in `<target>/_SMSTSPackages/<packageId>/`.
 */
import type { StepRunner } from './types.js';
import { ensureStepPackage, unverifiedNote } from './types.js';

export const downloadPackage: StepRunner = async (step, ctx) => {
  const r = await ensureStepPackage(step, ctx);
  if ('ok' in r) return r;
  return {
    ok: true,
    message: `package ${r.pkg.id} (${r.pkg.name}) is in ${r.dir}${r.unverified ? unverifiedNote(r.pkg.id) : ''}`,
    ...(r.unverified ? { unverifiedPackages: [r.pkg.id] } : {}),
  };
};
