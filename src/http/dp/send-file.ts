/**
 * Sending one content file: strong ETag ("sha256:<hex>", the file's own digest, so
 * identical bytes have the same tag on every DP), `Repr-Digest` (RFC 9530, the
 * SHA-256 of the whole representation, also on 206 replies), `Accept-Ranges`,
 * 304 on a matching If-None-Match, and one byte range (RFC 9110 §14) with If-Range.
 *
 * Several ranges in one request ("bytes=0-1,5-9") are answered with the whole file
 * (200), which RFC 9110 §14.2 allows: the reference client resumes with one range,
 * and multipart/byteranges would buy nothing here (docs/content.md).
 *
 * Bodies stream from disk through two reused buffers per response (stream-file.ts);
 * the socket paces the reads, so memory does not grow with file size or with the
 * number of clients.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { parseRange } from '../../app/client-content.js';
import { etagOf, type ManifestFile } from '../../content/types.js';
import { streamFileRange } from './stream-file.js';

const reprDigest = (sha256Hex: string): string => `sha-256=:${Buffer.from(sha256Hex, 'hex').toString('base64')}:`;

/** RFC 9110 §13.1.2: "*" or a list of entity tags; weak comparison for If-None-Match. */
function matchesNoneMatch(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((t) => t.trim().replace(/^W\//, '') === etag);
}

export function sendContentFile(req: FastifyRequest, reply: FastifyReply, path: string, file: ManifestFile, cacheControl = 'public, max-age=31536000, immutable'): FastifyReply {
  const etag = etagOf(file.sha256);
  void reply
    .header('etag', etag)
    .header('repr-digest', reprDigest(file.sha256))
    .header('accept-ranges', 'bytes')
    // A versioned URL never changes content (the default); share URLs pass 'no-cache'.
    .header('cache-control', cacheControl)
    .type('application/octet-stream');
  if (matchesNoneMatch(req.headers['if-none-match'], etag)) return reply.code(304).send();

  const ifRange = req.headers['if-range'];
  // If-Range with anything but our (strong) ETag: the client's copy is stale, send it all.
  const rangeHeader = ifRange === undefined || (typeof ifRange === 'string' && ifRange.trim() === etag) ? req.headers.range : undefined;
  const range = parseRange(rangeHeader, file.size);
  const head = req.method === 'HEAD';
  if (range === 'unsatisfiable') {
    return reply.code(416).header('content-range', `bytes */${file.size}`).header('content-length', 0).send();
  }
  if (range === null) {
    void reply.header('content-length', file.size);
    if (head || file.size === 0) return reply.send();
    return sendBody(reply, path, 0, file.size - 1);
  }
  void reply.code(206).header('content-range', `bytes ${range.start}-${range.end}/${file.size}`).header('content-length', range.end - range.start + 1);
  if (head) return reply.send();
  return sendBody(reply, path, range.start, range.end);
}

/** The body bypasses fastify's stream piping (hijack) for the pooled buffers of stream-file.ts. */
function sendBody(reply: FastifyReply, path: string, start: number, end: number): FastifyReply {
  reply.hijack();
  const raw = reply.raw;
  const headers: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(reply.getHeaders())) if (v !== undefined) headers[k] = typeof v === 'number' ? String(v) : v;
  raw.writeHead(reply.statusCode, headers);
  void streamFileRange(path, start, end, raw).catch((e: unknown) => reply.log.warn({ err: e }, 'content stream failed'));
  return reply;
}
