/**
 * JSON Schemas of every input the admin API and the CLI accept. One source of
 * truth: fastify validates request bodies with them (and publishes them in
 * /openapi.json), and the site service validates with the same schemas, so a
 * CLI call and an API call are refused with the same words.
 *
 * Create schemas list required fields; update schemas are the same with nothing
 * required (a partial change). Unknown fields are refused (additionalProperties:
 * false) so a typo never silently does nothing.
 */
import { ARCHITECTURES, AVAILABLE_TO, DEPLOYMENT_OPTIONS, PURPOSES, RERUN_BEHAVIOURS, STEP_TYPES } from '../site/model.js';

type Schema = Record<string, unknown>;

const str = (extra: Schema = {}): Schema => ({ type: 'string', ...extra });
const bool: Schema = { type: 'boolean' };
const nullable = (s: Schema): Schema => ({ anyOf: [s, { type: 'null' }] });
const enumOf = (values: readonly string[]): Schema => ({ type: 'string', enum: [...values] });
const idList: Schema = { type: 'array', items: str({ minLength: 1, maxLength: 64 }), maxItems: 100_000 };
const name: Schema = str({ minLength: 1, maxLength: 256 });
const dateTime: Schema = str({ pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,3})?)?$', description: 'date-time without offset; see `utc`' });
const percent: Schema = { type: 'integer', minimum: 0, maximum: 100 };

function object(properties: Record<string, Schema>, required: string[] = []): Schema {
  return { type: 'object', additionalProperties: false, properties, required };
}

/** Same object with every property optional (deep for nested objects). */
function partial(schema: Schema): Schema {
  if (schema.type !== 'object' || !schema.properties) return schema;
  const props = schema.properties as Record<string, Schema>;
  return {
    ...schema,
    required: [],
    properties: Object.fromEntries(Object.entries(props).map(([k, v]) => [k, partial(v)])),
  };
}

export const variableSchema = object(
  {
    // Rule 113: 1–256 characters of letters, digits, _ and -; user-defined names start with a letter.
    name: str({ pattern: '^[A-Za-z][A-Za-z0-9_-]{0,255}$' }),
    value: str({ maxLength: 4000 }),
    secret: bool,
  },
  ['name', 'value'],
);
const variables: Schema = { type: 'array', items: variableSchema, maxItems: 1000 };

export const deviceCreate = object(
  {
    name,
    macs: { type: 'array', items: str({ minLength: 12, maxLength: 17 }), maxItems: 32 },
    smbiosGuid: nullable(str({ maxLength: 38 })),
    architecture: enumOf(ARCHITECTURES),
    isSiteSystem: bool,
    isServer: bool,
    variables,
  },
  ['name'],
);

const collectionRule: Schema = {
  oneOf: [
    object({ kind: { const: 'name' }, pattern: str({ minLength: 1, maxLength: 256 }) }, ['kind', 'pattern']),
    object({ kind: { const: 'mac' }, pattern: str({ minLength: 1, maxLength: 64 }) }, ['kind', 'pattern']),
    object({ kind: { const: 'architecture' }, architecture: enumOf(ARCHITECTURES) }, ['kind', 'architecture']),
  ],
};

export const collectionCreate = object(
  {
    name,
    comment: str({ maxLength: 4000 }),
    directMemberIds: idList,
    rules: { type: 'array', items: collectionRule, maxItems: 100 },
    variables,
    defaultDpGroupId: nullable(str()),
  },
  ['name'],
);

export const packageCreate = object(
  {
    name,
    description: str({ maxLength: 4000 }),
    sourcePath: nullable(str({ maxLength: 4096 })),
    copyToPackageShare: bool,
    dependencyIds: idList,
  },
  ['name'],
);

export const bootImageCreate = object(
  {
    name,
    architecture: enumOf(ARCHITECTURES),
    deployFromPxe: bool,
    imagePath: str({ minLength: 1, maxLength: 1024 }),
  },
  ['name', 'architecture', 'imagePath'],
);

const step: Schema = object(
  {
    name,
    type: enumOf(STEP_TYPES),
    packageId: nullable(str()),
    commandLine: nullable(str({ maxLength: 8192 })),
    variableName: nullable(str({ maxLength: 256 })),
    variableValue: nullable(str({ maxLength: 4000 })),
    accessContentDirectly: bool,
    continueOnError: bool,
    disabled: bool,
  },
  ['name', 'type'],
);

export const taskSequenceCreate = object(
  {
    name,
    description: str({ maxLength: 4000 }),
    bootImageId: nullable(str()),
    disabled: bool,
    steps: { type: 'array', items: step, maxItems: 1000 },
  },
  ['name'],
);

export const distributionPointCreate = object(
  {
    name,
    url: str({ pattern: '^https?://', maxLength: 2048 }),
    shareUrl: nullable(str({ maxLength: 2048 })),
    pxeEnabled: bool,
    maintenance: bool,
  },
  ['name', 'url'],
);

export const dpGroupCreate = object({ name, distributionPointIds: idList }, ['name']);

const boundary: Schema = {
  oneOf: [
    object({ kind: { const: 'subnet' }, cidr: str({ maxLength: 64 }) }, ['kind', 'cidr']),
    object({ kind: { const: 'range' }, from: str({ maxLength: 64 }), to: str({ maxLength: 64 }) }, ['kind', 'from', 'to']),
  ],
};

export const boundaryGroupCreate = object(
  {
    name,
    boundaries: { type: 'array', items: boundary, maxItems: 10_000 },
    distributionPointIds: idList,
    neighbours: {
      type: 'array',
      maxItems: 1000,
      items: object({ boundaryGroupId: str(), failoverMinutes: { type: 'integer', minimum: 0, maximum: 100_000 } }, ['boundaryGroupId']),
    },
    isSiteDefault: bool,
  },
  ['name'],
);

// --- the deploy wizard ------------------------------------------------------

const scheduledTime = object({ at: dateTime, utc: bool }, ['at']);
const recurrence: Schema = {
  oneOf: [
    object({ kind: { const: 'weekly' }, everyWeeks: { type: 'integer', minimum: 1, maximum: 4 }, dayOfWeek: { type: 'integer', minimum: 0, maximum: 6 } }, ['kind', 'everyWeeks', 'dayOfWeek']),
    object({ kind: { const: 'monthly-date' }, everyMonths: { type: 'integer', minimum: 1, maximum: 12 }, dayOfMonth: { type: 'integer', minimum: 0, maximum: 31 } }, ['kind', 'everyMonths', 'dayOfMonth']),
    object({ kind: { const: 'monthly-weekday' }, everyMonths: { type: 'integer', minimum: 1, maximum: 12 }, week: { type: 'integer', minimum: 0, maximum: 4 }, dayOfWeek: { type: 'integer', minimum: 0, maximum: 6 } }, ['kind', 'everyMonths', 'week', 'dayOfWeek']),
    object({ kind: { const: 'custom' }, every: { type: 'integer', minimum: 1, maximum: 1000 }, unit: enumOf(['minutes', 'hours', 'days']) }, ['kind', 'every', 'unit']),
  ],
};
const assignment: Schema = {
  oneOf: [
    object({ kind: { const: 'at' }, start: scheduledTime }, ['kind', 'start']),
    object({ kind: { const: 'recurring' }, start: scheduledTime, recurrence }, ['kind', 'start', 'recurrence']),
    object({ kind: { const: 'asap' } }, ['kind']),
    object({ kind: { const: 'logon' } }, ['kind']),
    object({ kind: { const: 'logoff' } }, ['kind']),
  ],
};

const generalPage = object({ useDefaultDpGroups: bool, autoDistributeDependencies: bool, preDownload: bool });
const deploymentSettingsPage = object({
  purpose: enumOf(PURPOSES),
  availableTo: enumOf(AVAILABLE_TO),
  sendWakeUpPackets: bool,
  allowMeteredDownloadAfterDeadline: bool,
});
const schedulingPage = object({
  available: nullable(scheduledTime),
  expires: nullable(scheduledTime),
  assignments: { type: 'array', items: assignment, maxItems: 50 },
  rerun: enumOf(RERUN_BEHAVIOURS),
});
const userExperiencePage = object({
  allowRunIndependently: bool,
  showProgress: bool,
  softwareInstallOutsideMaintenance: bool,
  restartOutsideMaintenance: bool,
  commitWriteFilterChanges: bool,
  allowOnInternet: bool,
});
const alertsPage = object({
  successBelowPercent: nullable(percent),
  successCheckAfter: nullable(dateTime),
  failureAbovePercent: nullable(percent),
  opsManagerAlertOnFailure: bool,
  disableOpsManagerAlerts: bool,
});
const distributionPointsPage = object({
  deploymentOption: enumOf(DEPLOYMENT_OPTIONS),
  allowNeighbourFallback: bool,
  allowDefaultSiteFallback: bool,
});

/** Every page of the wizard, every field optional (defaults and templates fill the rest). */
export const deploymentSettingsSchema = object({
  general: generalPage,
  deploymentSettings: deploymentSettingsPage,
  scheduling: schedulingPage,
  userExperience: userExperiencePage,
  alerts: alertsPage,
  distributionPoints: distributionPointsPage,
});

export const deploymentCreate = object(
  {
    taskSequenceId: str({ minLength: 1 }),
    collectionId: str({ minLength: 1 }),
    comment: str({ maxLength: 4000 }),
    templateId: nullable(str()),
    settings: deploymentSettingsSchema,
    /** Explicit consent to the high-risk warnings (rule 135). */
    acceptHighRisk: bool,
    /** Clear "Hide collections with a member count greater than the site's minimum size" (rule 132). */
    showCollectionsOverDefaultSize: bool,
  },
  ['taskSequenceId', 'collectionId'],
);

export const deploymentUpdate = object({
  comment: str({ maxLength: 4000 }),
  settings: deploymentSettingsSchema,
  acceptHighRisk: bool,
  showCollectionsOverDefaultSize: bool,
});

export const templateCreate = object(
  {
    name,
    /** Save the settings of this deployment (rule 4 items are dropped)… */
    fromDeploymentId: str(),
    /** …or these settings. */
    settings: deploymentSettingsSchema,
  },
  ['name'],
);

export const siteSettingsUpdate = object({
  siteName: name,
  deploymentVerification: object({
    defaultSize: { type: 'integer', minimum: 0, maximum: 10_000_000 },
    maximumSize: { type: 'integer', minimum: 0, maximum: 10_000_000 },
    siteSystemCollections: enumOf(['block', 'warn']),
  }),
});

export const clearPxeBody = {
  type: 'object',
  additionalProperties: false,
  properties: { deviceId: str(), collectionId: str() },
  oneOf: [{ required: ['deviceId'] }, { required: ['collectionId'] }],
} satisfies Schema;

export const tokenCreate = object({ name }, ['name']);

/** The plain entity kinds with their create/update schemas, as routed under /api/<kind>. */
export const ENTITY_SCHEMAS = {
  devices: { create: deviceCreate, update: partial(deviceCreate) },
  collections: { create: collectionCreate, update: partial(collectionCreate) },
  packages: { create: packageCreate, update: partial(packageCreate) },
  'boot-images': { create: bootImageCreate, update: partial(bootImageCreate) },
  'task-sequences': { create: taskSequenceCreate, update: partial(taskSequenceCreate) },
  'distribution-points': { create: distributionPointCreate, update: partial(distributionPointCreate) },
  'dp-groups': { create: dpGroupCreate, update: partial(dpGroupCreate) },
  'boundary-groups': { create: boundaryGroupCreate, update: partial(boundaryGroupCreate) },
} as const;

export type PlainKind = keyof typeof ENTITY_SCHEMAS;
export const PLAIN_KINDS = Object.keys(ENTITY_SCHEMAS) as PlainKind[];

// --- boot media (issue 7): `pxepoint media create` and POST /api/media ------

/** An ISO 8601 time with an offset or Z ("2026-12-01T00:00:00Z"), or a plain date ("2026-12-01", midnight UTC). */
const isoTimeOrDate: Schema = str({ pattern: '^\\d{4}-\\d{2}-\\d{2}(T\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,9})?)?(Z|[+-]\\d{2}:\\d{2}))?$', maxLength: 40 });

/**
 * The builder's options (src/media/build.ts). The CLI builds this object from its
 * flags; the API takes it as the body. `password` is write-only: never echoed,
 * never logged (REDACT_PATHS in http/app.ts).
 */
export const mediaCreate = object(
  {
    type: enumOf(['bootable', 'standalone']),
    bootImageId: str({ minLength: 1, maxLength: 64 }),
    /** Base URLs of the site, tried in order; default: the configuration's HTTP address. Required for bootable media. */
    siteUrls: { type: 'array', items: str({ pattern: '^https?://[^\\s]+$', maxLength: 2048 }), maxItems: 16 },
    /** Rule 94 MediaLabel.txt; default "pxepoint". No control characters. */
    label: str({ minLength: 1, maxLength: 128, pattern: '^[^\\u0000-\\u001f\\u007f]+$' }),
    password: str({ minLength: 1, maxLength: 1024 }),
    /** Rule 97. */
    unattended: bool,
    /** Rule 104 media variables, rule 113 limits (user names start with a letter). */
    variables: { type: 'array', items: variableSchema, maxItems: 1000 },
    /** Rule 105. */
    prestart: str({ minLength: 1, maxLength: 8192 }),
    /** Rule 101: the media certificate's dates (default now … now + 365 days). */
    certValidFrom: isoTimeOrDate,
    certValidUntil: isoTimeOrDate,
    /** Rule 103: stand-alone media only. */
    validFrom: isoTimeOrDate,
    validUntil: isoTimeOrDate,
    /** Stand-alone media: the task sequence on it (rule 92). */
    taskSequenceId: str({ minLength: 1, maxLength: 64 }),
  },
  ['type', 'bootImageId'],
);
