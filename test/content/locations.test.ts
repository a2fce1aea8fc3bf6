/**
 * content/locations.ts: rule 124 order, rule 12 checkboxes, rule 125
 * maintenance, one row per branch.
 */
import { describe, expect, it } from 'vitest';
import { boundaryContains, clientIpv4, contentLocations, currentBoundaryGroups, dpPackageUrls, packageShareUrl, type ContentLocationsInput } from '../../src/content/locations.js';
import type { Boundary, BoundaryGroup, DistributionPoint } from '../../src/site/model.js';

const T = '2026-11-26T00:00:00.000Z';
const dp = (id: string, over: Partial<DistributionPoint> = {}): DistributionPoint => ({
  id, name: id, url: `http://${id}.example:8080/`, shareUrl: null, pxeEnabled: false, maintenance: false, createdAt: T, modifiedAt: T, ...over,
});
const group = (id: string, boundaries: Boundary[], dps: string[], over: Partial<BoundaryGroup> = {}): BoundaryGroup => ({
  id, name: id, boundaries, distributionPointIds: dps, neighbours: [], isSiteDefault: false, createdAt: T, modifiedAt: T, ...over,
});

// Client 10.1.0.5 is in HQ (subnet) and in FLOOR (range). HQ neighbours: FAR (60 min) and NEAR (10 min); FLOOR: NEAR again at 30.
const HQ = group('HQ', [{ kind: 'subnet', cidr: '10.1.0.0/16' }], ['dp-hq1', 'dp-hq2'], {
  neighbours: [{ boundaryGroupId: 'FAR', failoverMinutes: 60 }, { boundaryGroupId: 'NEAR', failoverMinutes: 10 }],
});
const FLOOR = group('FLOOR', [{ kind: 'range', from: '10.1.0.1', to: '10.1.0.20' }], ['dp-floor', 'dp-hq1'], {
  neighbours: [{ boundaryGroupId: 'NEAR', failoverMinutes: 30 }, { boundaryGroupId: 'HQ', failoverMinutes: 5 }],
});
const NEAR = group('NEAR', [{ kind: 'subnet', cidr: '10.2.0.0/16' }], ['dp-near'], { neighbours: [{ boundaryGroupId: 'TRANSITIVE', failoverMinutes: 1 }] });
const FAR = group('FAR', [{ kind: 'subnet', cidr: '10.3.0.0/16' }], ['dp-far', 'dp-maint']);
const TRANSITIVE = group('TRANSITIVE', [{ kind: 'subnet', cidr: '10.4.0.0/16' }], ['dp-transitive']);
const DEFAULT = group('DEFAULT', [{ kind: 'subnet', cidr: '10.9.0.0/16' }], ['dp-default', 'dp-near'], { isSiteDefault: true });

const ALL_GROUPS = [HQ, FLOOR, NEAR, FAR, TRANSITIVE, DEFAULT];
const ALL_DPS = ['dp-hq1', 'dp-hq2', 'dp-floor', 'dp-near', 'dp-far', 'dp-transitive', 'dp-default'].map((id) => dp(id)).concat(dp('dp-maint', { maintenance: true }));

const input = (over: Partial<ContentLocationsInput> & { neighbours?: boolean; defaults?: boolean } = {}): ContentLocationsInput => ({
  clientIp: '10.1.0.5',
  boundaryGroups: ALL_GROUPS,
  distributionPoints: ALL_DPS,
  deployment: { distributionPoints: { allowNeighbourFallback: over.neighbours ?? false, allowDefaultSiteFallback: over.defaults ?? false } },
  ...over,
});
const ids = (i: ContentLocationsInput): string[] => contentLocations(i).map((l) => `${l.source}:${l.distributionPointId}`);

describe('contentLocations (rule 124 order)', () => {
  it.each([
    ['rule 124 step 2 only: both checkboxes off → current groups only', { neighbours: false, defaults: false },
      ['current:dp-hq1', 'current:dp-hq2', 'current:dp-floor']],
    ['rule 12/124 step 3: neighbours by failover minutes (NEAR 10 before FAR 60), not transitive, current groups not repeated', { neighbours: true, defaults: false },
      ['current:dp-hq1', 'current:dp-hq2', 'current:dp-floor', 'neighbour:dp-near', 'neighbour:dp-far']],
    ['rule 12/124 step 4: site default group after current, without neighbours', { neighbours: false, defaults: true },
      ['current:dp-hq1', 'current:dp-hq2', 'current:dp-floor', 'site-default:dp-default', 'site-default:dp-near']],
    ['rule 124: current → neighbour → default; a DP already listed keeps its first place', { neighbours: true, defaults: true },
      ['current:dp-hq1', 'current:dp-hq2', 'current:dp-floor', 'neighbour:dp-near', 'neighbour:dp-far', 'site-default:dp-default']],
  ] as const)('%s', (_name, flags, expected) => {
    expect(ids(input(flags))).toEqual(expected);
  });

  it('rule 124: a neighbour reached from two current groups sorts by its smallest failover time and carries it', () => {
    const near = contentLocations(input({ neighbours: true })).find((l) => l.distributionPointId === 'dp-near');
    expect(near).toMatchObject({ source: 'neighbour', failoverMinutes: 10 });
  });

  it('rule 125: a DP in maintenance mode is never returned (here: dp-maint in FAR)', () => {
    expect(ids(input({ neighbours: true, defaults: true }))).not.toContain('neighbour:dp-maint');
    const maintHq = input({ distributionPoints: ALL_DPS.map((d) => (d.id === 'dp-hq1' ? { ...d, maintenance: true } : d)) });
    expect(ids(maintHq)).toEqual(['current:dp-hq2', 'current:dp-floor']);
  });

  it('a DP known not to hold the package is left out; unknown availability keeps its place', () => {
    const avail = (id: string): boolean | undefined => (id === 'dp-hq2' ? false : id === 'dp-floor' ? undefined : true);
    expect(ids(input({ packageAvailability: avail }))).toEqual(['current:dp-hq1', 'current:dp-floor']);
  });

  it.each([
    ['no client address, default allowed → the site default group', null, true, ['site-default:dp-default', 'site-default:dp-near']],
    ['no client address, default not allowed → nothing', null, false, []],
    ['an address in no boundary group, default allowed → the site default group', '192.168.7.7', true, ['site-default:dp-default', 'site-default:dp-near']],
    ['an address in no boundary group, default not allowed → nothing', '192.168.7.7', false, []],
    ['an IPv6 address (boundaries are IPv4) counts as no group', 'fe80::1', true, ['site-default:dp-default', 'site-default:dp-near']],
  ] as const)('%s', (_name, clientIp, defaults, expected) => {
    expect(ids(input({ clientIp, defaults, neighbours: true }))).toEqual(expected);
  });

  it('an IPv4-mapped IPv6 address is the IPv4 address', () => {
    expect(ids(input({ clientIp: '::ffff:10.1.0.5' }))).toEqual(['current:dp-hq1', 'current:dp-hq2', 'current:dp-floor']);
  });

  it('the site itself: after every DP ("always"), or only when no DP qualifies ("last-resort")', () => {
    const site = { url: 'http://site.example:8080/client/content/' };
    expect(ids(input({ site: { ...site, use: 'always' } }))).toEqual(['current:dp-hq1', 'current:dp-hq2', 'current:dp-floor', 'site:site']);
    expect(ids(input({ site: { ...site, use: 'last-resort' } }))).toEqual(['current:dp-hq1', 'current:dp-hq2', 'current:dp-floor']);
    expect(ids(input({ clientIp: '192.168.7.7', site: { ...site, use: 'last-resort' } }))).toEqual(['site:site']);
    expect(contentLocations(input({ clientIp: null, site: { ...site, use: 'last-resort' } }))).toEqual([{ distributionPointId: 'site', url: site.url, source: 'site' }]);
  });

  it('a client in the default group itself gets its DPs as current (not twice)', () => {
    expect(ids(input({ clientIp: '10.9.1.1', defaults: true }))).toEqual(['current:dp-default', 'current:dp-near']);
  });

  it('dangling references (a DP or neighbour group that no longer exists) are skipped', () => {
    const g = group('G', [{ kind: 'subnet', cidr: '10.5.0.0/16' }], ['gone', 'dp-hq1'], { neighbours: [{ boundaryGroupId: 'missing', failoverMinutes: 1 }] });
    expect(ids(input({ clientIp: '10.5.0.1', boundaryGroups: [g], neighbours: true }))).toEqual(['current:dp-hq1']);
  });
});

describe('boundaries and URLs', () => {
  it.each([
    [{ kind: 'subnet', cidr: '10.1.0.0/16' }, '10.1.255.255', true],
    [{ kind: 'subnet', cidr: '10.1.0.0/16' }, '10.2.0.0', false],
    [{ kind: 'subnet', cidr: 'not-a-cidr' }, '10.1.0.1', false],
    [{ kind: 'range', from: '10.0.0.10', to: '10.0.0.20' }, '10.0.0.10', true],
    [{ kind: 'range', from: '10.0.0.10', to: '10.0.0.20' }, '10.0.0.21', false],
  ] as const)('%j contains %s: %s', (b, ip, yes) => {
    expect(boundaryContains(b as Boundary, clientIpv4(ip)!)).toBe(yes);
  });

  it('current groups keep the site order', () => {
    expect(currentBoundaryGroups('10.1.0.5', ALL_GROUPS).map((g) => g.id)).toEqual(['HQ', 'FLOOR']);
  });

  it('DP URL layout of content/types.ts', () => {
    expect(dpPackageUrls('http://dp1:8080', 'PXP00001', 3)).toEqual({
      filesUrl: 'http://dp1:8080/content/PXP00001/3/files/', manifestUrl: 'http://dp1:8080/content/PXP00001/3/manifest.json',
    });
    expect(packageShareUrl('http://dp1:8080/share', 'PXP00001')).toBe('http://dp1:8080/share/PXP00001/');
    expect(packageShareUrl(null, 'PXP00001')).toBeNull();
  });
});
