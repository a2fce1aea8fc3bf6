/**
 * The repository interface: the only way the rest of pxepoint reads and writes the
 * site. Asynchronous so that a PostgreSQL implementation can follow the embedded
 * SQLite one (store/sqlite) without changing callers.
 *
 * Every multi-row change goes through `transaction`: either all of it is durable
 * or none of it is.
 */
import type {
  BootEvent,
  ApiToken,
  BootImage,
  BootToken,
  ClientKey,
  ClientSession,
  BoundaryGroup,
  ClientDeploymentStatus,
  Collection,
  Deployment,
  DeploymentTemplate,
  Device,
  DhcpLease,
  DistributionPoint,
  DistributionPointGroup,
  DpPackageState,
  MessageKind,
  PackageContentVersion,
  Package,
  SiteSettings,
  StatusMessage,
  TaskSequence,
} from './model.js';
import type { MediaRecord } from '../media/types.js';

export interface Entity {
  id: string;
}

/** CRUD over one kind of entity. `insert` fails with PXE_ERR_CONFLICT if the id exists. */
export interface EntityStore<T extends Entity> {
  list(): Promise<T[]>;
  get(id: string): Promise<T | undefined>;
  insert(value: T): Promise<T>;
  /** Replaces the stored value; PXE_ERR_NOT_FOUND if absent. */
  update(value: T): Promise<T>;
  /** True if something was deleted. */
  delete(id: string): Promise<boolean>;
  count(): Promise<number>;
}

export interface DeviceStore extends EntityStore<Device> {
  /** Every device carrying this MAC (several means a duplicate identifier). */
  findByMac(mac: string): Promise<Device[]>;
  findBySmbiosGuid(guid: string): Promise<Device[]>;
}

export interface StatusMessageQuery {
  kind?: MessageKind;
  deviceId?: string;
  deploymentId?: string;
  /** Only messages with id greater than this. */
  afterId?: number;
  limit?: number;
  /** Newest first (the last `limit` messages); default oldest first. */
  newestFirst?: boolean;
}

export interface StatusStore {
  append(message: Omit<StatusMessage, 'id'>): Promise<StatusMessage>;
  list(query?: StatusMessageQuery): Promise<StatusMessage[]>;
}

export interface ClientStatusStore {
  get(deviceId: string, deploymentId: string): Promise<ClientDeploymentStatus | undefined>;
  put(status: ClientDeploymentStatus): Promise<void>;
  listByDeployment(deploymentId: string): Promise<ClientDeploymentStatus[]>;
  listByDevice(deviceId: string): Promise<ClientDeploymentStatus[]>;
  /** True if a row was deleted (used when a run's history moves to another record). */
  remove(deviceId: string, deploymentId: string): Promise<boolean>;
}

export interface TokenStore extends EntityStore<ApiToken> {
  findByHash(hash: string): Promise<ApiToken | undefined>;
}

/** An entity found by the SHA-256 of a presented secret (unique). */
export interface HashedStore<T extends Entity> extends EntityStore<T> {
  findByHash(hash: string): Promise<T | undefined>;
}

export interface BootTokenStore extends HashedStore<BootToken> {
  /**
   * Marks the token used at `usedAt` if, and only if, it was unused: one atomic
   * statement, so of two concurrent uses exactly one gets the token back and the
   * other (a replay) gets undefined.
   */
  consume(id: string, usedAt: string): Promise<BootToken | undefined>;
  /** Deletes tokens that expired before `before`; returns how many. */
  purgeExpired(before: string): Promise<number>;
}

export interface ClientKeyStore extends HashedStore<ClientKey> {
  listByDevice(deviceId: string): Promise<ClientKey[]>;
}

export interface SessionStore extends HashedStore<ClientSession> {
  purgeExpired(before: string): Promise<number>;
}

/** Client API credentials (docs/decisions/0007-client-authentication.md). Only hashes are stored. */
export interface CredentialStore {
  readonly bootTokens: BootTokenStore;
  readonly clientKeys: ClientKeyStore;
  readonly sessions: SessionStore;
}

/**
 * Full DHCP mode's leases (src/dhcp/leases.ts). `putMany` is one transaction: the
 * listener groups the ACKs of one event-loop turn and sends them only after it
 * resolved, so an ACKed lease is durable (kill -9 safe with the store's WAL).
 */
export interface LeaseStore {
  list(): Promise<DhcpLease[]>;
  get(ip: string): Promise<DhcpLease | undefined>;
  putMany(leases: readonly DhcpLease[]): Promise<void>;
  /** Deletes rows no longer worth remembering (expired/released before `before`, ms); returns how many. */
  purge(before: number): Promise<number>;
}

export interface BootEventQuery {
  mac: string;
  /** Only events with id greater than this. */
  afterId?: number;
  limit?: number;
  /** Newest first (the last `limit` events); default oldest first. */
  newestFirst?: boolean;
}

/** The boot timeline (src/pxe/timeline.ts): append-only, read per machine. */
export interface BootEventStore {
  append(event: Omit<BootEvent, 'id'>): Promise<BootEvent>;
  list(query: BootEventQuery): Promise<BootEvent[]>;
  /** Deletes events older than `before` (ISO time); returns how many. */
  purgeBefore(before: string): Promise<number>;
}

/** The content library's records (src/content/): package versions and per-DP package state. */
export interface ContentStore {
  /** Fails with PXE_ERR_CONFLICT if this version exists. */
  insertVersion(version: PackageContentVersion): Promise<void>;
  getVersion(packageId: string, version: number): Promise<PackageContentVersion | undefined>;
  latestVersion(packageId: string): Promise<PackageContentVersion | undefined>;
  /** Versions without their manifests (listing), newest first. */
  listVersions(packageId?: string): Promise<Omit<PackageContentVersion, 'manifestJson'>[]>;
  putDpState(state: DpPackageState): Promise<void>;
  getDpState(distributionPointId: string, packageId: string): Promise<DpPackageState | undefined>;
  listDpStates(query?: { distributionPointId?: string; packageId?: string }): Promise<DpPackageState[]>;
  removeDpState(distributionPointId: string, packageId: string): Promise<boolean>;
}

/** The boot media registry (src/app/media-service.ts, rules 101–103). Media are never deleted: a used one is blocked. */
export interface MediaStore {
  /** Newest first. */
  list(): Promise<MediaRecord[]>;
  get(id: string): Promise<MediaRecord | undefined>;
  /** Fails with PXE_ERR_CONFLICT if the id exists. */
  insert(record: MediaRecord): Promise<MediaRecord>;
  /** Replaces the stored record; PXE_ERR_NOT_FOUND if absent. */
  update(record: MediaRecord): Promise<MediaRecord>;
}

/** Kinds that get site-code IDs ("PXP00012"); deployments get "PXP2xxxx" like advertisements. */
export type IdKind = 'collection' | 'package' | 'bootImage' | 'taskSequence' | 'deployment' | 'template' | 'device'
  | 'distributionPoint' | 'dpGroup' | 'boundaryGroup' | 'token';

export interface SiteRepository {
  readonly devices: DeviceStore;
  readonly collections: EntityStore<Collection>;
  readonly packages: EntityStore<Package>;
  readonly bootImages: EntityStore<BootImage>;
  readonly taskSequences: EntityStore<TaskSequence>;
  readonly distributionPoints: EntityStore<DistributionPoint>;
  readonly dpGroups: EntityStore<DistributionPointGroup>;
  readonly boundaryGroups: EntityStore<BoundaryGroup>;
  readonly deployments: EntityStore<Deployment>;
  readonly templates: EntityStore<DeploymentTemplate>;
  readonly tokens: TokenStore;
  readonly statusMessages: StatusStore;
  readonly clientStatus: ClientStatusStore;
  readonly credentials: CredentialStore;
  readonly leases: LeaseStore;
  readonly bootEvents: BootEventStore;
  readonly content: ContentStore;
  readonly media: MediaStore;

  getSettings(): Promise<SiteSettings>;
  putSettings(settings: SiteSettings): Promise<void>;

  /** Next value of a per-kind counter; never reused, even after a rollback-free crash. */
  nextSequence(kind: IdKind): Promise<number>;

  /**
   * Runs `fn` in one transaction; `fn` must do all its reads and writes through
   * the repository it is given. Nested calls join the outer transaction.
   */
  transaction<T>(fn: (tx: SiteRepository) => Promise<T>): Promise<T>;

  close(): Promise<void>;
}
