/**
 * The content library's records (src/content/): package versions with their signed
 * manifests, and per-(distribution point, package) state. Plain columns; the
 * manifest is stored as the JSON text it was signed as.
 */
import type Database from 'better-sqlite3';
import type { DpContentState, DpPackageState, PackageContentVersion } from '../../site/model.js';
import { translateConstraint } from './store-errors.js';

interface VersionRow { package_id: string; version: number; created_at: string; total_size: number; file_count: number; manifest: string }
interface StateRow { dp_id: string; package_id: string; version: number; state: string; detail: string | null; updated_at: string; validate_requested_at: string | null }

const versionOf = (r: VersionRow): PackageContentVersion => ({
  packageId: r.package_id, version: r.version, createdAt: r.created_at, totalSize: r.total_size, fileCount: r.file_count, manifestJson: r.manifest,
});
const stateOf = (r: StateRow): DpPackageState => ({
  distributionPointId: r.dp_id, packageId: r.package_id, version: r.version, state: r.state as DpContentState,
  detail: r.detail, updatedAt: r.updated_at, validateRequestedAt: r.validate_requested_at,
});

export class ContentTable {
  readonly #insertVersion: Database.Statement<[string, number, string, number, number, string]>;
  readonly #getVersion: Database.Statement<[string, number], VersionRow>;
  readonly #latest: Database.Statement<[string], VersionRow>;
  readonly #listVersions: Database.Statement<[], Omit<VersionRow, 'manifest'>>;
  readonly #listVersionsOf: Database.Statement<[string], Omit<VersionRow, 'manifest'>>;
  readonly #putState: Database.Statement<[string, string, number, string, string | null, string, string | null]>;
  readonly #getState: Database.Statement<[string, string], StateRow>;
  readonly #listStates: Database.Statement<[{ dp: string | null; pkg: string | null }], StateRow>;
  readonly #removeState: Database.Statement<[string, string]>;

  constructor(db: Database.Database) {
    this.#insertVersion = db.prepare('INSERT INTO package_versions (package_id, version, created_at, total_size, file_count, manifest) VALUES (?, ?, ?, ?, ?, ?)');
    this.#getVersion = db.prepare('SELECT * FROM package_versions WHERE package_id = ? AND version = ?');
    this.#latest = db.prepare('SELECT * FROM package_versions WHERE package_id = ? ORDER BY version DESC LIMIT 1');
    const cols = 'package_id, version, created_at, total_size, file_count';
    this.#listVersions = db.prepare(`SELECT ${cols} FROM package_versions ORDER BY package_id, version DESC`);
    this.#listVersionsOf = db.prepare(`SELECT ${cols} FROM package_versions WHERE package_id = ? ORDER BY version DESC`);
    this.#putState = db.prepare(
      `INSERT INTO dp_package_state (dp_id, package_id, version, state, detail, updated_at, validate_requested_at) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (dp_id, package_id) DO UPDATE SET version = excluded.version, state = excluded.state, detail = excluded.detail,
         updated_at = excluded.updated_at, validate_requested_at = excluded.validate_requested_at`,
    );
    this.#getState = db.prepare('SELECT * FROM dp_package_state WHERE dp_id = ? AND package_id = ?');
    this.#listStates = db.prepare('SELECT * FROM dp_package_state WHERE (@dp IS NULL OR dp_id = @dp) AND (@pkg IS NULL OR package_id = @pkg) ORDER BY dp_id, package_id');
    this.#removeState = db.prepare('DELETE FROM dp_package_state WHERE dp_id = ? AND package_id = ?');
  }

  insertVersion(v: PackageContentVersion): void {
    try {
      this.#insertVersion.run(v.packageId, v.version, v.createdAt, v.totalSize, v.fileCount, v.manifestJson);
    } catch (e) {
      translateConstraint(e, 'package version', `${v.packageId}@${v.version}`);
    }
  }

  getVersion(packageId: string, version: number): PackageContentVersion | undefined {
    const r = this.#getVersion.get(packageId, version);
    return r === undefined ? undefined : versionOf(r);
  }

  latestVersion(packageId: string): PackageContentVersion | undefined {
    const r = this.#latest.get(packageId);
    return r === undefined ? undefined : versionOf(r);
  }

  listVersions(packageId?: string): Omit<PackageContentVersion, 'manifestJson'>[] {
    const rows = packageId === undefined ? this.#listVersions.all() : this.#listVersionsOf.all(packageId);
    return rows.map((r) => ({ packageId: r.package_id, version: r.version, createdAt: r.created_at, totalSize: r.total_size, fileCount: r.file_count }));
  }

  putDpState(s: DpPackageState): void {
    this.#putState.run(s.distributionPointId, s.packageId, s.version, s.state, s.detail, s.updatedAt, s.validateRequestedAt);
  }

  getDpState(dpId: string, packageId: string): DpPackageState | undefined {
    const r = this.#getState.get(dpId, packageId);
    return r === undefined ? undefined : stateOf(r);
  }

  listDpStates(query: { distributionPointId?: string; packageId?: string } = {}): DpPackageState[] {
    return this.#listStates.all({ dp: query.distributionPointId ?? null, pkg: query.packageId ?? null }).map(stateOf);
  }

  removeDpState(dpId: string, packageId: string): boolean {
    return this.#removeState.run(dpId, packageId).changes > 0;
  }
}
