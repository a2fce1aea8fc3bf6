import { describe, expect, it } from 'vitest';
import {
  assignmentRetry, chooseInteractively, EXIT, findOffered, selectDeployment, NO_TASK_SEQUENCE,
} from '../../src/client/select.js';
import { deployment, policy, step } from './helpers.js';

const a = deployment('PXP20001', [step({ type: 'set-variable' })], { purpose: 'available' });
const b = deployment('PXP20002', [step({ type: 'set-variable' })], { purpose: 'available' });
const req = deployment('PXP20003', [step({ type: 'set-variable' })], { purpose: 'required' });
const hidden = deployment('PXP20004', [step({ type: 'set-variable' })], { purpose: 'required', availableTo: 'media-pxe-hidden' });

describe('selectDeployment: the WinPE wizard', () => {
  it('runs autoRun (required) with no prompt', () => {
    const s = selectDeployment(policy({ offered: [a, req], autoRun: req }));
    expect(s).toMatchObject({ kind: 'run', how: 'required' });
    expect(s.kind === 'run' && s.deployment.deploymentId).toBe('PXP20003');
  });

  it('tells a preferred auto-run (SMSTSPreferredAdvertID) from a required one', () => {
    const s = selectDeployment(policy({ offered: [a], autoRun: hidden }), { preferredAdvertId: 'pxp20004' });
    expect(s).toMatchObject({ kind: 'run', how: 'preferred' });
  });

  it('ignores --select when something runs without a prompt, with a warning', () => {
    const s = selectDeployment(policy({ offered: [a, req], autoRun: req }), { select: 'PXP20001' });
    expect(s.kind === 'run' && s.deployment.deploymentId).toBe('PXP20003');
    expect(s.kind === 'run' && s.warnings[0]).toMatch(/--select PXP20001 ignored/);
  });

  it('stops with the site\'s words on a preferredError, never running something else', () => {
    const s = selectDeployment(policy({ offered: [a], autoRun: null, preferredError: { id: 'PXP29999', reason: 'unknown-deployment', message: 'no such deployment' } }));
    expect(s).toMatchObject({ kind: 'stop', exitCode: EXIT.noSelection });
    expect(s.kind === 'stop' && s.message).toMatch(/PXP29999.*unknown-deployment.*no such deployment/);
  });

  it('says "no task sequence is available" with exit 3 when nothing is offered (rule 60)', () => {
    expect(selectDeployment(policy())).toEqual({ kind: 'stop', exitCode: 3, message: NO_TASK_SEQUENCE });
  });

  it('answers the prompt with --select', () => {
    const s = selectDeployment(policy({ offered: [a, b], prompt: true }), { select: 'pxp20002' });
    expect(s.kind === 'run' && s.deployment.deploymentId).toBe('PXP20002');
  });

  it('refuses --select of a deployment that is not offered (a hidden one included)', () => {
    const s = selectDeployment(policy({ offered: [a, b], prompt: true }), { select: 'PXP20004' });
    expect(s).toMatchObject({ kind: 'stop', exitCode: EXIT.noSelection });
    expect(s.kind === 'stop' && s.message).toMatch(/not offered.*SMSTSPreferredAdvertID/);
  });

  it('--unattended refuses to guess when a choice is needed, even with one offered', () => {
    const s = selectDeployment(policy({ offered: [a], prompt: true }), { unattended: true });
    expect(s).toMatchObject({ kind: 'stop', exitCode: EXIT.noSelection });
    expect(s.kind === 'stop' && s.message).toMatch(/--unattended does not guess/);
  });

  it('otherwise asks', () => {
    expect(selectDeployment(policy({ offered: [a, b], prompt: true }))).toEqual({ kind: 'choose', offered: [a, b] });
  });
});

describe('chooseInteractively', () => {
  const asker = (answers: (string | null)[]) => {
    const asked: string[] = [];
    return { asked, ask: async (q: string) => (asked.push(q), answers.length ? answers.shift()! : null) };
  };

  it('takes a number or an ID, re-asking on a bad answer', async () => {
    const out: string[] = [];
    const { ask, asked } = asker(['7', 'PXP20002']);
    const s = await chooseInteractively([a, b], ask, (t) => out.push(t));
    expect(s.kind === 'run' && s.deployment.deploymentId).toBe('PXP20002');
    expect(asked).toHaveLength(2);
    expect(out.join('')).toMatch(/1\) PXP20001[\s\S]*2\) PXP20002[\s\S]*"7" is not one of/);
    const s2 = await chooseInteractively([a, b], asker(['1']).ask, () => undefined);
    expect(s2.kind === 'run' && s2.deployment.deploymentId).toBe('PXP20001');
  });

  it('stops at end of input and after three bad answers', async () => {
    expect(await chooseInteractively([a], asker([null]).ask, () => undefined)).toMatchObject({ kind: 'stop', exitCode: 4 });
    expect(await chooseInteractively([a], asker(['x', 'y', 'z', '1']).ask, () => undefined)).toMatchObject({ kind: 'stop', exitCode: 4 });
  });

  it('findOffered ignores out-of-range numbers', () => {
    expect(findOffered([a], '0')).toBeUndefined();
    expect(findOffered([a], ' 1 ')?.deploymentId).toBe('PXP20001');
  });
});

describe('rule 110: SMSTSAssignmentsDownloadRetry/Interval', () => {
  it('defaults to 0 and 0', () => {
    expect(assignmentRetry(() => undefined)).toEqual({ retries: 0, intervalSeconds: 0 });
  });
  it('reads the variables, bounded', () => {
    const vars: Record<string, string> = { SMSTSAssignmentsDownloadRetry: '3', SMSTSAssignmentsDownloadInterval: '99999' };
    expect(assignmentRetry((n) => vars[n])).toEqual({ retries: 3, intervalSeconds: 3600 });
    expect(assignmentRetry(() => 'not a number')).toEqual({ retries: 0, intervalSeconds: 0 });
  });
});

describe('selectDeployment: how an auto-run came about', () => {
  it('a hidden or available auto-run can only be a preferred one (the ID may have come with the boot token)', () => {
    expect(selectDeployment(policy({ autoRun: hidden }))).toMatchObject({ how: 'preferred' });
    expect(selectDeployment(policy({ autoRun: a }))).toMatchObject({ how: 'preferred' });
    expect(selectDeployment(policy({ autoRun: req }))).toMatchObject({ how: 'required' });
  });
});
