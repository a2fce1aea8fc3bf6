/**
 * What a step runner gets and gives back. One runner per step type
 * (site/model.ts StepType), each in its own file under steps/.
 */
import type { PolicyDeployment, PolicyPackage, PolicyStep } from '../../policy/client-api.js';
import type { ClientState } from '../../site/model.js';
import type { DownloadSettings, PackageResult } from '../content.js';
import type { TaskSequenceEnvironment } from '../environment.js';
import type { RunLog } from '../log.js';

/**
 * Where a step's package content comes from: the network (content.ts
 * ContentCache) or, on stand-alone media, the medium itself (client/standalone.ts,
 * rule 118). Either way a package is verified before a step uses it.
 */
export interface PackageSource {
  ensure(pkg: PolicyPackage, settings: DownloadSettings): Promise<PackageResult>;
}

export interface StepContext {
  targetDir: string;
  deployment: PolicyDeployment;
  env: TaskSequenceEnvironment;
  content: PackageSource;
  log: RunLog;
  /** Download settings for this step; `accessDirectly` skips verification (rule 117). */
  downloadSettings(accessDirectly: boolean): DownloadSettings;
  /** Bound on one Run Command Line. */
  commandTimeoutMs: number;
  now(): Date;
}

export interface StepOutcome {
  ok: boolean;
  /** One line for the log, the console and the status message. */
  message: string;
  /** A state other than the usual one for this outcome (restart → Reboot Pending). */
  status?: 'reboot';
  /** Package content used without hash verification (rule 117). */
  unverifiedPackages?: string[];
  /** Why it failed, when there is a name for it (hash-mismatch, exit-code, timeout…). */
  failure?: string;
  /** The step's own return code (_SMSTSLastActionRetCode). */
  exitCode?: number;
}

export type StepRunner = (step: PolicyStep, ctx: StepContext) => Promise<StepOutcome>;

/** The package a step names, from the deployment's policy. */
export function packageOf(step: PolicyStep, ctx: StepContext): PolicyPackage | StepOutcome {
  if (!step.packageId) return { ok: false, failure: 'no-package', message: `step "${step.name}" names no package` };
  const pkg = ctx.deployment.packages.find((p) => p.id === step.packageId);
  if (!pkg) return { ok: false, failure: 'no-package', message: `package ${step.packageId} is not in the deployment's policy` };
  return pkg;
}

/**
 * Makes the step's package present (downloaded when needed, rule 120) and says
 * where. Deployment-level "access content directly" skips verification for every
 * package; the Apply OS Image step's own option only for its image (rule 117).
 */
export async function ensureStepPackage(step: PolicyStep, ctx: StepContext): Promise<{ dir: string; unverified: boolean; pkg: PolicyPackage } | StepOutcome> {
  const pkg = packageOf(step, ctx);
  if ('ok' in pkg) return pkg;
  const direct = ctx.deployment.deploymentOption === 'access-directly' || (step.type === 'apply-image' && step.accessContentDirectly);
  const r = await ctx.content.ensure(pkg, ctx.downloadSettings(direct));
  if (!r.ok) return { ok: false, failure: r.reason, message: r.message };
  if (r.lastLocation) ctx.env.setEngine('_SMSTSLastContentDownloadLocation', r.lastLocation);
  return { dir: r.dir, unverified: r.unverified, pkg };
}

export const unverifiedNote = (packageId: string): string => ` — UNVERIFIED: package ${packageId} was not hash-checked (access content directly, rule 117)`;
