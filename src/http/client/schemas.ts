/** Response descriptions of the client API for /openapi.json (documentation only, like the admin API's). */
import { CLIENT_SESSION_SCHEME } from '../openapi.js';

type Schema = Record<string, unknown>;

export const CLIENT_TAGS = ['client'];
export const sessionSecurity = [{ [CLIENT_SESSION_SCHEME]: [] }];

const errorBody: Schema = {
  type: 'object',
  additionalProperties: true,
  required: ['code', 'message'],
  properties: { code: { type: 'string', description: 'stable PXE_ERR_* code' }, message: { type: 'string', description: 'what is wrong and what to do' } },
};

const ERRORS: Record<number, string> = {
  400: 'invalid input: `field` names the first problem',
  401: 'credential or session refused (the reason is in the audit log, not in the reply)',
  403: 'not part of this machine\'s policy',
  404: 'no such content file',
  409: 'a status report out of order (rule 139), or identifiers matching several records',
  416: 'the Range cannot be satisfied',
};

export function clientResponses(ok: Record<number, Schema>, errors: readonly number[] = []): Record<number, Schema> {
  const out: Record<number, Schema> = { ...ok };
  for (const status of [401, ...errors]) out[status] = { ...errorBody, description: ERRORS[status] ?? 'error' };
  return out;
}

const obj = (description: string, properties: Record<string, Schema> = {}): Schema => ({ type: 'object', additionalProperties: true, description, properties });

export const identifyReply = obj('the session: send `Authorization: Bearer <sessionToken>` with every other client call', {
  sessionToken: { type: 'string' },
  expiresIn: { type: 'integer', description: 'seconds' },
  deviceId: { anyOf: [{ type: 'string' }, { type: 'null' }] },
  deviceName: { anyOf: [{ type: 'string' }, { type: 'null' }] },
  unknownObjectId: { anyOf: [{ type: 'string' }, { type: 'null' }], description: 'rule 62, when the machine is unknown' },
});

export const policyReply = obj('what the machine may run: offered deployments (with task sequence, packages, file hashes, locations), autoRun, prompt, excluded', {
  offered: { type: 'array', items: { type: 'object', additionalProperties: true } },
  autoRun: { anyOf: [{ type: 'object', additionalProperties: true }, { type: 'null' }] },
  prompt: { type: 'boolean' },
  preferredError: { anyOf: [{ type: 'object', additionalProperties: true }, { type: 'null' }] },
  excluded: { type: 'array', items: { type: 'object', additionalProperties: true } },
});

export const variablesReply = obj('the run\'s variables: collection < device < client (rule 113); collection only for unknown machines (rule 65)', {
  variables: { type: 'array', items: { type: 'object', additionalProperties: true } },
});

export const statusReply = obj('accepted; deviceId is set when an unknown computer\'s run created its record (rule 64)', {
  accepted: { type: 'boolean' },
  deviceId: { anyOf: [{ type: 'string' }, { type: 'null' }] },
});

export const contentParams: Schema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    packageId: { type: 'string', minLength: 1, maxLength: 64 },
    '*': { type: 'string', maxLength: 1024, description: 'path of the file inside the package, as the policy lists it' },
  },
  required: ['packageId', '*'],
};
