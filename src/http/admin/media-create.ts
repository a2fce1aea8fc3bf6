/**
 * POST /api/media: builds a medium (src/media/build.ts) into <dataDir>/media/<id>.iso
 * and registers it; 201 with the record (never the secret, never the password)
 * and where to download the image (GET /api/media/<id>/image, admin/media.ts).
 *
 * The body is schemas.ts mediaCreate, the options of `pxepoint media create`.
 * `password` is write-only: not in any reply, and blanked in logs (REDACT_PATHS).
 * The build runs within the request, bounded: one build at a time per server
 * (a second request gets 409 and may retry), and a time limit (default 10
 * minutes) after which the build is stopped and everything it wrote removed.
 *
 * Hooked in admin/index.ts next to mediaRoutes:
 *   await authenticated.register(mediaCreateRoutes, { media, repo: service.repo, dataDir, tftpRoot, siteUrls })
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyPluginAsync } from 'fastify';
import { publicMedia, type MediaService } from '../../app/media-service.js';
import { mediaCreate } from '../../app/schemas.js';
import { conflict } from '../../errors.js';
import { buildMedia } from '../../media/build.js';
import type { IsoTools } from '../../media/iso-image.js';
import type { ScryptParams } from '../../media/types.js';
import type { SiteRepository } from '../../site/repository.js';
import { actorOf } from '../auth.js';
import { baseUrlOf } from '../boot/request-ip.js';
import { anObject, responses } from './route-schemas.js';

/** Where API-built images go: <dataDir>/media/ (admin/media.ts MEDIA_IMAGE_DIR serves them). */
const IMAGE_DIR = 'media';

export interface MediaCreateRouteOptions {
  media: MediaService;
  repo: SiteRepository;
  dataDir: string;
  /** The boot files root (the configuration's tftpRoot). */
  tftpRoot: string;
  /** Site URLs when the body names none; default: the address this request came in on (http://<Host>). */
  siteUrls?: string[];
  /** Longest build (default 10 minutes). */
  timeoutMs?: number;
  /** Tests: other tool paths, cheaper scrypt. */
  tools?: IsoTools;
  scrypt?: ScryptParams;
}

export const DEFAULT_MEDIA_BUILD_TIMEOUT_MS = 10 * 60_000;

const tags = ['media'];

export const mediaCreateRoutes: FastifyPluginAsync<MediaCreateRouteOptions> = async (app, opts) => {
  let building = false;
  app.post('/media', {
    schema: {
      tags,
      summary: 'Build boot media (bootable or stand-alone) and register them',
      description: 'The options of `pxepoint media create`. The image is written to <dataDir>/media/<id>.iso; download it from imageUrl. '
        + '`password` is write-only (never in a reply or a log). One build at a time: 409 while another runs.',
      body: mediaCreate,
      response: responses({
        201: {
          type: 'object',
          additionalProperties: true,
          properties: {
            record: anObject('the registered medium (MediaRecord without secretHash)'),
            imageUrl: { type: 'string', description: 'GET it (with the API token) for the ISO image' },
            warnings: { type: 'array', items: { type: 'string' }, description: 'e.g. SMSTSPreferredAdvertID names no media/PXE deployment (rule 20)' },
          },
        },
      }, [400, 404, 409]),
    },
  }, async (req, reply) => {
    if (building) throw conflict('another medium is being built on this server; try again when it is done');
    building = true;
    try {
      const dir = path.resolve(opts.dataDir, IMAGE_DIR);
      await mkdir(dir, { recursive: true });
      const result = await buildMedia(req.body, (id) => path.join(dir, `${id}.iso`), 'iso', {
        repo: opts.repo,
        media: opts.media,
        dataDir: opts.dataDir,
        tftpRoot: opts.tftpRoot,
        defaultSiteUrls: opts.siteUrls ?? [baseUrlOf(req)],
        actor: actorOf(req),
        signal: AbortSignal.timeout(opts.timeoutMs ?? DEFAULT_MEDIA_BUILD_TIMEOUT_MS),
        ...(opts.tools ? { tools: opts.tools } : {}),
        ...(opts.scrypt ? { scrypt: opts.scrypt } : {}),
      });
      const id = result.record.id;
      return reply.code(201).send({ record: publicMedia(result.record), imageUrl: `/api/media/${encodeURIComponent(id)}/image`, warnings: result.warnings });
    } finally {
      building = false;
    }
  });
};
