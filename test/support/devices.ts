/** A plain device record for tests: every field at its neutral default, then the overrides. */
import type { Device } from '../../src/site/model.js';

export function deviceRecord(id: string, name: string, over: Partial<Device> = {}, timestamp = '2026-01-01T00:00:00.000Z'): Device {
  return {
    id,
    name,
    macs: [],
    smbiosGuid: null,
    architecture: 'x64',
    isSiteSystem: false,
    isServer: false,
    unknownObject: null,
    provisional: false,
    variables: [],
    pxe: { lastPxeDeploymentId: null, lastPxeDeploymentTime: null },
    createdAt: timestamp,
    modifiedAt: timestamp,
    ...over,
  };
}
