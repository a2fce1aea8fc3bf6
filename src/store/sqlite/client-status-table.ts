/** Last deployment state per (device, deployment): one row, replaced on every put. */
import type Database from 'better-sqlite3';
import type { ClientDeploymentStatus } from '../../site/model.js';

type Row = { doc: string };
const parse = (r: Row): ClientDeploymentStatus => JSON.parse(r.doc) as ClientDeploymentStatus;

export class ClientStatusTable {
  readonly #get: Database.Statement<[string, string], Row>;
  readonly #put: Database.Statement<[string, string, string]>;
  readonly #byDeployment: Database.Statement<[string], Row>;
  readonly #byDevice: Database.Statement<[string], Row>;
  readonly #remove: Database.Statement<[string, string]>;

  constructor(db: Database.Database) {
    this.#get = db.prepare('SELECT doc FROM client_status WHERE device_id = ? AND deployment_id = ?');
    this.#put = db.prepare(
      `INSERT INTO client_status (device_id, deployment_id, doc) VALUES (?, ?, ?)
       ON CONFLICT (device_id, deployment_id) DO UPDATE SET doc = excluded.doc`,
    );
    this.#byDeployment = db.prepare('SELECT doc FROM client_status WHERE deployment_id = ? ORDER BY device_id');
    this.#byDevice = db.prepare('SELECT doc FROM client_status WHERE device_id = ? ORDER BY deployment_id');
    this.#remove = db.prepare('DELETE FROM client_status WHERE device_id = ? AND deployment_id = ?');
  }

  get(deviceId: string, deploymentId: string): ClientDeploymentStatus | undefined {
    const row = this.#get.get(deviceId, deploymentId);
    return row === undefined ? undefined : parse(row);
  }

  put(status: ClientDeploymentStatus): void {
    this.#put.run(status.deviceId, status.deploymentId, JSON.stringify(status));
  }

  listByDeployment(deploymentId: string): ClientDeploymentStatus[] {
    return this.#byDeployment.all(deploymentId).map(parse);
  }

  listByDevice(deviceId: string): ClientDeploymentStatus[] {
    return this.#byDevice.all(deviceId).map(parse);
  }

  remove(deviceId: string, deploymentId: string): boolean {
    return this.#remove.run(deviceId, deploymentId).changes > 0;
  }
}
