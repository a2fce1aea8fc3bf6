/**
 * The built-in records every site has: the two unknown-computer objects of All
 * Unknown Computers (rule 62/63). One definition, used by the store when it
 * creates them and by the policy snapshot when a store lacks them.
 */
import { X64_UNKNOWN_ID, X86_UNKNOWN_ID, type Device } from './model.js';

export function unknownComputerObject(arch: 'x86' | 'x64', timestamp: string): Device {
  return {
    id: arch === 'x86' ? X86_UNKNOWN_ID : X64_UNKNOWN_ID,
    name: `${arch} Unknown Computer`,
    macs: [],
    smbiosGuid: null,
    architecture: arch,
    isSiteSystem: false,
    isServer: false,
    unknownObject: arch,
    provisional: false,
    variables: [],
    pxe: { lastPxeDeploymentId: null, lastPxeDeploymentTime: null },
    createdAt: timestamp,
    modifiedAt: timestamp,
  };
}
