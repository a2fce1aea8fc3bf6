/**
 * Secret task sequence variables ("Do not display this value in the console",
 * model.ts `Variable.secret`) are masked in every admin API reply. A client that
 * reads an object and sends its variables back unchanged would send the mask;
 * `restoreMaskedSecrets` puts the stored value back instead of saving the mask.
 */
import type { Variable } from '../../site/model.js';
import { invalid } from '../../errors.js';

export const SECRET_MASK = '********';

type WithVariables = { variables?: unknown };

const isVariableList = (v: unknown): v is Variable[] =>
  Array.isArray(v) && v.every((x) => typeof x === 'object' && x !== null && typeof (x as Variable).name === 'string');

/** A copy of the object with the values of secret variables replaced by the mask. */
export function maskSecrets<T>(entity: T): T {
  const vars = (entity as WithVariables | null)?.variables;
  if (!isVariableList(vars) || !vars.some((v) => v.secret)) return entity;
  return { ...entity, variables: vars.map((v) => (v.secret ? { ...v, value: SECRET_MASK } : v)) };
}

/**
 * For a PATCH body: every secret variable whose value is the mask gets the value
 * stored under the same name (names compare case-insensitively, rule 113).
 * A mask with no stored secret to stand for is refused rather than saved.
 */
export function restoreMaskedSecrets(body: unknown, stored: unknown): unknown {
  const vars = (body as WithVariables | null)?.variables;
  if (typeof body !== 'object' || body === null || !isVariableList(vars) || !vars.some((v) => v.secret && v.value === SECRET_MASK)) return body;
  const storedVars = (stored as WithVariables | null)?.variables;
  const known = new Map((isVariableList(storedVars) ? storedVars : []).filter((v) => v.secret).map((v) => [v.name.toLowerCase(), v.value]));
  return {
    ...body,
    variables: vars.map((v, i) => {
      if (!v.secret || v.value !== SECRET_MASK) return v;
      const value = known.get(v.name.toLowerCase());
      if (value === undefined) throw invalid(`body.variables.${i}.value`, `is the mask ${SECRET_MASK} but no secret variable "${v.name}" is stored; send the real value`);
      return { ...v, value };
    }),
  };
}
