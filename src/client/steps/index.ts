/** The step runners by step type (site/model.ts STEP_TYPES). */
import type { StepType } from '../../site/model.js';
import { applyImage } from './apply-image.js';
import { downloadPackage } from './download-package.js';
import { restart } from './restart.js';
import { runCommand } from './run-command.js';
import { setVariable } from './set-variable.js';
import type { StepRunner } from './types.js';

export const STEP_RUNNERS: Record<StepType, StepRunner> = {
  'download-package': downloadPackage,
  'run-command': runCommand,
  'apply-image': applyImage,
  'set-variable': setVariable,
  restart,
};
