/**
 * External tools the interop tests and benchmarks drive (tftp-hpa, atftp, curl,
 * wimlib, hivex, nginx…): finding them, and tests that need them.
 */
import fs from 'node:fs';
import path from 'node:path';
import { it } from 'vitest';

export const CI = process.env.CI === 'true';

/** The executable `bin` in `extraDirs`, then PATH, then the sbin folders; null if none. */
export function which(bin: string, extraDirs: readonly string[] = []): string | null {
  for (const dir of [...extraDirs, ...(process.env.PATH ?? '/usr/bin:/bin').split(':'), '/usr/sbin', '/sbin']) {
    if (!dir) continue;
    const p = path.join(dir, bin);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      // keep looking
    }
  }
  return null;
}

/**
 * it() that needs external tools (binary → Debian package): under CI a missing tool
 * FAILS the test (CI installs every package in .ci/packages.d/*.txt); elsewhere the
 * test is skipped with a message naming what to install.
 */
export function itWithTools(tools: Record<string, string>, title: string, fn: () => Promise<void>, timeout?: number): void {
  const missing = Object.entries(tools).filter(([bin]) => which(bin) === null);
  if (missing.length > 0 && !CI) {
    it.skip(`${title} [skipped: missing ${missing.map(([b, p]) => `${b} (apt-get install ${p})`).join(', ')}]`, () => undefined);
    return;
  }
  it(title, async () => {
    if (missing.length > 0) throw new Error(`missing ${missing.map(([b, p]) => `${b}: install Debian package ${p}`).join('; ')} (listed in .ci/packages.d/)`);
    await fn();
  }, timeout);
}
