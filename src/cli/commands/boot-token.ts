/** `pxepoint boot-token issue`: a one-time client API boot token for one machine (docs/decisions/0007). */
import { ClientService } from '../../app/client-service.js';
import { int, list, parse, str, usageError } from '../args.js';
import { openContext } from '../context.js';
import { message } from '../output.js';

const USAGE = `usage: pxepoint boot-token issue --mac MAC [--mac MAC…] [--guid SMBIOS_GUID] [--boot pxe|media] [--ttl SECONDS]
  Prints a one-time token the machine presents to POST /client/identify (pxeToken). It is bound to
  the MACs / SMBIOS GUID given, valid for --ttl seconds (default 1800), and stored hashed.`;

export async function bootTokenCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const { values } = parse(rest, { mac: { type: 'string', multiple: true }, guid: { type: 'string' }, boot: { type: 'string' }, ttl: { type: 'string' } }, USAGE);
  if (values.help || !sub) return (process.stdout.write(USAGE + '\n'), sub ? 0 : 2);
  if (sub !== 'issue') throw usageError(`unknown subcommand "${sub}"`, USAGE);
  const macs = list(values, 'mac');
  const guid = str(values, 'guid');
  if (macs.length === 0 && guid === undefined) throw usageError('give at least one --mac (or --guid)', USAGE);
  const boot = str(values, 'boot') ?? 'pxe';
  if (boot !== 'pxe' && boot !== 'media') throw usageError(`--boot takes pxe or media, not "${boot}"`, USAGE);
  const ttl = int(values, 'ttl');
  const ctx = await openContext(values);
  const clients = new ClientService(ctx.service.repo);
  try {
    const issued = await clients.issueBootToken(
      { macs, ...(guid !== undefined ? { smbiosGuid: guid } : {}), bootSource: boot, ...(ttl !== undefined ? { ttlSeconds: ttl } : {}) },
      ctx.actor,
    );
    message(ctx.out, `${issued.token}\n(one-time ${boot} boot token ${issued.id}, valid until ${issued.expiresAt})`, issued);
    return 0;
  } finally {
    clients.close();
    await ctx.close();
  }
}
