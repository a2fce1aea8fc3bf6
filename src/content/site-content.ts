/**
 * The site's content library: `pxepoint package add-content ID --source DIR` reads
 * the folder once into the content-addressed store, signs the manifest and records
 * a new package version (rule 17: every reference now uses it); DPs that held the
 * package get the new version assigned. The site also serves its library with the
 * DP routes, so a one-process `npm start` is its own distribution point.
 */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { invalid, notFound } from '../errors.js';
import { publish } from '../events.js';
import type { PackageContentVersion } from '../site/model.js';
import type { SiteRepository } from '../site/repository.js';
import { redistributeNewVersion, type ContentActor } from './distribution.js';
import { ContentLibrary, isPackageId } from './library.js';
import { totalSize } from './manifest.js';
import { loadOrCreateSiteKey, signManifest, type SiteKey } from './signing.js';
import type { ContentSource } from './source.js';
import { CHUNK_SIZE, type ContentManifest, type DpHeldPackage, type ManifestFile } from './types.js';

export interface AddContentResult {
  packageId: string;
  version: number;
  /** False when the folder held exactly the content of the newest version (no new version). */
  created: boolean;
  files: number;
  totalSize: number;
  /** DPs that now get the new version. */
  redistributedTo: string[];
}

const sameFiles = (a: readonly ManifestFile[], b: readonly ManifestFile[]): boolean =>
  a.length === b.length && a.every((f, i) => f.path === b[i]!.path && f.sha256 === b[i]!.sha256 && f.size === b[i]!.size);

export class SiteContent implements ContentSource {
  private constructor(readonly repo: SiteRepository, readonly library: ContentLibrary, readonly key: SiteKey, private readonly clock: () => Date) {}

  static async open(repo: SiteRepository, dataDir: string, clock: () => Date = () => new Date()): Promise<SiteContent> {
    return new SiteContent(repo, await ContentLibrary.open(dataDir), loadOrCreateSiteKey(dataDir), clock);
  }

  publicKeyPem(): string {
    return this.key.publicKeyPem;
  }

  async addContent(packageId: string, sourceDir: string, actor: ContentActor, chunkSize = CHUNK_SIZE): Promise<AddContentResult> {
    const pkg = await this.repo.packages.get(packageId);
    if (!pkg) throw notFound('package', packageId);
    if (!isPackageId(packageId)) throw invalid('packageId', `package id "${packageId}" cannot name a content folder`);
    const dir = resolve(sourceDir);
    if (!(await stat(dir).catch(() => null))?.isDirectory()) throw invalid('source', `${dir} is not a folder`);
    const latest = await this.repo.content.latestVersion(packageId);
    const version = Math.max(pkg.version, latest?.version ?? 0) + 1;
    const now = this.clock().toISOString();
    // Objects are durable before any record names them.
    const body = await this.library.importFolder(dir, { packageId, version, createdAt: now }, chunkSize);
    if (latest) {
      const prev = JSON.parse(latest.manifestJson) as ContentManifest;
      if (prev.chunkSize === body.chunkSize && sameFiles(prev.files, body.files)) {
        return { packageId, version: latest.version, created: false, files: prev.files.length, totalSize: latest.totalSize, redistributedTo: [] };
      }
    }
    const manifest = signManifest(body, this.key);
    await this.library.commitManifest(manifest);
    const record: PackageContentVersion = {
      packageId, version, createdAt: now, totalSize: totalSize(manifest), fileCount: manifest.files.length, manifestJson: JSON.stringify(manifest),
    };
    const redistributedTo = await this.repo.transaction(async (tx) => {
      const current = await tx.packages.get(packageId);
      if (!current) throw notFound('package', packageId);
      await tx.content.insertVersion(record);
      await tx.packages.update({ ...current, version, sourcePath: dir, modifiedAt: now });
      const moved = await redistributeNewVersion(tx, packageId, version, now);
      const text = `added content version ${version} to package ${packageId} (${record.fileCount} files, ${record.totalSize} bytes)`;
      await tx.statusMessages.append({
        time: now, kind: 'audit', severity: 'info', component: actor.component, messageId: 0, actor: actor.name, text,
        deviceId: null, deploymentId: null, data: { action: 'add-content', entity: 'packages', id: packageId, version, redistributedTo: moved },
      });
      publish('site.change', { actor: actor.name, text, action: 'add-content', entity: 'packages', id: packageId });
      return moved;
    });
    return { packageId, version, created: true, files: record.fileCount, totalSize: record.totalSize, redistributedTo };
  }

  /** The newest content version's manifest (what policy lists, rule 17). */
  async newestManifest(packageId: string): Promise<ContentManifest | undefined> {
    const v = await this.repo.content.latestVersion(packageId);
    return v ? (JSON.parse(v.manifestJson) as ContentManifest) : undefined;
  }

  // --- ContentSource: the site serves every recorded version --------------------

  async manifest(packageId: string, version: number): Promise<ContentManifest | undefined> {
    const v = await this.repo.content.getVersion(packageId, version);
    return v ? (JSON.parse(v.manifestJson) as ContentManifest) : undefined;
  }

  async held(): Promise<DpHeldPackage[]> {
    const out: DpHeldPackage[] = [];
    const share = new Map((await this.repo.packages.list()).map((p) => [p.id, p.copyToPackageShare]));
    for (const v of await this.repo.content.listVersions()) out.push({ packageId: v.packageId, version: v.version, share: share.get(v.packageId) ?? false });
    return out;
  }

  async shared(packageId: string): Promise<ContentManifest | undefined> {
    const pkg = await this.repo.packages.get(packageId);
    return pkg?.copyToPackageShare ? this.newestManifest(packageId) : undefined;
  }
}
