/** The code of the PxeError a call throws, for asserting on refusals. */
import { isPxeError } from '../../src/errors.js';

/** The PxeError code `fn` throws, or 'ok' when it returns; any other error is rethrown. */
export function pxeErrorCode(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (isPxeError(e)) return e.code;
    throw e;
  }
  return 'ok';
}
