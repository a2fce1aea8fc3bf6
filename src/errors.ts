/**
 * One catalogue of typed errors with stable, greppable codes (PXE_ERR_*).
 * Every message says what to fix. Errors are recognised by brand (`isPxeError`),
 * not by `instanceof`, so copies of this module in different bundles still agree.
 */

const BRAND = Symbol.for('pxepoint.error');

export interface PxeErrorDetails {
  /** The field, rule or object the error is about (e.g. "body.purpose", "rule 9"). */
  field?: string;
  rule?: number;
  [key: string]: unknown;
}

export class PxeError extends Error {
  readonly [BRAND] = true;
  constructor(
    readonly code: string,
    message: string,
    /** HTTP status the admin API answers with. */
    readonly status: number = 400,
    readonly details: PxeErrorDetails = {},
  ) {
    super(message);
    this.name = 'PxeError';
  }

  toJSON(): Record<string, unknown> {
    return { code: this.code, message: this.message, ...this.details };
  }
}

export function isPxeError(e: unknown): e is PxeError {
  return typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[BRAND] === true;
}

export const notFound = (kind: string, id: string | number): PxeError =>
  new PxeError('PXE_ERR_NOT_FOUND', `${kind} "${id}" does not exist; list them with \`pxepoint ${kind} list\``, 404, { kind, id });

export const conflict = (message: string, details: PxeErrorDetails = {}): PxeError =>
  new PxeError('PXE_ERR_CONFLICT', message, 409, details);

export const invalid = (field: string, message: string): PxeError =>
  new PxeError('PXE_ERR_INVALID', `${field}: ${message}`, 400, { field });

/** A deploy-wizard rule refused the deployment. `rule` is the configmgr-rules.md number. */
export const wizardRule = (code: string, rule: number, message: string, field?: string): PxeError =>
  new PxeError(code, message, 422, field === undefined ? { rule } : { rule, field });
