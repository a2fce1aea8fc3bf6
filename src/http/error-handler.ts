/**
 * One error handler for every route: whatever goes wrong, the client gets
 * `{code, message, ...details}` with a PXE_ERR_* code, and a 500 never carries a
 * stack trace or an internal message (it is logged instead).
 */
import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import type { ErrorObject } from 'ajv';
import { invalid, isPxeError, PxeError } from '../errors.js';
import { describeAjvError } from '../app/validate.js';
import { HTTP_ERRORS, internalError, routeNotFound } from './error-codes.js';

/** Fastify's own request errors (parsing, limits) as PXE errors; undefined if `err` is not one. */
function fromFastifyError(err: FastifyError, bodyLimit: number): PxeError | undefined {
  if (Array.isArray(err.validation) && err.validation.length > 0) {
    // Same wording as the service and the CLI (app/validate.ts).
    const { field, message } = describeAjvError(err.validation[0] as ErrorObject, err.validationContext ?? 'body');
    return invalid(field, message);
  }
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return invalid('body', err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY'
        ? 'is empty although the content type is application/json; send a JSON object, or no content type'
        : 'is not valid JSON, or has a "__proto__" or "constructor" key (refused: prototype poisoning)');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new PxeError(HTTP_ERRORS.bodyTooLarge, `request body is larger than the limit of ${bodyLimit} bytes; send a smaller change`, 413, { limit: bodyLimit });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new PxeError(HTTP_ERRORS.unsupportedMediaType, 'the admin API accepts only application/json bodies', 415);
  }
  // Other refusals before the route ran (e.g. a Content-Length that does not match the body).
  const status = err.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    return new PxeError(HTTP_ERRORS.badRequest, err.message, status);
  }
  return undefined;
}

/** The error the client is told about. Unexpected errors are logged in full here. */
export function publicError(err: unknown, request: FastifyRequest, bodyLimit: number): PxeError {
  if (isPxeError(err) && err.status < 500) return err;
  const fromFastify = isPxeError(err) ? undefined : fromFastifyError(err as FastifyError, bodyLimit);
  if (fromFastify) return fromFastify;
  // Unexpected: log everything, tell the client nothing but where to look.
  request.log.error({ err }, 'unexpected error in %s %s', request.method, request.routeOptions.url ?? request.url);
  return internalError(request.id);
}

export function installErrorHandling(app: FastifyInstance, bodyLimit: number): void {
  app.setErrorHandler((err, request, reply) => {
    const e = publicError(err, request, bodyLimit);
    if (e.status >= 400 && e.status < 500) request.log.info({ code: e.code, status: e.status }, e.message);
    if (e.status === 401) void reply.header('www-authenticate', 'Bearer realm="pxepoint"');
    return reply.code(e.status).type('application/json; charset=utf-8').send(e.toJSON());
  });
  app.setNotFoundHandler((request, reply) => {
    const e = routeNotFound(request.method, request.url);
    return reply.code(404).type('application/json; charset=utf-8').send(e.toJSON());
  });
}
