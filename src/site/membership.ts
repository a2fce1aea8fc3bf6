/**
 * Collection membership, computed (pure) from the collection and the devices.
 * - All Systems: every device except the two unknown-computer objects (an
 *   "Unknown" record from a failed unknown run is a device, rule 64).
 * - All Unknown Computers: exactly the two unknown objects (rule 62).
 * - Custom: direct members plus devices matching any rule. Unknown objects are
 *   never matched by rules, only added directly (they never are in practice).
 */
import type { Collection, CollectionRule, Device } from './model.js';

function globToRegExp(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`, 'i');
}

export function matchesRule(rule: CollectionRule, device: Device): boolean {
  if (device.unknownObject !== null) return false;
  switch (rule.kind) {
    case 'name':
      return globToRegExp(rule.pattern).test(device.name);
    case 'mac': {
      const re = globToRegExp(rule.pattern.toLowerCase());
      return device.macs.some((m) => re.test(m));
    }
    case 'architecture':
      return device.architecture === rule.architecture;
  }
}

export function isMember(collection: Collection, device: Device): boolean {
  switch (collection.builtin) {
    case 'all-systems':
      return device.unknownObject === null;
    case 'all-unknown':
      return device.unknownObject !== null;
    default:
      return collection.directMemberIds.includes(device.id) || collection.rules.some((r) => matchesRule(r, device));
  }
}

export function collectionMembers(collection: Collection, devices: readonly Device[]): Device[] {
  if (collection.builtin === null && collection.rules.length === 0) {
    const direct = new Set(collection.directMemberIds);
    return devices.filter((d) => direct.has(d.id));
  }
  return devices.filter((d) => isMember(collection, d));
}

/** Collections (of those given) that hold the device. */
export function collectionsOf(device: Device, collections: readonly Collection[]): Collection[] {
  return collections.filter((c) => isMember(c, device));
}
