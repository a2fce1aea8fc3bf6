/**
 * `pxepoint media`: the boot media registry (issue 7, rules 101–103). `media create`
 * builds media (the builder's command, ./media-create.ts); list/show/block/unblock
 * work on the data directory like every data command. Secrets are never shown
 * (the site does not have them; not even their hashes are printed).
 */
import { MediaService, publicMedia } from '../../app/media-service.js';
import { parse, str, usageError } from '../args.js';
import { openContext } from '../context.js';
import { message, record, table } from '../output.js';

const USAGE = `usage: pxepoint media <subcommand> [--json] [--data-dir DIR]
  create …                       build bootable or stand-alone media (pxepoint media create --help)
  list                           registered media, newest first
  show ID                        one medium: type, dates, blocked, variable names
  block ID [--reason TEXT]       the site refuses the medium from now on (rule 102); audited
  unblock ID [--reason TEXT]     lets it be used again (its certificate dates still apply); audited`;

const COLUMNS = ['id', 'type', 'label', 'architecture', 'createdAt', 'createdBy', 'certificateNotAfter', 'blocked'];


export async function mediaCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  // The builder's command (./media-create.ts), loaded only when building.
  if (sub === 'create') return import('./media-create.js').then((m) => m.mediaCreateCommand(rest));
  const { values, positionals } = parse(rest, { reason: { type: 'string' } }, USAGE);
  if (values.help || !sub || sub === '--help' || sub === '-h') return (process.stdout.write(USAGE + '\n'), sub ? 0 : 2);
  if (!['list', 'show', 'block', 'unblock'].includes(sub)) throw usageError(`unknown subcommand "${sub}"`, USAGE);
  const id = positionals[0];
  if (sub !== 'list' && (id === undefined || positionals.length > 1)) throw usageError(`media ${sub} takes one medium ID`, USAGE);
  if (sub === 'list' && positionals.length > 0) throw usageError('media list takes no arguments', USAGE);
  const reason = str(values, 'reason');
  if (reason !== undefined && sub !== 'block' && sub !== 'unblock') throw usageError('--reason goes with block or unblock', USAGE);

  const ctx = await openContext(values);
  const media = new MediaService(ctx.service.repo);
  try {
    switch (sub) {
      case 'list':
        table(ctx.out, (await media.list()).map(publicMedia), COLUMNS);
        return 0;
      case 'show':
        record(ctx.out, publicMedia(await media.get(id!)));
        return 0;
      case 'block': {
        const before = await media.get(id!);
        const after = await media.block(id!, ctx.actor, reason);
        message(ctx.out, before.blocked ? `medium ${id} was already blocked (since ${before.blockedAt ?? '?'} by ${before.blockedBy ?? '?'})` : `blocked medium ${id}: the site refuses it from now on`, publicMedia(after));
        return 0;
      }
      default: {
        const before = await media.get(id!);
        const after = await media.unblock(id!, ctx.actor, reason);
        message(ctx.out, before.blocked ? `unblocked medium ${id}` : `medium ${id} was not blocked`, publicMedia(after));
        return 0;
      }
    }
  } finally {
    await ctx.close();
  }
}
