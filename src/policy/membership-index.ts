/**
 * Collection membership for one device without scanning every collection: the
 * same answer as site/membership.ts `collectionsOf` (a test holds them equal),
 * from indexes built once per snapshot.
 *
 * - Built-in All Systems: every real device (provisional "Unknown" records
 *   included, rule 64); All Unknown Computers: the two unknown objects (rule 62).
 * - Custom collections: direct members (by device id), name globs and MAC globs
 *   (GlobIndex: by literal prefix/suffix), architecture rules (by architecture).
 *   Rules never match the unknown objects (site/membership.ts).
 *
 * Membership is evaluated on the device record the caller passes, not looked up
 * by id: the client API may hold a fresher record than the snapshot. With the
 * indexes this costs a few map lookups and a handful of regex tests, so no
 * per-device cache (which would need invalidating) is kept.
 */
import { ALL_SYSTEMS_ID, ALL_UNKNOWN_COMPUTERS_ID, type Architecture, type Collection, type Device } from '../site/model.js';
import { GlobIndex } from './glob-index.js';

/**
 * The deterministic collection order used wherever several collections
 * combine (variables, rule 113): built-in collections first, the most general
 * ones, then custom collections by ascending id. Later ones win, so the
 * highest collection id has the last word, as the highest deployment id does
 * in rule 78.
 */
export function compareCollections(a: Collection, b: Collection): number {
  const builtinA = a.builtin === null ? 1 : 0;
  const builtinB = b.builtin === null ? 1 : 0;
  if (builtinA !== builtinB) return builtinA - builtinB;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

export class MembershipIndex {
  readonly #allSystems: string[];
  readonly #allUnknown: string[];
  readonly #direct = new Map<string, string[]>();
  readonly #names = new GlobIndex<string>();
  readonly #macs = new GlobIndex<string>();
  readonly #byArchitecture = new Map<Architecture, string[]>();
  /** Position of each collection in `compareCollections` order. */
  readonly #rank = new Map<string, number>();

  constructor(collections: Iterable<Collection>) {
    const sorted = [...collections].sort(compareCollections);
    sorted.forEach((c, i) => this.#rank.set(c.id, i));
    const allSystems: string[] = [];
    const allUnknown: string[] = [];
    for (const c of sorted) {
      if (c.builtin === 'all-systems') { allSystems.push(c.id); continue; }
      if (c.builtin === 'all-unknown') { allUnknown.push(c.id); continue; }
      for (const id of new Set(c.directMemberIds)) push(this.#direct, id, c.id);
      for (const rule of c.rules) {
        switch (rule.kind) {
          case 'name': this.#names.add(rule.pattern, c.id); break;
          case 'mac': this.#macs.add(rule.pattern, c.id); break;
          case 'architecture': push(this.#byArchitecture, rule.architecture, c.id); break;
        }
      }
    }
    // A snapshot built from partial data (tests, a half-migrated store) still knows the built-in ids.
    this.#allSystems = allSystems.length > 0 ? allSystems : [ALL_SYSTEMS_ID];
    this.#allUnknown = allUnknown.length > 0 ? allUnknown : [ALL_UNKNOWN_COMPUTERS_ID];
    this.#names.seal();
    this.#macs.seal();
  }

  /** Collection ids holding `device`, in `compareCollections` order. */
  collectionIdsOf(device: Device): string[] {
    const found = new Set<string>(device.unknownObject !== null ? this.#allUnknown : this.#allSystems);
    const direct = this.#direct.get(device.id);
    if (direct !== undefined) for (const id of direct) found.add(id);
    if (device.unknownObject === null) {
      const add = (id: string): void => { found.add(id); };
      this.#names.match(device.name, add);
      for (const mac of device.macs) this.#macs.match(mac, add);
      const byArch = this.#byArchitecture.get(device.architecture);
      if (byArch !== undefined) for (const id of byArch) found.add(id);
    }
    const rank = (id: string): number => this.#rank.get(id) ?? Number.MAX_SAFE_INTEGER;
    return [...found].sort((a, b) => rank(a) - rank(b));
  }
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}
