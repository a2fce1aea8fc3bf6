/**
 * Devices: the JSON document plus two lookup keys the PXE responder asks for on
 * every boot — MAC (side table `device_macs`, a device has several) and SMBIOS
 * GUID (side column). Both are non-unique: duplicate identifiers exist in real
 * estates and the responder must see all holders to report them.
 *
 * Keys are stored and queried in the normalised form of site/identifiers, so a
 * lookup with "52-54-00-..." finds "52:54:00:...". Anything that does not parse
 * is kept lower-cased as is, so nothing is silently dropped from the index.
 */
import type Database from 'better-sqlite3';
import { parseGuid, parseMac } from '../../site/identifiers.js';
import type { Device } from '../../site/model.js';
import { EntityTable } from './entity-table.js';

const macKey = (mac: string): string => parseMac(mac) ?? mac.trim().toLowerCase();
const guidKey = (guid: string): string => parseGuid(guid) ?? guid.trim().toLowerCase();

export class DeviceTable extends EntityTable<Device> {
  readonly #byMac: Database.Statement<[string], { doc: string }>;
  readonly #byGuid: Database.Statement<[string], { doc: string }>;

  constructor(db: Database.Database) {
    const clearMacs = db.prepare<[string]>('DELETE FROM device_macs WHERE device_id = ?');
    const addMac = db.prepare<[string, string]>('INSERT OR IGNORE INTO device_macs (mac, device_id) VALUES (?, ?)');
    super(db, {
      table: 'devices',
      kind: 'device',
      sideColumns: [{ column: 'smbios_guid', value: (d) => (d.smbiosGuid === null || d.smbiosGuid === undefined ? null : guidKey(d.smbiosGuid)) }],
      // Runs in the same (nested) transaction as the device row: old MACs go, new ones come.
      afterWrite: (d) => {
        clearMacs.run(d.id);
        for (const mac of d.macs ?? []) addMac.run(macKey(mac), d.id);
      },
    });
    this.#byMac = db.prepare(
      'SELECT d.doc FROM device_macs m JOIN devices d ON d.id = m.device_id WHERE m.mac = ? ORDER BY d.id',
    );
    this.#byGuid = db.prepare('SELECT doc FROM devices WHERE smbios_guid = ? ORDER BY id');
  }

  findByMac(mac: string): Device[] {
    return this.#byMac.all(macKey(mac)).map((r) => JSON.parse(r.doc) as Device);
  }

  findBySmbiosGuid(guid: string): Device[] {
    return this.#byGuid.all(guidKey(guid)).map((r) => JSON.parse(r.doc) as Device);
  }
}
