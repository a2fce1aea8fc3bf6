/**
 * Restart Computer. The reference client does not reboot the host it runs on:
 * it writes `<target>/_SMSTSRestart` (JSON: deployment, step, time) for whatever
 * drives it (a boot image's init script, a test), reports Reboot Pending (12,
 * message 11142) and continues with the next step as ConfigMgr does after the
 * machine comes back.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { StepRunner } from './types.js';

export const RESTART_MARKER = '_SMSTSRestart';

export const restart: StepRunner = async (step, ctx) => {
  const path = join(ctx.targetDir, RESTART_MARKER);
  const marker = { deploymentId: ctx.deployment.deploymentId, taskSequenceId: ctx.deployment.taskSequenceId, stepIndex: step.index, stepName: step.name, time: ctx.now().toISOString() };
  await writeFile(path, JSON.stringify(marker, null, 2) + '\n');
  return { ok: true, status: 'reboot', message: `restart requested: wrote ${path}; continuing (the reference client does not reboot its host)` };
};
