/**
 * Rule 64: after an unknown computer's run the site knows the machine. Success
 * creates a real record, failure an "Unknown" (provisional) record; either way
 * the next boot finds it by MAC or SMBIOS GUID (rule 59) and it is in All Systems
 * and every collection whose rules match (membership is computed, rule 62 ff.).
 */
import { randomBytes } from 'node:crypto';
import type { ClientDeploymentStatus, ClientSession, Device } from '../site/model.js';
import type { DeviceStore, SiteRepository } from '../site/repository.js';
import { CLIENT_API_COMPONENT, sessionActor } from './client-audit.js';
import type { Actor } from './site-service.js';

/** Writes an audited change (the service's audit + site.change event). */
export type AuditChange = (tx: SiteRepository, actor: Actor, text: string, data: Record<string, unknown>, deviceId: string | null) => Promise<void>;

export interface RecordContext {
  now: string;
  auditChange: AuditChange;
}

/** A NetBIOS-safe computer name, as WinPE accepts for OSDComputerName. */
const COMPUTER_NAME = /^[A-Za-z0-9][A-Za-z0-9-]{0,14}$/;
const NAME_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** WinPE's own name for a machine that has none: MININT- and seven characters. */
export function generatedName(): string {
  return 'MININT-' + [...randomBytes(7)].map((b) => NAME_ALPHABET[b % NAME_ALPHABET.length]).join('');
}

/** The run's OSDComputerName if it is a usable computer name (it comes from the client), else null. */
function requestedName(s: ClientSession): string | null {
  const value = s.variables.find((v) => v.name.toLowerCase() === 'osdcomputername')?.value.trim() ?? '';
  return COMPUTER_NAME.test(value) ? value.toUpperCase() : null;
}

/** Resource ids as SiteService makes them (ConfigMgr resource IDs start at 16777216). */
export async function newDeviceId(tx: SiteRepository): Promise<string> {
  return String(16777216 + (await tx.nextSequence('device')));
}

/** Every record carrying one of the MACs or the GUID (unknown objects have neither). */
export async function devicesMatching(devices: DeviceStore, macs: readonly string[], guid: string | null): Promise<Device[]> {
  const found: Device[] = [];
  for (const mac of macs) found.push(...(await devices.findByMac(mac)));
  if (guid !== null) found.push(...(await devices.findBySmbiosGuid(guid)));
  return found;
}

/**
 * The record for the session's machine after its run ended (`status`, kept under
 * the session's pending id). If a record for the machine appeared meanwhile (an
 * administrator added it), the run's history moves to that record instead.
 */
export async function recordUnknownComputer(
  tx: SiteRepository, s: ClientSession, succeeded: boolean, status: ClientDeploymentStatus, ctx: RecordContext,
): Promise<Device> {
  const existing = (await devicesMatching(tx.devices, s.macs, s.smbiosGuid))
    .filter((d) => d.unknownObject === null)
    .sort((a, b) => Number(a.id) - Number(b.id))[0];
  if (existing) {
    for (const row of await tx.clientStatus.listByDevice(status.deviceId)) {
      await tx.clientStatus.put({ ...row, deviceId: existing.id });
      await tx.clientStatus.remove(status.deviceId, row.deploymentId);
    }
    if (succeeded) await promoteProvisional(tx, existing, s, ctx);
    return existing;
  }
  const device: Device = {
    id: status.deviceId,
    name: requestedName(s) ?? generatedName(),
    macs: [...s.macs],
    smbiosGuid: s.smbiosGuid,
    architecture: s.architecture,
    isSiteSystem: false,
    isServer: false,
    unknownObject: null,
    provisional: !succeeded,
    variables: [],
    pxe: { lastPxeDeploymentId: null, lastPxeDeploymentTime: null },
    createdAt: ctx.now,
    modifiedAt: ctx.now,
  };
  await tx.devices.insert(device);
  await ctx.auditChange(tx, { name: sessionActor(s), component: CLIENT_API_COMPONENT },
    `created ${succeeded ? 'device' : '"Unknown" record'} ${device.id} ("${device.name}") for an unknown computer whose deployment ` +
      `${status.deploymentId} ${succeeded ? 'succeeded' : 'failed'} (rule 64)`,
    { action: 'create', entity: 'devices', id: device.id, provisional: device.provisional, sessionId: s.id, macs: device.macs, smbiosGuid: device.smbiosGuid },
    device.id);
  return device;
}

/** A provisional "Unknown" record whose machine then succeeded becomes a normal record (rule 64). */
export async function promoteProvisional(tx: SiteRepository, device: Device, s: ClientSession, ctx: RecordContext): Promise<void> {
  if (!device.provisional) return;
  const updated: Device = { ...device, provisional: false, name: requestedName(s) ?? device.name, modifiedAt: ctx.now };
  await tx.devices.update(updated);
  await ctx.auditChange(tx, { name: sessionActor(s), component: CLIENT_API_COMPONENT },
    `device ${device.id} ("${updated.name}") is no longer an "Unknown" record: its deployment succeeded (rule 64)`,
    { action: 'update', entity: 'devices', id: device.id, fields: ['provisional', 'name'] }, device.id);
}
