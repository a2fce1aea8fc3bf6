/**
 * Where a task sequence client may fetch a package, in the order of rule 124
 * (pure: no I/O, no clock). The policy service (app/client-policy.ts) calls it
 * once per package of a policy answer.
 *
 *  1. DPs of every boundary group whose boundaries contain the client's IPv4
 *     address ("current"), in the site's boundary group order, each group's DPs
 *     in its own list order.
 *  2. Only with "Allow clients to use distribution points from the neighbor
 *     boundary group" (rule 12): DPs of the current groups' direct neighbours,
 *     ordered by failover minutes, smallest first — but never waited for: a task
 *     sequence tries them right away (rule 124). Fallback is not transitive: a
 *     neighbour's neighbour is not used.
 *  3. Only with "Allow clients to use distribution points from the default site
 *     boundary group" (rule 12): DPs of the site default boundary group.
 *  4. The site itself (`site`), when the caller passes one: `'always'` after
 *     every DP, `'last-resort'` only when steps 1–3 found no DP. pxepoint's site
 *     server holds every package's source and serves it to the sessions whose
 *     policy references it; ConfigMgr has no such source (docs/content.md).
 *
 * Throughout: a DP in maintenance mode is never returned (rule 125); a DP known
 * NOT to hold the package (`packageAvailability` answers false) is left out,
 * like an MP answering a content location request only with DPs that have the
 * content; a DP whose availability is unknown (undefined) stays in its place.
 * A DP listed by several groups appears once, at its first (best) place.
 *
 * A client with no usable address, or in no boundary group, has no current or
 * neighbour groups: it gets the default group only if the deployment allows it,
 * then the site as above.
 */
import { ipv4ToInt, parseCidr } from '../app/net.js';
import type { Boundary, BoundaryGroup, DistributionPoint, DistributionPointsPage } from '../site/model.js';
import type { ContentLocation } from './types.js';

/** The id a ContentLocation of the site itself carries (no DP has it: DP ids are generated). */
export const SITE_LOCATION_ID = 'site';

export interface ContentLocationsInput {
  /** The client's address as the site saw it (IPv4, or IPv4-mapped IPv6); null when unknown. */
  clientIp: string | null;
  boundaryGroups: readonly BoundaryGroup[];
  distributionPoints: readonly DistributionPoint[];
  /** The deployment's Distribution Points page (rule 12 checkboxes); a whole Deployment fits. */
  deployment: { distributionPoints: Pick<DistributionPointsPage, 'allowNeighbourFallback' | 'allowDefaultSiteFallback'> };
  /** Whether a DP holds the package: true/false when known, undefined when not known. */
  packageAvailability?: (distributionPointId: string) => boolean | undefined;
  /** The site's own content source and when to add it (see the file comment). */
  site?: { url: string; use: 'always' | 'last-resort' } | null;
}

/** "::ffff:10.1.2.3" → "10.1.2.3"; anything that is not IPv4 → null. */
export function clientIpv4(address: string | null | undefined): number | null {
  if (!address) return null;
  const text = address.toLowerCase().startsWith('::ffff:') ? address.slice(7) : address;
  return ipv4ToInt(text);
}

export function boundaryContains(boundary: Boundary, ip: number): boolean {
  if (boundary.kind === 'subnet') {
    const net = parseCidr(boundary.cidr);
    return net !== null && ip >= net.first && ip <= net.last;
  }
  const from = ipv4ToInt(boundary.from);
  const to = ipv4ToInt(boundary.to);
  return from !== null && to !== null && ip >= from && ip <= to;
}

/** The boundary groups the address belongs to (a client may be in several), in the given order. */
export function currentBoundaryGroups(clientIp: string | null, groups: readonly BoundaryGroup[]): BoundaryGroup[] {
  const ip = clientIpv4(clientIp);
  if (ip === null) return [];
  return groups.filter((g) => g.boundaries.some((b) => boundaryContains(b, ip)));
}

export function contentLocations(input: ContentLocationsInput): ContentLocation[] {
  const { boundaryGroups, deployment } = input;
  const dps = new Map(input.distributionPoints.map((dp) => [dp.id, dp]));
  const groups = new Map(boundaryGroups.map((g) => [g.id, g]));
  const out: ContentLocation[] = [];
  const seen = new Set<string>();

  const addGroup = (group: BoundaryGroup, source: ContentLocation['source'], failoverMinutes?: number): void => {
    for (const id of group.distributionPointIds) {
      const dp = dps.get(id);
      if (!dp || seen.has(id)) continue;
      if (dp.maintenance) continue; // rule 125
      if (input.packageAvailability?.(id) === false) continue;
      seen.add(id);
      out.push({ distributionPointId: id, url: dp.url, source, ...(failoverMinutes !== undefined ? { failoverMinutes } : {}) });
    }
  };

  const current = currentBoundaryGroups(input.clientIp, boundaryGroups);
  for (const g of current) addGroup(g, 'current');

  if (deployment.distributionPoints.allowNeighbourFallback) {
    // Direct neighbours of any current group, each at its smallest failover time; ties keep first-seen order.
    const currentIds = new Set(current.map((g) => g.id));
    const minutes = new Map<string, number>();
    for (const g of current) {
      for (const n of g.neighbours) {
        if (currentIds.has(n.boundaryGroupId) || !groups.has(n.boundaryGroupId)) continue;
        const m = minutes.get(n.boundaryGroupId);
        if (m === undefined || n.failoverMinutes < m) minutes.set(n.boundaryGroupId, n.failoverMinutes);
      }
    }
    const ordered = [...minutes.entries()].map(([id, m], i) => ({ id, m, i })).sort((a, b) => a.m - b.m || a.i - b.i);
    for (const { id, m } of ordered) addGroup(groups.get(id)!, 'neighbour', m);
  }

  if (deployment.distributionPoints.allowDefaultSiteFallback) {
    const def = boundaryGroups.find((g) => g.isSiteDefault);
    if (def) addGroup(def, 'site-default');
  }

  const site = input.site;
  if (site && (site.use === 'always' || out.length === 0)) {
    out.push({ distributionPointId: SITE_LOCATION_ID, url: site.url, source: 'site' });
  }
  return out;
}

/** The URLs of one package version at a DP, per the DP URL layout of content/types.ts. */
export function dpPackageUrls(dpBaseUrl: string, packageId: string, version: number): { filesUrl: string; manifestUrl: string } {
  const base = dpBaseUrl.endsWith('/') ? dpBaseUrl : `${dpBaseUrl}/`;
  const pkg = `${base}content/${encodeURIComponent(packageId)}/${version}/`;
  return { filesUrl: `${pkg}files/`, manifestUrl: `${pkg}manifest.json` };
}

/** The package share folder of a package ("access content directly", rules 10/117), or null without a share. */
export function packageShareUrl(shareUrl: string | null, packageId: string): string | null {
  if (shareUrl === null || shareUrl === '') return null;
  const base = shareUrl.endsWith('/') ? shareUrl : `${shareUrl}/`;
  return `${base}${encodeURIComponent(packageId)}/`;
}
