/**
 * Many globs, one string: which globs match? Used for collection name and MAC
 * rules, where 5,000 collections must not mean 5,000 regular expressions per
 * device. Globs follow site/membership.ts: `*` any run, `?` one character,
 * case-insensitive.
 *
 * Each glob is filed under its literal prefix (the text before the first
 * wildcard); a glob starting with a wildcard is filed under its literal suffix;
 * only globs with neither ("*lab*") are tried for every string. A lookup tries
 * the string's prefixes and suffixes of the lengths in use, then runs the
 * regular expression of the few candidates found.
 */

interface Entry<T> {
  regex: RegExp;
  value: T;
}

function globToRegExp(lowerPattern: string): RegExp {
  const escaped = lowerPattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`);
}

const WILDCARD = /[*?]/;

export class GlobIndex<T> {
  readonly #exact = new Map<string, T[]>();
  readonly #byPrefix = new Map<string, Entry<T>[]>();
  readonly #bySuffix = new Map<string, Entry<T>[]>();
  readonly #everywhere: Entry<T>[] = [];
  #prefixLengths: number[] = [];
  #suffixLengths: number[] = [];
  #size = 0;

  get size(): number {
    return this.#size;
  }

  add(pattern: string, value: T): void {
    const p = pattern.toLowerCase();
    this.#size++;
    const first = p.search(WILDCARD);
    if (first === -1) {
      push(this.#exact, p, value);
      return;
    }
    const entry: Entry<T> = { regex: globToRegExp(p), value };
    if (first > 0) {
      push(this.#byPrefix, p.slice(0, first), entry);
      return;
    }
    let lastWildcard = p.length - 1;
    while (lastWildcard >= 0 && !WILDCARD.test(p[lastWildcard]!)) lastWildcard--;
    if (lastWildcard < p.length - 1) {
      push(this.#bySuffix, p.slice(lastWildcard + 1), entry);
      return;
    }
    this.#everywhere.push(entry);
  }

  /** Call once after the last `add`. */
  seal(): this {
    this.#prefixLengths = [...new Set([...this.#byPrefix.keys()].map((k) => k.length))].sort((a, b) => a - b);
    this.#suffixLengths = [...new Set([...this.#bySuffix.keys()].map((k) => k.length))].sort((a, b) => a - b);
    return this;
  }

  /** Calls `found` for each glob that matches `text` (a value may be reported more than once). */
  match(text: string, found: (value: T) => void): void {
    const s = text.toLowerCase();
    const exact = this.#exact.get(s);
    if (exact !== undefined) for (const v of exact) found(v);
    for (const len of this.#prefixLengths) {
      if (len > s.length) break;
      tryAll(this.#byPrefix.get(s.slice(0, len)), s, found);
    }
    for (const len of this.#suffixLengths) {
      if (len > s.length) break;
      tryAll(this.#bySuffix.get(s.slice(s.length - len)), s, found);
    }
    tryAll(this.#everywhere, s, found);
  }
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}

function tryAll<T>(entries: Entry<T>[] | undefined, s: string, found: (value: T) => void): void {
  if (entries === undefined) return;
  for (const e of entries) if (e.regex.test(s)) found(e.value);
}
