/**
 * The boot media registry in the admin API (issue 7, rules 101–103):
 *
 *   GET  /api/media                 registered media, newest first
 *   GET  /api/media/:id             one medium
 *   POST /api/media/:id/block       {reason?}: the client API and the boot loader route refuse it from now on (rule 102)
 *   POST /api/media/:id/unblock     {reason?}
 *   GET  /api/media/:id/image       the ISO image, when the builder wrote it under <dataDir>/media/
 *
 * Replies never carry the media secret (the site never has it) nor its hash.
 * POST /api/media (building media) is the builder's: admin/media-create.ts.
 */
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { basename, isAbsolute, join, relative, resolve } from 'node:path';
import type { FastifyPluginAsync } from 'fastify';
import { publicMedia, type MediaService } from '../../app/media-service.js';
import { PxeError } from '../../errors.js';
import { actorOf } from '../auth.js';
import { anObject, idParams, listOf, responses } from './route-schemas.js';

type IdRoute = { Params: { id: string } };
type ReasonRoute = IdRoute & { Body: { reason?: string } | undefined };

const tags = ['media'];

/** Where the builder keeps images the site serves: <dataDir>/media/. */
export const MEDIA_IMAGE_DIR = 'media';

const reasonBody = {
  type: 'object',
  additionalProperties: false,
  properties: { reason: { type: 'string', maxLength: 500, description: 'why (kept in the audit message)' } },
} as const;

/** `POST …/block` with no body at all (curl -X POST) means no reason. */
const emptyBodyIsNoReason = async (req: { body: unknown }): Promise<void> => {
  if (req.body === undefined || req.body === null) req.body = {};
};

const mediaRecord = anObject('a registered medium (src/media/types.ts MediaRecord without secretHash)');

const imageNotFound = (message: string, id: string): PxeError => new PxeError('PXE_ERR_NOT_FOUND', message, 404, { kind: 'media-image', id });

/** The image file of a record, only if it is a regular file inside <dataDir>/media/ (symlinks resolved). */
async function imageFile(dataDir: string | undefined, id: string, imagePath: string | null): Promise<{ path: string; size: number }> {
  if (imagePath === null) {
    throw imageNotFound(`medium "${id}" has no image on the site: it was built to a path the site does not serve; copy the ISO from where it was written`, id);
  }
  if (dataDir === undefined) throw imageNotFound('this server does not serve media images (it was started without a data directory)', id);
  const root = resolve(dataDir, MEDIA_IMAGE_DIR);
  let realRoot: string;
  try {
    realRoot = await realpath(root);
  } catch {
    throw imageNotFound(`medium "${id}": the media folder ${root} does not exist`, id);
  }
  const candidates = isAbsolute(imagePath) ? [imagePath] : [resolve(root, imagePath), resolve(dataDir, imagePath)];
  for (const candidate of candidates) {
    let real: string;
    try {
      real = await realpath(candidate);
    } catch {
      continue;
    }
    const rel = relative(realRoot, real);
    if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) continue;
    const st = await stat(real);
    if (st.isFile()) return { path: real, size: st.size };
  }
  throw imageNotFound(`medium "${id}": its image ${imagePath} is not a file under ${join(dataDir, MEDIA_IMAGE_DIR)} (moved, deleted, or built elsewhere); only images there are served`, id);
}

export const mediaRoutes: FastifyPluginAsync<{ media: MediaService; dataDir?: string }> = async (app, { media, dataDir }) => {
  app.get('/media', {
    schema: { tags, summary: 'List registered boot media, newest first (never secrets)', response: responses({ 200: listOf('registered media') }) },
  }, async () => (await media.list()).map(publicMedia));

  app.get<IdRoute>('/media/:id', {
    schema: { tags, summary: 'One registered boot medium', params: idParams, response: responses({ 200: mediaRecord }, [404]) },
  }, async (req) => publicMedia(await media.get(req.params.id)));

  app.post<ReasonRoute>('/media/:id/block', {
    preValidation: emptyBodyIsNoReason,
    schema: {
      tags,
      summary: 'Block a boot medium: the site refuses it from now on (rule 102)',
      description: 'Idempotent: blocking a blocked medium changes nothing. Audited with the token name and the reason.',
      params: idParams,
      body: reasonBody,
      response: responses({ 200: mediaRecord }, [400, 404]),
    },
  }, async (req) => publicMedia(await media.block(req.params.id, actorOf(req), req.body?.reason)));

  app.post<ReasonRoute>('/media/:id/unblock', {
    preValidation: emptyBodyIsNoReason,
    schema: {
      tags,
      summary: 'Unblock a boot medium (its certificate dates still apply)',
      description: 'Idempotent. Audited with the token name and the reason.',
      params: idParams,
      body: reasonBody,
      response: responses({ 200: mediaRecord }, [400, 404]),
    },
  }, async (req) => publicMedia(await media.unblock(req.params.id, actorOf(req), req.body?.reason)));

  app.get<IdRoute>('/media/:id/image', {
    schema: {
      tags,
      summary: 'Download a medium\'s ISO image (only images the builder wrote under <dataDir>/media/)',
      params: idParams,
      response: responses({ 200: { type: 'string', format: 'binary', description: 'the ISO image (application/x-iso9660-image)' } }, [404]),
    },
  }, async (req, reply) => {
    const record = await media.get(req.params.id);
    const file = await imageFile(dataDir, record.id, record.imagePath);
    const name = basename(file.path).replace(/[^A-Za-z0-9._-]/g, '_');
    return reply
      .type('application/x-iso9660-image')
      .header('content-length', String(file.size))
      .header('content-disposition', `attachment; filename="${name}"`)
      .send(createReadStream(file.path));
  });
};
