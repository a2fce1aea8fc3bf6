/**
 * The distribution point routes (URL layout in src/content/types.ts), served by
 * every DP process and by the site from its own library:
 *
 *   GET|HEAD content/site-key.pem                          the site's manifest-signing key
 *   GET|HEAD content/:packageId/:version/manifest.json     the signed manifest
 *   GET|HEAD content/:packageId/:version/files/*           a file (Range, ETag, Repr-Digest)
 *   GET      dp/packages                                   verified versions held here
 *   GET|HEAD share/:packageId/*                            package share (rule 10): newest version, copyToPackageShare only
 *
 * No authentication: files are public by design of the hash checks (integrity comes
 * from the signed manifest, not from the channel; docs/content.md says what this
 * means for confidential content). Every path byte is untrusted: a file is served
 * only if its path is exactly an entry of a verified manifest, so `..`, absolute
 * paths and links cannot reach anything else.
 */
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { isSafeContentPath } from '../../content/manifest.js';
import { isPackageId } from '../../content/library.js';
import type { ContentSource } from '../../content/source.js';
import type { ContentManifest, ManifestFile } from '../../content/types.js';
import { sendContentFile } from './send-file.js';

type FileParams = { Params: { packageId: string; version: string; '*': string } };
type ManifestParams = { Params: { packageId: string; version: string } };
type ShareParams = { Params: { packageId: string; '*': string } };

const VERSION = /^[1-9]\d{0,8}$/;

function notHere(reply: FastifyReply, what: string): FastifyReply {
  return reply.code(404).header('cache-control', 'no-store').send({ code: 'PXE_ERR_CONTENT_NOT_FOUND', message: `${what} is not on this distribution point` });
}

/** Files by path, per manifest object (manifests are immutable once verified). */
const indexes = new WeakMap<ContentManifest, Map<string, ManifestFile>>();
function fileOf(m: ContentManifest, path: string): ManifestFile | undefined {
  let idx = indexes.get(m);
  if (!idx) indexes.set(m, (idx = new Map(m.files.map((f) => [f.path, f]))));
  return idx.get(path);
}

export const dpContentRoutes: FastifyPluginAsync<{ source: ContentSource }> = async (app, { source }) => {
  const missing = async (reply: FastifyReply, packageId: string, version: number): Promise<FastifyReply> => {
    const retry = source.onMissing ? await source.onMissing(packageId, version).catch(() => null) : null;
    if (retry !== null) {
      // On-demand distribution started (rule 125): come back later, or use the next location.
      return reply.code(503).header('retry-after', String(retry)).header('cache-control', 'no-store')
        .send({ code: 'PXE_ERR_CONTENT_PENDING', message: `package ${packageId} version ${version} is being distributed to this distribution point; retry in ${retry} s or use another location` });
    }
    return notHere(reply, `package ${packageId} version ${version}`);
  };

  const lookup = async (packageId: string, version: string): Promise<ContentManifest | 'bad' | undefined> => {
    if (!isPackageId(packageId) || !VERSION.test(version)) return 'bad';
    return source.manifest(packageId, Number(version));
  };

  app.get('/content/site-key.pem', (_req, reply) => reply.type('application/x-pem-file').header('cache-control', 'no-cache').send(source.publicKeyPem()));

  app.get<ManifestParams>('/content/:packageId/:version/manifest.json', async (req, reply) => {
    const m = await lookup(req.params.packageId, req.params.version);
    if (m === 'bad') return notHere(reply, 'that package version');
    if (!m) return missing(reply, req.params.packageId, Number(req.params.version));
    return reply.type('application/json').header('cache-control', 'public, max-age=31536000, immutable').send(JSON.stringify(m));
  });

  // GET and HEAD as one explicit route: fastify's implicit HEAD route would read the whole file to discard it.
  app.route<FileParams>({ method: ['GET', 'HEAD'], url: '/content/:packageId/:version/files/*', handler: async (req, reply) => {
    const path = req.params['*'];
    const m = await lookup(req.params.packageId, req.params.version);
    if (m === 'bad' || !isSafeContentPath(path)) return notHere(reply, 'that file');
    if (!m) return missing(reply, req.params.packageId, Number(req.params.version));
    const file = fileOf(m, path);
    if (!file) return notHere(reply, `file "${path}" of package ${m.packageId} version ${m.version}`);
    return sendContentFile(req, reply, source.library.objectPath(file.sha256), file);
  } });

  app.get('/dp/packages', async (_req, reply) => reply.header('cache-control', 'no-store').send({ packages: await source.held() }));

  app.route<ShareParams>({ method: ['GET', 'HEAD'], url: '/share/:packageId/*', handler: async (req, reply) => {
    const path = req.params['*'];
    if (!isPackageId(req.params.packageId) || !isSafeContentPath(path)) return notHere(reply, 'that file');
    const m = await source.shared(req.params.packageId);
    const file = m ? fileOf(m, path) : undefined;
    if (!m || !file) return notHere(reply, `package share file ${req.params.packageId}/${path}`);
    // Share URLs are not versioned: revalidate (the ETag changes with the content).
    return sendContentFile(req, reply, source.library.objectPath(file.sha256), file, 'no-cache');
  } });
};
