/**
 * How fastify validates requests. Bodies are checked by the very validator the
 * site service uses (app/validate.ts: no coercion, no defaults, unknown fields
 * refused), so a typo'd field is a 400 naming the field, never silently dropped,
 * and the API and the CLI say the same words. Query strings and path parameters
 * arrive as text, so they alone are coerced ("?limit=10" is the number 10).
 */
import { Ajv, type ValidateFunction } from 'ajv';
import type { FastifySchemaCompiler } from 'fastify';
import { compileInputValidator } from '../app/validate.js';

const textParts = new Ajv({ allErrors: false, strict: false, coerceTypes: true, useDefaults: true, removeAdditional: false });
const compiledText = new WeakMap<object, ValidateFunction>();

function compileTextPart(schema: object): ValidateFunction {
  let fn = compiledText.get(schema);
  if (!fn) {
    fn = textParts.compile(schema);
    compiledText.set(schema, fn);
  }
  return fn;
}

export const validatorCompiler: FastifySchemaCompiler<object> = ({ schema, httpPart }) =>
  httpPart === 'body' ? compileInputValidator(schema) : compileTextPart(schema);
