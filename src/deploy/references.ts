/**
 * Rule 1: "If Deploy isn't available, the task sequence has a reference that's
 * not valid." This finds every such reference so the message can name them all.
 *
 * Disabled steps are checked too: they can be re-enabled after deployment
 * without the wizard running again, and ConfigMgr's reference list includes them.
 */
import type { BootImage, Package, TaskSequence, TaskSequenceStep } from '../site/model.js';
import { STEP_TYPES } from '../site/model.js';

export interface ReferenceLookup {
  packages: ReadonlyMap<string, Package>;
  bootImages: ReadonlyMap<string, BootImage>;
}

export type ReferenceProblemKind =
  | 'missing-boot-image'
  | 'missing-package'
  | 'missing-dependency'
  | 'package-required'
  | 'command-line-required'
  | 'variable-name-required'
  | 'unknown-step-type';

export interface ReferenceProblem {
  kind: ReferenceProblemKind;
  /** 0-based index of the step, or null for the task sequence itself (boot image). */
  stepIndex: number | null;
  stepName: string | null;
  /** The offending id (package, boot image), when there is one. */
  referenceId: string | null;
  /** Human-readable: what is wrong and what to fix. */
  message: string;
}

/** Step types that cannot run without content. run-command may have a package, need not. */
const NEEDS_PACKAGE: ReadonlySet<string> = new Set(['download-package', 'apply-image']);

const isBlank = (s: string | null | undefined): boolean => s === undefined || s === null || s.trim() === '';

function stepLabel(index: number, step: TaskSequenceStep): string {
  return `step ${index + 1} "${step.name}"`;
}

function stepProblems(index: number, step: TaskSequenceStep, lookup: ReferenceLookup): ReferenceProblem[] {
  const problems: ReferenceProblem[] = [];
  const at = { stepIndex: index, stepName: step.name };
  const label = stepLabel(index, step);

  if (!(STEP_TYPES as readonly string[]).includes(step.type)) {
    problems.push({
      kind: 'unknown-step-type', ...at, referenceId: null,
      message: `${label} has type "${String(step.type)}"; use one of ${STEP_TYPES.join(', ')}`,
    });
  }

  const packageId = isBlank(step.packageId) ? null : step.packageId!;
  if (packageId === null && NEEDS_PACKAGE.has(step.type)) {
    problems.push({
      kind: 'package-required', ...at, referenceId: null,
      message: `${label} is a ${step.type} step without a package; choose the package it ${step.type === 'apply-image' ? 'applies the image from' : 'downloads'}`,
    });
  }
  if (packageId !== null) {
    const pkg = lookup.packages.get(packageId);
    if (pkg === undefined) {
      problems.push({
        kind: 'missing-package', ...at, referenceId: packageId,
        message: `${label} references package "${packageId}", which does not exist; pick an existing package or remove the step`,
      });
    } else {
      for (const dep of pkg.dependencyIds) {
        if (!lookup.packages.has(dep)) {
          problems.push({
            kind: 'missing-dependency', ...at, referenceId: dep,
            message: `${label} uses package "${pkg.id}", whose dependency "${dep}" does not exist; fix the package's dependencies`,
          });
        }
      }
    }
  }

  if (step.type === 'run-command' && isBlank(step.commandLine)) {
    problems.push({
      kind: 'command-line-required', ...at, referenceId: null,
      message: `${label} is a run-command step without a command line; enter the command to run`,
    });
  }
  if (step.type === 'set-variable' && isBlank(step.variableName)) {
    problems.push({
      kind: 'variable-name-required', ...at, referenceId: null,
      message: `${label} is a set-variable step without a variable name; enter the name to set`,
    });
  }
  return problems;
}

/** Every invalid reference of `ts`; empty means the task sequence can be deployed (rule 1). */
export function findInvalidReferences(ts: TaskSequence, lookup: ReferenceLookup): ReferenceProblem[] {
  const problems: ReferenceProblem[] = [];
  if (ts.bootImageId !== null && !lookup.bootImages.has(ts.bootImageId)) {
    problems.push({
      kind: 'missing-boot-image', stepIndex: null, stepName: null, referenceId: ts.bootImageId,
      message: `task sequence "${ts.id}" uses boot image "${ts.bootImageId}", which does not exist; pick an existing boot image or clear it`,
    });
  }
  ts.steps.forEach((step, index) => problems.push(...stepProblems(index, step, lookup)));
  return problems;
}

/** Distinct package ids the steps reference, in step order (disabled steps included). */
export function referencedPackageIds(ts: TaskSequence): string[] {
  const ids = new Set<string>();
  for (const step of ts.steps) if (!isBlank(step.packageId)) ids.add(step.packageId!);
  return [...ids];
}

/** The referenced packages that exist (call after findInvalidReferences found nothing). */
export function referencedPackages(ts: TaskSequence, packages: ReadonlyMap<string, Package>): Package[] {
  return referencedPackageIds(ts).flatMap((id) => {
    const pkg = packages.get(id);
    return pkg === undefined ? [] : [pkg];
  });
}
