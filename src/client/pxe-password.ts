/**
 * The client's side of the PXE password (rules 47, 73, 100, 115): the variables file
 * a PXE boot fetched is either the plain `{ "variables": [...] }` (no PXE password on
 * the site) or a `pxepoint-sealed/1` envelope, purpose 'pxe-variables', that only the
 * PXE password opens (src/pxe/variables-file.ts sealVariablesFile). The password is
 * asked on the welcome page (rule 115: stdin when a terminal, --password-file, or
 * PXEPOINT_PXE_PASSWORD): openPxeVariables is pure; pxePasswordFor gathers the password.
 *
 * The envelope's "mediaId" is the boot token's id (it binds the header through the
 * AES-GCM additional data); the client cannot know that id before opening, so it
 * opens with the id the header names — a relabelled header fails like a wrong key.
 */
import { readFileSync } from 'node:fs';
import { PxeError, isPxeError } from '../errors.js';
import { SEALED_FORMAT, isPasswordSealed, openPayload } from '../media/seal.js';
import { MEDIA_ERRORS } from '../media/types.js';
import type { Variable } from '../site/model.js';
import { parseVariablesFile } from './identity.js';

export { PXE_PASSWORD_ENV } from '../pxe/pxe-password.js';

function headerOf(text: string): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** Whether a variables file is sealed under a PXE password (so the client must ask for it). */
export function isSealedPxeVariables(text: string): boolean {
  return headerOf(text)?.format === SEALED_FORMAT;
}

/**
 * The variables of a PXE variables file. Plain JSON: its variables (a password, if
 * given, is not needed and ignored). Sealed: opened with `password` — PxeError
 * MEDIA_ERRORS.passwordRequired (401) when it is null/empty, wrongPassword (401) when
 * it does not open the file, format (400) when the envelope is not a PXE variables file.
 */
export function openPxeVariables(text: string, password: string | null, source = 'PXE variables file'): Variable[] {
  const header = headerOf(text);
  if (header?.format !== SEALED_FORMAT) return parseVariablesFile(text, source);
  const bytes = Buffer.from(text, 'utf8');
  if (header.purpose !== 'pxe-variables') {
    throw new PxeError(MEDIA_ERRORS.format, `${source} is a sealed ${String(header.purpose)} file, not a PXE variables file`, 400, { field: 'purpose' });
  }
  // pxepoint seals PXE variables files only with a password: a "signed" one is not ours.
  if (!isPasswordSealed(bytes)) throw new PxeError(MEDIA_ERRORS.format, `${source} is sealed without a password; pxepoint never serves such a PXE variables file`, 400, { field: 'protection' });
  let payload: unknown;
  try {
    payload = openPayload(bytes, { purpose: 'pxe-variables', mediaId: String(header.mediaId), password, sitePublicKey: '' });
  } catch (e) {
    if (isPxeError(e) && e.code === MEDIA_ERRORS.passwordRequired) {
      throw new PxeError(MEDIA_ERRORS.passwordRequired, 'a PXE password is set on this site: enter it on the welcome page (rules 73, 115), or give --password-file FILE or PXEPOINT_PXE_PASSWORD', 401);
    }
    if (isPxeError(e) && e.code === MEDIA_ERRORS.wrongPassword) {
      throw new PxeError(MEDIA_ERRORS.wrongPassword, 'the PXE password is wrong: it does not open the PXE variables file (rule 73); check it and try again', 401);
    }
    throw e;
  }
  return parseVariablesFile(JSON.stringify(payload), `${source} (opened)`);
}

export interface PxePasswordSources {
  /** --password-file: its first line. */
  passwordFile?: string;
  /** PXEPOINT_PXE_PASSWORD (the CLI passes process.env's). */
  env?: string;
  /** The welcome page's prompt (no echo on a terminal); null at end of input. */
  ask?: (question: string) => Promise<string | null>;
}

/**
 * The PXE password for the variables file `text` (rule 115: the welcome page takes
 * it): null when the file is not sealed (nothing is asked); else from the password
 * file, the environment, or the prompt, in that order (null when none gives one —
 * openPxeVariables then says passwordRequired).
 */
export async function pxePasswordFor(text: string, sources: PxePasswordSources): Promise<string | null> {
  if (!isSealedPxeVariables(text)) return null;
  if (sources.passwordFile !== undefined) {
    let file: string;
    try {
      file = readFileSync(sources.passwordFile, 'utf8');
    } catch (e) {
      throw new PxeError(MEDIA_ERRORS.passwordRequired, `cannot read the password file ${sources.passwordFile}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 401);
    }
    return file.split(/\r?\n/)[0] ?? '';
  }
  if (sources.env !== undefined && sources.env !== '') return sources.env;
  return sources.ask ? sources.ask('PXE password: ') : null;
}
