/**
 * A valid create body and a valid change for every plain kind, and a small site
 * a task sequence can be deployed to.
 */
import type { PlainKind } from '../../src/app/schemas.js';
import type { Harness } from './harness.js';

export interface KindSample {
  create: Record<string, unknown>;
  patch: Record<string, unknown>;
}

export const SAMPLES: Record<PlainKind, KindSample> = {
  devices: { create: { name: 'pc-01', macs: ['52-54-00-77-00-10'], architecture: 'x64' }, patch: { name: 'pc-01-renamed' } },
  collections: { create: { name: 'Lab', comment: 'lab machines' }, patch: { comment: 'changed' } },
  packages: { create: { name: 'Drivers', description: 'NIC drivers' }, patch: { description: 'newer drivers' } },
  'boot-images': { create: { name: 'WinPE x64', architecture: 'x64', imagePath: 'images/winpe/boot.wim' }, patch: { deployFromPxe: false } },
  'task-sequences': { create: { name: 'Windows 11', steps: [{ name: 'Restart', type: 'restart' }] }, patch: { description: 'the new one' } },
  'distribution-points': { create: { name: 'dp1', url: 'http://dp1.example:8080/' }, patch: { maintenance: true } },
  'dp-groups': { create: { name: 'All DPs' }, patch: { name: 'Every DP' } },
  'boundary-groups': { create: { name: 'HQ', boundaries: [{ kind: 'subnet', cidr: '10.1.0.0/16' }] }, patch: { isSiteDefault: true } },
};

export interface DeployableSite {
  taskSequenceId: string;
  collectionId: string;
  deviceId: string;
}

/** Boot image, package, a task sequence using both, and a collection of one device — all through the API. */
export async function createDeployableSite(h: Harness, device: Record<string, unknown> = {}): Promise<DeployableSite> {
  const post = async (url: string, body: unknown): Promise<{ id: string }> => {
    const r = await h.api('POST', url, body);
    if (r.statusCode !== 201) throw new Error(`POST ${url}: ${r.statusCode} ${r.body}`);
    return r.json();
  };
  const image = await post('/api/boot-images', { name: 'WinPE x64', architecture: 'x64', imagePath: 'images/winpe/boot.wim' });
  const pkg = await post('/api/packages', { name: 'Windows 11 image', sourcePath: '/srv/w11' });
  const ts = await post('/api/task-sequences', {
    name: 'Install Windows 11',
    bootImageId: image.id,
    steps: [{ name: 'Apply OS', type: 'apply-image', packageId: pkg.id }, { name: 'Restart', type: 'restart' }],
  });
  const dev = await post('/api/devices', { name: 'lab-01', macs: ['52:54:00:77:00:21'], ...device });
  const coll = await post('/api/collections', { name: 'Lab', directMemberIds: [dev.id] });
  return { taskSequenceId: ts.id, collectionId: coll.id, deviceId: dev.id };
}
