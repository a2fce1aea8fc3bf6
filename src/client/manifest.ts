/**
 * The client's side of content manifests (content/types.ts): fetch one from a
 * location, check that the site signed it (Ed25519 with the key policy names,
 * content/signing.ts), that it is well formed, and that it agrees with the
 * file list and SHA-256 of policy (rule 116). Every byte of a manifest comes
 * from a distribution point: untrusted until all three checks pass.
 */
import { isSafeContentPath } from '../content/manifest.js';
import { verifyManifest } from '../content/signing.js';
import type { ContentManifest, ManifestFile } from '../content/types.js';
import type { ContentSigningKey, PolicyPackage } from '../policy/client-api.js';
import type { FetchLike } from './api.js';

/** A manifest larger than this is refused (a 16 MiB manifest already lists ~200,000 chunks). */
export const MAX_MANIFEST_BYTES = 16 * 1024 * 1024;
/** Chunks are verified in memory before they are written: bound their size. */
export const MAX_CHUNK_SIZE = 64 * 1024 * 1024;

export type ManifestCheck =
  | { ok: true; manifest: ContentManifest }
  /** forged: signature, key or shape wrong; disagrees: signed, but not what policy says; unavailable: not fetched. */
  | { ok: false; kind: 'forged' | 'disagrees' | 'unavailable'; message: string };

const HEX64 = /^[0-9a-f]{64}$/;
const HEX16 = /^[0-9a-f]{16}$/;

/** Shape of a parsed manifest: null when well formed, else what is wrong. */
function shapeProblem(m: ContentManifest): string | null {
  if (m === null || typeof m !== 'object' || Array.isArray(m)) return 'not a JSON object';
  if (typeof m.packageId !== 'string' || !Number.isSafeInteger(m.version)) return 'no packageId/version';
  if (!Number.isSafeInteger(m.chunkSize) || m.chunkSize < 1 || m.chunkSize > MAX_CHUNK_SIZE) return `chunkSize ${String(m.chunkSize)} out of range`;
  if (!Array.isArray(m.files)) return 'no files';
  const seen = new Set<string>();
  for (const f of m.files as ManifestFile[]) {
    if (f === null || typeof f !== 'object' || typeof f.path !== 'string' || !isSafeContentPath(f.path)) return `unsafe file path ${JSON.stringify((f as { path?: unknown })?.path)}`;
    if (seen.has(f.path)) return `file ${f.path} listed twice`;
    seen.add(f.path);
    if (!Number.isSafeInteger(f.size) || f.size < 0) return `file ${f.path}: bad size`;
    if (typeof f.sha256 !== 'string' || !HEX64.test(f.sha256)) return `file ${f.path}: bad sha256`;
    if (!Array.isArray(f.chunks) || f.chunks.length !== Math.ceil(f.size / m.chunkSize) || !f.chunks.every((c) => typeof c === 'string' && HEX16.test(c))) {
      return `file ${f.path}: chunk digests do not cover its ${f.size} bytes`;
    }
  }
  return null;
}

/** Checks a parsed manifest for `pkg` against the site key and the policy's file list. */
export function checkManifest(manifest: ContentManifest, pkg: PolicyPackage, key: ContentSigningKey): ManifestCheck {
  const shape = shapeProblem(manifest);
  if (shape !== null) return { ok: false, kind: 'forged', message: `malformed manifest: ${shape}` };
  const sig = manifest.signature as ContentManifest['signature'] | undefined;
  if (!sig || sig.alg !== 'ed25519') return { ok: false, kind: 'forged', message: 'manifest is not Ed25519-signed' };
  if (sig.keyId !== key.keyId) return { ok: false, kind: 'forged', message: `manifest signed by key ${String(sig.keyId)}, not the site's key ${key.keyId}` };
  if (!verifyManifest(manifest, key.publicKey)) return { ok: false, kind: 'forged', message: 'manifest signature does not verify with the site key (forged or altered)' };
  if (manifest.packageId !== pkg.id || manifest.version !== pkg.version) {
    return { ok: false, kind: 'disagrees', message: `manifest is for ${manifest.packageId} v${manifest.version}, policy asks for ${pkg.id} v${pkg.version}` };
  }
  if (pkg.files.length > 0) {
    const byPath = new Map(manifest.files.map((f) => [f.path, f]));
    for (const f of pkg.files) {
      const m = byPath.get(f.path);
      if (!m) return { ok: false, kind: 'disagrees', message: `manifest lacks ${f.path}, which policy lists` };
      if (m.size !== f.size || m.sha256 !== f.sha256.toLowerCase()) return { ok: false, kind: 'disagrees', message: `manifest and policy disagree on ${f.path} (size or SHA-256)` };
    }
    if (manifest.files.length !== pkg.files.length) return { ok: false, kind: 'disagrees', message: `manifest lists ${manifest.files.length} files, policy ${pkg.files.length}` };
  }
  return { ok: true, manifest };
}

/** Fetches and checks the manifest at `url`. */
export async function fetchManifest(
  fetchFn: FetchLike, url: string, pkg: PolicyPackage, key: ContentSigningKey, timeoutMs: number, headers: Record<string, string> = {},
): Promise<ManifestCheck> {
  let text: string;
  try {
    const res = await fetchFn(url, { headers: { accept: 'application/json', ...headers }, signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok || !res.body) {
      await res.body?.cancel().catch(() => undefined);
      return { ok: false, kind: 'unavailable', message: `HTTP ${res.status}` };
    }
    const declared = Number(res.headers.get('content-length') ?? '0');
    if (declared > MAX_MANIFEST_BYTES) {
      await res.body.cancel().catch(() => undefined);
      return { ok: false, kind: 'forged', message: `manifest of ${declared} bytes is larger than ${MAX_MANIFEST_BYTES}` };
    }
    const parts: Uint8Array[] = [];
    let size = 0;
    const reader = res.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.length;
      if (size > MAX_MANIFEST_BYTES) {
        await reader.cancel().catch(() => undefined);
        return { ok: false, kind: 'forged', message: `manifest larger than ${MAX_MANIFEST_BYTES} bytes` };
      }
      parts.push(value);
    }
    text = Buffer.concat(parts).toString('utf8');
  } catch (e) {
    const err = e as { name?: string; message?: string; cause?: { code?: string } };
    return { ok: false, kind: 'unavailable', message: err.name === 'TimeoutError' ? 'timed out' : (err.cause?.code ?? err.message ?? String(e)) };
  }
  let parsed: ContentManifest;
  try {
    parsed = JSON.parse(text) as ContentManifest;
  } catch {
    return { ok: false, kind: 'forged', message: 'manifest is not JSON' };
  }
  return checkManifest(parsed, pkg, key);
}
