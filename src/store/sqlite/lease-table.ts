/**
 * Full DHCP mode's leases: one row per address, plain columns (no JSON document) because
 * the DHCP listener writes here at thousands of rows a second (bench/dhcp.ts).
 * `putMany` is one transaction with a prepared upsert: the listener's group commit.
 */
import type Database from 'better-sqlite3';
import type { DhcpLease } from '../../site/model.js';

interface Row {
  ip: string;
  mac: string;
  client_id: string | null;
  subnet: string;
  state: string;
  expires_at: number;
  updated_at: number;
  hostname: string | null;
  relay: string | null;
}

const fromRow = (r: Row): DhcpLease => ({
  ip: r.ip,
  mac: r.mac,
  clientId: r.client_id,
  subnet: r.subnet,
  state: r.state as DhcpLease['state'],
  expiresAt: r.expires_at,
  updatedAt: r.updated_at,
  hostname: r.hostname,
  relay: r.relay === null ? null : (JSON.parse(r.relay) as DhcpLease['relay']),
});

/**
 * The relay column's JSON. A relayed network gets thousands of leases a second through
 * the same relay, so the last text is kept and reused while the values are the same.
 */
let lastRelay: { giaddr: string; circuitId: string | null; remoteId: string | null; json: string } | null = null;
function relayJson(relay: DhcpLease['relay']): string | null {
  if (relay === null) return null;
  const last = lastRelay;
  if (last && last.giaddr === relay.giaddr && last.circuitId === relay.circuitId && last.remoteId === relay.remoteId) return last.json;
  const json = JSON.stringify({ giaddr: relay.giaddr, circuitId: relay.circuitId, remoteId: relay.remoteId });
  lastRelay = { giaddr: relay.giaddr, circuitId: relay.circuitId, remoteId: relay.remoteId, json };
  return json;
}

export class LeaseTable {
  readonly #list: Database.Statement<[], Row>;
  readonly #get: Database.Statement<[string], Row>;
  readonly #put: Database.Statement<[string, string, string | null, string, string, number, number, string | null, string | null]>;
  readonly #purge: Database.Statement<[number]>;
  readonly #putMany: (leases: readonly DhcpLease[]) => void;

  constructor(db: Database.Database) {
    this.#list = db.prepare('SELECT * FROM dhcp_leases ORDER BY ip');
    this.#get = db.prepare('SELECT * FROM dhcp_leases WHERE ip = ?');
    this.#put = db.prepare(
      `INSERT INTO dhcp_leases (ip, mac, client_id, subnet, state, expires_at, updated_at, hostname, relay)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (ip) DO UPDATE SET mac = excluded.mac, client_id = excluded.client_id, subnet = excluded.subnet,
         state = excluded.state, expires_at = excluded.expires_at, updated_at = excluded.updated_at,
         hostname = excluded.hostname, relay = excluded.relay`,
    );
    this.#purge = db.prepare(`DELETE FROM dhcp_leases WHERE state <> 'bound' AND expires_at < ?`);
    // db.transaction: BEGIN/COMMIT outside a transaction, a SAVEPOINT inside one.
    this.#putMany = db.transaction((leases: readonly DhcpLease[]) => {
      for (const l of leases) {
        this.#put.run(l.ip, l.mac, l.clientId, l.subnet, l.state, l.expiresAt, l.updatedAt, l.hostname, relayJson(l.relay));
      }
    });
  }

  list(): DhcpLease[] {
    return this.#list.all().map(fromRow);
  }

  get(ip: string): DhcpLease | undefined {
    const row = this.#get.get(ip);
    return row === undefined ? undefined : fromRow(row);
  }

  putMany(leases: readonly DhcpLease[]): void {
    if (leases.length > 0) this.#putMany(leases);
  }

  purge(before: number): number {
    return this.#purge.run(before).changes;
  }
}
