/** Every table of the site schema, with its statements prepared once per connection. */
import type Database from 'better-sqlite3';
import type {
  BootImage,
  BoundaryGroup,
  Collection,
  Deployment,
  DeploymentTemplate,
  DistributionPoint,
  DistributionPointGroup,
  Package,
  TaskSequence,
} from '../../site/model.js';
import { ContentTable } from './content-table.js';
import { ClientStatusTable } from './client-status-table.js';
import { BootTokenTable, ClientKeyTable, SessionTable } from './credential-table.js';
import { DeviceTable } from './device-table.js';
import { EntityTable } from './entity-table.js';
import { LeaseTable } from './lease-table.js';
import { MediaTable } from './media-table.js';
import { BootEventTable } from './boot-event-table.js';
import { SequenceTable } from './sequence-table.js';
import { SettingsTable } from './settings-table.js';
import { StatusTable } from './status-table.js';
import { TokenTable } from './token-table.js';

export interface SiteTables {
  devices: DeviceTable;
  collections: EntityTable<Collection>;
  packages: EntityTable<Package>;
  bootImages: EntityTable<BootImage>;
  taskSequences: EntityTable<TaskSequence>;
  distributionPoints: EntityTable<DistributionPoint>;
  dpGroups: EntityTable<DistributionPointGroup>;
  boundaryGroups: EntityTable<BoundaryGroup>;
  deployments: EntityTable<Deployment>;
  templates: EntityTable<DeploymentTemplate>;
  tokens: TokenTable;
  statusMessages: StatusTable;
  clientStatus: ClientStatusTable;
  bootTokens: BootTokenTable;
  clientKeys: ClientKeyTable;
  sessions: SessionTable;
  settings: SettingsTable;
  sequences: SequenceTable;
  leases: LeaseTable;
  bootEvents: BootEventTable;
  content: ContentTable;
  media: MediaTable;
}

/** `kind` is the CLI noun, used in "list them with `pxepoint <kind> list`". */
export function prepareTables(db: Database.Database): SiteTables {
  return {
    devices: new DeviceTable(db),
    collections: new EntityTable<Collection>(db, { table: 'collections', kind: 'collection' }),
    packages: new EntityTable<Package>(db, { table: 'packages', kind: 'package' }),
    bootImages: new EntityTable<BootImage>(db, { table: 'boot_images', kind: 'boot-image' }),
    taskSequences: new EntityTable<TaskSequence>(db, { table: 'task_sequences', kind: 'task-sequence' }),
    distributionPoints: new EntityTable<DistributionPoint>(db, { table: 'distribution_points', kind: 'distribution-point' }),
    dpGroups: new EntityTable<DistributionPointGroup>(db, { table: 'dp_groups', kind: 'dp-group' }),
    boundaryGroups: new EntityTable<BoundaryGroup>(db, { table: 'boundary_groups', kind: 'boundary-group' }),
    deployments: new EntityTable<Deployment>(db, { table: 'deployments', kind: 'deployment' }),
    templates: new EntityTable<DeploymentTemplate>(db, { table: 'templates', kind: 'template' }),
    tokens: new TokenTable(db),
    statusMessages: new StatusTable(db),
    clientStatus: new ClientStatusTable(db),
    bootTokens: new BootTokenTable(db),
    clientKeys: new ClientKeyTable(db),
    sessions: new SessionTable(db),
    settings: new SettingsTable(db),
    sequences: new SequenceTable(db),
    leases: new LeaseTable(db),
    bootEvents: new BootEventTable(db),
    content: new ContentTable(db),
    media: new MediaTable(db),
  };
}
