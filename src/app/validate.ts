/**
 * Validates inputs against the schemas of schemas.ts with Ajv (the validator
 * fastify itself uses), turning the first problem into a PXE_ERR_INVALID error
 * whose message names the field ("body.deploymentSettings.purpose: must be one of
 * available, required").
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { invalid } from '../errors.js';

const ajv = new Ajv({ allErrors: false, strict: false, coerceTypes: false, useDefaults: false });
const compiled = new WeakMap<object, ValidateFunction>();

export function describeAjvError(e: ErrorObject, root: string): { field: string; message: string } {
  let path = root + e.instancePath.replace(/\//g, '.');
  let message = e.message ?? 'is not valid';
  if (e.keyword === 'additionalProperties') {
    path = `${path}.${String(e.params.additionalProperty)}`;
    message = 'is not a known field';
  } else if (e.keyword === 'required') {
    path = `${path}.${String(e.params.missingProperty)}`;
    message = 'is required';
  } else if (e.keyword === 'enum') {
    message = `must be one of ${(e.params.allowedValues as unknown[]).join(', ')}`;
  }
  return { field: path, message };
}

/**
 * The compiled validator of a schema, from the same Ajv instance and cache as
 * `validateInput`, so the admin API (fastify's body validation) and the service
 * refuse an input with the same first error.
 */
export function compileInputValidator(schema: object): ValidateFunction {
  let fn = compiled.get(schema);
  if (!fn) {
    fn = ajv.compile(schema);
    compiled.set(schema, fn);
  }
  return fn;
}

export function validateInput<T>(schema: object, value: unknown, root = 'body'): T {
  const fn = compileInputValidator(schema);
  if (!fn(value)) {
    const first = fn.errors?.[0];
    if (!first) throw invalid(root, 'is not valid');
    const { field, message } = describeAjvError(first, root);
    throw invalid(field, message);
  }
  return value as T;
}
