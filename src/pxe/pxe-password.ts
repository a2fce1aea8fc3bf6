/**
 * The PXE password (rules 47, 73, 100): one site-wide password; with it set, every
 * per-boot variables file is sealed (media/seal.ts, purpose 'pxe-variables') so the
 * boot token and variables can be read only with the password.
 *
 * What is stored: ONLY the key derived from the password, once, by scrypt —
 * `<dataDir>/keys/pxe-password.json` (mode 0600, written atomically):
 *
 *   { "format": "pxepoint-pxe-password/1",
 *     "kdf": { "name": "scrypt", "salt": "<base64>", "N": 65536, "r": 8, "p": 1 },
 *     "key": "<base64 of the 32-byte AES-256-GCM key>" }
 *
 * Never the password. The key opens (and seals) variables files like the password
 * does, so it is kept like the site's private key; it does not give the password
 * back (scrypt is one-way), so a stolen data directory does not reveal a password
 * the administrator may have reused elsewhere.
 *
 * "Is a password set" is the presence of that file, read through PxePasswordSource:
 * the server re-checks the file at most once a second (a stat), so a set or clear
 * from the CLI — another process — takes effect within a second, and at once in
 * the process that made it. A file that exists but cannot be used (damaged, edited)
 * counts as SET and makes the server refuse variables files (fail closed: never the
 * clear token because the key file broke).
 */
import { randomBytes, scrypt as scryptCb } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { invalid } from '../errors.js';
import { writeFileAtomicSync } from '../fs-atomic.js';
import { DEFAULT_SCRYPT, derivedSealKeyProblem, passwordBytes, scryptParamsProblem, type DerivedSealKey } from '../media/seal.js';
import type { ScryptParams } from '../media/types.js';

export const PXE_PASSWORD_FILE = join('keys', 'pxe-password.json');
export const PXE_PASSWORD_FORMAT = 'pxepoint-pxe-password/1' as const;
/** Environment variable the CLI (server side: `settings pxe-password set`; client side: `client --vars`) reads the password from. */
export const PXE_PASSWORD_ENV = 'PXEPOINT_PXE_PASSWORD';
/** Longest password accepted (characters after NFC). */
export const MAX_PXE_PASSWORD_LENGTH = 256;

export const pxePasswordPath = (dataDir: string): string => join(dataDir, PXE_PASSWORD_FILE);

export type PxePasswordState =
  | { state: 'unset' }
  | { state: 'set'; derived: DerivedSealKey }
  /** The file exists but cannot be used: treated as set, variables files are refused. */
  | { state: 'broken'; reason: string };

/** A lookup of the current state (PxePasswordSource#current bound), as the boot routes take it. */
export type PxePasswordLookup = () => PxePasswordState;

/**
 * Checks a new PXE password: non-empty, at most MAX_PXE_PASSWORD_LENGTH characters,
 * no control characters (it must be typeable on the welcome page, rule 115).
 * Throws PXE_ERR_INVALID on `field`; never puts the password in the message.
 */
export function checkPxePassword(password: unknown, field = 'body.password'): string {
  if (typeof password !== 'string') throw invalid(field, 'the PXE password must be a string');
  const nfc = password.normalize('NFC');
  if (nfc === '') throw invalid(field, 'the PXE password is empty; to remove the password, clear it');
  if ([...nfc].length > MAX_PXE_PASSWORD_LENGTH) throw invalid(field, `the PXE password is longer than ${MAX_PXE_PASSWORD_LENGTH} characters`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f]/.test(nfc)) throw invalid(field, 'the PXE password holds a control character (a newline, tab…); it could not be typed on the welcome page');
  return password;
}

/** scrypt off the event loop (the API must not stall DHCP/TFTP for ~100 ms). Same key as media/seal.ts deriveSealKey. */
export async function derivePxeKey(password: string, params: ScryptParams = DEFAULT_SCRYPT): Promise<DerivedSealKey> {
  checkPxePassword(password, 'password');
  const problem = scryptParamsProblem(params);
  if (problem !== null) throw invalid('scrypt', problem);
  const salt = randomBytes(16);
  const { N, r, p } = params;
  const maxmem = 128 * N * r + 128 * r * p + 64 * 1024 * 1024;
  const key = await new Promise<Buffer>((resolve, reject) => {
    scryptCb(passwordBytes(password), salt, 32, { N, r, p, maxmem }, (err, k) => (err ? reject(err) : resolve(k)));
  });
  return { salt, params: { N, r, p }, key };
}

/** Bumped by every write/remove in this process: sources here see the change at once. */
let localGeneration = 0;

/** Stores the derived key (never the password) as <dataDir>/keys/pxe-password.json, 0600, atomically. */
export function writePxePasswordKey(dataDir: string, derived: DerivedSealKey): void {
  const problem = derivedSealKeyProblem(derived);
  if (problem !== null) throw invalid('derived', problem);
  const doc = {
    format: PXE_PASSWORD_FORMAT,
    kdf: { name: 'scrypt', salt: derived.salt.toString('base64'), N: derived.params.N, r: derived.params.r, p: derived.params.p },
    key: derived.key.toString('base64'),
  };
  const file = pxePasswordPath(dataDir);
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writeFileAtomicSync(file, JSON.stringify(doc, null, 2) + '\n', 0o600);
  localGeneration++;
}

/** Removes the key file; true when there was one. */
export function removePxePasswordKey(dataDir: string): boolean {
  const file = pxePasswordPath(dataDir);
  let existed = true;
  try {
    statSync(file);
  } catch {
    existed = false;
  }
  rmSync(file, { force: true });
  localGeneration++;
  return existed;
}

const B64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Reads the key file now (no caching). */
export function readPxePasswordKey(dataDir: string): PxePasswordState {
  let text: string;
  try {
    text = readFileSync(pxePasswordPath(dataDir), 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { state: 'unset' };
    return { state: 'broken', reason: `cannot read ${PXE_PASSWORD_FILE}: ${code ?? (e as Error).message}` };
  }
  const broken = (why: string): PxePasswordState => ({ state: 'broken', reason: `${PXE_PASSWORD_FILE} ${why}; set the PXE password again (pxepoint settings pxe-password set)` });
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return broken('is not JSON');
  }
  const d = doc as { format?: unknown; kdf?: { name?: unknown; salt?: unknown; N?: unknown; r?: unknown; p?: unknown }; key?: unknown } | null;
  if (typeof d !== 'object' || d === null || d.format !== PXE_PASSWORD_FORMAT) return broken(`is not a ${PXE_PASSWORD_FORMAT} file`);
  const k = d.kdf;
  if (typeof k !== 'object' || k === null || k.name !== 'scrypt' || typeof k.salt !== 'string' || !B64.test(k.salt) || typeof d.key !== 'string' || !B64.test(d.key)) return broken('is damaged');
  const derived: DerivedSealKey = { salt: Buffer.from(k.salt, 'base64'), params: { N: k.N as number, r: k.r as number, p: k.p as number }, key: Buffer.from(d.key, 'base64') };
  const problem = derivedSealKeyProblem(derived);
  if (problem !== null) return broken(`is damaged (${problem})`);
  return { state: 'set', derived };
}

export interface PxePasswordSourceOptions {
  /** How long a read stays fresh before the file is stat'ed again (default 1000 ms). */
  maxAgeMs?: number;
  clock?: () => number;
  /** Called when the state changes (not with the key): log it. */
  onChange?: (state: PxePasswordState['state'], reason?: string) => void;
}

/**
 * The PXE password state of a data directory, kept fresh cheaply: at most one
 * stat() per `maxAgeMs`, a re-read only when the file changed (inode, size, mtime,
 * ctime), and at once after a write or remove in this process.
 */
export class PxePasswordSource {
  readonly #dataDir: string;
  readonly #maxAgeMs: number;
  readonly #clock: () => number;
  readonly #onChange: PxePasswordSourceOptions['onChange'];
  #state: PxePasswordState = { state: 'unset' };
  #signature: string | null = null;
  #checkedAt = -Infinity;
  #generation = -1;

  constructor(dataDir: string, opts: PxePasswordSourceOptions = {}) {
    this.#dataDir = dataDir;
    this.#maxAgeMs = opts.maxAgeMs ?? 1000;
    this.#clock = opts.clock ?? Date.now;
    this.#onChange = opts.onChange;
    this.current();
  }

  current(): PxePasswordState {
    const now = this.#clock();
    if (this.#generation === localGeneration && now - this.#checkedAt < this.#maxAgeMs) return this.#state;
    this.#checkedAt = now;
    this.#generation = localGeneration;
    let signature: string;
    try {
      const st = statSync(pxePasswordPath(this.#dataDir));
      signature = `${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
    } catch (e) {
      signature = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'absent' : `error:${(e as NodeJS.ErrnoException).code ?? ''}`;
    }
    if (signature === this.#signature) return this.#state;
    this.#signature = signature;
    const before = this.#state.state;
    this.#state = signature === 'absent' ? { state: 'unset' } : readPxePasswordKey(this.#dataDir);
    if (this.#state.state !== before || this.#state.state === 'broken') this.#onChange?.(this.#state.state, this.#state.state === 'broken' ? this.#state.reason : undefined);
    return this.#state;
  }

  /** Rules 47/73: a PXE password is set (a broken key file counts as set: fail closed). */
  isSet(): boolean {
    return this.current().state !== 'unset';
  }

  /** `() => source.current()`, for the boot routes and the TFTP resolver. */
  get lookup(): PxePasswordLookup {
    return () => this.current();
  }
}
