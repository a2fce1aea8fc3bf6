/**
 * The task sequence environment a run starts with (rule 113):
 * - precedence collection < device < run time (the client's media/PXE/prestart
 *   variables), each later layer overriding the earlier one;
 * - names case-insensitive; the spelling of the layer that set the value is kept;
 * - an empty value deletes the variable;
 * - names are 1–256 characters of letters, digits, `_` and `-`; names set by an
 *   administrator (collection, device) must not start with `_` (read-only,
 *   system-set; media variables such as `_SMSTSMediaType` legitimately do);
 * - values hold at most 4,000 characters; the environment at most 8 KB.
 *
 * Broken variables are dropped and reported, never truncated: a cut value is a
 * wrong value nobody sees. An oversize environment is reported as a whole and
 * left intact, for the caller to refuse (docs/policy.md).
 */
import type { Variable } from '../site/model.js';
import type { VariableProblem, VariableSource } from './types.js';

export const VARIABLE_LIMITS = {
  nameMaxChars: 256,
  valueMaxChars: 4000,
  environmentMaxBytes: 8 * 1024,
} as const;

const NAME = /^[A-Za-z0-9_-]{1,256}$/;

export interface VariableLayer {
  source: VariableSource;
  /** For collection layers. */
  collectionId?: string;
  variables: readonly Variable[];
}

export interface MergedVariables {
  /** Sorted by name, case-insensitively. */
  variables: Variable[];
  /** Where each surviving variable's value came from, by lower-case name. */
  sources: Map<string, VariableSource>;
  problems: VariableProblem[];
  /** UTF-8 bytes of every name and value. */
  sizeBytes: number;
}

function check(v: Variable, layer: VariableLayer): VariableProblem | null {
  const problem = (kind: VariableProblem['problem'], message: string): VariableProblem => ({
    source: layer.source, name: v.name, collectionId: layer.collectionId ?? null, problem: kind, message,
  });
  if (!NAME.test(v.name)) {
    return problem('invalid-name', `variable name "${v.name.slice(0, 64)}" must be 1–256 letters, digits, "_" or "-" (rule 113)`);
  }
  if (layer.source !== 'client' && v.name.startsWith('_')) {
    return problem('read-only-name', `variable "${v.name}" starts with "_": such variables are read-only and set by the task sequence, not by ${layer.source} variables (rule 113)`);
  }
  if (v.value.length > VARIABLE_LIMITS.valueMaxChars) {
    return problem('value-too-long', `variable "${v.name}" has a ${v.value.length}-character value; the limit is ${VARIABLE_LIMITS.valueMaxChars} (rule 113)`);
  }
  return null;
}

export function mergeVariables(layers: readonly VariableLayer[]): MergedVariables {
  const env = new Map<string, { variable: Variable; source: VariableSource }>();
  const problems: VariableProblem[] = [];
  for (const layer of layers) {
    for (const v of layer.variables) {
      const problem = check(v, layer);
      if (problem !== null) { problems.push(problem); continue; }
      const key = v.name.toLowerCase();
      if (v.value === '') { env.delete(key); continue; }
      env.set(key, { variable: { ...v }, source: layer.source });
    }
  }
  const keys = [...env.keys()].sort();
  const variables = keys.map((k) => env.get(k)!.variable);
  const sources = new Map(keys.map((k) => [k, env.get(k)!.source] as const));
  const sizeBytes = variables.reduce((n, v) => n + Buffer.byteLength(v.name) + Buffer.byteLength(v.value), 0);
  if (sizeBytes > VARIABLE_LIMITS.environmentMaxBytes) {
    problems.push({
      source: 'environment', name: '', collectionId: null, problem: 'environment-too-large',
      message: `the task sequence environment is ${sizeBytes} bytes; the limit is ${VARIABLE_LIMITS.environmentMaxBytes} (rule 113): remove or shorten collection or device variables`,
    });
  }
  return { variables, sources, problems, sizeBytes };
}

/** Case-insensitive lookup (rule 113). */
export function findVariable(variables: readonly Variable[], name: string): Variable | undefined {
  const key = name.toLowerCase();
  return variables.find((v) => v.name.toLowerCase() === key);
}
