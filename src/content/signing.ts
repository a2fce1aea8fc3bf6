/**
 * Manifest signatures: Ed25519 (node:crypto) over the canonical JSON of the
 * manifest body. The site key pair is generated once into `<dataDir>/keys/`
 * (private key 0600); distribution points and clients hold only the public key.
 * The key id is the first 16 hex digits of the SHA-256 of the public key (SPKI DER),
 * so a verifier can tell "signed by another site" from "tampered".
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { mkdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomicSync } from '../fs-atomic.js';
import { bodyOf, canonicalJson } from './manifest.js';
import type { ContentManifest, ContentManifestBody } from './types.js';

export interface SiteKey {
  privateKey: KeyObject;
  publicKeyPem: string;
  keyId: string;
}

export const PRIVATE_KEY_FILE = 'site-signing.key';
export const PUBLIC_KEY_FILE = 'site-signing.pub.pem';

export function keyIdOf(publicKeyPem: string): string {
  const der = createPublicKey(publicKeyPem).export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('hex').slice(0, 16);
}

/**
 * The site's signing key from `<dataDir>/keys/`, generated on first use. Two
 * processes racing on a fresh directory: each renames a complete file into place
 * and the key read back afterwards is the one that won, for both.
 */
export function loadOrCreateSiteKey(dataDir: string): SiteKey {
  const dir = join(dataDir, 'keys');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const privFile = join(dir, PRIVATE_KEY_FILE);
  const pubFile = join(dir, PUBLIC_KEY_FILE);
  if (!existsSync(privFile)) {
    const { privateKey } = generateKeyPairSync('ed25519');
    writeFileAtomicSync(privFile, privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, 0o600);
  }
  const privateKey = createPrivateKey(readFileSync(privFile, 'utf8'));
  const publicKeyPem = createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }) as string;
  if (!existsSync(pubFile) || readFileSync(pubFile, 'utf8') !== publicKeyPem) writeFileAtomicSync(pubFile, publicKeyPem, 0o644);
  return { privateKey, publicKeyPem, keyId: keyIdOf(publicKeyPem) };
}

export function signManifest(body: ContentManifestBody, key: SiteKey): ContentManifest {
  const clean = bodyOf(body);
  const value = sign(null, Buffer.from(canonicalJson(clean), 'utf8'), key.privateKey).toString('base64');
  return { ...clean, signature: { alg: 'ed25519', keyId: key.keyId, value } };
}

/** True only for a manifest signed, unchanged, by the holder of `publicKeyPem`'s private key. */
export function verifyManifest(manifest: ContentManifest, publicKeyPem: string): boolean {
  try {
    const sig = manifest.signature;
    if (sig === null || typeof sig !== 'object' || sig.alg !== 'ed25519' || typeof sig.value !== 'string') return false;
    const data = Buffer.from(canonicalJson(bodyOf(manifest)), 'utf8');
    return verify(null, data, createPublicKey(publicKeyPem), Buffer.from(sig.value, 'base64'));
  } catch {
    return false;
  }
}
