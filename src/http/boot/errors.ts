/** Error codes of the boot routes (/boot/…), for iPXE, HTTP Boot firmware and WinPE. */
import { PxeError } from '../../errors.js';

export const BOOT_ERRORS = {
  notFound: 'PXE_ERR_BOOT_NOT_FOUND',
  forbidden: 'PXE_ERR_BOOT_FORBIDDEN',
  badPath: 'PXE_ERR_BOOT_BAD_PATH',
  badStep: 'PXE_ERR_BOOT_BAD_STEP',
  rangeNotSatisfiable: 'PXE_ERR_BOOT_RANGE',
  /** The file exists but cannot be served now (a PXE password key file that cannot be used). */
  unavailable: 'PXE_ERR_BOOT_UNAVAILABLE',
} as const;

export const bootNotFound = (message: string): PxeError => new PxeError(BOOT_ERRORS.notFound, message, 404);
export const bootForbidden = (message: string): PxeError => new PxeError(BOOT_ERRORS.forbidden, message, 403);
