/**
 * Set Task Sequence Variable: a run-time variable (highest precedence, rule 113).
 * An empty value deletes the variable; `_` names are read-only; limits per rule 113.
 */
import { isPxeError } from '../../errors.js';
import type { StepRunner } from './types.js';

export const setVariable: StepRunner = async (step, ctx) => {
  const name = step.variableName ?? '';
  const value = step.variableValue ?? '';
  try {
    ctx.env.set(name, value);
  } catch (e) {
    if (isPxeError(e)) return { ok: false, failure: 'variable', message: e.message };
    throw e;
  }
  if (value === '') return { ok: true, message: `deleted variable ${name} (empty value, rule 113)` };
  const shown = ctx.env.isSecret(name) ? '(secret)' : value.length > 80 ? `${value.slice(0, 77)}...` : value;
  return { ok: true, message: `set ${name}=${shown}` };
};
