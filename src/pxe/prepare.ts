/**
 * The one call a DHCP listener makes after `decidePxeBoot`:
 *
 *   const decision = decidePxeBoot(request, context);
 *   const session = await prepareBoot(decision, request, deps);
 *   if (decision.action !== 'ignore') reply(decision);             // after settings.responseDelaySeconds
 *
 * With src/dhcp/server.ts it is the `onServiced` hook:
 *
 *   onServiced: async (req, d) => (await prepareBoot(d, req, deps), d.bootFile === null ? null : { file: d.bootFile, http: d.http })
 *
 * The DHCP server publishes `dhcp.decision` itself; a caller that does not can
 * ask prepareBoot to (`publishDecision: true`). For an answered request it
 * records the boot session: the decision,
 * the machine's address, and — when something boots — a one-time boot token and
 * the unguessable name of the variables file. The packets of one boot (DISCOVER,
 * REQUEST, 4011, then the iPXE round) share one session and one token; two
 * packets racing for the same MAC share one token issue.
 */
import { publish } from '../events.js';
import { sameBoot, type BootSession, type BootSessions, type IssueBootToken } from './boot-sessions.js';
import type { PxeBootRequest, PxeDecision } from './types.js';

export interface PrepareBootDeps {
  sessions: BootSessions;
  /** Bound `ClientService.issueBootToken`. */
  issueToken: IssueBootToken;
  /** Publish `dhcp.decision` (default false: src/dhcp/server.ts publishes it). */
  publishDecision?: boolean;
}

/** The `dhcp.decision` event: what the timeline, logs and metrics read. Never carries secrets. */
export function decisionEvent(req: PxeBootRequest, d: PxeDecision): Record<string, unknown> {
  return {
    mac: req.mac,
    smbiosGuid: req.smbiosGuid,
    clientIp: req.clientIp,
    channel: req.channel,
    interface: req.interface,
    relay: req.relay,
    architecture: req.architecture.row.code,
    architectureName: req.architecture.row.name,
    architectureSource: req.architecture.source,
    vendorClass: req.vendorClass,
    isIpxe: req.isIpxe,
    isHttpBoot: req.isHttpBoot,
    action: d.action,
    reasonCode: d.reasonCode,
    reason: d.reason,
    deviceId: d.deviceId,
    unknownObjectId: d.unknownObjectId,
    deploymentId: d.deploymentId,
    bootImageId: d.bootImageId,
    bootFile: d.bootFile,
    http: d.http,
  };
}

const inFlight = new WeakMap<BootSessions, Map<string, Promise<BootSession>>>();

export async function prepareBoot(decision: PxeDecision, req: PxeBootRequest, deps: PrepareBootDeps): Promise<BootSession | null> {
  if (deps.publishDecision === true) publish('dhcp.decision', decisionEvent(req, decision));
  if (decision.action === 'ignore') return null;
  const { sessions } = deps;

  const reused = sessions.reusable(req.mac, decision);
  if (reused !== undefined) return sessions.refresh(reused, req, decision);

  let pending = inFlight.get(sessions);
  if (pending === undefined) inFlight.set(sessions, (pending = new Map()));
  const racing = pending.get(req.mac);
  if (racing !== undefined) {
    const s = await racing;
    return sameBoot(s.decision, decision) ? sessions.refresh(s, req, decision) : prepareBoot(decision, req, deps);
  }

  const create = (async (): Promise<BootSession> => {
    const boots = decision.action === 'boot' || decision.action === 'boot-with-prompt';
    const token = boots
      ? await deps.issueToken({
        macs: [req.mac], smbiosGuid: req.smbiosGuid, bootSource: 'pxe', ttlSeconds: sessions.ttlSeconds, deviceId: decision.deviceId,
      })
      : null;
    return sessions.put({
      mac: req.mac,
      smbiosGuid: req.smbiosGuid,
      clientIp: req.clientIp,
      request: req,
      decision,
      token,
      variablesName: token === null ? null : sessions.newVariablesName(),
      // The session ends with its token (never later than the sessions' own TTL).
      ...(token !== null && Number.isFinite(Date.parse(token.expiresAt))
        ? { expiresAt: Math.min(Date.parse(token.expiresAt), sessions.now() + sessions.ttlSeconds * 1000) }
        : {}),
    });
  })();
  pending.set(req.mac, create);
  try {
    return await create;
  } finally {
    pending.delete(req.mac);
  }
}
