/**
 * `pxepoint deploy` — the deploy wizard on the command line, one flag group per
 * wizard page — and `pxepoint deployment list|get|update|delete`.
 */
import type { DeploymentSettings } from '../../site/model.js';
import type { DeepPartial } from '../../deploy/defaults.js';
import { BODY_OPTIONS, bodyFrom, defined, flag, int, list, parse, str, usageError, type Options, type Values } from '../args.js';
import { openContext } from '../context.js';
import { message, record, table } from '../output.js';

export const WIZARD_OPTIONS: Options = {
  // General
  ts: { type: 'string' },
  collection: { type: 'string' },
  comment: { type: 'string' },
  template: { type: 'string' },
  'use-default-dp-groups': { type: 'boolean' },
  'auto-distribute': { type: 'boolean' },
  'pre-download': { type: 'boolean' },
  // Deployment Settings
  purpose: { type: 'string' },
  'available-to': { type: 'string' },
  'wake-up': { type: 'boolean' },
  metered: { type: 'boolean' },
  // Scheduling
  'available-at': { type: 'string' },
  'expires-at': { type: 'string' },
  assign: { type: 'string', multiple: true },
  rerun: { type: 'string' },
  // User Experience
  'run-independently': { type: 'boolean' },
  'no-run-independently': { type: 'boolean' },
  'show-progress': { type: 'boolean' },
  'no-show-progress': { type: 'boolean' },
  'software-install-outside-mw': { type: 'boolean' },
  'restart-outside-mw': { type: 'boolean' },
  'commit-write-filter': { type: 'boolean' },
  'allow-internet': { type: 'boolean' },
  // Alerts
  'alert-success-below': { type: 'string' },
  'alert-success-after': { type: 'string' },
  'alert-failure-above': { type: 'string' },
  'scom-alert-on-failure': { type: 'boolean' },
  'disable-scom-alerts': { type: 'boolean' },
  // Distribution Points
  'deployment-option': { type: 'string' },
  'allow-neighbour': { type: 'boolean' },
  'allow-default-site': { type: 'boolean' },
  // High risk
  'accept-high-risk': { type: 'boolean' },
  'show-over-default-size': { type: 'boolean' },
};

export const DEPLOY_USAGE = `usage: pxepoint deploy --ts TS_ID --collection COLLECTION_ID [wizard flags]
  General:            --comment TEXT --template NAME|ID --use-default-dp-groups --auto-distribute --pre-download
  Deployment Settings: --purpose available|required
                      --available-to clients-only|clients-media-pxe|media-pxe|media-pxe-hidden
                      --wake-up --metered                       (required only, rule 6)
  Scheduling:         --available-at DATETIME[Z] --expires-at DATETIME[Z]   (Z = UTC, else client local time)
                      --assign asap|logon|logoff|at:DATETIME[Z]|weekly:DATETIME[Z]:EVERY_WEEKS:DAY(0-6)
                               |monthly:DATETIME[Z]:EVERY_MONTHS:DAY(0=last)|custom:DATETIME[Z]:N:minutes|hours|days  (repeatable)
                      --rerun never|always|if-failed|if-succeeded
  User Experience:    --run-independently|--no-run-independently --show-progress|--no-show-progress
                      --software-install-outside-mw --restart-outside-mw --commit-write-filter --allow-internet
  Alerts:             --alert-success-below PCT --alert-success-after DATETIME --alert-failure-above PCT
                      --scom-alert-on-failure --disable-scom-alerts
  Distribution Points: --deployment-option download-when-needed|download-all-first|access-directly
                      --allow-neighbour --allow-default-site
  High risk:          --accept-high-risk (consent to the warnings; audited) --show-over-default-size
  Also: --body JSON | --body-file FILE (the API's request body), --json, --data-dir DIR
  Note: PXE and boot media clients do not evaluate schedules (rule 28).`;

/** "2026-12-01T08:00Z" → {at, utc: true}; without Z the time is client-local. */
function scheduledTime(text: string, flagName: string): { at: string; utc: boolean } {
  const utc = /z$/i.test(text);
  const at = utc ? text.slice(0, -1) : text;
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(at)) throw usageError(`--${flagName} takes a date-time like 2026-12-01T08:00 (add Z for UTC), not "${text}"`);
  return { at, utc };
}

function assignment(text: string): Record<string, unknown> {
  if (['asap', 'logon', 'logoff'].includes(text)) return { kind: text };
  // The date-time itself contains colons: split off the kind, then take the fields from the end.
  const [kind, ...rest] = text.split(':');
  const joined = rest.join(':');
  const fields = (n: number): [string, string[]] => {
    const parts = joined.split(':');
    const tail = parts.slice(parts.length - n);
    return [parts.slice(0, parts.length - n).join(':'), tail];
  };
  const num = (s: string | undefined): number => {
    if (s === undefined || !/^\d+$/.test(s)) throw usageError(`--assign ${text}: "${s ?? ''}" is not a number`);
    return Number(s);
  };
  switch (kind) {
    case 'at':
      return { kind: 'at', start: scheduledTime(joined, 'assign') };
    case 'weekly': {
      const [start, [every, day]] = fields(2);
      return { kind: 'recurring', start: scheduledTime(start, 'assign'), recurrence: { kind: 'weekly', everyWeeks: num(every), dayOfWeek: num(day) } };
    }
    case 'monthly': {
      const [start, [every, day]] = fields(2);
      return { kind: 'recurring', start: scheduledTime(start, 'assign'), recurrence: { kind: 'monthly-date', everyMonths: num(every), dayOfMonth: num(day) } };
    }
    case 'custom': {
      const [start, [every, unit]] = fields(2);
      return { kind: 'recurring', start: scheduledTime(start, 'assign'), recurrence: { kind: 'custom', every: num(every), unit } };
    }
  }
  throw usageError(`--assign: unknown schedule "${text}"`, DEPLOY_USAGE);
}

const yesNo = (v: Values, yes: string, no: string): boolean | undefined => (flag(v, yes) ? true : flag(v, no) ? false : undefined);

/** The wizard's settings from the flags, page by page; only what was given. */
export function settingsFromFlags(v: Values): DeepPartial<DeploymentSettings> {
  const pages = {
    general: defined({ useDefaultDpGroups: flag(v, 'use-default-dp-groups'), autoDistributeDependencies: flag(v, 'auto-distribute'), preDownload: flag(v, 'pre-download') }),
    deploymentSettings: defined({ purpose: str(v, 'purpose'), availableTo: str(v, 'available-to'), sendWakeUpPackets: flag(v, 'wake-up'), allowMeteredDownloadAfterDeadline: flag(v, 'metered') }),
    scheduling: defined({
      available: str(v, 'available-at') === undefined ? undefined : scheduledTime(str(v, 'available-at')!, 'available-at'),
      expires: str(v, 'expires-at') === undefined ? undefined : scheduledTime(str(v, 'expires-at')!, 'expires-at'),
      assignments: list(v, 'assign').length ? list(v, 'assign').map(assignment) : undefined,
      rerun: str(v, 'rerun'),
    }),
    userExperience: defined({
      allowRunIndependently: yesNo(v, 'run-independently', 'no-run-independently'),
      showProgress: yesNo(v, 'show-progress', 'no-show-progress'),
      softwareInstallOutsideMaintenance: flag(v, 'software-install-outside-mw'),
      restartOutsideMaintenance: flag(v, 'restart-outside-mw'),
      commitWriteFilterChanges: flag(v, 'commit-write-filter'),
      allowOnInternet: flag(v, 'allow-internet'),
    }),
    alerts: defined({
      successBelowPercent: int(v, 'alert-success-below'),
      successCheckAfter: str(v, 'alert-success-after'),
      failureAbovePercent: int(v, 'alert-failure-above'),
      opsManagerAlertOnFailure: flag(v, 'scom-alert-on-failure'),
      disableOpsManagerAlerts: flag(v, 'disable-scom-alerts'),
    }),
    distributionPoints: defined({ deploymentOption: str(v, 'deployment-option'), allowNeighbourFallback: flag(v, 'allow-neighbour'), allowDefaultSiteFallback: flag(v, 'allow-default-site') }),
  };
  return Object.fromEntries(Object.entries(pages).filter(([, page]) => Object.keys(page).length > 0)) as DeepPartial<DeploymentSettings>;
}

function mergeBody(base: Record<string, unknown>, settings: DeepPartial<DeploymentSettings>): Record<string, unknown> {
  const baseSettings = (base.settings ?? {}) as Record<string, Record<string, unknown>>;
  const merged: Record<string, unknown> = { ...baseSettings };
  for (const [page, fields] of Object.entries(settings)) merged[page] = { ...baseSettings[page], ...(fields as object) };
  return Object.keys(merged).length ? { ...base, settings: merged } : base;
}

export async function deployCommand(argv: string[]): Promise<number> {
  const { values } = parse(argv, { ...WIZARD_OPTIONS, ...BODY_OPTIONS }, DEPLOY_USAGE);
  if (values.help) {
    process.stdout.write(DEPLOY_USAGE + '\n');
    return 0;
  }
  const ctx = await openContext(values);
  try {
    const { service, actor, out } = ctx;
    let templateId: string | undefined;
    if (str(values, 'template') !== undefined) templateId = (await service.getTemplate(str(values, 'template')!)).id;
    const body = mergeBody(
      {
        ...bodyFrom(values),
        ...defined({
          taskSequenceId: str(values, 'ts'), collectionId: str(values, 'collection'), comment: str(values, 'comment'), templateId,
          acceptHighRisk: flag(values, 'accept-high-risk'), showCollectionsOverDefaultSize: flag(values, 'show-over-default-size'),
        }),
      },
      settingsFromFlags(values),
    );
    if (body.taskSequenceId === undefined || body.collectionId === undefined) throw usageError('deploy needs --ts and --collection', DEPLOY_USAGE);
    const { deployment, warnings } = await service.createDeployment(body, actor);
    if (out.json) out.write(JSON.stringify({ deployment, warnings }, null, 2) + '\n');
    else {
      out.write(`created deployment ${deployment.id}: task sequence ${deployment.taskSequenceId} → collection ${deployment.collectionId}, ${deployment.deploymentSettings.purpose}, ${deployment.deploymentSettings.availableTo}\n`);
      for (const w of warnings) out.write(`warning: ${w}\n`);
    }
    return 0;
  } finally {
    await ctx.close();
  }
}

const DEPLOYMENT_USAGE = `usage: pxepoint deployment list
       pxepoint deployment get ID
       pxepoint deployment update ID [wizard flags as for deploy, except --ts/--collection/--template]
       pxepoint deployment delete ID`;

export async function deploymentCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const { values, positionals } = parse(rest, { ...WIZARD_OPTIONS, ...BODY_OPTIONS }, DEPLOYMENT_USAGE);
  if (values.help || !sub) {
    process.stdout.write(DEPLOYMENT_USAGE + '\n');
    return sub ? 0 : 2;
  }
  const id = positionals[0];
  const ctx = await openContext(values);
  try {
    const { service, actor, out } = ctx;
    if (sub === 'list') {
      const rows = (await service.listDeployments()).map((d) => ({
        id: d.id, taskSequence: d.taskSequenceId, collection: d.collectionId, purpose: d.deploymentSettings.purpose,
        availableTo: d.deploymentSettings.availableTo, option: d.distributionPoints.deploymentOption, comment: d.comment,
      }));
      table(out, rows, ['id', 'taskSequence', 'collection', 'purpose', 'availableTo', 'option', 'comment']);
      return 0;
    }
    if (!id) throw usageError(`pxepoint deployment ${sub} needs an ID`, DEPLOYMENT_USAGE);
    switch (sub) {
      case 'get':
        record(out, await service.getDeployment(id));
        return 0;
      case 'update': {
        const body = mergeBody({ ...bodyFrom(values), ...defined({ comment: str(values, 'comment'), acceptHighRisk: flag(values, 'accept-high-risk'), showCollectionsOverDefaultSize: flag(values, 'show-over-default-size') }) }, settingsFromFlags(values));
        const { deployment, warnings } = await service.updateDeployment(id, body, actor);
        message(out, [`changed deployment ${deployment.id}`, ...warnings.map((w) => `warning: ${w}`)].join('\n'), { deployment, warnings });
        return 0;
      }
      case 'delete':
        await service.removeDeployment(id, actor);
        message(out, `deleted deployment ${id}`, { deleted: id });
        return 0;
    }
    throw usageError(`unknown subcommand "${sub}"`, DEPLOYMENT_USAGE);
  } finally {
    await ctx.close();
  }
}
