/**
 * Small fastify distribution points on loopback implementing the DP URL layout
 * of src/content/types.ts (signed manifest, files with Range, package share,
 * /dp/packages), with a request log and knobs to break them. Used by the client
 * content tests and the content-flow integration test.
 */
import { generateKeyPairSync } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import { parseRange } from '../../src/app/client-content.js';
import { Digester, manifestBody, xxhashApi } from '../../src/content/manifest.js';
import { keyIdOf, signManifest, type SiteKey } from '../../src/content/signing.js';
import { CHUNK_SIZE, type ContentManifest, type ManifestFile } from '../../src/content/types.js';
import type { ContentFile, ContentSigningKey, PolicyContentSource, PolicyPackage } from '../../src/policy/client-api.js';

export function newSiteKey(): SiteKey {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }) as string;
  return { privateKey, publicKeyPem, keyId: keyIdOf(publicKeyPem) };
}

export const signingKeyOf = (key: SiteKey): ContentSigningKey => ({ alg: 'ed25519', keyId: key.keyId, publicKey: key.publicKeyPem });

export type PackageFiles = Record<string, Buffer>;

export async function manifestOf(packageId: string, version: number, files: PackageFiles, key: SiteKey, chunkSize = CHUNK_SIZE): Promise<ContentManifest> {
  const xx = await xxhashApi();
  const list: ManifestFile[] = Object.entries(files).map(([path, data]) => {
    const d = new Digester(xx, chunkSize);
    d.update(data);
    const { size, sha256, chunks } = d.digest();
    return { path, size, sha256, chunks };
  });
  return signManifest(manifestBody({ packageId, version, createdAt: '2026-11-26T00:00:00.000Z' }, list, chunkSize), key);
}

export const policyFiles = (m: ContentManifest): ContentFile[] => m.files.map((f) => ({ path: f.path, size: f.size, sha256: f.sha256 }));

/** A copy with one byte changed at `offset`. */
export function flipped(data: Buffer, offset: number): Buffer {
  const copy = Buffer.from(data);
  copy[offset] = copy[offset]! ^ 0xff;
  return copy;
}

/** Deterministic pseudo-random bytes. */
export function bytes(size: number, seed = 1): Buffer {
  const b = Buffer.alloc(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    b[i] = x & 0xff;
  }
  return b;
}

export interface DpRequest {
  kind: 'manifest' | 'file' | 'share' | 'packages';
  path: string;
  range: string | null;
}

export interface FakeDp {
  id: string;
  url: string;
  app: FastifyInstance;
  /** packageId@version → the DP's copy of the files (what it serves under files/ and share/). */
  files: Map<string, PackageFiles>;
  /** packageId@version → the manifest it serves (any JSON; a string is served as is). */
  manifests: Map<string, unknown>;
  requests: DpRequest[];
  /** Answer 500 to this many file requests, then serve normally. */
  failNext: number;
  /** Close the connection after this many body bytes of the next file response (once). */
  cutAfter: number | null;
  close(): Promise<void>;
}

export async function startFakeDp(id: string): Promise<FakeDp> {
  const app = Fastify({ logger: false });
  const dp: FakeDp = {
    id, url: '', app, files: new Map(), manifests: new Map(), requests: [], failNext: 0, cutAfter: null,
    close: () => app.close(),
  };
  const serve = (data: Buffer, range: string | undefined, reply: import('fastify').FastifyReply): unknown => {
    const r = parseRange(range, data.length);
    void reply.header('accept-ranges', 'bytes').type('application/octet-stream');
    if (r === 'unsatisfiable') return reply.code(416).header('content-range', `bytes */${data.length}`).send();
    let body = r === null ? data : data.subarray(r.start, r.end + 1);
    if (r !== null) void reply.code(206).header('content-range', `bytes ${r.start}-${r.end}/${data.length}`);
    if (dp.cutAfter !== null) {
      // Announce the full length, send part of it, then drop the connection: a transfer cut mid-file.
      const n = dp.cutAfter;
      dp.cutAfter = null;
      reply.hijack();
      const raw = reply.raw;
      raw.writeHead(reply.statusCode, { 'content-type': 'application/octet-stream', 'content-length': String(body.length), ...(r ? { 'content-range': `bytes ${r.start}-${r.end}/${data.length}` } : {}) });
      raw.write(body.subarray(0, n), () => raw.socket?.destroy());
      return reply;
    }
    body = Buffer.from(body);
    return reply.header('content-length', body.length).send(body);
  };
  app.get<{ Params: { pkg: string; ver: string } }>('/content/:pkg/:ver/manifest.json', async (req, reply) => {
    dp.requests.push({ kind: 'manifest', path: `${req.params.pkg}/${req.params.ver}`, range: null });
    const m = dp.manifests.get(`${req.params.pkg}@${req.params.ver}`);
    if (m === undefined) return reply.code(404).send({ code: 'PXE_ERR_NOT_FOUND', message: 'no such package version' });
    return reply.type('application/json').send(typeof m === 'string' ? m : JSON.stringify(m));
  });
  app.get<{ Params: { pkg: string; ver: string; '*': string } }>('/content/:pkg/:ver/files/*', async (req, reply) => {
    const path = decodeURIComponent(req.params['*']);
    dp.requests.push({ kind: 'file', path, range: req.headers.range ?? null });
    if (dp.failNext > 0) {
      dp.failNext--;
      return reply.code(500).send({ code: 'PXE_ERR_INTERNAL', message: 'broken on purpose' });
    }
    const data = dp.files.get(`${req.params.pkg}@${req.params.ver}`)?.[path];
    if (data === undefined) return reply.code(404).send({ code: 'PXE_ERR_NOT_FOUND', message: 'no such file' });
    return serve(data, req.headers.range, reply);
  });
  app.get<{ Params: { pkg: string; '*': string } }>('/share/:pkg/*', async (req, reply) => {
    const path = decodeURIComponent(req.params['*']);
    dp.requests.push({ kind: 'share', path, range: req.headers.range ?? null });
    const entry = [...dp.files.entries()].find(([k]) => k.startsWith(`${req.params.pkg}@`));
    const data = entry?.[1][path];
    if (data === undefined) return reply.code(404).send({ code: 'PXE_ERR_NOT_FOUND', message: 'no such file' });
    return serve(data, req.headers.range, reply);
  });
  app.get('/dp/packages', async () => {
    dp.requests.push({ kind: 'packages', path: '', range: null });
    return { packages: [...dp.files.keys()].map((k) => ({ packageId: k.split('@')[0], version: Number(k.split('@')[1]) })) };
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  dp.url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/`;
  return dp;
}

/** Puts a package version on a DP: its files (a copy, so tests can alter one DP's) and the manifest. */
export function holdPackage(dp: FakeDp, manifest: ContentManifest, files: PackageFiles): void {
  const key = `${manifest.packageId}@${manifest.version}`;
  dp.files.set(key, Object.fromEntries(Object.entries(files).map(([p, b]) => [p, Buffer.from(b)])));
  dp.manifests.set(key, manifest);
}

/** The policy's source entry for a DP, as app/client-policy.ts builds it. */
export function dpSource(dp: FakeDp, packageId: string, version: number, source: PolicyContentSource['source'] = 'current'): PolicyContentSource {
  const base = `${dp.url}content/${packageId}/${version}/`;
  return { filesUrl: `${base}files/`, manifestUrl: `${base}manifest.json`, shareUrl: `${dp.url}share/${packageId}/`, distributionPointId: dp.id, source };
}

export function dpPackage(id: string, manifest: ContentManifest, sources: PolicyContentSource[]): PolicyPackage {
  return { id, name: `Package ${id}`, version: manifest.version, files: policyFiles(manifest), locations: sources.map((s) => s.filesUrl), sources };
}
