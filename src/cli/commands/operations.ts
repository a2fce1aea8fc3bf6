/** `pxepoint clear-pxe`, `settings`, `messages`, `token`. */
import { flag, int, parse, str, usageError } from '../args.js';
import { openContext } from '../context.js';
import { message, record, table } from '../output.js';
import { pxePasswordCommand } from './pxe-password.js';

const CLEAR_USAGE = `usage: pxepoint clear-pxe --device DEVICE_ID | --collection COLLECTION_ID
  "Clear Required PXE Deployments" (rule 40): the device(s) receive their required PXE deployment again.`;

export async function clearPxeCommand(argv: string[]): Promise<number> {
  const { values } = parse(argv, { device: { type: 'string' }, collection: { type: 'string' } }, CLEAR_USAGE);
  if (values.help) return (process.stdout.write(CLEAR_USAGE + '\n'), 0);
  const device = str(values, 'device');
  const collection = str(values, 'collection');
  if ((device === undefined) === (collection === undefined)) throw usageError('give exactly one of --device or --collection', CLEAR_USAGE);
  const ctx = await openContext(values);
  try {
    const result = await ctx.service.clearPxe(device !== undefined ? { deviceId: device } : { collectionId: collection }, ctx.actor);
    message(ctx.out, `cleared required PXE deployments on ${result.cleared.length} device(s)${result.cleared.length ? ': ' + result.cleared.join(', ') : ''}`, result);
    return 0;
  } finally {
    await ctx.close();
  }
}

const SETTINGS_USAGE = `usage: pxepoint settings get
       pxepoint settings set [--site-name NAME] [--default-size N] [--maximum-size N] [--site-systems block|warn]
       pxepoint settings pxe-password set|clear|show   (rules 47/73; see pxepoint settings pxe-password --help)
  Deployment verification (rule 131): default size 100 (0 = ignore), maximum size 0 (= ignore; else > default size).`;

export async function settingsCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'pxe-password') return pxePasswordCommand(rest);
  const { values } = parse(rest, { 'site-name': { type: 'string' }, 'default-size': { type: 'string' }, 'maximum-size': { type: 'string' }, 'site-systems': { type: 'string' } }, SETTINGS_USAGE);
  if (values.help || !sub) return (process.stdout.write(SETTINGS_USAGE + '\n'), sub ? 0 : 2);
  const ctx = await openContext(values);
  try {
    if (sub === 'get') {
      record(ctx.out, await ctx.service.getSettings());
      return 0;
    }
    if (sub === 'set') {
      const dv = Object.fromEntries(Object.entries({ defaultSize: int(values, 'default-size'), maximumSize: int(values, 'maximum-size'), siteSystemCollections: str(values, 'site-systems') }).filter(([, v]) => v !== undefined));
      const body = { ...(str(values, 'site-name') !== undefined ? { siteName: str(values, 'site-name') } : {}), ...(Object.keys(dv).length ? { deploymentVerification: dv } : {}) };
      record(ctx.out, await ctx.service.updateSettings(body, ctx.actor));
      return 0;
    }
    throw usageError(`unknown subcommand "${sub}"`, SETTINGS_USAGE);
  } finally {
    await ctx.close();
  }
}

const MESSAGES_USAGE = `usage: pxepoint messages [--audit | --status] [--device ID] [--deployment ID] [--limit N]   (the newest N, default 50)`;

export async function messagesCommand(argv: string[]): Promise<number> {
  const { values } = parse(argv, { audit: { type: 'boolean' }, status: { type: 'boolean' }, device: { type: 'string' }, deployment: { type: 'string' }, limit: { type: 'string' } }, MESSAGES_USAGE);
  if (values.help) return (process.stdout.write(MESSAGES_USAGE + '\n'), 0);
  const ctx = await openContext(values);
  try {
    const kind: 'audit' | 'status' | undefined = flag(values, 'audit') ? 'audit' : flag(values, 'status') ? 'status' : undefined;
    const q = { ...(kind ? { kind } : {}), ...(str(values, 'device') ? { deviceId: str(values, 'device')! } : {}), ...(str(values, 'deployment') ? { deploymentId: str(values, 'deployment')! } : {}), limit: int(values, "limit") ?? 50, newestFirst: true };
    // The newest N, shown in time order.
    table(ctx.out, (await ctx.service.messages(q)).reverse(), ['id', 'time', 'kind', 'severity', 'actor', 'text']);
    return 0;
  } finally {
    await ctx.close();
  }
}

const TOKEN_USAGE = `usage: pxepoint token create NAME     (prints the secret once; it is stored hashed)
       pxepoint token list
       pxepoint token revoke ID`;

export async function tokenCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const { values, positionals } = parse(rest, {}, TOKEN_USAGE);
  if (values.help || !sub) return (process.stdout.write(TOKEN_USAGE + '\n'), sub ? 0 : 2);
  const ctx = await openContext(values);
  try {
    switch (sub) {
      case 'create': {
        const name = positionals[0];
        if (!name) throw usageError('token create needs a NAME', TOKEN_USAGE);
        const { token, secret } = await ctx.service.createToken({ name }, ctx.actor);
        message(ctx.out, `created token ${token.id} ("${token.name}"). Use it as\n  Authorization: Bearer ${secret}\nIt is shown only now.`, { id: token.id, name: token.name, secret });
        return 0;
      }
      case 'list':
        table(ctx.out, await ctx.service.listTokens(), ['id', 'name', 'createdAt', 'lastUsedAt']);
        return 0;
      case 'revoke':
        if (!positionals[0]) throw usageError('token revoke needs an ID', TOKEN_USAGE);
        await ctx.service.revokeToken(positionals[0], ctx.actor);
        message(ctx.out, `revoked token ${positionals[0]}`);
        return 0;
    }
    throw usageError(`unknown subcommand "${sub}"`, TOKEN_USAGE);
  } finally {
    await ctx.close();
  }
}
