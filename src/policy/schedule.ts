/**
 * Deployment schedule maths for full-OS clients (rule 30). WinPE clients from
 * PXE or media never get here (rules 28–29).
 *
 * All functions are pure: "now" and the client's UTC offset are arguments. A
 * `ScheduledTime` is a wall-clock date-time without offset, read as UTC when
 * `utc` is true, else as the client's local time (`offsetMinutes` east of UTC,
 * e.g. +60 for CET). Offsets are explicit, so there is no DST ambiguity here.
 *
 * Recurrences are evaluated on the wall clock of their start time (UTC or
 * client-local), then converted back to instants: "every Monday 08:00 local"
 * stays 08:00 local whatever the offset.
 */
import type { AssignmentSchedule, Recurrence, ScheduledTime } from '../site/model.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;

/** "2026-11-26T08:00" or "…:00" or "…:00.000"; anything with its own zone is read as that instant. */
const WALL_CLOCK = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?$/;

/**
 * Milliseconds since the epoch of a wall-clock string read as UTC, or NaN when
 * it is not a date-time. A string carrying its own zone ("Z", "+01:00") is
 * taken as that instant (`zoned: true`) and no offset is applied to it.
 */
function parseWallClock(text: string): { ms: number; zoned: boolean } {
  const m = WALL_CLOCK.exec(text.trim());
  if (m === null) {
    const zoned = Date.parse(text);
    return { ms: /(?:Z|[+-]\d{2}:?\d{2})$/i.test(text.trim()) ? zoned : NaN, zoned: true };
  }
  const [, y, mo, d, h, mi, s, frac] = m;
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s ?? 0), Number((frac ?? '0').padEnd(3, '0')));
  // Date.UTC rolls 2026-02-30 over to March: refuse instead.
  const check = new Date(ms);
  if (check.getUTCMonth() !== Number(mo) - 1 || check.getUTCDate() !== Number(d)) return { ms: NaN, zoned: false };
  return { ms, zoned: false };
}

/** Offset (ms) between the schedule's wall clock and UTC: 0 for UTC times, the client's offset otherwise. */
function wallOffsetMs(t: ScheduledTime, offsetMinutes: number): number {
  return t.utc ? 0 : offsetMinutes * MINUTE;
}

/** The instant (ms since epoch) a scheduled time denotes for this client; NaN if the text is not a date-time. */
export function instantOf(t: ScheduledTime, offsetMinutes: number): number {
  const { ms, zoned } = parseWallClock(t.at);
  return zoned ? ms : ms - wallOffsetMs(t, offsetMinutes);
}

/**
 * Rule 30: available from `available` on (null = as soon as deployed). An
 * unreadable time counts as not available: the wizard validates times, so this
 * only happens with a damaged record, and not running is the safe side.
 */
export function isAvailable(available: ScheduledTime | null, now: Date, offsetMinutes: number): boolean {
  if (available === null) return true;
  const at = instantOf(available, offsetMinutes);
  return !Number.isNaN(at) && now.getTime() >= at;
}

/** Rule 30: expired from `expires` on (null = never). An unreadable time counts as expired (safe side). */
export function isExpired(expires: ScheduledTime | null, now: Date, offsetMinutes: number): boolean {
  if (expires === null) return false;
  const at = instantOf(expires, offsetMinutes);
  return Number.isNaN(at) || now.getTime() >= at;
}

// ---------------------------------------------------------------------------
// Recurrences, on the wall clock (ms values below are wall-clock "as if UTC")
// ---------------------------------------------------------------------------

function daysInMonth(year: number, month0: number): number {
  return new Date(Date.UTC(year, month0 + 1, 0)).getUTCDate();
}

/** Day of month of the `week`-th (1–4, 0 = last) `dayOfWeek` (0 = Sunday). */
export function nthWeekdayOfMonth(year: number, month0: number, week: number, dayOfWeek: number): number {
  if (week === 0) {
    const last = daysInMonth(year, month0);
    const lastDow = new Date(Date.UTC(year, month0, last)).getUTCDay();
    return last - ((lastDow - dayOfWeek + 7) % 7);
  }
  const firstDow = new Date(Date.UTC(year, month0, 1)).getUTCDay();
  return 1 + ((dayOfWeek - firstDow + 7) % 7) + (week - 1) * 7;
}

/** Day of month for "day N" (0 = last day; a day past the month's end runs on its last day). */
function dayOfMonthFor(year: number, month0: number, dayOfMonth: number): number {
  const last = daysInMonth(year, month0);
  return dayOfMonth === 0 || dayOfMonth > last ? last : dayOfMonth;
}

/**
 * A recurrence as a monotonic sequence of wall-clock occurrences: `at(k)` for
 * k = 0, 1, 2…, with `firstIndexAfter(t)` an index whose occurrence is
 * near t (callers step from there).
 */
interface Series {
  at(k: number): number;
  /** A k with at(k-1) <= t roughly; exact search steps ±1 from here. */
  guess(t: number): number;
}

function timeOfDay(ms: number): number {
  return ((ms % DAY) + DAY) % DAY;
}

function monthIndex(ms: number): number {
  const d = new Date(ms);
  return d.getUTCFullYear() * 12 + d.getUTCMonth();
}

function seriesOf(recurrence: Recurrence, startWall: number): Series | null {
  switch (recurrence.kind) {
    case 'custom': {
      const unit = recurrence.unit === 'minutes' ? MINUTE : recurrence.unit === 'hours' ? HOUR : DAY;
      const period = recurrence.every * unit;
      if (!(period > 0)) return null;
      return { at: (k) => startWall + k * period, guess: (t) => Math.floor((t - startWall) / period) };
    }
    case 'weekly': {
      const period = recurrence.everyWeeks * WEEK;
      if (!(period > 0)) return null;
      // First occurrence: the first `dayOfWeek` on or after the start, at the start's time of day.
      const shift = ((recurrence.dayOfWeek - new Date(startWall).getUTCDay() + 7) % 7) * DAY;
      const first = startWall + shift;
      return { at: (k) => first + k * period, guess: (t) => Math.floor((t - first) / period) };
    }
    case 'monthly-date':
    case 'monthly-weekday': {
      const every = recurrence.everyMonths;
      if (!(every > 0)) return null;
      const startMonth = monthIndex(startWall);
      const tod = timeOfDay(startWall);
      // k counts periods from the start's month; occurrences before the start are skipped by the caller.
      const at = (k: number): number => {
        const m = startMonth + k * every;
        const year = Math.floor(m / 12);
        const month0 = m - year * 12;
        const day = recurrence.kind === 'monthly-date'
          ? dayOfMonthFor(year, month0, recurrence.dayOfMonth)
          : nthWeekdayOfMonth(year, month0, recurrence.week, recurrence.dayOfWeek);
        return Date.UTC(year, month0, day) + tod;
      };
      return { at, guess: (t) => Math.floor((monthIndex(t) - startMonth) / every) };
    }
  }
}

/** The first k whose occurrence is at or after the start (monthly series may begin before it). */
function firstIndex(series: Series, startWall: number): number {
  let k = 0;
  while (series.at(k) < startWall) k++;
  return k;
}

/** Latest occurrence at or before `tWall` (wall clock), or null if none yet. */
function lastAtOrBefore(series: Series, startWall: number, tWall: number): number | null {
  const k0 = firstIndex(series, startWall);
  if (series.at(k0) > tWall) return null;
  let k = Math.max(k0, series.guess(tWall));
  while (series.at(k) > tWall && k > k0) k--;
  while (series.at(k + 1) <= tWall) k++;
  return series.at(k);
}

/** Earliest occurrence strictly after `tWall` (wall clock). */
function firstAfter(series: Series, startWall: number, tWall: number): number {
  const k0 = firstIndex(series, startWall);
  let k = Math.max(k0, series.guess(tWall));
  while (k > k0 && series.at(k - 1) > tWall) k--;
  while (series.at(k) <= tWall) k++;
  return series.at(k);
}

type TimedSchedule = Extract<AssignmentSchedule, { kind: 'at' | 'recurring' }>;

/**
 * The latest occurrence (instant, ms) of a timed assignment at or before `now`,
 * or null when it has not occurred yet (or its start time is unreadable).
 */
export function previousOccurrence(schedule: TimedSchedule, now: Date, offsetMinutes: number): number | null {
  const start = instantOf(schedule.start, offsetMinutes);
  if (Number.isNaN(start)) return null;
  if (schedule.kind === 'at') return start <= now.getTime() ? start : null;
  const off = wallOffsetMs(schedule.start, offsetMinutes);
  const series = seriesOf(schedule.recurrence, start + off);
  if (series === null) return start <= now.getTime() ? start : null;
  const wall = lastAtOrBefore(series, start + off, now.getTime() + off);
  return wall === null ? null : wall - off;
}

/** The next occurrence (instant, ms) strictly after `after`, or null if there is none (one-off already past). */
export function nextOccurrence(schedule: TimedSchedule, after: Date, offsetMinutes: number): number | null {
  const start = instantOf(schedule.start, offsetMinutes);
  if (Number.isNaN(start)) return null;
  if (schedule.kind === 'at') return start > after.getTime() ? start : null;
  const off = wallOffsetMs(schedule.start, offsetMinutes);
  const series = seriesOf(schedule.recurrence, start + off);
  if (series === null) return start > after.getTime() ? start : null;
  return firstAfter(series, start + off, after.getTime() + off) - off;
}

export interface DueContext {
  now: Date;
  offsetMinutes: number;
  /** The full-OS event being evaluated, if any (logon/logoff assignments). */
  event: 'logon' | 'logoff' | null;
  /** When this device last ran the deployment (ms), or null if never. */
  lastRunAt: number | null;
  /** The deployment's available instant (ms), or null when available since creation. */
  availableAt: number | null;
}

/**
 * A required deployment is due when one of its assignments has an occurrence
 * the device has not acted on yet: at or before now, and after its last run.
 * - "As soon as possible" occurs once, when the deployment becomes available.
 * - Logon/logoff occur at each such event (`ctx.event`).
 * So a one-off or ASAP assignment that already ran is not due again (no loop),
 * while a recurring one is due again at its next occurrence; whether it may
 * rerun at all is the rerun setting's business (rerun.ts, rules 36–39).
 */
export function isAssignmentDue(schedule: AssignmentSchedule, ctx: DueContext): boolean {
  const unseen = (occurrence: number | null): boolean =>
    occurrence !== null && occurrence <= ctx.now.getTime() && (ctx.lastRunAt === null || occurrence > ctx.lastRunAt);
  switch (schedule.kind) {
    case 'asap':
      return unseen(ctx.availableAt ?? Number.NEGATIVE_INFINITY);
    case 'logon':
    case 'logoff':
      return ctx.event === schedule.kind;
    case 'at':
    case 'recurring':
      return unseen(previousOccurrence(schedule, ctx.now, ctx.offsetMinutes));
  }
}

/** Any of the deployment's assignments is due (rule 30: several are allowed). */
export function isDue(assignments: readonly AssignmentSchedule[], ctx: DueContext): boolean {
  return assignments.some((a) => isAssignmentDue(a, ctx));
}
