/**
 * Loads a declarative site document (fixtures/sample-site/site.json is one) into
 * the site through the site service, so the sample goes through exactly the same
 * checks and wizard rules as an administrator's changes. References in the
 * document are by name; relative paths are resolved against the document's folder.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { invalid, PxeError } from '../errors.js';
import type { SiteService, Actor } from './site-service.js';
import { ALL_SYSTEMS_ID, ALL_UNKNOWN_COMPUTERS_ID } from '../site/model.js';

type Doc = Record<string, unknown>;
type Item = Record<string, unknown>;

export interface LoadSummary {
  created: Record<string, number>;
  deployments: string[];
}

export async function loadSiteDocument(service: SiteService, file: string, actor: Actor): Promise<LoadSummary> {
  let doc: Doc;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8')) as Doc;
  } catch (e) {
    throw new PxeError('PXE_ERR_SITE_DOCUMENT', `cannot read site document ${file}: ${(e as Error).message}`);
  }
  const base = dirname(resolve(file));
  const ids = new Map<string, string>(); // "kind:name" → id
  ids.set('collection:All Systems', ALL_SYSTEMS_ID);
  ids.set('collection:All Unknown Computers', ALL_UNKNOWN_COMPUTERS_ID);
  const ref = (kind: string, name: unknown, where: string): string => {
    const id = ids.get(`${kind}:${String(name)}`);
    if (!id) throw invalid(where, `${file}: no ${kind} named "${String(name)}" is defined before this point`);
    return id;
  };
  const items = (key: string): Item[] => (Array.isArray(doc[key]) ? (doc[key] as Item[]) : []);
  const created: Record<string, number> = {};
  const count = (k: string): void => void (created[k] = (created[k] ?? 0) + 1);

  if (doc.settings) await service.updateSettings(doc.settings, actor);

  for (const dp of items('distributionPoints')) {
    ids.set(`dp:${dp.name}`, (await service.create('distribution-points', dp, actor)).id);
    count('distribution-points');
  }
  for (const { distributionPoints, ...g } of items('dpGroups')) {
    const body = { ...g, distributionPointIds: ((distributionPoints as unknown[]) ?? []).map((n) => ref('dp', n, 'dpGroups')) };
    ids.set(`dpGroup:${g.name}`, (await service.create('dp-groups', body, actor)).id);
    count('dp-groups');
  }
  const groups = items('boundaryGroups');
  for (const { distributionPoints, neighbours: _n, ...g } of groups) {
    const body = { ...g, distributionPointIds: ((distributionPoints as unknown[]) ?? []).map((n) => ref('dp', n, 'boundaryGroups')) };
    ids.set(`boundaryGroup:${g.name}`, (await service.create('boundary-groups', body, actor)).id);
    count('boundary-groups');
  }
  for (const g of groups) {
    // Neighbour links second: they may point at groups defined later in the document.
    const neighbours = ((g.neighbours as Item[] | undefined) ?? []).map((n) => ({ boundaryGroupId: ref('boundaryGroup', n.boundaryGroup, 'boundaryGroups.neighbours'), failoverMinutes: n.failoverMinutes }));
    if (neighbours.length) await service.update('boundary-groups', ref('boundaryGroup', g.name, 'boundaryGroups'), { neighbours }, actor);
  }
  for (const d of items('devices')) {
    ids.set(`device:${d.name}`, (await service.create('devices', d, actor)).id);
    count('devices');
  }
  for (const { members, defaultDpGroup, ...c } of items('collections')) {
    const body = {
      ...c,
      directMemberIds: ((members as unknown[]) ?? []).map((n) => ref('device', n, 'collections.members')),
      ...(defaultDpGroup ? { defaultDpGroupId: ref('dpGroup', defaultDpGroup, 'collections.defaultDpGroup') } : {}),
    };
    ids.set(`collection:${c.name}`, (await service.create('collections', body, actor)).id);
    count('collections');
  }
  for (const { source, ...p } of items('packages')) {
    const body = { ...p, sourcePath: source ? resolve(base, String(source)) : null };
    ids.set(`package:${p.name}`, (await service.create('packages', body, actor)).id);
    count('packages');
  }
  for (const b of items('bootImages')) {
    ids.set(`bootImage:${b.name}`, (await service.create('boot-images', b, actor)).id);
    count('boot-images');
  }
  for (const { bootImage, steps, ...t } of items('taskSequences')) {
    const body = {
      ...t,
      bootImageId: bootImage ? ref('bootImage', bootImage, 'taskSequences.bootImage') : null,
      steps: ((steps as Item[]) ?? []).map(({ package: pkg, ...s }) => ({ ...s, ...(pkg ? { packageId: ref('package', pkg, 'taskSequences.steps.package') } : {}) })),
    };
    ids.set(`taskSequence:${t.name}`, (await service.create('task-sequences', body, actor)).id);
    count('task-sequences');
  }
  const deployments: string[] = [];
  for (const { taskSequence, collection, ...d } of items('deployments')) {
    const body = { ...d, taskSequenceId: ref('taskSequence', taskSequence, 'deployments.taskSequence'), collectionId: ref('collection', collection, 'deployments.collection') };
    deployments.push((await service.createDeployment(body, actor)).deployment.id);
    count('deployments');
  }
  return { created, deployments };
}
