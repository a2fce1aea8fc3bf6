/**
 * Requested TFTP names → files under the root, for Windows and firmware clients.
 *
 * Policy (docs/decisions/0003-own-tftp-engine.md):
 * - `\` and `/` are both separators (bootmgr asks for `\Boot\BCD`, rule 84/87).
 * - Leading separators are dropped: the root is the client's `/` (like tftp-hpa -s).
 * - Any `..` segment, a drive letter, a NUL or another control character refuses the
 *   request (access violation); nothing is "resolved away".
 * - Each segment is matched exactly first, then case-insensitively (Windows clients
 *   ask for `SMSBoot\x64\PXEboot.com` on a case-sensitive disk).
 * - The final real path (symlinks followed) must still lie under the real root.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';

export type NormalizedName = { ok: true; segments: string[]; key: string } | { ok: false; reason: string };

/** Longest name accepted; longer ones are refused before touching the disk. */
export const MAX_NAME_LENGTH = 1024;

/** Wire names are latin1-decoded bytes; reinterpret them as UTF-8 when they are valid UTF-8. */
function decodeWireName(name: string): string {
  if (!/[\u0080-\u00ff]/.test(name)) return name;
  const bytes = Buffer.from(name, 'latin1');
  const utf8 = bytes.toString('utf8');
  return Buffer.from(utf8, 'utf8').equals(bytes) ? utf8 : name;
}

/**
 * Pure: a requested name → path segments relative to the root, or why it is refused.
 * `key` is the lower-cased `a/b/c` form, used to look up generated files.
 */
export function normalizeRequestName(raw: string): NormalizedName {
  if (raw.length === 0) return { ok: false, reason: 'empty name' };
  if (raw.length > MAX_NAME_LENGTH) return { ok: false, reason: 'name too long' };
  const name = decodeWireName(raw);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) return { ok: false, reason: 'control character in name' };
  // URL-encoded traversal is not decoded (TFTP names are not URLs), but it is a clear
  // sign of an attack and is refused rather than looked up literally.
  if (/%(00|2e|2f|5c)/i.test(name)) return { ok: false, reason: 'percent-encoded separator, dot or NUL' };
  if (/^[a-zA-Z]:/.test(name)) return { ok: false, reason: 'drive-letter path' };
  const segments: string[] = [];
  for (const seg of name.split(/[\\/]+/)) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') return { ok: false, reason: 'parent-directory segment' };
    segments.push(seg);
  }
  if (segments.length === 0) return { ok: false, reason: 'names the root directory' };
  return { ok: true, segments, key: segments.join('/').toLowerCase() };
}

/**
 * True when any field of a request (not only the file name: a NUL can shift the
 * name into the mode field) tries to climb out of the root. Such requests are
 * answered with an access violation, never with "illegal operation".
 */
export function looksLikeTraversal(field: string): boolean {
  if (/%(00|2e|2f|5c)/i.test(field) || /^[a-zA-Z]:/.test(field)) return true;
  return field.split(/[\\/]+/).includes('..');
}

export class TftpAccessError extends Error {
  readonly code = 'PXE_ERR_TFTP_ACCESS';
  constructor(readonly reason: string) {
    super(`TFTP access refused: ${reason}`);
    this.name = 'TftpAccessError';
  }
}

export function isTftpAccessError(e: unknown): e is TftpAccessError {
  return typeof e === 'object' && e !== null && (e as { code?: unknown }).code === 'PXE_ERR_TFTP_ACCESS';
}

function within(root: string, p: string): boolean {
  return p === root || p.startsWith(root.endsWith(path.sep) ? root : root + path.sep);
}

/** Finds `segment` in `dir`: exact name first, then case-insensitive (first in sort order). */
async function matchSegment(dir: string, segment: string): Promise<{ name: string; symlink: boolean } | null> {
  try {
    const st = await fsp.lstat(path.join(dir, segment));
    return { name: segment, symlink: st.isSymbolicLink() };
  } catch {
    // fall through to a case-insensitive scan
  }
  let entries: import('node:fs').Dirent[];
  try {
    entries = await fsp.readdir(dir, { withFileTypes: true });
  } catch {
    return null;
  }
  const want = segment.toLowerCase();
  const hits = entries.filter((e) => e.name.toLowerCase() === want).sort((a, b) => (a.name < b.name ? -1 : 1));
  const hit = hits[0];
  return hit ? { name: hit.name, symlink: hit.isSymbolicLink() } : null;
}

/**
 * Maps a normalised name to a real path under `realRoot` (which must itself be a
 * realpath). Returns null if it does not exist; throws TftpAccessError if it escapes.
 * Symlinks are checked as soon as they are met, so nothing outside the root is even
 * probed for existence.
 */
export async function resolveUnderRoot(realRoot: string, segments: readonly string[]): Promise<string | null> {
  let current = realRoot;
  for (const seg of segments) {
    const found = await matchSegment(current, seg);
    if (found === null) return null;
    current = path.join(current, found.name);
    if (found.symlink) {
      try {
        current = await fsp.realpath(current);
      } catch {
        return null; // dangling symlink
      }
      if (!within(realRoot, current)) throw new TftpAccessError('symlink points outside the TFTP root');
    }
  }
  return current;
}
