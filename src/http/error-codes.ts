/**
 * Stable codes of the errors the HTTP layer itself raises (the service raises the
 * rest: PXE_ERR_INVALID, PXE_ERR_NOT_FOUND, PXE_ERR_CONFLICT, the wizard's codes).
 * Kept next to the HTTP code, like deploy/error-codes.ts, because src/errors.ts
 * holds only the generic constructors; move them there if it grows a code list.
 */
import { PxeError } from '../errors.js';

export const HTTP_ERRORS = {
  /** No bearer token, or one that matches no API token (401). */
  unauthenticated: 'PXE_ERR_UNAUTHENTICATED',
  /** No route for this method and path (404). */
  routeNotFound: 'PXE_ERR_ROUTE_NOT_FOUND',
  /** The request body is larger than the body limit (413). */
  bodyTooLarge: 'PXE_ERR_BODY_TOO_LARGE',
  /** The body is not JSON (415). */
  unsupportedMediaType: 'PXE_ERR_UNSUPPORTED_MEDIA_TYPE',
  /** Some other malformed request fastify refused before the route ran (4xx). */
  badRequest: 'PXE_ERR_BAD_REQUEST',
  /** Anything unexpected; details are in the server log, never in the reply (500). */
  internal: 'PXE_ERR_INTERNAL',
} as const;

export const unauthenticated = (why: string): PxeError =>
  new PxeError(
    HTTP_ERRORS.unauthenticated,
    `${why}; send "Authorization: Bearer <secret>" with an API token's secret — create one with \`pxepoint token create NAME\``,
    401,
  );

export const routeNotFound = (method: string, url: string): PxeError =>
  new PxeError(HTTP_ERRORS.routeNotFound, `no route ${method} ${url.split('?')[0]}; the routes are listed in GET /openapi.json`, 404, {
    method,
    path: url.split('?')[0],
  });

export const internalError = (requestId: string): PxeError =>
  new PxeError(HTTP_ERRORS.internal, `internal error; the server log has the details under request id ${requestId}`, 500, { requestId });
