/**
 * GET /boot/files/* — the boot files root (the TFTP root: chain loaders, boot
 * images) over HTTP, for iPXE and UEFI HTTP Boot. Same name policy as TFTP
 * (tftp/paths.ts: no `..`, no drive letters or control characters, symlinks must
 * stay under the root, case-insensitive fallback), streamed, one `Range` honoured.
 */
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import { parseRange } from '../../app/client-content.js';
import { PxeError } from '../../errors.js';
import { publish } from '../../events.js';
import { normalizeRequestName, resolveUnderRoot, isTftpAccessError } from '../../tftp/paths.js';
import type { BootSessions } from '../../pxe/boot-sessions.js';
import { BOOT_ERRORS, bootForbidden, bootNotFound } from './errors.js';
import { clientAddress } from './request-ip.js';

type FilesRoute = { Params: { '*': string } };

export function registerBootFiles(app: FastifyInstance, root: string, sessions: BootSessions): void {
  let realRoot: Promise<string> | null = null;
  app.get<FilesRoute>('/files/*', {
    schema: {
      tags: ['boot'],
      summary: 'A file of the boot files root (chain loaders, boot images); Range supported',
      security: [],
    },
  }, async (req, reply) => {
    const ip = clientAddress(req);
    const requested = req.params['*'];
    const event = (status: number, extra: Record<string, unknown> = {}): void =>
      publish('http.boot', { kind: 'file', path: requested, ip, mac: sessions.byIp(ip)?.mac ?? null, status, ...extra });
    const norm = normalizeRequestName(requested);
    if (!norm.ok) {
      event(400);
      throw new PxeError(BOOT_ERRORS.badPath, `"${requested}" is not a boot file name: ${norm.reason}`, 400);
    }
    realRoot ??= realpath(root);
    let real: string | null;
    try {
      real = await resolveUnderRoot(await realRoot, norm.segments);
    } catch (e) {
      if (!isTftpAccessError(e)) throw e;
      event(403);
      throw bootForbidden(`"${requested}" is outside the boot files root`);
    }
    const st = real === null ? null : await stat(real).catch(() => null);
    if (real === null || st === null || !st.isFile()) {
      event(404);
      throw bootNotFound(`no boot file "${requested}"`);
    }
    const size = st.size;
    const range = parseRange(req.headers.range, size);
    void reply.header('accept-ranges', 'bytes').type('application/octet-stream');
    if (range === 'unsatisfiable') {
      void reply.header('content-range', `bytes */${size}`);
      event(416);
      throw new PxeError(BOOT_ERRORS.rangeNotSatisfiable, `the range "${req.headers.range}" is outside the file (${size} bytes)`, 416, { size });
    }
    if (range === null) {
      event(200, { bytes: size, size });
      void reply.header('content-length', size);
      return reply.send(createReadStream(real));
    }
    event(206, { bytes: range.end - range.start + 1, size, range: `${range.start}-${range.end}` });
    void reply.code(206).header('content-range', `bytes ${range.start}-${range.end}/${size}`).header('content-length', range.end - range.start + 1);
    return reply.send(createReadStream(real, { start: range.start, end: range.end }));
  });
}
