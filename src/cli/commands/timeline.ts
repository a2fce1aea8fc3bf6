/** `pxepoint timeline <mac>`: a machine's boot timeline (DHCP, TFTP, HTTP), oldest first. */
import { invalid } from '../../errors.js';
import { parseMac } from '../../site/identifiers.js';
import { int, parse, usageError } from '../args.js';
import { openContext } from '../context.js';
import { table } from '../output.js';

const USAGE = `usage: pxepoint timeline MAC [--limit N] [--after ID] [--json]
  A machine's boot timeline: every DHCP decision, TFTP transfer and HTTP boot request,
  oldest first (the newest N, default 200; --after ID pages forward from an event id).`;

export async function timelineCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { limit: { type: 'string' }, after: { type: 'string' } }, USAGE);
  if (values.help) return (process.stdout.write(USAGE + '\n'), 0);
  const text = positionals[0];
  if (text === undefined || positionals.length > 1) throw usageError('give exactly one MAC address', USAGE);
  const mac = parseMac(text);
  if (mac === null) throw invalid('mac', `"${text}" is not a MAC address; write it like 52:54:00:77:00:10`);
  const limit = int(values, 'limit') ?? 200;
  const after = int(values, 'after');
  const ctx = await openContext(values);
  try {
    const store = ctx.service.repo.bootEvents;
    const events = after !== undefined
      ? await store.list({ mac, afterId: after, limit })
      : (await store.list({ mac, limit, newestFirst: true })).reverse();
    if (ctx.out.json) ctx.out.write(JSON.stringify({ mac, events }, null, 2) + '\n');
    else table(ctx.out, events, ['id', 'time', 'kind', 'clientIp', 'summary']);
    return 0;
  } finally {
    await ctx.close();
  }
}
