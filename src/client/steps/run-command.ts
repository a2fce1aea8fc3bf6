/**
 * Run Command Line: `/bin/sh -c <commandLine>`, in the package's folder when the
 * step names a package (downloaded first, rule 120) or else in the target
 * directory. The environment is the task sequence environment plus a minimal
 * PATH/HOME/LANG/TMPDIR from the host; nothing else of the client's own
 * environment leaks in. Bounded in time: on timeout the whole process group is
 * killed. A non-zero exit code fails the step (the runner honours continueOnError).
 */
import { hostEnv, runShellCommand } from '../shell-command.js';
import type { StepRunner } from './types.js';
import { ensureStepPackage, unverifiedNote } from './types.js';

export const runCommand: StepRunner = async (step, ctx) => {
  const commandLine = step.commandLine ?? '';
  if (commandLine.trim() === '') return { ok: false, failure: 'no-command', message: `step "${step.name}" has no command line` };
  let cwd = ctx.targetDir;
  let unverified: string[] = [];
  if (step.packageId) {
    const r = await ensureStepPackage(step, ctx);
    if ('ok' in r) return r;
    cwd = r.dir;
    if (r.unverified) unverified = [r.pkg.id];
  }
  const env = { ...hostEnv(), ...ctx.env.toProcessEnv() };

  ctx.log.info(`running: /bin/sh -c ${JSON.stringify(commandLine)} (in ${cwd}, timeout ${Math.round(ctx.commandTimeoutMs / 1000)} s)`);
  const result = await runShellCommand(commandLine, { cwd, env, timeoutMs: ctx.commandTimeoutMs });
  if (result.out.trim()) ctx.log.info(`output of "${step.name}":\n${result.out.trimEnd()}`);
  if (result.err.trim()) ctx.log.warn(`error output of "${step.name}":\n${result.err.trimEnd()}`);
  const note = unverified.length ? unverifiedNote(unverified[0]!) : '';
  const extra = unverified.length ? { unverifiedPackages: unverified } : {};
  if (result.spawnError) return { ok: false, failure: 'spawn', message: `could not start /bin/sh: ${result.spawnError}`, ...extra };
  if (result.timedOut) return { ok: false, failure: 'timeout', exitCode: -1, message: `command did not finish within ${Math.round(ctx.commandTimeoutMs / 1000)} s and was killed${note}`, ...extra };
  if (result.code !== 0) {
    const how = result.code === null ? `was killed by ${result.signal}` : `exited with code ${result.code}`;
    return { ok: false, failure: 'exit-code', exitCode: result.code ?? -1, message: `command ${how}${note}`, ...extra };
  }
  return { ok: true, exitCode: 0, message: `command exited with code 0${note}`, ...extra };
};
