/**
 * The content library from the command line (docs/content.md):
 *   pxepoint package add-content ID --source DIR
 *   pxepoint content status [--package ID]
 *   pxepoint content distribute PACKAGE_ID (--dp ID | --group ID)...
 *   pxepoint content validate --dp ID
 * They work on the data directory like every data command; a running DP sees the
 * change at its next poll.
 */
import { distribute, requestValidation, resolveTargets } from '../../content/distribution.js';
import { SiteContent } from '../../content/site-content.js';
import { list, parse, str, usageError } from '../args.js';
import { openContext } from '../context.js';
import { message, table } from '../output.js';

export const ADD_CONTENT_USAGE = `usage: pxepoint package add-content PACKAGE_ID --source DIR
  Reads DIR once into the content library (content-addressed, SHA-256 + XXH64 chunk digests),
  signs the manifest and makes it the package's newest version (rule 17). Distribution points
  that hold the package get the new version. Adding the same content again creates no version.`;

const CONTENT_USAGE = `usage: pxepoint content status [--package ID]
       pxepoint content distribute PACKAGE_ID [--dp ID]... [--group ID]...
       pxepoint content validate --dp ID
  status      package versions and, per distribution point, pending | verifying | available | failed
  distribute  assign the newest version to DPs (they pull it and verify every file)
  validate    the DP re-hashes everything it holds at its next poll (also on its own schedule, dp.validateMinutes)`;

export async function addContentCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { source: { type: 'string' } }, ADD_CONTENT_USAGE);
  if (values.help) return (process.stdout.write(ADD_CONTENT_USAGE + '\n'), 0);
  const [id] = positionals;
  const source = str(values, 'source');
  if (!id || !source || positionals.length !== 1) throw usageError('give one PACKAGE_ID and --source DIR', ADD_CONTENT_USAGE);
  const ctx = await openContext(values);
  try {
    const content = await SiteContent.open(ctx.service.repo, ctx.config.dataDir);
    const r = await content.addContent(id, source, ctx.actor);
    message(ctx.out, r.created
      ? `package ${id}: version ${r.version} (${r.files} files, ${r.totalSize} bytes)${r.redistributedTo.length ? `; redistributing to ${r.redistributedTo.join(', ')}` : ''}`
      : `package ${id}: the content is identical to version ${r.version}; no new version`, r);
    return 0;
  } finally {
    await ctx.close();
  }
}

export async function contentCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const { values, positionals } = parse(rest, { package: { type: 'string' }, dp: { type: 'string', multiple: true }, group: { type: 'string', multiple: true } }, CONTENT_USAGE);
  if (values.help || !sub) return (process.stdout.write(CONTENT_USAGE + '\n'), sub ? 0 : 2);
  const ctx = await openContext(values);
  const repo = ctx.service.repo;
  const now = new Date().toISOString();
  try {
    if (sub === 'status') {
      const packageId = str(values, 'package');
      const versions = await repo.content.listVersions(packageId);
      const states = await repo.content.listDpStates(packageId ? { packageId } : {});
      if (ctx.out.json) return (ctx.out.write(JSON.stringify({ versions, distributionPoints: states }, null, 2) + '\n'), 0);
      table(ctx.out, versions, ['packageId', 'version', 'fileCount', 'totalSize', 'createdAt']);
      ctx.out.write('\n');
      table(ctx.out, states, ['distributionPointId', 'packageId', 'version', 'state', 'updatedAt', 'detail']);
      return 0;
    }
    if (sub === 'distribute') {
      const [packageId] = positionals;
      if (!packageId || positionals.length !== 1) throw usageError('give one PACKAGE_ID', CONTENT_USAGE);
      const targets = await resolveTargets(repo, list(values, 'dp'), list(values, 'group'));
      const r = await distribute(repo, [packageId], targets, ctx.actor, now);
      if (r.withoutContent.length) throw usageError(`package ${packageId} has no content yet; add it with \`pxepoint package add-content ${packageId} --source DIR\``);
      message(ctx.out, r.assigned.length ? `assigned ${packageId} version ${r.assigned[0]!.version} to ${r.assigned.map((a) => a.distributionPointId).join(', ')}` : `every named DP already has (or is getting) the newest version of ${packageId}`, r);
      return 0;
    }
    if (sub === 'validate') {
      const dps = list(values, 'dp');
      if (dps.length !== 1) throw usageError('give one --dp ID', CONTENT_USAGE);
      const n = await requestValidation(repo, dps[0]!, ctx.actor, now);
      message(ctx.out, `distribution point ${dps[0]} will validate ${n} package(s) at its next poll`, { distributionPointId: dps[0], packages: n });
      return 0;
    }
    throw usageError(`unknown subcommand "${sub}"`, CONTENT_USAGE);
  } finally {
    await ctx.close();
  }
}
