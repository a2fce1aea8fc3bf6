/**
 * Verified packages kept in a target between runs (rule 16 pre-caching, and a
 * target reused after a restart): `<target>/_SMSTSCache/<id>.json` names the
 * version and the files (size, SHA-256) that were verified into
 * `<target>/_SMSTSPackages/<id>/`. A later run uses the copy only if policy asks
 * for the same version and files and the copy still hashes right: content at
 * rest is re-checked (cheap next to a download), so a step never gets bytes
 * altered after they were verified.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { ContentFile, PolicyPackage } from '../policy/client-api.js';

/** Records of verified packages: `<id>.json`. */
export const CACHE_DIR = '_SMSTSCache';

const recordPath = (targetDir: string, packageId: string): string => join(targetDir, CACHE_DIR, `${packageId}.json`);

const byPath = (files: readonly ContentFile[]): ContentFile[] => [...files].sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));

const sameFiles = (a: readonly ContentFile[], b: readonly ContentFile[]): boolean =>
  a.length === b.length && a.every((f, i) => f.path === b[i]!.path && f.size === b[i]!.size && f.sha256.toLowerCase() === b[i]!.sha256.toLowerCase());

async function sha256Of(file: string): Promise<string> {
  const h = createHash('sha256');
  await pipeline(createReadStream(file), h);
  return h.digest('hex');
}

async function listFiles(root: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(root, { withFileTypes: true })) {
    const rel = prefix === '' ? e.name : `${prefix}/${e.name}`;
    if (e.isDirectory()) out.push(...(await listFiles(join(root, e.name), rel)));
    else out.push(rel);
  }
  return out;
}

/** Notes a verified package (files: what was verified), or forgets it (null: unverified content took its place). */
export async function recordVerified(targetDir: string, pkg: PolicyPackage, files: ContentFile[] | null): Promise<void> {
  if (files === null) {
    await rm(recordPath(targetDir, pkg.id), { force: true });
    return;
  }
  await mkdir(join(targetDir, CACHE_DIR), { recursive: true });
  const body = { packageId: pkg.id, version: pkg.version, files: byPath(files).map((f) => ({ path: f.path, size: f.size, sha256: f.sha256.toLowerCase() })), verifiedAt: new Date().toISOString() };
  await writeFile(recordPath(targetDir, pkg.id), JSON.stringify(body, null, 2) + '\n');
}

/**
 * The kept copy in `dir` if it is this version with exactly these files and
 * they still hash right: its byte count; null when there is none; an Error
 * saying why an existing copy is not usable (its record is then dropped).
 */
export async function verifiedCopy(targetDir: string, dir: string, pkg: PolicyPackage, files: ContentFile[]): Promise<number | null | Error> {
  let rec: { packageId?: unknown; version?: unknown; files?: ContentFile[] };
  try {
    rec = JSON.parse(await readFile(recordPath(targetDir, pkg.id), 'utf8')) as typeof rec;
  } catch {
    return null;
  }
  if (rec.packageId !== pkg.id || rec.version !== pkg.version || !Array.isArray(rec.files) || !sameFiles(byPath(rec.files), byPath(files))) return null;
  try {
    const present = (await listFiles(dir)).sort();
    if (present.join('\n') !== byPath(files).map((f) => f.path).join('\n')) throw new Error('the folder holds other files');
    let bytes = 0;
    for (const f of files) {
      if ((await sha256Of(join(dir, ...f.path.split('/')))) !== f.sha256.toLowerCase()) throw new Error(`${f.path} no longer matches its SHA-256`);
      bytes += f.size;
    }
    return bytes;
  } catch (e) {
    await rm(recordPath(targetDir, pkg.id), { force: true });
    return e as Error;
  }
}
