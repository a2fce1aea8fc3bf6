/** Small PXE sites and requests for the decision tests (builds on the policy fixtures). */
import { architectureOf } from '../../src/pxe/architectures.js';
import { pxeSettings, type PxeSettingsInput } from '../../src/pxe/settings.js';
import type { PxeBootRequest, PxeDecision, PxeDecisionContext } from '../../src/pxe/types.js';
import { decidePxeBoot } from '../../src/pxe/decide.js';
import type { PolicySiteData } from '../../src/policy/snapshot.js';
import type { PolicySnapshot } from '../../src/policy/types.js';
import type { BootImage } from '../../src/site/model.js';
import {
  NOW, T0, allSystems, allUnknown, collection, deployment, device, site, taskSequence, unknownObject,
} from '../policy/fixtures.js';

export { NOW, allSystems, allUnknown, collection, deployment, device, site, taskSequence, unknownObject };

export const MAC_KNOWN = '52:54:00:77:00:10';
export const GUID_KNOWN = '4b1d0000-7777-4000-8000-000000000010';
export const MAC_OTHER = '52:54:00:77:00:99';
export const KNOWN_ID = '16777217';

export function bootImage(id: string, over: Partial<BootImage> = {}): BootImage {
  return {
    id, name: `Boot image ${id}`, architecture: 'x64', deployFromPxe: true, version: 1,
    imagePath: `images/${id}/boot.wim`, createdAt: T0, modifiedAt: T0, ...over,
  };
}

/** Both boot images (x86 PXP00B86, x64 PXP00B01) and task sequences using each. */
export const IMAGES = [bootImage('PXP00B01', { architecture: 'x64' }), bootImage('PXP00B86', { architecture: 'x86' })];

/**
 * A site: PC-1 (16777217) with MAC …:10 and GUID …10 in PXP00C01, both unknown
 * objects in All Unknown Computers, TS PXP00T01 (x64 image), PXP00T86 (x86 image).
 */
export function pxeSite(over: Partial<PolicySiteData> = {}): PolicySnapshot {
  return site({
    devices: [device(KNOWN_ID, { macs: [MAC_KNOWN], smbiosGuid: GUID_KNOWN }), unknownObject('x86'), unknownObject('x64')],
    collections: [
      allSystems(), allUnknown({ directMemberIds: ['2046820352', '2046820353'] }),
      collection('PXP00C01', { directMemberIds: [KNOWN_ID] }),
    ],
    taskSequences: [taskSequence('PXP00T01', { bootImageId: 'PXP00B01' }), taskSequence('PXP00T86', { bootImageId: 'PXP00B86' })],
    bootImages: IMAGES,
    ...over,
  });
}

/** A request as pxeRequestFrom would build it: x64 UEFI firmware PXE by default. */
export function pxeRequest(over: Partial<PxeBootRequest> & { code?: number } = {}): PxeBootRequest {
  const { code = 7, ...rest } = over;
  return {
    mac: MAC_KNOWN, smbiosGuid: GUID_KNOWN, architecture: architectureOf([code]),
    vendorClass: `PXEClient:Arch:${String(code).padStart(5, '0')}:UNDI:003000`, isIpxe: false, isHttpBoot: false,
    channel: 'proxy', interface: null, relay: null, clientIp: null, ...rest,
  };
}

export function context(snapshot: PolicySnapshot, settings: PxeSettingsInput = {}): PxeDecisionContext {
  return { snapshot, settings: pxeSettings({ unknownComputerSupport: true, ...settings }), now: NOW };
}

export const decide = (snapshot: PolicySnapshot, req: Partial<PxeBootRequest> & { code?: number } = {}, settings: PxeSettingsInput = {}): PxeDecision =>
  decidePxeBoot(pxeRequest(req), context(snapshot, settings));
