/**
 * Sealing of variables.dat / policy.dat (types.ts SealedFile; rules 99, 100, 104).
 *
 * - No password: the payload is base64 of its JSON, signed with the site's Ed25519
 *   key. Anyone holding the medium can read it (it is NOT secret); nobody can change
 *   it, move it to another medium or use a variables file as a policy file unnoticed:
 *   the signature covers a domain-separation prefix, the format, the purpose, the
 *   medium's id, the key id and the payload.
 * - Password: scrypt(NFC UTF-8 password, random 16-byte salt, N/r/p stored in the
 *   file) → 32-byte key; AES-256-GCM with a random 12-byte nonce and a full 16-byte
 *   tag; the additional data is the canonical JSON of the header (format, purpose,
 *   mediaId, protection, kdf, cipher), so a changed header fails like a changed
 *   ciphertext. ConfigMgr uses AES-128 and, without a password, a fixed key (rule 100).
 *
 * Opening never trusts the file: size, JSON, every member, base64 and the scrypt
 * cost are checked before any work is done, so a hostile file costs at most
 * SCRYPT_LIMITS worth of memory and time.
 */
import { createCipheriv, createDecipheriv, createPublicKey, randomBytes, scryptSync, sign, verify, type KeyObject } from 'node:crypto';
import { canonicalJson } from '../content/manifest.js';
import { keyIdOf, type SiteKey } from '../content/signing.js';
import { PxeError } from '../errors.js';
import { MEDIA_ERRORS, type ScryptParams, type SealPurpose, type SealedFile } from './types.js';

/** Default scrypt cost: ~100 ms and 64 MiB on a 2020s x86 core (raise with ScryptParams). */
export const DEFAULT_SCRYPT: ScryptParams = { N: 1 << 16, r: 8, p: 1 };

export const SEALED_FORMAT = 'pxepoint-sealed/1' as const;
export const SEAL_PURPOSES: readonly SealPurpose[] = ['variables', 'policy', 'pxe-variables'];

/** The largest sealed file opened (a stand-alone policy with many packages stays far below). */
export const MAX_SEALED_BYTES = 16 * 1024 * 1024;

/**
 * Bounds on the scrypt parameters a file may ask for. Each parameter is bounded
 * (N ≤ 2^20, r ≤ 32, p ≤ 16) and so is the product: scrypt needs 128·N·r bytes
 * (≤ 1 GiB: N = 2^20 with r = 8 is the largest common recommendation) and does
 * 128·N·r·p bytes' worth of mixing (≤ 4 GiB, a few seconds).
 */
export const SCRYPT_LIMITS = { maxN: 1 << 20, maxR: 32, maxP: 16, maxMemoryBytes: 1024 * 1024 * 1024, maxWorkBytes: 4 * 1024 * 1024 * 1024 } as const;

const SALT_BYTES = 16;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
const SIGNED_DOMAIN = 'pxepoint-sealed/1 signed payload\n';
const AAD_DOMAIN = 'pxepoint-sealed/1 aes-256-gcm header\n';

export interface SealOptions {
  purpose: SealPurpose;
  mediaId: string;
  /** With a password: encrypted (AES-256-GCM, scrypt key). Without: signed with siteKey. */
  password?: string | null;
  siteKey: SiteKey;
  scrypt?: ScryptParams;
}

export interface OpenOptions {
  purpose: SealPurpose;
  mediaId: string;
  password?: string | null;
  /** The site's public key (SPKI PEM) a signed file must verify with. */
  sitePublicKey: string;
}

const formatError = (message: string, field?: string): PxeError =>
  new PxeError(MEDIA_ERRORS.format, message, 400, field === undefined ? {} : { field });

const NAMES: Record<SealPurpose, string> = {
  variables: 'media variables file (pxepoint/variables.dat)',
  policy: 'stand-alone policy file (pxepoint/standalone/policy.dat)',
  'pxe-variables': 'PXE variables file (boot/vars/<name>.json)',
};

/** NFC, then UTF-8: "é" typed as one code point or as e + accent opens the same file. */
export function passwordBytes(password: string): Buffer {
  return Buffer.from(password.normalize('NFC'), 'utf8');
}

/** Why these scrypt parameters are refused, or null when they are acceptable. */
export function scryptParamsProblem(p: ScryptParams): string | null {
  const { N, r, p: par } = p;
  if (!Number.isSafeInteger(N) || N < 2 || N > SCRYPT_LIMITS.maxN || (N & (N - 1)) !== 0) return `N must be a power of two from 2 to 2^20, not ${String(N)}`;
  if (!Number.isSafeInteger(r) || r < 1 || r > SCRYPT_LIMITS.maxR) return `r must be an integer from 1 to ${SCRYPT_LIMITS.maxR}, not ${String(r)}`;
  if (!Number.isSafeInteger(par) || par < 1 || par > SCRYPT_LIMITS.maxP) return `p must be an integer from 1 to ${SCRYPT_LIMITS.maxP}, not ${String(par)}`;
  if (128 * N * r > SCRYPT_LIMITS.maxMemoryBytes) return `N·r needs ${(128 * N * r) / 2 ** 20} MiB, more than the ${SCRYPT_LIMITS.maxMemoryBytes / 2 ** 20} MiB allowed`;
  if (128 * N * r * par > SCRYPT_LIMITS.maxWorkBytes) return `N·r·p asks for more work than allowed (128·N·r·p ≤ ${SCRYPT_LIMITS.maxWorkBytes / 2 ** 30} GiB)`;
  return null;
}

function deriveKey(password: string, salt: Buffer, params: ScryptParams): Buffer {
  const { N, r, p } = params;
  // Node refuses when 128·N·r (plus a little) exceeds maxmem; the params were bounded above.
  const maxmem = 128 * N * r + 128 * r * p + 64 * 1024 * 1024;
  return scryptSync(passwordBytes(password), salt, KEY_BYTES, { N, r, p, maxmem });
}

function aadOf(h: { purpose: SealPurpose; mediaId: string; kdf: { name: 'scrypt'; salt: string } & ScryptParams; cipher: 'aes-256-gcm' }): Buffer {
  const header = {
    format: SEALED_FORMAT,
    purpose: h.purpose,
    mediaId: h.mediaId,
    protection: 'password',
    kdf: { name: h.kdf.name, salt: h.kdf.salt, N: h.kdf.N, r: h.kdf.r, p: h.kdf.p },
    cipher: h.cipher,
  };
  return Buffer.from(AAD_DOMAIN + canonicalJson(header), 'utf8');
}

function signedMessage(h: { purpose: SealPurpose; mediaId: string; keyId: string; payload: string }): Buffer {
  const body = { format: SEALED_FORMAT, purpose: h.purpose, mediaId: h.mediaId, protection: 'signed', keyId: h.keyId, payload: h.payload };
  return Buffer.from(SIGNED_DOMAIN + canonicalJson(body), 'utf8');
}

function payloadJson(payload: unknown): string {
  const text = JSON.stringify(payload);
  if (typeof text !== 'string') throw new PxeError(MEDIA_ERRORS.build, 'the sealed payload must be a JSON value (not undefined or a function)', 400);
  return text;
}

function checkSealOptions(opts: SealOptions): void {
  if (!SEAL_PURPOSES.includes(opts.purpose)) throw new PxeError(MEDIA_ERRORS.build, `purpose must be ${SEAL_PURPOSES.join(' or ')}, not "${String(opts.purpose)}"`, 400, { field: 'purpose' });
  if (typeof opts.mediaId !== 'string' || opts.mediaId === '') throw new PxeError(MEDIA_ERRORS.build, 'a sealed file needs the id of its medium', 400, { field: 'mediaId' });
}

/** The password-protected form of a file: AES-256-GCM under `key`, the header (with salt and N/r/p) in the AAD. */
function encryptedFile(json: string, h: { purpose: SealPurpose; mediaId: string; salt: Buffer; params: ScryptParams; key: Buffer }): SealedFile {
  const nonce = randomBytes(NONCE_BYTES);
  const kdf = { name: 'scrypt' as const, salt: h.salt.toString('base64'), N: h.params.N, r: h.params.r, p: h.params.p };
  const cipher = createCipheriv('aes-256-gcm', h.key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(aadOf({ purpose: h.purpose, mediaId: h.mediaId, kdf, cipher: 'aes-256-gcm' }));
  const ciphertext = Buffer.concat([cipher.update(json, 'utf8'), cipher.final()]);
  const tag = cipher.getAuthTag();
  return {
    format: SEALED_FORMAT, purpose: h.purpose, mediaId: h.mediaId, protection: 'password', kdf, cipher: 'aes-256-gcm',
    nonce: nonce.toString('base64'), ciphertext: ciphertext.toString('base64'), tag: tag.toString('base64'),
  };
}

function fileBytes(file: SealedFile, purpose: SealPurpose): Buffer {
  if (Buffer.byteLength(JSON.stringify(file)) > MAX_SEALED_BYTES) throw new PxeError(MEDIA_ERRORS.build, `the sealed ${purpose} file would be over ${MAX_SEALED_BYTES / 2 ** 20} MiB, which the client refuses to open; make it smaller`, 400);
  return Buffer.from(JSON.stringify(file, null, 2) + '\n', 'utf8');
}

/** Seals `payload` (JSON-serialisable) into the bytes of a sealed file. */
export function sealPayload(payload: unknown, opts: SealOptions): Buffer {
  checkSealOptions(opts);
  const json = payloadJson(payload);
  let file: SealedFile;
  if (opts.password === undefined || opts.password === null) {
    const keyId = opts.siteKey.keyId;
    const encoded = Buffer.from(json, 'utf8').toString('base64');
    const signature = sign(null, signedMessage({ purpose: opts.purpose, mediaId: opts.mediaId, keyId, payload: encoded }), opts.siteKey.privateKey).toString('base64');
    file = { format: SEALED_FORMAT, purpose: opts.purpose, mediaId: opts.mediaId, protection: 'signed', keyId, payload: encoded, signature };
  } else {
    if (opts.password.normalize('NFC') === '') throw new PxeError(MEDIA_ERRORS.build, 'the media password is empty: give a password, or none at all for a signed (readable) file', 400, { field: 'password' });
    const params = opts.scrypt ?? DEFAULT_SCRYPT;
    const problem = scryptParamsProblem(params);
    if (problem !== null) throw new PxeError(MEDIA_ERRORS.build, `scrypt parameters refused: ${problem}`, 400, { field: 'scrypt' });
    const salt = randomBytes(SALT_BYTES);
    const key = deriveKey(opts.password, salt, params);
    try {
      file = encryptedFile(json, { purpose: opts.purpose, mediaId: opts.mediaId, salt, params, key });
    } finally {
      key.fill(0);
    }
  }
  return fileBytes(file, opts.purpose);
}

// ---- sealing with a key derived once (PXE: one scrypt per password change, not per boot) ----

/**
 * A key derived once from a password: scrypt(NFC UTF-8 password, salt, params).
 * Holding it is as good as holding the password for opening and sealing files
 * (never for learning the password): store it like a private key (0600).
 */
export interface DerivedSealKey {
  /** Random salt (16 bytes when generated here). */
  salt: Buffer;
  params: ScryptParams;
  /** The 32-byte AES-256-GCM key. */
  key: Buffer;
}

export interface SealWithKeyOptions {
  purpose: SealPurpose;
  /** What the file is bound to (in the header and the AAD); for 'pxe-variables', the boot token's id. */
  mediaId: string;
  derived: DerivedSealKey;
}

/** Why a derived key cannot be used, or null when it can. */
export function derivedSealKeyProblem(d: DerivedSealKey): string | null {
  if (!Buffer.isBuffer(d.salt) || d.salt.length < 8 || d.salt.length > 64) return 'the salt must be 8 to 64 bytes';
  if (!Buffer.isBuffer(d.key) || d.key.length !== KEY_BYTES) return `the key must be ${KEY_BYTES} bytes`;
  const problem = scryptParamsProblem(d.params);
  return problem === null ? null : `scrypt parameters refused: ${problem}`;
}

/**
 * Derives the sealing key once (costly: DEFAULT_SCRYPT is ~100 ms and 64 MiB).
 * `salt` is for checking a password against a stored key; omitted, a random one.
 */
export function deriveSealKey(password: string, params: ScryptParams = DEFAULT_SCRYPT, salt?: Buffer): DerivedSealKey {
  if (typeof password !== 'string' || password.normalize('NFC') === '') throw new PxeError(MEDIA_ERRORS.build, 'the password is empty', 400, { field: 'password' });
  const problem = scryptParamsProblem(params);
  if (problem !== null) throw new PxeError(MEDIA_ERRORS.build, `scrypt parameters refused: ${problem}`, 400, { field: 'scrypt' });
  const s = salt ?? randomBytes(SALT_BYTES);
  return { salt: Buffer.from(s), params: { N: params.N, r: params.r, p: params.p }, key: deriveKey(password, s, params) };
}

/**
 * Seals with a pre-derived key: the same file format as sealPayload with a
 * password (openPayload opens it with that password), at the cost of one
 * AES-GCM pass — no scrypt. Every file gets a fresh random nonce; the salt is the
 * derived key's (files sealed with one key share it, which is what lets the
 * opener derive the same key from the password).
 */
export function sealPayloadWithKey(payload: unknown, opts: SealWithKeyOptions): Buffer {
  if (!SEAL_PURPOSES.includes(opts.purpose)) throw new PxeError(MEDIA_ERRORS.build, `purpose must be ${SEAL_PURPOSES.join(' or ')}, not "${String(opts.purpose)}"`, 400, { field: 'purpose' });
  if (typeof opts.mediaId !== 'string' || opts.mediaId === '' || opts.mediaId.length > 256) throw new PxeError(MEDIA_ERRORS.build, 'a sealed file needs the id it is bound to (1–256 characters)', 400, { field: 'mediaId' });
  const problem = derivedSealKeyProblem(opts.derived);
  if (problem !== null) throw new PxeError(MEDIA_ERRORS.build, `the derived sealing key is unusable: ${problem}`, 400, { field: 'derived' });
  const json = payloadJson(payload);
  const { salt, params, key } = opts.derived;
  return fileBytes(encryptedFile(json, { purpose: opts.purpose, mediaId: opts.mediaId, salt, params, key }), opts.purpose);
}

// ---- reading ----

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Strict base64 (canonical padding, nothing else), or a format error naming the member. */
function base64Of(value: unknown, field: string, bytes?: { exact?: number; min?: number }): Buffer {
  if (typeof value !== 'string' || !BASE64.test(value)) throw formatError(`sealed file: "${field}" is not base64; the file is damaged, rebuild the medium`, field);
  const buf = Buffer.from(value, 'base64');
  if (buf.toString('base64') !== value) throw formatError(`sealed file: "${field}" is not canonical base64; the file is damaged, rebuild the medium`, field);
  if (bytes?.exact !== undefined && buf.length !== bytes.exact) throw formatError(`sealed file: "${field}" must be ${bytes.exact} bytes, not ${buf.length}; the file is damaged, rebuild the medium`, field);
  if (bytes?.min !== undefined && buf.length < bytes.min) throw formatError(`sealed file: "${field}" must be at least ${bytes.min} bytes; the file is damaged, rebuild the medium`, field);
  return buf;
}

const SIGNED_KEYS = ['format', 'purpose', 'mediaId', 'protection', 'keyId', 'payload', 'signature'];
const PASSWORD_KEYS = ['format', 'purpose', 'mediaId', 'protection', 'kdf', 'cipher', 'nonce', 'ciphertext', 'tag'];
const KDF_KEYS = ['name', 'salt', 'N', 'r', 'p'];

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function onlyKeys(o: Record<string, unknown>, allowed: readonly string[], where: string): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) throw formatError(`sealed file: unexpected member "${where}${k}"; this is not a file pxepoint writes, rebuild the medium`, `${where}${k}`);
  for (const k of allowed) if (!(k in o)) throw formatError(`sealed file: member "${where}${k}" is missing; the file is damaged or truncated, rebuild the medium`, `${where}${k}`);
}

function decodeJson(bytes: Buffer, what: string): unknown {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw formatError(`${what} is not UTF-8 text; it is damaged or not a pxepoint file, rebuild the medium`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw formatError(`${what} is not JSON; it is damaged, truncated or not a pxepoint file, rebuild the medium`);
  }
}

/** The header of a sealed file, checked member by member (no cryptography yet). */
function parseSealed(bytes: Buffer): SealedFile {
  if (!Buffer.isBuffer(bytes)) throw formatError('sealed file: expected the bytes of the file');
  if (bytes.length > MAX_SEALED_BYTES) throw formatError(`sealed file is ${bytes.length} bytes, over the ${MAX_SEALED_BYTES / 2 ** 20} MiB limit; this is not a file pxepoint writes`);
  const v = decodeJson(bytes, 'sealed file');
  if (!isRecord(v)) throw formatError('sealed file: expected a JSON object; this is not a file pxepoint writes, rebuild the medium');
  if (v.format !== SEALED_FORMAT) throw formatError(`sealed file: format is ${JSON.stringify(v.format) ?? 'missing'}, not "${SEALED_FORMAT}"; the medium was built by another tool or version, rebuild it with this site`, 'format');
  if (typeof v.purpose !== 'string' || !SEAL_PURPOSES.includes(v.purpose as SealPurpose)) throw formatError(`sealed file: purpose must be ${SEAL_PURPOSES.join(' or ')}`, 'purpose');
  if (typeof v.mediaId !== 'string' || v.mediaId === '' || v.mediaId.length > 256) throw formatError('sealed file: mediaId must be a non-empty string', 'mediaId');
  if (v.protection === 'signed') {
    onlyKeys(v, SIGNED_KEYS, '');
    if (typeof v.keyId !== 'string' || !/^[0-9a-f]{16}$/.test(v.keyId)) throw formatError('sealed file: keyId must be 16 hex digits', 'keyId');
    base64Of(v.payload, 'payload');
    base64Of(v.signature, 'signature', { exact: 64 });
    return v as unknown as SealedFile;
  }
  if (v.protection === 'password') {
    onlyKeys(v, PASSWORD_KEYS, '');
    if (!isRecord(v.kdf)) throw formatError('sealed file: kdf must be an object', 'kdf');
    onlyKeys(v.kdf, KDF_KEYS, 'kdf.');
    if (v.kdf.name !== 'scrypt') throw formatError(`sealed file: key derivation ${JSON.stringify(v.kdf.name)} is not supported (only scrypt)`, 'kdf.name');
    base64Of(v.kdf.salt, 'kdf.salt', { min: 8 });
    const params = { N: v.kdf.N, r: v.kdf.r, p: v.kdf.p } as ScryptParams;
    const problem = scryptParamsProblem(params);
    if (problem !== null) throw formatError(`sealed file: scrypt parameters refused (${problem}); the file is damaged or hostile, rebuild the medium`, 'kdf');
    if (v.cipher !== 'aes-256-gcm') throw formatError(`sealed file: cipher ${JSON.stringify(v.cipher)} is not supported (only aes-256-gcm)`, 'cipher');
    base64Of(v.nonce, 'nonce', { exact: NONCE_BYTES });
    base64Of(v.ciphertext, 'ciphertext');
    base64Of(v.tag, 'tag', { exact: TAG_BYTES });
    return v as unknown as SealedFile;
  }
  throw formatError(`sealed file: protection must be "signed" or "password", not ${JSON.stringify(v.protection) ?? 'missing'}`, 'protection');
}

/** Whether a sealed file needs a password (without opening it); throws MEDIA_ERRORS.format on garbage. */
export function isPasswordSealed(bytes: Buffer): boolean {
  return parseSealed(bytes).protection === 'password';
}

function publicKeyOf(pem: string): KeyObject {
  try {
    const key = createPublicKey(pem);
    if (key.asymmetricKeyType !== 'ed25519') throw new Error('not ed25519');
    return key;
  } catch {
    throw formatError('the site public key of the medium (media.json sitePublicKey) is not an Ed25519 public key in PEM; rebuild the medium', 'sitePublicKey');
  }
}

/**
 * Opens a sealed file. Throws PxeError with MEDIA_ERRORS.format (not a sealed
 * file, wrong purpose/medium), passwordRequired, wrongPassword, tampered.
 */
export function openPayload<T>(bytes: Buffer, opts: OpenOptions): T {
  const f = parseSealed(bytes);
  const name = NAMES[opts.purpose] ?? 'sealed file';
  if (f.purpose !== opts.purpose) throw formatError(`this is a ${NAMES[f.purpose]}, not a ${name}; the medium was assembled wrongly, rebuild it`, 'purpose');
  if (f.mediaId !== opts.mediaId) throw formatError(`the ${name} belongs to medium "${f.mediaId}", not "${opts.mediaId}"; files were copied between media, rebuild the medium`, 'mediaId');
  let json: Buffer;
  if (f.protection === 'signed') {
    const key = publicKeyOf(opts.sitePublicKey);
    const expectedKeyId = keyIdOf(opts.sitePublicKey);
    if (f.keyId !== expectedKeyId) {
      throw new PxeError(MEDIA_ERRORS.tampered, `the ${name} is signed by another key (${f.keyId}) than the medium's site key (${expectedKeyId}); it was replaced after the medium was built, rebuild the medium`, 400, { field: 'keyId' });
    }
    const ok = verify(null, signedMessage(f), key, Buffer.from(f.signature, 'base64'));
    if (!ok) throw new PxeError(MEDIA_ERRORS.tampered, `the ${name} does not match its signature: it was changed after the medium was built; rebuild the medium (rule 100)`, 400, { field: 'signature' });
    json = Buffer.from(f.payload, 'base64');
  } else {
    if (opts.password === undefined || opts.password === null || opts.password.normalize('NFC') === '') {
      throw new PxeError(MEDIA_ERRORS.passwordRequired, 'this medium is password-protected: enter the media password (rule 97: unattended media still ask for it)', 401);
    }
    const salt = Buffer.from(f.kdf.salt, 'base64');
    const key = deriveKey(opts.password, salt, f.kdf);
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(f.nonce, 'base64'), { authTagLength: TAG_BYTES });
      decipher.setAAD(aadOf(f));
      decipher.setAuthTag(Buffer.from(f.tag, 'base64'));
      json = Buffer.concat([decipher.update(Buffer.from(f.ciphertext, 'base64')), decipher.final()]);
    } catch {
      // GCM cannot tell a wrong password from a changed file; the password is far likelier.
      throw new PxeError(MEDIA_ERRORS.wrongPassword, `the password does not open the ${name}: check it and try again (if it is right, the medium was changed after it was built; rebuild it)`, 401);
    } finally {
      key.fill(0);
    }
  }
  return decodeJson(json, `the ${name}'s content`) as T;
}
