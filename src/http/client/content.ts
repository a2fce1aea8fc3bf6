/**
 * GET /client/content/:packageId/* — a package file, streamed from the package's
 * source folder, for sessions whose policy references the package. The path is
 * resolved by app/client-content.ts (no `..`, no links, nothing outside the
 * folder). A single `Range: bytes=…` is honoured (206), so a client can resume.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { FastifyPluginAsync } from 'fastify';
import { parseRange } from '../../app/client-content.js';
import { CLIENT_ERRORS } from '../../app/client-errors.js';
import type { ClientService } from '../../app/client-service.js';
import { PxeError } from '../../errors.js';
import { originOf, sessionOf } from './session.js';
import { CLIENT_TAGS, clientResponses, contentParams, sessionSecurity } from './schemas.js';

type ContentRoute = { Params: { packageId: string; '*': string } };

export const contentRoute: FastifyPluginAsync<{ clientService: ClientService }> = async (app, { clientService }) => {
  app.get<ContentRoute>('/content/:packageId/*', {
    schema: {
      tags: CLIENT_TAGS,
      summary: 'Download a file of a package in this machine\'s policy (Range supported)',
      security: sessionSecurity,
      params: contentParams,
      response: clientResponses({
        200: { description: 'the file', type: 'string', format: 'binary' },
        206: { description: 'the requested range of the file', type: 'string', format: 'binary' },
      }, [403, 404, 416]),
    },
  }, async (req, reply) => {
    const { file } = await clientService.contentFile(sessionOf(req), req.params.packageId, req.params['*'], originOf(req));
    const { size } = await stat(file);
    const range = parseRange(req.headers.range, size);
    void reply.header('accept-ranges', 'bytes').type('application/octet-stream');
    if (range === 'unsatisfiable') {
      void reply.header('content-range', `bytes */${size}`);
      throw new PxeError(CLIENT_ERRORS.rangeNotSatisfiable, `the range "${req.headers.range}" is outside the file (${size} bytes)`, 416, { size });
    }
    if (range === null) {
      void reply.header('content-length', size);
      return reply.send(createReadStream(file));
    }
    void reply.code(206).header('content-range', `bytes ${range.start}-${range.end}/${size}`).header('content-length', range.end - range.start + 1);
    return reply.send(createReadStream(file, { start: range.start, end: range.end }));
  });
};
