/**
 * Writes a pxepoint medium as a DIRECTORY, exactly as src/media/types.ts
 * describes it (MediaLabel.txt, pxepoint/media.json, pxepoint/variables.dat,
 * pxepoint/standalone/policy.dat, pxepoint/content/<pkg>/v<ver>/…), sealed and
 * certified with the real functions (seal.ts, certificate.ts) and a site key
 * from loadOrCreateSiteKey. No boot loader or boot image files: the reference
 * client never reads them.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadOrCreateSiteKey, type SiteKey } from '../../../src/content/signing.js';
import { issueMediaCertificate } from '../../../src/media/certificate.js';
import { formatMediaDescriptor } from '../../../src/media/descriptor.js';
import { sealPayload } from '../../../src/media/seal.js';
import {
  MEDIA_FORMAT, MEDIA_PATHS, mediaContentDir, type MediaDescriptor, type MediaSecrets, type MediaType, type ScryptParams, type StandalonePolicy,
} from '../../../src/media/types.js';
import type { PolicyStep } from '../../../src/policy/client-api.js';
import type { Variable } from '../../../src/site/model.js';
import { step } from '../helpers.js';

/** Cheap scrypt for tests (the real default costs ~100 ms and 64 MiB per open). */
export const TEST_SCRYPT: ScryptParams = { N: 1 << 10, r: 8, p: 1 };

const DAY = 24 * 3600_000;
const iso = (t: number): string => new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z');

export interface FixturePackage {
  id: string;
  name?: string;
  version?: number;
  /** Path inside the package → content. */
  files: Record<string, string | Buffer>;
}

export interface MediaFixtureOptions {
  type: MediaType;
  /** The site's data directory (site key). Default: a new temporary one. */
  siteDataDir?: string;
  mediaId?: string;
  label?: string;
  password?: string | null;
  unattended?: boolean;
  siteUrls?: string[];
  variables?: Variable[];
  prestart?: string | null;
  /** Rule 103 (stand-alone). */
  validFrom?: string | null;
  validUntil?: string | null;
  /** Rules 101, 102: default from yesterday to a year ahead. */
  certificateNotBefore?: string;
  certificateNotAfter?: string;
  secret?: string;
  taskSequence?: { id: string; name: string; steps: PolicyStep[] };
  packages?: FixturePackage[];
  /** The deployment context's variables in policy.dat (rule 104). */
  policyVariables?: Variable[];
  architecture?: 'x86' | 'x64' | 'arm64';
}

export interface MediaFixture {
  dir: string;
  mediaId: string;
  secret: string;
  siteKey: SiteKey;
  siteDataDir: string;
  descriptor: MediaDescriptor;
  /** Rewrites media.json (after changing the descriptor) — WITHOUT re-signing anything. */
  rewriteDescriptor(d: MediaDescriptor): void;
}

export function writeMediaFixture(opts: MediaFixtureOptions, dir: string = mkdtempSync(join(tmpdir(), 'pxepoint-medium-'))): MediaFixture {
  const siteDataDir = opts.siteDataDir ?? mkdtempSync(join(tmpdir(), 'pxepoint-site-key-'));
  const siteKey = loadOrCreateSiteKey(siteDataDir);
  const mediaId = opts.mediaId ?? `PXM-${randomUUID().slice(0, 8).toUpperCase()}`;
  const secret = opts.secret ?? `pxm_${randomUUID().replace(/-/g, '')}`;
  const now = Date.now();
  const put = (rel: string, data: string | Buffer): void => {
    const file = join(dir, ...rel.split('/'));
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, data);
  };
  const label = opts.label ?? 'pxepoint test medium';
  const seal = { mediaId, password: opts.password ?? null, siteKey, scrypt: TEST_SCRYPT };

  const certificate = issueMediaCertificate({
    mediaId,
    type: opts.type,
    notBefore: opts.certificateNotBefore ?? iso(now - DAY),
    notAfter: opts.certificateNotAfter ?? iso(now + 365 * DAY),
    ...(opts.type === 'standalone' ? { validFrom: opts.validFrom ?? null, validUntil: opts.validUntil ?? null } : {}),
  }, siteKey);
  const descriptor: MediaDescriptor = {
    format: MEDIA_FORMAT,
    mediaId,
    type: opts.type,
    label,
    architecture: opts.architecture ?? 'x64',
    bootImageId: 'PXP00005',
    siteUrls: opts.siteUrls ?? (opts.type === 'bootable' ? ['http://127.0.0.1:9'] : []),
    createdAt: iso(now),
    createdBy: 'test',
    unattended: opts.unattended ?? false,
    passwordRequired: opts.password !== undefined && opts.password !== null,
    validFrom: opts.validFrom ?? null,
    validUntil: opts.validUntil ?? null,
    certificate,
    sitePublicKey: siteKey.publicKeyPem,
  };
  put(MEDIA_PATHS.label, `label=${label}\n`);
  put(MEDIA_PATHS.descriptor, formatMediaDescriptor(descriptor));
  const secrets: MediaSecrets = { mediaId, secret, variables: opts.variables ?? [], prestart: opts.prestart ? { commandLine: opts.prestart } : null };
  put(MEDIA_PATHS.variables, sealPayload(secrets, { ...seal, purpose: 'variables' }));

  if (opts.type === 'standalone') {
    const packages = (opts.packages ?? []).map((p) => {
      const version = p.version ?? 1;
      const files = Object.entries(p.files).map(([path, data]) => {
        const buf = Buffer.isBuffer(data) ? data : Buffer.from(data);
        put(`${mediaContentDir(p.id, version)}/${path}`, buf);
        return { path, size: buf.length, sha256: createHash('sha256').update(buf).digest('hex') };
      });
      return { id: p.id, name: p.name ?? `Package ${p.id}`, version, files };
    });
    const policy: StandalonePolicy = {
      mediaId,
      taskSequence: opts.taskSequence ?? { id: 'PXP00010', name: 'Deploy from media', steps: [] },
      packages,
      variables: opts.policyVariables ?? [],
    };
    put(MEDIA_PATHS.standalonePolicy, sealPayload(policy, { ...seal, purpose: 'policy' }));
  }
  return {
    dir, mediaId, secret, siteKey, siteDataDir, descriptor,
    rewriteDescriptor: (d) => put(MEDIA_PATHS.descriptor, formatMediaDescriptor(d)),
  };
}

/** A policy step at `index` (named "<type> <index>" unless given); see step() in ../helpers.ts. */
export function mediaStep(index: number, partial: Partial<PolicyStep> & Pick<PolicyStep, 'type'>): PolicyStep {
  return step({ ...partial, index, name: partial.name ?? `${partial.type} ${index}` });
}
