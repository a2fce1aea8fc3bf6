/** `pxepoint template save|apply|list|get|delete` (rule 4: scheduling, pre-download and software installation are never saved). */
import { BODY_OPTIONS, parse, str, usageError } from '../args.js';
import { openContext } from '../context.js';
import { message, record, table } from '../output.js';
import { deployCommand, settingsFromFlags, WIZARD_OPTIONS } from './deploy.js';

const USAGE = `usage: pxepoint template save NAME --from DEPLOYMENT_ID
       pxepoint template save NAME [wizard flags as for deploy]
       pxepoint template apply NAME --ts TS_ID --collection COLLECTION_ID [wizard flags]   (= deploy --template NAME)
       pxepoint template list | get NAME | delete ID
  Templates never store Software Installation, Scheduling or Pre-download (rule 4).`;

export async function templateCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'apply') {
    const [name, ...flags] = rest;
    if (!name || name.startsWith('-')) throw usageError('template apply needs the template NAME', USAGE);
    return deployCommand(['--template', name, ...flags]);
  }
  const { values, positionals } = parse(rest, { from: { type: 'string' }, ...BODY_OPTIONS, ...WIZARD_OPTIONS }, USAGE);
  if (values.help || !sub) {
    process.stdout.write(USAGE + '\n');
    return sub ? 0 : 2;
  }
  const ctx = await openContext(values);
  try {
    const { service, actor, out } = ctx;
    switch (sub) {
      case 'list':
        table(out, await service.listTemplates(), ['id', 'name', 'createdAt']);
        return 0;
      case 'get':
        record(out, await service.getTemplate(positionals[0] ?? ''));
        return 0;
      case 'delete':
        await service.removeTemplate((await service.getTemplate(positionals[0] ?? '')).id, actor);
        message(out, `deleted template ${positionals[0]}`);
        return 0;
      case 'save': {
        const name = positionals[0];
        if (!name) throw usageError('template save needs a NAME', USAGE);
        const from = str(values, 'from');
        const t = await service.saveTemplate(from ? { name, fromDeploymentId: from } : { name, settings: settingsFromFlags(values) }, actor);
        message(out, `saved template ${t.id} ("${t.name}")`, t);
        return 0;
      }
    }
    throw usageError(`unknown subcommand "${sub}"`, USAGE);
  } finally {
    await ctx.close();
  }
}

