/**
 * Shape and range checks of the merged wizard settings: types, enumerations,
 * number ranges, calendar-valid date-times. The admin API validates request
 * bodies with a schema first; this is the wizard's own guard, because settings
 * also come from stored templates and deployments, and from code.
 *
 * Cross-field rules (6, 7, 9–11, 16, scheduling order…) live in wizard.ts.
 */
import { invalid, wizardRule } from '../errors.js';
import type { AssignmentSchedule, DeploymentSettings, Recurrence, ScheduledTime } from '../site/model.js';
import { AVAILABLE_TO, DEPLOYMENT_OPTIONS, PURPOSES, RERUN_BEHAVIOURS } from '../site/model.js';
import { DEPLOY_ERRORS } from './error-codes.js';

type Obj = Record<string, unknown>;

const isPlainObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function object(v: unknown, field: string, keys: readonly string[]): Obj {
  if (!isPlainObject(v)) throw invalid(field, `must be an object with ${keys.join(', ')}`);
  for (const k of Object.keys(v)) {
    if (!keys.includes(k)) throw invalid(`${field}.${k}`, `unknown setting; the settings here are: ${keys.join(', ')}`);
  }
  return v;
}

function boolean(v: unknown, field: string): void {
  if (typeof v !== 'boolean') throw invalid(field, `must be true or false; got ${JSON.stringify(v) ?? 'nothing'}`);
}

function oneOf(v: unknown, allowed: readonly string[], field: string): void {
  if (typeof v !== 'string' || !allowed.includes(v)) {
    throw invalid(field, `must be one of ${allowed.map((a) => `"${a}"`).join(', ')}; got ${JSON.stringify(v) ?? 'nothing'}`);
  }
}

function integer(v: unknown, field: string, min: number, max: number): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw invalid(field, `must be a whole number from ${min} to ${max}; got ${JSON.stringify(v) ?? 'nothing'}`);
  }
}

/** "2026-11-26T08:00", "2026-11-26T08:00:00" or "…:00.000": no offset, the `utc` flag says how to read it. */
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?$/;

/**
 * The wall-clock value of a date-time without offset, as milliseconds (read as
 * if UTC; only for ordering two values read the same way). Null if not valid.
 */
export function wallClockMillis(text: string): number | null {
  const m = DATE_TIME.exec(text);
  if (m === null) return null;
  const parts = m.slice(1, 7).map((x) => Number(x ?? '0')) as [number, number, number, number, number, number];
  const millis = Number((m[7] ?? '0').padEnd(3, '0'));
  const t = Date.UTC(parts[0], parts[1] - 1, parts[2], parts[3], parts[4], parts[5], millis);
  const back = new Date(t);
  // Reject 2026-02-30, 25:00 and the like (Date.UTC would roll them over).
  if (
    back.getUTCFullYear() !== parts[0] || back.getUTCMonth() !== parts[1] - 1 || back.getUTCDate() !== parts[2] ||
    back.getUTCHours() !== parts[3] || back.getUTCMinutes() !== parts[4] || back.getUTCSeconds() !== parts[5]
  ) return null;
  return t;
}

function dateTime(v: unknown, field: string): void {
  if (typeof v !== 'string' || wallClockMillis(v) === null) {
    throw invalid(field, `must be a date-time without offset like "2026-11-26T08:00:00" (say UTC with the utc flag); got ${JSON.stringify(v) ?? 'nothing'}`);
  }
}

function scheduledTime(v: unknown, field: string): void {
  const o = object(v, field, ['at', 'utc']);
  dateTime(o.at, `${field}.at`);
  boolean(o.utc, `${field}.utc`);
}

/** ConfigMgr schedule-token limits (SMS_ST_RecurWeekly, _RecurMonthlyBy*, _RecurInterval). */
function recurrence(v: unknown, field: string): void {
  if (!isPlainObject(v)) throw invalid(field, 'must be an object with a kind: weekly, monthly-date, monthly-weekday or custom');
  const r = v as Partial<Recurrence> & Obj;
  switch (r.kind) {
    case 'weekly':
      object(v, field, ['kind', 'everyWeeks', 'dayOfWeek']);
      integer(r.everyWeeks, `${field}.everyWeeks`, 1, 4);
      integer(r.dayOfWeek, `${field}.dayOfWeek`, 0, 6);
      return;
    case 'monthly-date':
      object(v, field, ['kind', 'everyMonths', 'dayOfMonth']);
      integer(r.everyMonths, `${field}.everyMonths`, 1, 12);
      integer(r.dayOfMonth, `${field}.dayOfMonth`, 0, 31);
      return;
    case 'monthly-weekday':
      object(v, field, ['kind', 'everyMonths', 'week', 'dayOfWeek']);
      integer(r.everyMonths, `${field}.everyMonths`, 1, 12);
      integer(r.week, `${field}.week`, 0, 4);
      integer(r.dayOfWeek, `${field}.dayOfWeek`, 0, 6);
      return;
    case 'custom': {
      object(v, field, ['kind', 'every', 'unit']);
      oneOf(r.unit, ['minutes', 'hours', 'days'], `${field}.unit`);
      const max = r.unit === 'minutes' ? 59 : r.unit === 'hours' ? 23 : 31;
      integer(r.every, `${field}.every`, 1, max);
      return;
    }
    default:
      throw invalid(`${field}.kind`, `must be one of "weekly", "monthly-date", "monthly-weekday", "custom"; got ${JSON.stringify(r.kind) ?? 'nothing'}`);
  }
}

function assignment(v: unknown, field: string): void {
  if (!isPlainObject(v)) throw invalid(field, 'must be an object with a kind: at, recurring, asap, logon or logoff');
  const a = v as Partial<AssignmentSchedule> & Obj;
  switch (a.kind) {
    case 'at':
      object(v, field, ['kind', 'start']);
      scheduledTime(a.start, `${field}.start`);
      return;
    case 'recurring':
      object(v, field, ['kind', 'start', 'recurrence']);
      scheduledTime(a.start, `${field}.start`);
      recurrence(a.recurrence, `${field}.recurrence`);
      return;
    case 'asap':
    case 'logon':
    case 'logoff':
      object(v, field, ['kind']);
      return;
    default:
      throw invalid(`${field}.kind`, `must be one of "at", "recurring", "asap", "logon", "logoff"; got ${JSON.stringify(a.kind) ?? 'nothing'}`);
  }
}

/**
 * Fills what a caller may leave out of a scheduled time: `utc` defaults to false
 * (client local time, the console's default). Returns a copy.
 */
export function withScheduleDefaults(settings: DeploymentSettings): DeploymentSettings {
  const s = structuredClone(settings);
  const fill = (t: ScheduledTime | null | undefined): void => {
    if (isPlainObject(t) && (t as Partial<ScheduledTime>).utc === undefined) t.utc = false;
  };
  if (isPlainObject(s.scheduling)) {
    fill(s.scheduling.available);
    fill(s.scheduling.expires);
    if (Array.isArray(s.scheduling.assignments)) {
      for (const a of s.scheduling.assignments) if (isPlainObject(a) && 'start' in a) fill(a.start);
    }
  }
  return s;
}

/** Throws PXE_ERR_INVALID (or rule 18's code) naming the first field that is wrong. */
export function validateDeploymentSettings(settings: DeploymentSettings): void {
  const s = object(settings, 'settings', ['general', 'deploymentSettings', 'scheduling', 'userExperience', 'alerts', 'distributionPoints']);

  const generalKeys = ['useDefaultDpGroups', 'autoDistributeDependencies', 'preDownload'];
  const g = object(s.general, 'settings.general', generalKeys);
  for (const k of generalKeys) boolean(g[k], `settings.general.${k}`);

  const d = object(s.deploymentSettings, 'settings.deploymentSettings', ['purpose', 'availableTo', 'sendWakeUpPackets', 'allowMeteredDownloadAfterDeadline']);
  oneOf(d.purpose, PURPOSES, 'settings.deploymentSettings.purpose');
  // Rule 18: exactly four values.
  if (typeof d.availableTo !== 'string' || !(AVAILABLE_TO as readonly string[]).includes(d.availableTo)) {
    throw wizardRule(
      DEPLOY_ERRORS.invalidAvailableTo, 18,
      `settings.deploymentSettings.availableTo must be one of ${AVAILABLE_TO.map((a) => `"${a}"`).join(', ')}; got ${JSON.stringify(d.availableTo) ?? 'nothing'}`,
      'settings.deploymentSettings.availableTo',
    );
  }
  boolean(d.sendWakeUpPackets, 'settings.deploymentSettings.sendWakeUpPackets');
  boolean(d.allowMeteredDownloadAfterDeadline, 'settings.deploymentSettings.allowMeteredDownloadAfterDeadline');

  const sc = object(s.scheduling, 'settings.scheduling', ['available', 'expires', 'assignments', 'rerun']);
  if (sc.available !== null) scheduledTime(sc.available, 'settings.scheduling.available');
  if (sc.expires !== null) scheduledTime(sc.expires, 'settings.scheduling.expires');
  if (!Array.isArray(sc.assignments)) throw invalid('settings.scheduling.assignments', 'must be a list of assignment schedules (empty for none)');
  sc.assignments.forEach((a, i) => assignment(a, `settings.scheduling.assignments[${i}]`));
  oneOf(sc.rerun, RERUN_BEHAVIOURS, 'settings.scheduling.rerun');

  const uxKeys = ['allowRunIndependently', 'showProgress', 'softwareInstallOutsideMaintenance', 'restartOutsideMaintenance', 'commitWriteFilterChanges', 'allowOnInternet'];
  const ux = object(s.userExperience, 'settings.userExperience', uxKeys);
  for (const k of uxKeys) boolean(ux[k], `settings.userExperience.${k}`);

  const al = object(s.alerts, 'settings.alerts', ['successBelowPercent', 'successCheckAfter', 'failureAbovePercent', 'opsManagerAlertOnFailure', 'disableOpsManagerAlerts']);
  if (al.successBelowPercent !== null) integer(al.successBelowPercent, 'settings.alerts.successBelowPercent', 0, 100);
  if (al.failureAbovePercent !== null) integer(al.failureAbovePercent, 'settings.alerts.failureAbovePercent', 0, 100);
  if (al.successCheckAfter !== null) dateTime(al.successCheckAfter, 'settings.alerts.successCheckAfter');
  // The console asks "success below N% after <date>": the date belongs to the threshold.
  if (al.successBelowPercent !== null && al.successCheckAfter === null) {
    throw invalid('settings.alerts.successCheckAfter', 'give the date-time after which to check the success percentage, or set successBelowPercent to null');
  }
  boolean(al.opsManagerAlertOnFailure, 'settings.alerts.opsManagerAlertOnFailure');
  boolean(al.disableOpsManagerAlerts, 'settings.alerts.disableOpsManagerAlerts');

  const dp = object(s.distributionPoints, 'settings.distributionPoints', ['deploymentOption', 'allowNeighbourFallback', 'allowDefaultSiteFallback']);
  oneOf(dp.deploymentOption, DEPLOYMENT_OPTIONS, 'settings.distributionPoints.deploymentOption');
  boolean(dp.allowNeighbourFallback, 'settings.distributionPoints.allowNeighbourFallback');
  boolean(dp.allowDefaultSiteFallback, 'settings.distributionPoints.allowDefaultSiteFallback');
}
