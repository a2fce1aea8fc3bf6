/** The snapshot's indexes give the same answers as the plain model functions, and load through the repository. */
import { describe, expect, it } from 'vitest';
import { collectionsOf } from '../../src/site/membership.js';
import { ALL_UNKNOWN_COMPUTERS_ID, type Collection, type CollectionRule, type Device } from '../../src/site/model.js';
import { GlobIndex } from '../../src/policy/glob-index.js';
import { buildPolicySnapshot, loadPolicySnapshot, withDeviceStatuses } from '../../src/policy/snapshot.js';
import { selectPolicy } from '../../src/policy/select.js';
import { openSqliteRepository } from '../../src/store/sqlite/open.js';
import {
  allSystems, allUnknown, CLIENT_STATES, collection, deployment, device, request, status, taskSequence, unknownObject,
} from './fixtures.js';
import { mulberry32 as rng } from '../support/prng.js';

describe('GlobIndex', () => {
  it.each([
    ['lab-*', 'LAB-01', true], ['lab-*', 'xlab-01', false], ['*-lab', 'PC-LAB', true], ['*-lab', 'PC-LAB2', false],
    ['*lab*', 'my-lab-pc', true], ['*', 'anything', true], ['pc-??', 'PC-12', true], ['pc-??', 'PC-123', false],
    ['exact', 'EXACT', true], ['exact', 'exactly', false], ['a*b*c', 'aXXbYYc', true], ['a*b*c', 'aXXcYYb', false],
    ['a.b', 'aXb', false], ['a.b', 'a.b', true], ['(x)', '(X)', true], ['?', '', false],
  ])('%j matches %j: %s', (pattern, text, expected) => {
    const index = new GlobIndex<string>();
    index.add(pattern, 'hit');
    index.seal();
    const found: string[] = [];
    index.match(text, (v) => found.push(v));
    expect(found.length > 0).toBe(expected);
  });
});


describe('membership index agrees with site/membership.ts', () => {
  it('random devices × random rules (names, MACs, architectures, direct members)', () => {
    const r = rng(42);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
    const hex = () => Math.floor(r() * 256).toString(16).padStart(2, '0');
    const devices: Device[] = Array.from({ length: 400 }, (_, i) => device(String(16777217 + i), {
      name: `${pick(['LAB', 'lab', 'OFF', 'SRV', 'KIOSK'])}-${pick(['A', 'B', 'x'])}${Math.floor(r() * 100)}`,
      macs: Array.from({ length: 1 + Math.floor(r() * 2) }, () => `52:54:${hex()}:${hex()}:${hex()}:${hex()}`),
      architecture: pick(['x86', 'x64', 'arm64'] as const),
      provisional: r() < 0.1,
    }));
    devices.push(unknownObject('x86'), unknownObject('x64'));
    const rulePool: CollectionRule[] = [
      { kind: 'name', pattern: 'LAB-*' }, { kind: 'name', pattern: '*-a1?' }, { kind: 'name', pattern: '*b*' },
      { kind: 'name', pattern: 'off-x7' }, { kind: 'name', pattern: 'SRV-??' }, { kind: 'name', pattern: '*' },
      { kind: 'mac', pattern: '52:54:0?:*' }, { kind: 'mac', pattern: '*:FF' }, { kind: 'mac', pattern: '52:54:1*:*:*:0*' },
      { kind: 'architecture', architecture: 'x86' }, { kind: 'architecture', architecture: 'arm64' },
    ];
    const collections: Collection[] = [allSystems(), allUnknown()];
    for (let i = 0; i < 60; i++) {
      collections.push(collection(`PXP0${(0x100 + i).toString(16).toUpperCase()}`, {
        rules: Array.from({ length: Math.floor(r() * 3) }, () => pick(rulePool)),
        directMemberIds: Array.from({ length: Math.floor(r() * 4) }, () => pick(devices).id),
      }));
    }
    const snap = buildPolicySnapshot({ devices, collections, deployments: [], taskSequences: [], packages: [], bootImages: [], statuses: [] });
    for (const d of devices) {
      const expected = collectionsOf(d, collections).map((c) => c.id).sort();
      expect([d.name, [...snap.collectionIdsOf(d)].sort()]).toEqual([d.name, expected]);
    }
  });
  it('orders built-ins first, then ascending id', () => {
    const snap = buildPolicySnapshot({
      devices: [device('1')],
      collections: [collection('PXP000C9', { directMemberIds: ['1'] }), collection('PXP000A1', { directMemberIds: ['1'] }), allSystems(), allUnknown()],
      deployments: [], taskSequences: [], packages: [], bootImages: [], statuses: [],
    });
    expect(snap.collectionIdsOf(device('1'))).toEqual(['SMS00001', 'PXP000A1', 'PXP000C9']);
  });
  it('evaluates the record passed in (a renamed device moves between name-rule collections)', () => {
    const snap = buildPolicySnapshot({
      devices: [device('1', { name: 'LAB-1' })],
      collections: [allSystems(), allUnknown(), collection('PXP000C1', { rules: [{ kind: 'name', pattern: 'LAB-*' }] })],
      deployments: [], taskSequences: [], packages: [], bootImages: [], statuses: [],
    });
    expect(snap.collectionIdsOf(device('1', { name: 'LAB-1' }))).toContain('PXP000C1');
    expect(snap.collectionIdsOf(device('1', { name: 'OFFICE-1' }))).not.toContain('PXP000C1');
  });
  it('fills in missing unknown objects so unknown requests still resolve', () => {
    const snap = buildPolicySnapshot({ devices: [], collections: [], deployments: [deployment('PXP20001', { collection: ALL_UNKNOWN_COMPUTERS_ID })], taskSequences: [taskSequence('PXP00T01')], packages: [], bootImages: [], statuses: [] });
    expect(selectPolicy(request({ device: null }), snap).offered.map((o) => o.deploymentId)).toEqual(['PXP20001']);
  });
});

describe('loadPolicySnapshot reads the site through the repository', () => {
  it('devices, unknown objects, collections, deployments and statuses', async () => {
    const repo = await openSqliteRepository({ file: ':memory:' });
    try {
      const pc = device('16777217', { name: 'LAB-01' });
      await repo.transaction(async (tx) => {
        await tx.devices.insert(pc);
        await tx.collections.insert(collection('PXP00C01', { rules: [{ kind: 'name', pattern: 'LAB-*' }] }));
        await tx.taskSequences.insert(taskSequence('PXP00T01'));
        await tx.deployments.insert(deployment('PXP20001', { purpose: 'required', rerun: 'never' }));
        await tx.deployments.insert(deployment('PXP20002', { collection: ALL_UNKNOWN_COMPUTERS_ID }));
        await tx.clientStatus.put(status(pc.id, 'PXP20001', CLIENT_STATES.Succeeded));
      });
      const snap = await loadPolicySnapshot(repo);
      expect(snap.unknownObjects.x64.unknownObject).toBe('x64');
      expect(snap.unknownObjects.x86.unknownObject).toBe('x86');
      expect(snap.collectionIdsOf(pc)).toEqual(['SMS00001', 'PXP00C01']);
      expect(snap.statusOf(pc.id, 'PXP20001')?.state).toBe(CLIENT_STATES.Succeeded);
      const known = selectPolicy(request({ device: pc, bootSource: 'media' }), snap);
      expect(known.excluded).toEqual([{ deploymentId: 'PXP20001', reason: 'rerun-never' }]);
      const unknown = selectPolicy(request({ device: null, bootSource: 'media' }), snap);
      expect(unknown.offered.map((o) => o.deploymentId)).toEqual(['PXP20002']);
    } finally {
      await repo.close();
    }
  });
});

describe('withDeviceStatuses: fresh history for one device without a rebuild', () => {
  it('a status reported after the snapshot was built counts (rule 36)', () => {
    const dep = deployment('PXP20001', { purpose: 'required', rerun: 'never', collection: 'SMS00001' });
    const snap = buildPolicySnapshot({
      devices: [device('1'), device('2')], collections: [allSystems(), allUnknown()], deployments: [dep],
      taskSequences: [taskSequence('PXP00T01')], packages: [], bootImages: [], statuses: [status('2', 'PXP20001', CLIENT_STATES.Failed)],
    });
    const media = (id: string, s = snap) => selectPolicy(request({ device: device(id), bootSource: 'media' }), s);
    expect(media('1').autoRun?.deploymentId).toBe('PXP20001');
    const fresh = withDeviceStatuses(snap, '1', [status('1', 'PXP20001', CLIENT_STATES.Succeeded)]);
    expect(media('1', fresh).autoRun).toBeNull();
    // Other devices keep the snapshot's history.
    expect(media('2', fresh).autoRun).toBeNull();
    expect(media('2', withDeviceStatuses(snap, '2', [])).autoRun?.deploymentId).toBe('PXP20001');
  });
});
