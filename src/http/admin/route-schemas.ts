/**
 * Schema pieces shared by the admin routes: path parameters, and the response
 * descriptions that end up in /openapi.json. Responses are documentation only:
 * the app serialises with JSON.stringify (see app.ts), so a response schema can
 * never drop a field from a reply.
 */
type Schema = Record<string, unknown>;

export const idParams = {
  type: 'object',
  additionalProperties: false,
  properties: { id: { type: 'string', minLength: 1, maxLength: 256, description: 'object id (e.g. "PXP00012", "16777220")' } },
  required: ['id'],
} as const satisfies Schema;

/** An object whose fields are described in the model (src/site/model.ts); every field passes. */
export const anObject = (description: string): Schema => ({ type: 'object', additionalProperties: true, description });
export const listOf = (description: string): Schema => ({ type: 'array', items: { type: 'object', additionalProperties: true }, description });

const errorBody: Schema = {
  type: 'object',
  additionalProperties: true,
  required: ['code', 'message'],
  properties: {
    code: { type: 'string', description: 'stable PXE_ERR_* code' },
    message: { type: 'string', description: 'what is wrong and what to fix' },
    field: { type: 'string', description: 'the input field concerned, e.g. "body.settings.deploymentSettings.purpose"' },
    rule: { type: 'integer', description: 'the ConfigMgr rule number behind a wizard refusal' },
  },
};

const ERRORS: Record<number, string> = {
  400: 'invalid input: `field` names the first problem',
  401: 'missing or unknown API token',
  404: 'no such object',
  409: 'conflicts with the site (duplicate, in use, built in)',
  422: 'refused by a deploy-wizard rule (`rule` names it)',
};

/** Response descriptions: the success reply plus the error replies the route can give. */
export function responses(ok: Record<number, Schema>, errors: readonly number[] = []): Record<number, Schema> {
  const out: Record<number, Schema> = { ...ok };
  for (const status of [401, ...errors]) out[status] = { ...errorBody, description: ERRORS[status] ?? 'error' };
  return out;
}

export const noContent: Schema = { type: 'null', description: 'done; no body' };
