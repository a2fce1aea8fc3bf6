/**
 * JSON Schemas of what the client API and the credential admin routes accept.
 * As with schemas.ts, one source of truth: fastify validates with them (and
 * publishes them in /openapi.json) and the client service validates with them
 * again, so a call that does not come through HTTP is checked the same way.
 * Everything a client sends is untrusted: sizes are bounded, unknown fields refused.
 */
import { ARCHITECTURES } from '../site/model.js';
import { variableSchema } from './schemas.js';
import { CLIENT_STATE_VALUES } from './client-state.js';

type Schema = Record<string, unknown>;

const object = (properties: Record<string, Schema>, required: string[] = []): Schema => ({
  type: 'object', additionalProperties: false, properties, required,
});
const secret: Schema = { type: 'string', minLength: 1, maxLength: 256 };
const macs: Schema = { type: 'array', items: { type: 'string', minLength: 12, maxLength: 17 }, maxItems: 32, description: 'MAC addresses, e.g. "52:54:00:77:00:10"' };
const guid: Schema = { anyOf: [{ type: 'string', maxLength: 38 }, { type: 'null' }], description: 'SMBIOS GUID, or null' };
const variables: Schema = { type: 'array', items: variableSchema, maxItems: 1000 };
/**
 * What a client holds may include system variables of the PXE variables file
 * (`_SMSTSClientMAC`, …): accepted here, and left out of the run by the policy's
 * rule 113 checks (read-only names), not refused.
 */
const heldVariable: Schema = {
  ...variableSchema,
  properties: { ...(variableSchema.properties as Record<string, Schema>), name: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_-]{0,255}$' } },
};

/** Longest boot token life an administrator may ask for (boot media built for one machine). */
export const MAX_BOOT_TOKEN_TTL_SECONDS = 30 * 24 * 3600;

export const bootTokenIssue = object(
  {
    macs,
    smbiosGuid: guid,
    bootSource: { type: 'string', enum: ['pxe', 'media'] },
    ttlSeconds: { type: 'integer', minimum: 10, maximum: MAX_BOOT_TOKEN_TTL_SECONDS, description: 'default 1800 (30 minutes)' },
    deviceId: { anyOf: [{ type: 'string', minLength: 1, maxLength: 64 }, { type: 'null' }], description: 'bind the token to this device record' },
    variables: { ...variables, description: 'variables the client receives with the token (e.g. SMSTSPreferredAdvertID, rule 26)' },
  },
  ['macs', 'bootSource'],
);

export const identifyBody = object(
  {
    macs,
    smbiosGuid: guid,
    architecture: { type: 'string', enum: [...ARCHITECTURES] },
    bootSource: { type: 'string', enum: ['pxe', 'media', 'full-os'] },
    pxeToken: secret,
    mediaCredential: object({ mediaId: { type: 'string', minLength: 1, maxLength: 64 }, secret }, ['mediaId', 'secret']),
    clientKey: secret,
    utcOffsetMinutes: { type: 'integer', minimum: -840, maximum: 840 },
    // Not (yet) in policy/client-api.ts: prestart-set variables such as SMSTSPreferredAdvertID (rules 24, 26).
    variables: { type: 'array', items: heldVariable, maxItems: 1000, description: 'variables the client holds (PXE variables file, media, prestart command; rule 26); SMSTSPreferredAdvertID among them' },
  },
  ['macs', 'architecture', 'bootSource'],
);

export const statusBody = object(
  {
    deploymentId: { type: 'string', minLength: 1, maxLength: 64 },
    state: { type: 'integer', enum: [...CLIENT_STATE_VALUES], description: 'rule 139 state' },
    messageId: { type: 'integer', minimum: 0, maximum: 65535 },
    message: { type: 'string', maxLength: 4000 },
    stepIndex: { type: 'integer', minimum: 0, maximum: 10_000 },
    variables: { ...variables, description: 'run-time variables the site keeps for this run (e.g. OSDComputerName)' },
  },
  ['deploymentId', 'state', 'message'],
);
