/**
 * One describe block per spec rule (shared/spec/configmgr-rules.md). Each block
 * holds the positive and the negative case side by side, so removing the rule
 * from the code fails the block.
 */
import { describe, expect, it } from 'vitest';
import { ALL_UNKNOWN_COMPUTERS_ID, AVAILABLE_TO, X64_UNKNOWN_ID, X86_UNKNOWN_ID } from '../../src/site/model.js';
import { ADVERT_FLAGS, advertFlagsOf, visibilityExclusion } from '../../src/policy/availability.js';
import {
  allSystems, allUnknown, ask, BOOT_SOURCES, CLIENT_STATES, collection, deployment, device, NOW, offeredIds,
  reasonOf, site, status, taskSequence, unknownObject, vars,
} from './fixtures.js';

const PC = '16777217';

describe('rule 14: a disabled task sequence is not offered', () => {
  const snapWith = (disabled: boolean) => site({
    taskSequences: [taskSequence('PXP00T01', { disabled })],
    deployments: [deployment('PXP20001'), deployment('PXP20002', { purpose: 'required' })],
  });
  it.each(BOOT_SOURCES)('%s: enabled → offered; disabled → excluded as task-sequence-disabled', (bootSource) => {
    expect(offeredIds(ask(snapWith(false), { bootSource }))).toEqual(['PXP20002', 'PXP20001']);
    const d = ask(snapWith(true), { bootSource });
    expect(d.offered).toEqual([]);
    expect(d.autoRun).toBeNull();
    expect(reasonOf(d, 'PXP20001')).toBe('task-sequence-disabled');
    expect(reasonOf(d, 'PXP20002')).toBe('task-sequence-disabled');
  });
});

describe('rule 18: exactly four availability targets, each with its own visibility', () => {
  it('every value gives a distinct row of the (full-os, pxe, media) visibility matrix', () => {
    expect(AVAILABLE_TO).toHaveLength(4);
    const rows = AVAILABLE_TO.map((a) => BOOT_SOURCES.map((b) => visibilityExclusion(a, b) ?? 'listed').join('/'));
    expect(new Set(rows).size).toBe(4);
  });
});

describe('rule 19: PXE and media see only deployments made available to media and PXE', () => {
  const snap = site({
    deployments: [deployment('PXP20001', { availableTo: 'clients-only' }), deployment('PXP20002', { availableTo: 'clients-media-pxe' })],
  });
  it.each(['pxe', 'media'] as const)('%s: clients-only excluded, clients-media-pxe offered', (bootSource) => {
    const d = ask(snap, { bootSource });
    expect(offeredIds(d)).toEqual(['PXP20002']);
    expect(reasonOf(d, 'PXP20001')).toBe('clients-only');
  });
  it('full OS: both offered', () => {
    expect(offeredIds(ask(snap, { bootSource: 'full-os' }))).toEqual(['PXP20001', 'PXP20002']);
  });
});

describe('rule 20: hidden + SMSTSPreferredAdvertID boots to the deployment with no interaction', () => {
  const snap = site({ deployments: [deployment('PXP20001', { availableTo: 'media-pxe-hidden' }), deployment('PXP20002')] });
  it('with the variable: runs the hidden deployment, no prompt', () => {
    const d = ask(snap, { bootSource: 'media', clientVariables: vars({ SMSTSPreferredAdvertID: 'PXP20001' }) });
    expect(d.autoRun?.deploymentId).toBe('PXP20001');
    expect(d.prompt).toBe(false);
    expect(d.excluded).toEqual([]);
  });
  it('without it: the hidden one does not run and the user is prompted for the others', () => {
    const d = ask(snap, { bootSource: 'media' });
    expect(d.autoRun).toBeNull();
    expect(d.prompt).toBe(true);
    expect(offeredIds(d)).toEqual(['PXP20002']);
  });
});

describe('rules 21/22: AdvertFlags bit mapping and the visibility matrix', () => {
  it('maps each target to its bits (18; 18+28; 18+28+29)', () => {
    expect(advertFlagsOf('clients-only')).toBe(0);
    expect(advertFlagsOf('clients-media-pxe')).toBe(0x40000);
    expect(advertFlagsOf('media-pxe')).toBe(0x40000 | 0x10000000);
    expect(advertFlagsOf('media-pxe-hidden')).toBe(0x40000 | 0x10000000 | 0x20000000);
    // Rule 22: bits 28/29 never without bit 18.
    for (const a of AVAILABLE_TO) {
      const f = advertFlagsOf(a);
      if (f & (ADVERT_FLAGS.TARGETTOWINPE | ADVERT_FLAGS.HIDDENINWINPE)) expect(f & ADVERT_FLAGS.ENABLE_TS_FROM_CD_AND_PXE).not.toBe(0);
    }
  });
  it.each([
    // availableTo,        full-os,          pxe,            media
    ['clients-only',       'listed',         'clients-only', 'clients-only'],
    ['clients-media-pxe',  'listed',         'listed',       'listed'],
    ['media-pxe',          'media-pxe-only', 'listed',       'listed'],
    ['media-pxe-hidden',   'media-pxe-only', 'hidden',       'hidden'],
  ] as const)('%s → full-os %s, pxe %s, media %s', (availableTo, fullOs, pxe, media) => {
    const snap = site({ deployments: [deployment('PXP20001', { availableTo })] });
    const expected = { 'full-os': fullOs, pxe, media } as const;
    for (const bootSource of BOOT_SOURCES) {
      const d = ask(snap, { bootSource });
      const got = d.offered.length === 1 ? 'listed' : reasonOf(d, 'PXP20001');
      expect([bootSource, got]).toEqual([bootSource, expected[bootSource]]);
    }
  });
});

describe('rule 23: hidden never listed in WinPE; media/PXE-only never in the full OS', () => {
  const snap = site({
    deployments: [
      deployment('PXP20001', { availableTo: 'media-pxe-hidden', purpose: 'required' }),
      deployment('PXP20002', { availableTo: 'media-pxe' }),
    ],
  });
  it('WinPE: hidden (even required) is neither listed nor auto-run; media-pxe is listed', () => {
    const d = ask(snap, { bootSource: 'pxe' });
    expect(offeredIds(d)).toEqual(['PXP20002']);
    expect(d.autoRun).toBeNull();
    expect(reasonOf(d, 'PXP20001')).toBe('hidden');
  });
  it('full OS: neither', () => {
    const d = ask(snap, { bootSource: 'full-os' });
    expect(d.offered).toEqual([]);
    expect(reasonOf(d, 'PXP20001')).toBe('media-pxe-only');
    expect(reasonOf(d, 'PXP20002')).toBe('media-pxe-only');
  });
});

describe('rule 24: SMSTSPreferredAdvertID runs that deployment and overrides required ones', () => {
  const snap = site({
    deployments: [deployment('PXP20001'), deployment('PXP20009', { purpose: 'required', scheduling: { assignments: [{ kind: 'asap' }] } })],
  });
  it('without it the required deployment runs', () => {
    expect(ask(snap).autoRun?.deploymentId).toBe('PXP20009');
  });
  it('with it (name case-insensitive, id case-insensitive) the named one runs instead, no prompt', () => {
    const d = ask(snap, { clientVariables: vars({ smstspreferredadvertid: 'pxp20001' }) });
    expect(d.autoRun?.deploymentId).toBe('PXP20001');
    expect(d.prompt).toBe(false);
    expect(d.preferredError).toBeNull();
    expect(d.preferredSource).toBe('client');
  });
  it('full-OS clients ignore it (a WinPE variable)', () => {
    const d = ask(snap, { bootSource: 'full-os', clientVariables: vars({ SMSTSPreferredAdvertID: 'PXP20001' }) });
    expect(d.autoRun?.deploymentId).toBe('PXP20009');
    expect(d.preferredSource).toBeNull();
  });
  it('comes from collection < device < client variables (rule 113 precedence)', () => {
    const withVars = site({
      devices: [device(PC, { variables: vars({ SMSTSPreferredAdvertID: 'PXP20002' }) }), unknownObject('x86'), unknownObject('x64')],
      collections: [allSystems(), allUnknown(), collection('PXP00C01', { directMemberIds: [PC], variables: vars({ SMSTSPreferredAdvertID: 'PXP20001' }) })],
      deployments: [deployment('PXP20001'), deployment('PXP20002'), deployment('PXP20003'), deployment('PXP20009', { purpose: 'required' })],
    });
    const known = withVars.devices.get(PC)!;
    const fromDevice = ask(withVars, { device: known });
    expect([fromDevice.autoRun?.deploymentId, fromDevice.preferredSource]).toEqual(['PXP20002', 'device']);
    const fromClient = ask(withVars, { device: known, clientVariables: vars({ SMSTSPreferredAdvertID: 'PXP20003' }) });
    expect([fromClient.autoRun?.deploymentId, fromClient.preferredSource]).toEqual(['PXP20003', 'client']);
    const noDevice = ask(withVars, { device: device(PC) }); // a record without the device variable
    expect([noDevice.autoRun?.deploymentId, noDevice.preferredSource]).toEqual(['PXP20001', 'collection']);
    // An empty media variable deletes the inherited value: back to the required deployment.
    const cleared = ask(withVars, { device: known, clientVariables: vars({ SMSTSPreferredAdvertID: '' }) });
    expect([cleared.autoRun?.deploymentId, cleared.preferredSource]).toEqual(['PXP20009', null]);
  });
});

describe('rule 24 vs rerun history: SMSTSPreferredAdvertID forces the run', () => {
  it('media: a required deployment excluded by rerun never still runs when named', () => {
    const dep = deployment('PXP20001', { purpose: 'required', rerun: 'never' });
    const snap = site({ deployments: [dep], statuses: [status(PC, 'PXP20001', CLIENT_STATES.Succeeded)] });
    expect(reasonOf(ask(snap, { bootSource: 'media' }), 'PXP20001')).toBe('rerun-never');
    const d = ask(snap, { bootSource: 'media', clientVariables: vars({ SMSTSPreferredAdvertID: 'PXP20001' }) });
    expect(d.autoRun?.deploymentId).toBe('PXP20001');
    expect(d.excluded).toEqual([]);
  });
});

describe('rule 25: SMSTSPreferredAdvertID must name a targeted, media/PXE-enabled, runnable deployment', () => {
  const snap = site({
    collections: [allSystems(), allUnknown(), collection('PXP00C01', { directMemberIds: [PC] }), collection('PXP00C02')],
    taskSequences: [taskSequence('PXP00T01'), taskSequence('PXP00T02', { disabled: true })],
    deployments: [
      deployment('PXP20001'),
      deployment('PXP20002', { collection: 'PXP00C02' }),
      deployment('PXP20003', { availableTo: 'clients-only' }),
      deployment('PXP20004', { ts: 'PXP00T02' }),
      deployment('PXP20005', { ts: 'PXP00T99' }),
      deployment('PXP20009', { purpose: 'required' }),
    ],
  });
  it('a valid one runs', () => {
    expect(ask(snap, { clientVariables: vars({ SMSTSPreferredAdvertID: 'PXP20001' }) }).autoRun?.deploymentId).toBe('PXP20001');
  });
  it.each([
    ['PXP2FFFF', 'unknown-deployment'],
    ['PXP20002', 'not-targeted'],
    ['PXP20003', 'not-available-to-media-pxe'],
    ['PXP20004', 'task-sequence-disabled'],
    ['PXP20005', 'task-sequence-missing'],
  ])('%s → %s: reported, nothing auto-runs (not even the required one), the user picks', (id, reason) => {
    const d = ask(snap, { clientVariables: vars({ SMSTSPreferredAdvertID: id }) });
    expect(d.preferredError?.reason).toBe(reason);
    expect(d.preferredError?.id).toBe(id);
    expect(d.preferredError?.message).toContain(id);
    expect(d.autoRun).toBeNull();
    expect(d.prompt).toBe(true);
    expect(offeredIds(d)).toContain('PXP20009');
  });
  it('unknown machines: only deployments to All Unknown Computers are targeted', () => {
    const s = site({
      deployments: [deployment('PXP20001'), deployment('PXP20002', { collection: ALL_UNKNOWN_COMPUTERS_ID })],
    });
    const bad = ask(s, { device: null, clientVariables: vars({ SMSTSPreferredAdvertID: 'PXP20001' }) });
    expect(bad.preferredError?.reason).toBe('not-targeted');
    const good = ask(s, { device: null, clientVariables: vars({ SMSTSPreferredAdvertID: 'PXP20002' }) });
    expect(good.autoRun?.deploymentId).toBe('PXP20002');
  });
});

describe('rule 28: WinPE (PXE, media) evaluates no available/expiry time', () => {
  const snap = site({
    deployments: [
      deployment('PXP20001', { scheduling: { available: { at: '2027-01-01T00:00:00', utc: true } } }),
      deployment('PXP20002', { scheduling: { expires: { at: '2026-01-01T00:00:00', utc: true } } }),
    ],
  });
  it.each(['pxe', 'media'] as const)('%s: not-yet-available and expired deployments are offered', (bootSource) => {
    const d = ask(snap, { bootSource });
    expect(offeredIds(d)).toEqual(['PXP20001', 'PXP20002']);
    expect(d.excluded).toEqual([]);
  });
  it('full OS evaluates them', () => {
    const d = ask(snap, { bootSource: 'full-os' });
    expect(d.offered).toEqual([]);
    expect(reasonOf(d, 'PXP20001')).toBe('not-yet-available');
    expect(reasonOf(d, 'PXP20002')).toBe('expired');
  });
});

describe('rule 29: in WinPE "required" means "runs without a prompt", not "at the deadline"', () => {
  const snap = site({
    deployments: [
      deployment('PXP20001'),
      deployment('PXP20003', {
        purpose: 'required',
        scheduling: { assignments: [{ kind: 'at', start: { at: '2027-06-01T00:00:00', utc: true } }] },
      }),
    ],
  });
  it.each(['pxe', 'media'] as const)('%s: a required deployment with a future deadline runs now', (bootSource) => {
    const d = ask(snap, { bootSource });
    expect(d.autoRun?.deploymentId).toBe('PXP20003');
    expect(d.autoRun?.due).toBe(true);
    expect(d.prompt).toBe(false);
  });
  it('full OS waits for the deadline: listed, not due, the user may run it early', () => {
    const d = ask(snap, { bootSource: 'full-os' });
    expect(d.autoRun).toBeNull();
    expect(d.offered.find((o) => o.deploymentId === 'PXP20003')?.due).toBe(false);
    expect(d.prompt).toBe(true);
  });
});

describe('rule 30: full-OS schedules — UTC or client-local, assignments make required ones due', () => {
  const at = (iso: string, utc: boolean) => ({ at: iso, utc });
  const fullOs = (snapDeps: ReturnType<typeof deployment>[], over: Parameters<typeof ask>[1] = {}) =>
    ask(site({ deployments: snapDeps }), { bootSource: 'full-os', ...over });

  it('available time in UTC is the same instant everywhere; local time depends on the client offset', () => {
    // NOW = 12:00Z. Available at 13:00.
    const utc = deployment('PXP20001', { scheduling: { available: at('2026-11-26T13:00:00', true) } });
    const local = deployment('PXP20001', { scheduling: { available: at('2026-11-26T13:00:00', false) } });
    expect(reasonOf(fullOs([utc], { clientUtcOffsetMinutes: 120 }), 'PXP20001')).toBe('not-yet-available');
    // 13:00 at UTC+2 is 11:00Z: already available.
    expect(offeredIds(fullOs([local], { clientUtcOffsetMinutes: 120 }))).toEqual(['PXP20001']);
    expect(reasonOf(fullOs([local], { clientUtcOffsetMinutes: 0 }), 'PXP20001')).toBe('not-yet-available');
  });
  it('expiry: UTC vs client-local', () => {
    const local = deployment('PXP20001', { scheduling: { expires: at('2026-11-26T13:00:00', false) } });
    expect(reasonOf(fullOs([local], { clientUtcOffsetMinutes: 120 }), 'PXP20001')).toBe('expired');
    expect(offeredIds(fullOs([local], { clientUtcOffsetMinutes: -60 }))).toEqual(['PXP20001']);
  });
  it('a required deployment runs once an assignment time has passed, not before', () => {
    const past = deployment('PXP20001', { purpose: 'required', scheduling: { assignments: [{ kind: 'at', start: at('2026-11-26T11:00:00', true) }] } });
    const future = deployment('PXP20001', { purpose: 'required', scheduling: { assignments: [{ kind: 'at', start: at('2026-11-26T13:00:00', true) }] } });
    expect(fullOs([past]).autoRun?.deploymentId).toBe('PXP20001');
    const d = fullOs([future]);
    expect(d.autoRun).toBeNull();
    expect(d.offered[0]?.due).toBe(false);
    expect(d.prompt).toBe(true); // Software Center lists it; the user may run it early (rule 5)
  });
  it('several assignments: any due one counts; ASAP is due at once', () => {
    const d = deployment('PXP20001', {
      purpose: 'required',
      scheduling: { assignments: [{ kind: 'at', start: at('2027-01-01T00:00:00', true) }, { kind: 'asap' }] },
    });
    expect(fullOs([d]).autoRun?.deploymentId).toBe('PXP20001');
  });
  it('logon/logoff assignments are due only on that event', () => {
    const d = deployment('PXP20001', { purpose: 'required', scheduling: { assignments: [{ kind: 'logon' }] } });
    expect(fullOs([d], { event: 'logon' }).autoRun?.deploymentId).toBe('PXP20001');
    expect(fullOs([d], { event: 'logoff' }).autoRun).toBeNull();
    expect(fullOs([d], { event: null }).autoRun).toBeNull();
  });
  it('a recurring assignment is due again after its next occurrence even though it ran before (rerun always)', () => {
    const weekly = deployment('PXP20001', {
      purpose: 'required',
      scheduling: { assignments: [{ kind: 'recurring', start: at('2026-11-02T08:00:00', true), recurrence: { kind: 'weekly', everyWeeks: 1, dayOfWeek: 1 } }] },
    });
    const ranAt = (iso: string) => site({ deployments: [weekly], statuses: [status(PC, 'PXP20001', CLIENT_STATES.Succeeded, iso)] });
    // Last occurrence before NOW (Thu 26 Nov 12:00Z) is Mon 23 Nov 08:00Z.
    expect(ask(ranAt('2026-11-23T09:00:00.000Z'), { bootSource: 'full-os' }).autoRun).toBeNull();
    expect(ask(ranAt('2026-11-20T09:00:00.000Z'), { bootSource: 'full-os' }).autoRun?.deploymentId).toBe('PXP20001');
  });
});

describe('rule 36: never rerun — not again, even after a failure', () => {
  const dep = deployment('PXP20001', { purpose: 'required', rerun: 'never', scheduling: { assignments: [{ kind: 'asap' }] } });
  it.each(['full-os', 'media'] as const)('%s: first run allowed; after any run (failed or succeeded) excluded', (bootSource) => {
    expect(ask(site({ deployments: [dep] }), { bootSource }).autoRun?.deploymentId).toBe('PXP20001');
    for (const state of [CLIENT_STATES.Failed, CLIENT_STATES.Succeeded, CLIENT_STATES.Running]) {
      const d = ask(site({ deployments: [dep], statuses: [status(PC, 'PXP20001', state)] }), { bootSource });
      expect(d.autoRun).toBeNull();
      expect(reasonOf(d, 'PXP20001')).toBe('rerun-never');
    }
    // Accepted / waiting is not a run.
    const waiting = ask(site({ deployments: [dep], statuses: [status(PC, 'PXP20001', CLIENT_STATES.Waiting)] }), { bootSource });
    expect(waiting.autoRun?.deploymentId).toBe('PXP20001');
  });
});

describe('rule 37: always rerun applies to required ones; available ones can always be rerun', () => {
  it('required + always: runs again after success (media: no schedule)', () => {
    const dep = deployment('PXP20001', { purpose: 'required', rerun: 'always' });
    const d = ask(site({ deployments: [dep], statuses: [status(PC, 'PXP20001', CLIENT_STATES.Succeeded)] }), { bootSource: 'media' });
    expect(d.autoRun?.deploymentId).toBe('PXP20001');
    const never = deployment('PXP20001', { purpose: 'required', rerun: 'never' });
    expect(ask(site({ deployments: [never], statuses: [status(PC, 'PXP20001', CLIENT_STATES.Succeeded)] }), { bootSource: 'media' }).autoRun).toBeNull();
  });
  it.each(['full-os', 'media', 'pxe'] as const)('%s: an available deployment with rerun never is still offered after it ran', (bootSource) => {
    const dep = deployment('PXP20001', { purpose: 'available', rerun: 'never' });
    const d = ask(site({ deployments: [dep], statuses: [status(PC, 'PXP20001', CLIENT_STATES.Succeeded)] }), { bootSource });
    expect(offeredIds(d)).toEqual(['PXP20001']);
    expect(d.prompt).toBe(true);
  });
});

describe('rule 38: rerun if failed / if succeeded', () => {
  const run = (rerun: 'if-failed' | 'if-succeeded', state: number | null) => {
    const dep = deployment('PXP20001', { purpose: 'required', rerun, scheduling: { assignments: [{ kind: 'asap' }] } });
    const statuses = state === null ? [] : [status(PC, 'PXP20001', state as never)];
    return ask(site({ deployments: [dep], statuses }), { bootSource: 'media' });
  };
  it.each([
    ['if-failed', CLIENT_STATES.Failed, null],
    ['if-failed', CLIENT_STATES.Succeeded, 'rerun-not-failed'],
    ['if-succeeded', CLIENT_STATES.Succeeded, null],
    ['if-succeeded', CLIENT_STATES.Failed, 'rerun-not-succeeded'],
    ['if-failed', null, null],
    ['if-succeeded', null, null],
  ] as const)('%s after %s → %s', (rerun, state, reason) => {
    const d = run(rerun, state);
    if (reason === null) expect(d.autoRun?.deploymentId).toBe('PXP20001');
    else {
      expect(d.autoRun).toBeNull();
      expect(reasonOf(d, 'PXP20001')).toBe(reason);
    }
  });
  it('full OS: rerun if failed with a one-off assignment reruns only for a new occurrence after the failure', () => {
    const dep = deployment('PXP20001', {
      purpose: 'required', rerun: 'if-failed',
      scheduling: { assignments: [{ kind: 'recurring', start: { at: '2026-11-01T00:00:00', utc: true }, recurrence: { kind: 'custom', every: 1, unit: 'days' } }] },
    });
    const failedYesterday = site({ deployments: [dep], statuses: [status(PC, 'PXP20001', CLIENT_STATES.Failed, '2026-11-25T06:00:00.000Z')] });
    expect(ask(failedYesterday, { bootSource: 'full-os' }).autoRun?.deploymentId).toBe('PXP20001');
    const succeeded = site({ deployments: [dep], statuses: [status(PC, 'PXP20001', CLIENT_STATES.Succeeded, '2026-11-25T06:00:00.000Z')] });
    expect(reasonOf(ask(succeeded, { bootSource: 'full-os' }), 'PXP20001')).toBe('rerun-not-failed');
  });
});

describe('rule 40: a required PXE deployment is delivered once, until Clear Required PXE Deployments', () => {
  const deps = [deployment('PXP20001', { purpose: 'required', rerun: 'always' }), deployment('PXP20002')];
  const marked = device(PC, { pxe: { lastPxeDeploymentId: 'PXP20001', lastPxeDeploymentTime: '2026-11-25T00:00:00.000Z' } });
  it('PXE with the marker: excluded as pxe-already-delivered; the available one needs a key press', () => {
    const d = ask(site({ deployments: deps }), { device: marked });
    expect(d.autoRun).toBeNull();
    expect(reasonOf(d, 'PXP20001')).toBe('pxe-already-delivered');
    expect(offeredIds(d)).toEqual(['PXP20002']);
    expect(d.prompt).toBe(true);
  });
  it('after clearing (marker null) it is delivered again', () => {
    expect(ask(site({ deployments: deps }), { device: device(PC) }).autoRun?.deploymentId).toBe('PXP20001');
  });
  it('the marker only concerns PXE: boot media still runs it (rerun always)', () => {
    expect(ask(site({ deployments: deps }), { device: marked, bootSource: 'media' }).autoRun?.deploymentId).toBe('PXP20001');
  });
  it('the marker also stops SMSTSPreferredAdvertID from re-delivering it over PXE', () => {
    const d = ask(site({ deployments: deps }), { device: marked, clientVariables: vars({ SMSTSPreferredAdvertID: 'PXP20001' }) });
    expect(d.preferredError?.reason).toBe('pxe-already-delivered');
    expect(d.autoRun).toBeNull();
  });
});

describe('open question 2 (rule 78 ordering): several required deployments → highest deployment id wins', () => {
  it('string comparison: a higher site code beats a higher number', () => {
    const snap = site({
      deployments: [
        deployment('AAA2FFFF', { purpose: 'required' }),
        deployment('ZZZ20001', { purpose: 'required' }),
        deployment('PXP20005', { purpose: 'required' }),
      ],
    });
    const d = ask(snap);
    expect(d.autoRun?.deploymentId).toBe('ZZZ20001');
    expect(d.prompt).toBe(false);
  });
  it('when the highest is excluded, the next one runs', () => {
    const snap = site({
      taskSequences: [taskSequence('PXP00T01'), taskSequence('PXP00T02', { disabled: true })],
      deployments: [deployment('PXP20001', { purpose: 'required' }), deployment('PXP20002', { purpose: 'required', ts: 'PXP00T02' })],
    });
    expect(ask(snap).autoRun?.deploymentId).toBe('PXP20001');
  });
});

describe('rule 59: a known device gets the deployments to its collections', () => {
  const snap = site({
    devices: [device(PC, { name: 'LAB-01', macs: ['52:54:00:00:00:01'] }), device('16777218', { name: 'OFFICE-9', architecture: 'x86' }), unknownObject('x86'), unknownObject('x64')],
    collections: [
      allSystems(), allUnknown(),
      collection('PXP00C01', { directMemberIds: [PC] }),
      collection('PXP00C02', { rules: [{ kind: 'name', pattern: 'lab-*' }] }),
      collection('PXP00C03', { rules: [{ kind: 'mac', pattern: '52:54:00:*' }] }),
      collection('PXP00C04', { rules: [{ kind: 'architecture', architecture: 'x86' }] }),
    ],
    deployments: [
      deployment('PXP20000', { collection: 'SMS00001' }),
      deployment('PXP20001', { collection: 'PXP00C01' }),
      deployment('PXP20002', { collection: 'PXP00C02' }),
      deployment('PXP20003', { collection: 'PXP00C03' }),
      deployment('PXP20004', { collection: 'PXP00C04' }),
    ],
  });
  it('direct, name-glob, MAC-glob memberships and All Systems; not the x86 collection', () => {
    const d = ask(snap, { device: snap.devices.get(PC)! });
    expect(offeredIds(d).sort()).toEqual(['PXP20000', 'PXP20001', 'PXP20002', 'PXP20003']);
    expect(d.unknownObjectId).toBeNull();
  });
  it('another device gets only its own', () => {
    expect(offeredIds(ask(snap, { device: snap.devices.get('16777218')! })).sort()).toEqual(['PXP20000', 'PXP20004']);
  });
});

describe('rule 60: a machine without a record gets the deployments to the unknown object', () => {
  const snap = site({ deployments: [deployment('PXP20001', { collection: ALL_UNKNOWN_COMPUTERS_ID, purpose: 'required' })] });
  it('required to All Unknown Computers runs for an unknown machine', () => {
    const d = ask(snap, { device: null });
    expect(d.autoRun?.deploymentId).toBe('PXP20001');
    expect(d.unknownObjectId).toBe(X64_UNKNOWN_ID);
  });
  it('with nothing targeted: nothing offered, nothing runs (the client reports "no deployed task sequence")', () => {
    const d = ask(site(), { device: null });
    expect([d.offered, d.autoRun, d.prompt]).toEqual([[], null, false]);
  });
});

describe('rules 36/40 for unknown machines: the shared unknown object carries no history', () => {
  it('history and PXE marker recorded against the unknown object do not stop an unknown machine', () => {
    const dep = deployment('PXP20001', { collection: ALL_UNKNOWN_COMPUTERS_ID, purpose: 'required', rerun: 'never' });
    const snap = site({
      devices: [device(PC), unknownObject('x86'), { ...unknownObject('x64'), pxe: { lastPxeDeploymentId: 'PXP20001', lastPxeDeploymentTime: null } }],
      deployments: [dep],
      statuses: [status(X64_UNKNOWN_ID, 'PXP20001', CLIENT_STATES.Succeeded)],
    });
    for (const bootSource of ['pxe', 'media'] as const) {
      expect(ask(snap, { device: null, bootSource }).autoRun?.deploymentId).toBe('PXP20001');
    }
  });
});

describe('rule 61: known and unknown deployments never cross', () => {
  const snap = site({
    deployments: [
      deployment('PXP20001', { collection: ALL_UNKNOWN_COMPUTERS_ID }),
      deployment('PXP20002', { collection: 'SMS00001' }),
      deployment('PXP20003', { collection: 'PXP00C01' }),
    ],
  });
  it('a known device gets All Systems and its collections, not All Unknown Computers', () => {
    expect(offeredIds(ask(snap)).sort()).toEqual(['PXP20002', 'PXP20003']);
  });
  it('an unknown machine gets only All Unknown Computers', () => {
    expect(offeredIds(ask(snap, { device: null }))).toEqual(['PXP20001']);
  });
});

describe('rule 62: the unknown object is chosen by hardware capability', () => {
  it.each([
    ['x86', X86_UNKNOWN_ID],
    ['x64', X64_UNKNOWN_ID],
    ['arm64', X64_UNKNOWN_ID], // our choice: 64-bit hardware → x64 object (docs/policy.md)
  ] as const)('%s → %s', (architecture, id) => {
    expect(ask(site(), { device: null, architecture }).unknownObjectId).toBe(id);
  });
});

describe('rule 64: a provisional "Unknown" record is a known device', () => {
  const provisional = device('16777300', { name: 'Unknown', provisional: true, variables: vars({ Role: 'kiosk' }) });
  const snap = site({
    devices: [provisional, unknownObject('x86'), unknownObject('x64')],
    deployments: [
      deployment('PXP20001', { collection: ALL_UNKNOWN_COMPUTERS_ID, purpose: 'required' }),
      deployment('PXP20002', { collection: 'SMS00001' }),
    ],
  });
  it('gets All Systems deployments and its device variables, not the unknown ones', () => {
    const d = ask(snap, { device: provisional });
    expect(offeredIds(d)).toEqual(['PXP20002']);
    expect(d.autoRun).toBeNull();
    expect(d.unknownObjectId).toBeNull();
    expect(d.variables).toEqual(vars({ Role: 'kiosk' }));
  });
  it('the same machine without the record is unknown', () => {
    expect(ask(snap, { device: null }).autoRun?.deploymentId).toBe('PXP20001');
  });
});

describe('rule 65: an unknown machine reads collection variables, not computer variables', () => {
  const snap = site({
    devices: [device(PC, { variables: vars({ Who: 'device' }) }), unknownObject('x86'), { ...unknownObject('x64'), variables: vars({ Who: 'unknown-object' }) }],
    collections: [allSystems({ variables: vars({ Scope: 'all-systems' }) }), allUnknown({ variables: vars({ Scope: 'all-unknown' }) }), collection('PXP00C01', { directMemberIds: [PC] })],
  });
  it('unknown: All Unknown Computers variables only', () => {
    expect(ask(snap, { device: null }).variables).toEqual(vars({ Scope: 'all-unknown' }));
  });
  it('known: its collections and its own variables', () => {
    expect(ask(snap, { device: snap.devices.get(PC)! }).variables).toEqual(vars({ Scope: 'all-systems', Who: 'device' }));
  });
});

describe('rule 113: variable precedence and limits', () => {
  const snapWith = (collVars: Record<string, string>, devVars: Record<string, string>, extra: Parameters<typeof collection>[1] = {}) => site({
    devices: [device(PC, { variables: vars(devVars) }), unknownObject('x86'), unknownObject('x64')],
    collections: [allSystems(), allUnknown(), collection('PXP00C01', { directMemberIds: [PC], variables: vars(collVars), ...extra })],
  });
  const envOf = (snap: ReturnType<typeof site>, client: Record<string, string> = {}) =>
    Object.fromEntries(ask(snap, { device: snap.devices.get(PC)!, clientVariables: vars(client) }).variables.map((v) => [v.name, v.value]));

  it('collection < device < run time, names case-insensitive (the last setter’s spelling kept)', () => {
    const snap = snapWith({ OSDImage: 'coll', Only: 'c' }, { osdimage: 'dev' });
    expect(envOf(snap)).toEqual({ osdimage: 'dev', Only: 'c' });
    expect(envOf(snap, { OSDIMAGE: 'client' })).toEqual({ OSDIMAGE: 'client', Only: 'c' });
  });
  it('an empty value deletes the variable', () => {
    const snap = snapWith({ A: '1', B: '2' }, { A: '' });
    expect(envOf(snap)).toEqual({ B: '2' });
    expect(envOf(snap, { B: '' })).toEqual({});
  });
  it('several collections: built-ins first, then ascending collection id; the later wins', () => {
    const snap = site({
      collections: [
        allSystems({ variables: vars({ X: 'all', Y: 'all' }) }), allUnknown(),
        collection('PXP00C09', { directMemberIds: [PC], variables: vars({ X: 'c9' }) }),
        collection('PXP00C01', { directMemberIds: [PC], variables: vars({ X: 'c1', Z: 'c1' }) }),
      ],
    });
    expect(envOf(snap)).toEqual({ X: 'c9', Y: 'all', Z: 'c1' });
  });
  it('bad names, read-only names and values over 4,000 chars are dropped and reported; good ones kept', () => {
    const long = 'x'.repeat(4001);
    const snap = snapWith({ 'bad name': '1', _SMSTSReadOnly: '1', Long: long, Fine: 'ok', ['N'.repeat(257)]: '1' }, {});
    const d = ask(snap, { device: snap.devices.get(PC)!, clientVariables: vars({ _SMSTSMediaType: 'BootMedia', Max: 'y'.repeat(4000) }) });
    expect(d.variables.map((v) => v.name)).toEqual(['_SMSTSMediaType', 'Fine', 'Max']);
    expect(d.variableProblems.map((p) => [p.name.slice(0, 16), p.problem])).toEqual([
      ['bad name', 'invalid-name'],
      ['_SMSTSReadOnly', 'read-only-name'],
      ['Long', 'value-too-long'],
      ['N'.repeat(16), 'invalid-name'],
    ]);
    expect(d.variableProblems.every((p) => !p.message.includes(long))).toBe(true);
  });
  it('an environment over 8 KB is reported, not truncated', () => {
    const small = snapWith(Object.fromEntries(Array.from({ length: 2 }, (_, i) => [`V${i}`, 'x'.repeat(4000)])), {});
    expect(ask(small, { device: small.devices.get(PC)! }).variableProblems).toEqual([]);
    const big = snapWith(Object.fromEntries(Array.from({ length: 3 }, (_, i) => [`V${i}`, 'x'.repeat(4000)])), {});
    const d = ask(big, { device: big.devices.get(PC)! });
    expect(d.variables).toHaveLength(3);
    expect(d.variableProblems.map((p) => p.problem)).toEqual(['environment-too-large']);
  });
});

describe('decision shape', () => {
  it('offered: required first, then by task sequence name; autoRun is one of them', () => {
    const snap = site({
      taskSequences: [taskSequence('PXP00T01', { name: 'zeta' }), taskSequence('PXP00T02', { name: 'Alpha' })],
      deployments: [
        deployment('PXP20001', { ts: 'PXP00T01' }), deployment('PXP20002', { ts: 'PXP00T02' }),
        deployment('PXP20003', { ts: 'PXP00T01', purpose: 'required' }),
      ],
    });
    const d = ask(snap, { now: NOW });
    expect(offeredIds(d)).toEqual(['PXP20003', 'PXP20002', 'PXP20001']);
    expect(d.autoRun).toBe(d.offered[0]);
  });
});
