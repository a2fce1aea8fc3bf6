/** Boot sessions (LRU + TTL, capability names) and prepareBoot (one call per decision). */
import { describe, expect, it } from 'vitest';
import { subscribe } from '../../src/events.js';
import { BootSessions, describeSession, VARIABLES_NAME_PATTERN, type IssueBootToken } from '../../src/pxe/boot-sessions.js';
import { prepareBoot } from '../../src/pxe/prepare.js';
import { decide, deployment, pxeRequest, pxeSite, MAC_KNOWN, MAC_OTHER } from './helpers.js';

function issuer() {
  const calls: Parameters<IssueBootToken>[0][] = [];
  const issueToken: IssueBootToken = async (input) => {
    calls.push(input);
    return { token: `pxpbt_${calls.length}`, id: `tok-${calls.length}`, expiresAt: new Date(Date.now() + 3600_000).toISOString() };
  };
  return { calls, issueToken };
}

const REQUIRED = pxeSite({ deployments: [deployment('PXP20002', { purpose: 'required' })] });
const AVAILABLE = pxeSite({ deployments: [deployment('PXP20001', { purpose: 'available' })] });
const NOTHING = pxeSite();

describe('prepareBoot', () => {
  it('records a session with a one-time token (bootSource pxe, bound to MAC, GUID and record) and a capability name', async () => {
    const sessions = new BootSessions();
    const { calls, issueToken } = issuer();
    const req = pxeRequest({ clientIp: '10.0.0.5' });
    const s = await prepareBoot(decide(REQUIRED), req, { sessions, issueToken });
    expect(s).toMatchObject({ mac: MAC_KNOWN, clientIp: '10.0.0.5', token: { token: 'pxpbt_1' } });
    expect(s!.variablesName).toMatch(VARIABLES_NAME_PATTERN);
    expect(calls).toEqual([{ macs: [MAC_KNOWN], smbiosGuid: req.smbiosGuid, bootSource: 'pxe', ttlSeconds: 1800, deviceId: '16777217' }]);
    expect(sessions.byMac(MAC_KNOWN)).toBe(s);
    expect(sessions.byIp('10.0.0.5')).toBe(s);
    expect(sessions.byVariablesName(s!.variablesName!)).toBe(s);
  });

  it('publishDecision: publishes dhcp.decision for every decision, ignore included; records nothing for ignore', async () => {
    const sessions = new BootSessions();
    const { calls, issueToken } = issuer();
    const seen: Record<string, unknown>[] = [];
    const off = subscribe('dhcp.decision', (e) => seen.push(e));
    try {
      expect(await prepareBoot(decide(NOTHING), pxeRequest(), { sessions, issueToken, publishDecision: true })).toBeNull();
      expect(sessions.size).toBe(0);
      expect(calls).toHaveLength(0);
      expect(seen).toEqual([expect.objectContaining({ mac: MAC_KNOWN, action: 'ignore', reasonCode: 'no-deployment', architecture: 7 })]);
      expect(JSON.stringify(seen)).not.toMatch(/pxpbt_/);
    } finally {
      off();
    }
  });

  it('by default publishes nothing (src/dhcp/server.ts publishes dhcp.decision itself)', async () => {
    const seen: unknown[] = [];
    const off = subscribe('dhcp.decision', (e) => seen.push(e));
    try {
      await prepareBoot(decide(REQUIRED), pxeRequest(), { sessions: new BootSessions(), ...issuer() });
      expect(seen).toEqual([]);
    } finally {
      off();
    }
  });

  it('abort: a session (for the script that exits) but no token', async () => {
    const sessions = new BootSessions();
    const { calls, issueToken } = issuer();
    const s = await prepareBoot(decide(NOTHING, {}, { whenNothingApplies: 'abort' }), pxeRequest(), { sessions, issueToken });
    expect(s).toMatchObject({ token: null, variablesName: null });
    expect(calls).toHaveLength(0);
  });

  it('the packets of one boot (DISCOVER, REQUEST, 4011, the iPXE round) share one token', async () => {
    const sessions = new BootSessions();
    const { calls, issueToken } = issuer();
    const a = await prepareBoot(decide(REQUIRED), pxeRequest({ channel: 'proxy' }), { sessions, issueToken });
    const b = await prepareBoot(decide(REQUIRED, { channel: 'boot-server', clientIp: '10.0.0.9' }), pxeRequest({ channel: 'boot-server', clientIp: '10.0.0.9' }), { sessions, issueToken });
    const c = await prepareBoot(decide(REQUIRED, { isIpxe: true }), pxeRequest({ isIpxe: true }), { sessions, issueToken });
    expect(calls).toHaveLength(1);
    expect(b).toBe(a);
    expect(c).toBe(a);
    expect(a!.request.isIpxe).toBe(true);
    // The iPXE round's DISCOVER has no address: the binding waits for the next packet or HTTP request.
    expect(a!.clientIp).toBeNull();
    const d = await prepareBoot(decide(REQUIRED, { isIpxe: true, clientIp: '10.0.0.10' }), pxeRequest({ isIpxe: true, clientIp: '10.0.0.10' }), { sessions, issueToken });
    expect(d).toBe(a);
    expect(sessions.byIp('10.0.0.10')).toBe(a);
    expect(sessions.byIp('10.0.0.9')).toBeUndefined();
  });

  it('two racing packets of one MAC share one token issue', async () => {
    const sessions = new BootSessions();
    const { calls, issueToken } = issuer();
    const [a, b] = await Promise.all([
      prepareBoot(decide(REQUIRED), pxeRequest(), { sessions, issueToken }),
      prepareBoot(decide(REQUIRED), pxeRequest(), { sessions, issueToken }),
    ]);
    expect(calls).toHaveLength(1);
    expect(a).toBe(b);
  });

  it('a changed decision is a new boot: new token, new name, the old name is gone', async () => {
    const sessions = new BootSessions();
    const { calls, issueToken } = issuer();
    const a = await prepareBoot(decide(REQUIRED), pxeRequest(), { sessions, issueToken });
    const b = await prepareBoot(decide(AVAILABLE), pxeRequest(), { sessions, issueToken });
    expect(calls).toHaveLength(2);
    expect(b!.variablesName).not.toBe(a!.variablesName);
    expect(sessions.byVariablesName(a!.variablesName!)).toBeUndefined();
  });

  it('a failing token issuer fails the call (the listener does not answer; the firmware retries)', async () => {
    const sessions = new BootSessions();
    await expect(prepareBoot(decide(REQUIRED), pxeRequest(), { sessions, issueToken: async () => { throw new Error('db down'); } })).rejects.toThrow('db down');
    expect(sessions.size).toBe(0);
  });
});

describe('BootSessions', () => {
  const put = (sessions: BootSessions, mac: string, ip: string | null = null) => sessions.put({
    mac, smbiosGuid: null, clientIp: ip, request: pxeRequest({ mac }), decision: decide(REQUIRED, { mac }),
    token: { token: 't', id: 'i', expiresAt: '' }, variablesName: sessions.newVariablesName(),
  });

  it('expires after the TTL', () => {
    let now = 1_000_000;
    const sessions = new BootSessions({ ttlSeconds: 60, clock: () => now });
    const s = put(sessions, MAC_KNOWN, '10.0.0.1');
    now += 59_999;
    expect(sessions.byMac(MAC_KNOWN)).toBe(s);
    now += 1;
    expect(sessions.byMac(MAC_KNOWN)).toBeUndefined();
    expect(sessions.byIp('10.0.0.1')).toBeUndefined();
    expect(sessions.byVariablesName(s.variablesName!)).toBeUndefined();
  });

  it('keeps at most maxSessions, dropping the least recently used', () => {
    const sessions = new BootSessions({ maxSessions: 2 });
    put(sessions, '52:54:00:00:00:01');
    put(sessions, '52:54:00:00:00:02');
    sessions.byMac('52:54:00:00:00:01'); // touch: 02 is now the oldest
    put(sessions, '52:54:00:00:00:03');
    expect(sessions.size).toBe(2);
    expect(sessions.byMac('52:54:00:00:00:02')).toBeUndefined();
    expect(sessions.byMac('52:54:00:00:00:01')).toBeDefined();
  });

  it('sweep drops expired sessions', () => {
    let now = 0;
    const sessions = new BootSessions({ ttlSeconds: 1, clock: () => now });
    put(sessions, MAC_KNOWN);
    put(sessions, MAC_OTHER);
    now = 1000;
    expect(sessions.sweep()).toBe(2);
    expect(sessions.size).toBe(0);
  });

  it('an address moves with its machine: a re-leased address names the new machine only', () => {
    const sessions = new BootSessions();
    put(sessions, MAC_KNOWN, '10.0.0.1');
    put(sessions, MAC_OTHER, '10.0.0.1');
    expect(sessions.byIp('10.0.0.1')?.mac).toBe(MAC_OTHER);
  });

  it('variables names are 256-bit base64url, distinct', () => {
    const sessions = new BootSessions();
    const names = new Set(Array.from({ length: 100 }, () => sessions.newVariablesName()));
    expect(names.size).toBe(100);
    for (const n of names) expect(n).toMatch(VARIABLES_NAME_PATTERN);
  });

  it('describeSession never shows the token or the file name', () => {
    const sessions = new BootSessions();
    const s = put(sessions, MAC_KNOWN);
    const text = JSON.stringify(describeSession(s));
    expect(text).not.toContain(s.variablesName!);
    expect(text).not.toContain('"t"');
  });
});
