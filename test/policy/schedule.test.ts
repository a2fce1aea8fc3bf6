/** Schedule maths (rule 30): instants, availability, recurrences, due. */
import { describe, expect, it } from 'vitest';
import type { AssignmentSchedule, Recurrence } from '../../src/site/model.js';
import {
  instantOf, isAssignmentDue, isAvailable, isDue, isExpired, nextOccurrence, nthWeekdayOfMonth, previousOccurrence,
  type DueContext,
} from '../../src/policy/schedule.js';

const ms = (iso: string) => Date.parse(iso);
const iso = (n: number | null) => (n === null ? null : new Date(n).toISOString());
const recurring = (at: string, recurrence: Recurrence, utc = true): Extract<AssignmentSchedule, { kind: 'recurring' }> =>
  ({ kind: 'recurring', start: { at, utc }, recurrence });

describe('instantOf: UTC vs client-local wall clock', () => {
  it.each([
    ['2026-11-26T08:00:00', true, 120, '2026-11-26T08:00:00.000Z'],
    ['2026-11-26T08:00:00', false, 120, '2026-11-26T06:00:00.000Z'],
    ['2026-11-26T08:00:00', false, -300, '2026-11-26T13:00:00.000Z'],
    ['2026-11-26T08:00', false, 0, '2026-11-26T08:00:00.000Z'],
    ['2026-11-26T08:00:00.5', true, 0, '2026-11-26T08:00:00.500Z'],
    ['2026-11-26T08:00:00Z', false, 120, '2026-11-26T08:00:00.000Z'], // carries its own zone
    ['2026-11-26T08:00:00+01:00', false, 120, '2026-11-26T07:00:00.000Z'],
  ])('%s utc=%s offset=%i → %s', (at, utc, offset, expected) => {
    expect(new Date(instantOf({ at, utc }, offset)).toISOString()).toBe(expected);
  });
  it.each(['2026-02-30T08:00:00', 'tomorrow', '', '2026-13-01T00:00:00'])('%j is not a time (NaN)', (at) => {
    expect(instantOf({ at, utc: true }, 0)).toBeNaN();
  });
});

describe('isAvailable / isExpired', () => {
  const now = new Date('2026-11-26T12:00:00Z');
  it('null means always available, never expired', () => {
    expect(isAvailable(null, now, 0)).toBe(true);
    expect(isExpired(null, now, 0)).toBe(false);
  });
  it('boundaries: available at the instant, expired at the instant', () => {
    expect(isAvailable({ at: '2026-11-26T12:00:00', utc: true }, now, 0)).toBe(true);
    expect(isAvailable({ at: '2026-11-26T12:00:01', utc: true }, now, 0)).toBe(false);
    expect(isExpired({ at: '2026-11-26T12:00:00', utc: true }, now, 0)).toBe(true);
    expect(isExpired({ at: '2026-11-26T12:00:01', utc: true }, now, 0)).toBe(false);
  });
  it('client-local: 13:00 local is past at UTC+2, future at UTC', () => {
    const t = { at: '2026-11-26T13:00:00', utc: false };
    expect(isAvailable(t, now, 120)).toBe(true);
    expect(isAvailable(t, now, 0)).toBe(false);
    expect(isExpired(t, now, 120)).toBe(true);
  });
  it('an unreadable time is the safe side: not available, expired', () => {
    expect(isAvailable({ at: 'garbage', utc: true }, now, 0)).toBe(false);
    expect(isExpired({ at: 'garbage', utc: true }, now, 0)).toBe(true);
  });
});

describe('nthWeekdayOfMonth', () => {
  it.each([
    // year, month0, week, dow, day
    [2026, 10, 1, 1, 2],   // first Monday of Nov 2026
    [2026, 10, 4, 4, 26],  // fourth Thursday (Thanksgiving)
    [2026, 10, 0, 1, 30],  // last Monday of Nov 2026
    [2026, 1, 0, 6, 28],   // last Saturday of Feb 2026 (Feb 28 is a Saturday)
    [2024, 1, 0, 4, 29],   // last Thursday of Feb 2024 (leap day)
    [2026, 4, 0, 0, 31],   // last Sunday of May 2026 (the 31st)
    [2026, 8, 1, 2, 1],    // first Tuesday of Sep 2026 is the 1st
  ])('%i-%i week %i dow %i → %i', (y, m, w, d, expected) => {
    expect(nthWeekdayOfMonth(y, m, w, d)).toBe(expected);
  });
});

describe('recurrences: previous and next occurrence', () => {
  it('custom: every 6 hours from the start', () => {
    const s = recurring('2026-11-01T00:00:00', { kind: 'custom', every: 6, unit: 'hours' });
    expect(iso(previousOccurrence(s, new Date('2026-11-26T13:00:00Z'), 0))).toBe('2026-11-26T12:00:00.000Z');
    expect(iso(nextOccurrence(s, new Date('2026-11-26T12:00:00Z'), 0))).toBe('2026-11-26T18:00:00.000Z');
    expect(previousOccurrence(s, new Date('2026-10-31T23:59:59Z'), 0)).toBeNull();
    expect(iso(nextOccurrence(s, new Date('2020-01-01T00:00:00Z'), 0))).toBe('2026-11-01T00:00:00.000Z');
  });
  it('weekly: every 2 weeks on Monday, starting on a Wednesday', () => {
    const s = recurring('2026-11-04T08:00:00', { kind: 'weekly', everyWeeks: 2, dayOfWeek: 1 });
    // First Monday on/after Wed 4 Nov is 9 Nov; then 23 Nov, 7 Dec.
    expect(previousOccurrence(s, new Date('2026-11-09T07:59:00Z'), 0)).toBeNull();
    expect(iso(previousOccurrence(s, new Date('2026-11-26T00:00:00Z'), 0))).toBe('2026-11-23T08:00:00.000Z');
    expect(iso(nextOccurrence(s, new Date('2026-11-23T08:00:00Z'), 0))).toBe('2026-12-07T08:00:00.000Z');
  });
  it('weekly, client-local: stays 08:00 on the client wall clock', () => {
    const s = recurring('2026-11-02T08:00:00', { kind: 'weekly', everyWeeks: 1, dayOfWeek: 1 }, false);
    // At UTC+1, Monday 08:00 local = 07:00Z.
    expect(iso(previousOccurrence(s, new Date('2026-11-26T00:00:00Z'), 60))).toBe('2026-11-23T07:00:00.000Z');
    // At UTC-10 the client's Monday 08:00 is 18:00Z.
    expect(iso(previousOccurrence(s, new Date('2026-11-26T00:00:00Z'), -600))).toBe('2026-11-23T18:00:00.000Z');
  });
  it('monthly by date: the 31st runs on the last day of shorter months', () => {
    const s = recurring('2026-01-31T22:00:00', { kind: 'monthly-date', everyMonths: 1, dayOfMonth: 31 });
    expect(iso(nextOccurrence(s, new Date('2026-02-01T00:00:00Z'), 0))).toBe('2026-02-28T22:00:00.000Z');
    expect(iso(nextOccurrence(s, new Date('2026-03-01T00:00:00Z'), 0))).toBe('2026-03-31T22:00:00.000Z');
    expect(iso(nextOccurrence(s, new Date('2026-04-01T00:00:00Z'), 0))).toBe('2026-04-30T22:00:00.000Z');
  });
  it('monthly by date: day 0 is the last day, leap February included', () => {
    const s = recurring('2024-01-01T00:00:00', { kind: 'monthly-date', everyMonths: 1, dayOfMonth: 0 });
    expect(iso(nextOccurrence(s, new Date('2024-02-01T00:00:00Z'), 0))).toBe('2024-02-29T00:00:00.000Z');
    expect(iso(previousOccurrence(s, new Date('2025-03-01T00:00:00Z'), 0))).toBe('2025-02-28T00:00:00.000Z');
  });
  it('monthly by date: a start after the day in its month begins the next period', () => {
    const s = recurring('2026-11-20T09:00:00', { kind: 'monthly-date', everyMonths: 3, dayOfMonth: 5 });
    expect(previousOccurrence(s, new Date('2026-12-31T00:00:00Z'), 0)).toBeNull();
    expect(iso(nextOccurrence(s, new Date('2026-11-20T09:00:00Z'), 0))).toBe('2027-02-05T09:00:00.000Z');
    expect(iso(nextOccurrence(s, new Date('2027-02-05T09:00:00Z'), 0))).toBe('2027-05-05T09:00:00.000Z');
  });
  it('monthly by weekday: last Friday every month; second Tuesday (patch Tuesday)', () => {
    const lastFriday = recurring('2026-01-01T20:00:00', { kind: 'monthly-weekday', everyMonths: 1, week: 0, dayOfWeek: 5 });
    expect(iso(previousOccurrence(lastFriday, new Date('2026-11-26T12:00:00Z'), 0))).toBe('2026-10-30T20:00:00.000Z');
    expect(iso(nextOccurrence(lastFriday, new Date('2026-11-26T12:00:00Z'), 0))).toBe('2026-11-27T20:00:00.000Z');
    expect(iso(nextOccurrence(lastFriday, new Date('2026-11-27T20:00:00Z'), 0))).toBe('2026-12-25T20:00:00.000Z');
    const patchTuesday = recurring('2026-01-01T18:00:00', { kind: 'monthly-weekday', everyMonths: 1, week: 2, dayOfWeek: 2 });
    expect(iso(previousOccurrence(patchTuesday, new Date('2026-11-26T12:00:00Z'), 0))).toBe('2026-11-10T18:00:00.000Z');
  });
  it('crosses the year end', () => {
    const s = recurring('2026-12-31T23:30:00', { kind: 'custom', every: 1, unit: 'days' });
    expect(iso(nextOccurrence(s, new Date('2026-12-31T23:30:00Z'), 0))).toBe('2027-01-01T23:30:00.000Z');
    const m = recurring('2026-12-15T00:00:00', { kind: 'monthly-date', everyMonths: 2, dayOfMonth: 15 });
    expect(iso(nextOccurrence(m, new Date('2026-12-15T00:00:00Z'), 0))).toBe('2027-02-15T00:00:00.000Z');
  });
  it('one-off "at": previous only once past, next only before', () => {
    const s: AssignmentSchedule = { kind: 'at', start: { at: '2026-11-26T08:00:00', utc: true } };
    expect(previousOccurrence(s, new Date('2026-11-26T07:59:59Z'), 0)).toBeNull();
    expect(iso(previousOccurrence(s, new Date('2026-11-26T08:00:00Z'), 0))).toBe('2026-11-26T08:00:00.000Z');
    expect(nextOccurrence(s, new Date('2026-11-26T08:00:00Z'), 0)).toBeNull();
  });
  it('a degenerate recurrence (every 0) behaves as a one-off', () => {
    const s = recurring('2026-11-26T08:00:00', { kind: 'custom', every: 0, unit: 'hours' });
    expect(iso(previousOccurrence(s, new Date('2026-12-01T00:00:00Z'), 0))).toBe('2026-11-26T08:00:00.000Z');
  });
  it('brute force: previous/next agree with stepping through the series', () => {
    const s = recurring('2026-01-31T06:00:00', { kind: 'monthly-date', everyMonths: 1, dayOfMonth: 30 });
    let t = new Date('2026-01-01T00:00:00Z');
    const seen: string[] = [];
    for (let i = 0; i < 14; i++) {
      const n = nextOccurrence(s, t, 0)!;
      expect(previousOccurrence(s, new Date(n), 0)).toBe(n);
      expect(previousOccurrence(s, new Date(n - 1), 0)).toBe(i === 0 ? null : ms(seen[i - 1]!));
      seen.push(new Date(n).toISOString());
      t = new Date(n);
    }
    expect(seen.slice(0, 4)).toEqual(['2026-02-28T06:00:00.000Z', '2026-03-30T06:00:00.000Z', '2026-04-30T06:00:00.000Z', '2026-05-30T06:00:00.000Z']);
  });
});

describe('isDue', () => {
  const base: DueContext = { now: new Date('2026-11-26T12:00:00Z'), offsetMinutes: 0, event: null, lastRunAt: null, availableAt: null };
  const daily = recurring('2026-11-01T09:00:00', { kind: 'custom', every: 1, unit: 'days' });
  it('a passed occurrence not yet acted on is due; once run after it, not', () => {
    expect(isAssignmentDue(daily, base)).toBe(true);
    expect(isAssignmentDue(daily, { ...base, lastRunAt: ms('2026-11-26T09:30:00Z') })).toBe(false);
    expect(isAssignmentDue(daily, { ...base, lastRunAt: ms('2026-11-25T09:30:00Z') })).toBe(true);
  });
  it('ASAP: due at once, not again after a run, due again if the deployment became available after the run', () => {
    expect(isAssignmentDue({ kind: 'asap' }, base)).toBe(true);
    expect(isAssignmentDue({ kind: 'asap' }, { ...base, lastRunAt: ms('2026-11-01T00:00:00Z') })).toBe(false);
    expect(isAssignmentDue({ kind: 'asap' }, { ...base, availableAt: ms('2026-11-20T00:00:00Z'), lastRunAt: ms('2026-11-01T00:00:00Z') })).toBe(true);
    expect(isAssignmentDue({ kind: 'asap' }, { ...base, availableAt: ms('2026-11-27T00:00:00Z') })).toBe(false);
  });
  it('logon / logoff: only on the event', () => {
    expect(isAssignmentDue({ kind: 'logon' }, { ...base, event: 'logon' })).toBe(true);
    expect(isAssignmentDue({ kind: 'logon' }, { ...base, event: 'logoff' })).toBe(false);
    expect(isAssignmentDue({ kind: 'logoff' }, { ...base, event: 'logoff' })).toBe(true);
  });
  it('no assignments: never due; any one due makes the deployment due', () => {
    expect(isDue([], base)).toBe(false);
    expect(isDue([{ kind: 'logon' }, { kind: 'at', start: { at: '2026-11-26T11:00:00', utc: true } }], base)).toBe(true);
  });
});
