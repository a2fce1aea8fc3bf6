/** The pure parts, table by table: rule 139 transitions, credential binding, identity resolution, Range. */
import { describe, expect, it } from 'vitest';
import { parseRange } from '../../src/app/client-content.js';
import { checkBinding, resolveIdentity, type Claim } from '../../src/app/client-identity.js';
import { bucketOf, checkTransition, messageIdFor } from '../../src/app/client-state.js';
import { CLIENT_STATES as S, type ClientState, type Device } from '../../src/site/model.js';

describe('rule 139: transitions', () => {
  const ok: [ClientState | undefined, ClientState][] = [
    [undefined, S.Accepted], [undefined, S.Running], [undefined, S.Waiting], [undefined, S.Failed], [undefined, S.Canceled], [undefined, S.WillNotRerun],
    [S.Accepted, S.DownloadInProgress], [S.DownloadInProgress, S.DownloadInProgress], [S.DownloadInProgress, S.Retrying], [S.Retrying, S.DownloadInProgress],
    [S.DownloadComplete, S.Running], [S.Waiting, S.Running], [S.Running, S.Running], [S.Running, S.RebootPending], [S.RebootPending, S.Running],
    [S.Running, S.Succeeded], [S.Running, S.Failed], [S.RebootPending, S.Succeeded],
    [S.Succeeded, S.Running], [S.Failed, S.Accepted], [S.Succeeded, S.WillNotRerun], [S.Canceled, S.Waiting],
  ];
  const refused: [ClientState | undefined, ClientState][] = [
    [undefined, S.Succeeded], [undefined, S.RebootPending], [undefined, S.DownloadComplete], [undefined, S.Retrying],
    [S.Running, S.Canceled], // rule 35
    [S.Running, S.Accepted], [S.Succeeded, S.Succeeded], [S.Failed, S.Succeeded], [S.Failed, S.Failed], [S.WillNotRerun, S.WillNotRerun],
    [S.Waiting, S.Succeeded], [S.Accepted, S.Succeeded],
  ];
  it.each(ok)('%s → %s is allowed', (from, to) => expect(() => checkTransition(from, to)).not.toThrow());
  it.each(refused)('%s → %s is refused with PXE_ERR_CLIENT_STATE', (from, to) =>
    expect(() => checkTransition(from, to)).toThrow(expect.objectContaining({ code: 'PXE_ERR_CLIENT_STATE', status: 409 })));
});

describe('rule 140: message ids; rule 143: summary buckets', () => {
  it('defaults and checks message ids', () => {
    expect(messageIdFor(S.Succeeded, undefined)).toBe(11171);
    expect(messageIdFor(S.Failed, undefined)).toBe(11170);
    expect(messageIdFor(S.Running, undefined)).toBe(11142);
    expect(messageIdFor(S.Waiting, undefined)).toBe(10073);
    expect(messageIdFor(S.AcceptedNoFurtherStatus, undefined)).toBe(65535);
    expect(messageIdFor(S.DownloadInProgress, undefined)).toBe(0);
    expect(messageIdFor(S.Running, 11140)).toBe(11140); // ids without a one-to-one state are kept
    expect(() => messageIdFor(S.Succeeded, 11170)).toThrow(/rule 140/);
  });
  it('groups states', () => {
    expect([S.Succeeded, S.AcceptedNoFurtherStatus, S.WillNotRerun].map(bucketOf)).toEqual(['success', 'success', 'success']);
    expect([S.Failed, S.Rejected, S.Expired, S.Canceled].map(bucketOf)).toEqual(['error', 'error', 'error', 'error']);
    expect([S.Accepted, S.DownloadInProgress, S.DownloadComplete, S.Waiting, S.Running, S.Retrying, S.RebootPending].every((s) => bucketOf(s) === 'inProgress')).toBe(true);
    expect(bucketOf(S.NoStatus)).toBe('unknown');
  });
});

describe('credential binding', () => {
  const A = '52:54:00:00:00:0a';
  const B = '52:54:00:00:00:0b';
  const G1 = '4b1d0000-0000-4000-8000-000000000001';
  const G2 = '4b1d0000-0000-4000-8000-000000000002';
  const claim = (macs: string[], smbiosGuid: string | null): Claim => ({ macs, smbiosGuid, architecture: 'x64', bootSource: 'pxe' });
  const rows: [string, { macs: string[]; smbiosGuid: string | null }, Claim, string][] = [
    ['same MAC and GUID', { macs: [A], smbiosGuid: G1 }, claim([A], G1), 'ok'],
    ['MAC only token, GUID claimed', { macs: [A], smbiosGuid: null }, claim([A], G1), 'ok'],
    ['another NIC as well', { macs: [A], smbiosGuid: G1 }, claim([A, B], G1), 'ok'],
    ['GUID only token', { macs: [], smbiosGuid: G1 }, claim([B], G1), 'ok'],
    ['another machine entirely', { macs: [A], smbiosGuid: G1 }, claim([B], G2), 'token-of-another-machine'],
    ['right MAC, wrong GUID', { macs: [A], smbiosGuid: G1 }, claim([A], G2), 'forged-identity'],
    ['right MAC, GUID withheld', { macs: [A], smbiosGuid: G1 }, claim([A], null), 'forged-identity'],
  ];
  it.each(rows)('%s', (_name, bound, c, expected) => {
    const r = checkBinding(bound, c);
    expect(r.ok ? 'ok' : r.reason).toBe(expected);
  });
});

describe('identity resolution (rule 59)', () => {
  const d = (id: string, unknownObject: 'x86' | 'x64' | null = null) => ({ id, unknownObject }) as Device;
  it.each([
    ['nothing found', [], [], 'unknown'],
    ['one record', [d('1')], [d('1')], 'device'],
    ['unknown objects never match', [d('2046820353', 'x64')], [], 'unknown'],
    ['two records', [d('1'), d('2')], [], 'ambiguous'],
    ['an extra identifier of another record', [d('1')], [d('1'), d('2')], 'forged'],
    ['unknown machine claiming a known MAC', [], [d('2')], 'forged'],
  ] as [string, Device[], Device[], string][])('%s', (_n, verified, claimed, kind) => {
    expect(resolveIdentity(verified, claimed).kind).toBe(kind);
  });
});

describe('Range', () => {
  it.each([
    [undefined, 10, null],
    ['bytes=0-4', 10, { start: 0, end: 4 }],
    ['bytes=5-', 10, { start: 5, end: 9 }],
    ['bytes=-3', 10, { start: 7, end: 9 }],
    ['bytes=-30', 10, { start: 0, end: 9 }],
    ['bytes=8-100', 10, { start: 8, end: 9 }],
    ['bytes=10-', 10, 'unsatisfiable'],
    ['bytes=5-2', 10, 'unsatisfiable'],
    ['bytes=-0', 10, 'unsatisfiable'],
    ['bytes=0-1,4-5', 10, null],
    ['items=0-1', 10, null],
  ] as const)('%s of %i bytes', (header, size, expected) => {
    expect(parseRange(header, size)).toEqual(expected);
  });
});
