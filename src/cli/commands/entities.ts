/**
 * `pxepoint <kind> list|get|create|update|delete` for the plain entity kinds.
 * Each kind maps its flags to a request body; `--body`/`--body-file` carries
 * anything the flags don't (e.g. task sequence steps, boundaries).
 */
import type { PlainKind } from '../../app/schemas.js';
import { BODY_OPTIONS, bodyFrom, defined, flag, list, parse, str, usageError, variables, type Options, type Values } from '../args.js';
import { openContext } from '../context.js';
import { record, table, message } from '../output.js';

interface KindCli {
  kind: PlainKind;
  /** Singular for messages. */
  noun: string;
  columns: string[];
  options: Options;
  body(values: Values): Record<string, unknown>;
  flagsHelp: string;
}

const name: Options = { name: { type: 'string' } };

const KINDS: Record<string, KindCli> = {
  device: {
    kind: 'devices', noun: 'device', columns: ['id', 'name', 'macs', 'smbiosGuid', 'architecture', 'unknownObject'],
    options: { ...name, mac: { type: 'string', multiple: true }, guid: { type: 'string' }, arch: { type: 'string' }, 'site-system': { type: 'boolean' }, server: { type: 'boolean' }, var: { type: 'string', multiple: true } },
    body: (v) => defined({ name: str(v, 'name'), macs: list(v, 'mac').length ? list(v, 'mac') : undefined, smbiosGuid: str(v, 'guid'), architecture: str(v, 'arch'), isSiteSystem: flag(v, 'site-system'), isServer: flag(v, 'server'), variables: variables(v) }),
    flagsHelp: '--name NAME --mac MAC... --guid GUID --arch x86|x64|arm64 --site-system --server --var NAME=VALUE...',
  },
  collection: {
    kind: 'collections', noun: 'collection', columns: ['id', 'name', 'builtin', 'directMemberIds', 'rules', 'defaultDpGroupId'],
    options: { ...name, comment: { type: 'string' }, member: { type: 'string', multiple: true }, 'rule-name': { type: 'string', multiple: true }, 'rule-mac': { type: 'string', multiple: true }, 'rule-arch': { type: 'string', multiple: true }, var: { type: 'string', multiple: true }, 'dp-group': { type: 'string' } },
    body: (v) => {
      const rules = [
        ...list(v, 'rule-name').map((pattern) => ({ kind: 'name', pattern })),
        ...list(v, 'rule-mac').map((pattern) => ({ kind: 'mac', pattern })),
        ...list(v, 'rule-arch').map((architecture) => ({ kind: 'architecture', architecture })),
      ];
      return defined({ name: str(v, 'name'), comment: str(v, 'comment'), directMemberIds: list(v, 'member').length ? list(v, 'member') : undefined, rules: rules.length ? rules : undefined, variables: variables(v), defaultDpGroupId: str(v, 'dp-group') });
    },
    flagsHelp: '--name NAME --comment TEXT --member DEVICE_ID... --rule-name GLOB... --rule-mac GLOB... --rule-arch ARCH... --var NAME=VALUE... --dp-group ID',
  },
  package: {
    kind: 'packages', noun: 'package', columns: ['id', 'name', 'version', 'copyToPackageShare', 'sourcePath'],
    options: { ...name, description: { type: 'string' }, source: { type: 'string' }, share: { type: 'boolean' }, 'no-share': { type: 'boolean' }, depends: { type: 'string', multiple: true } },
    body: (v) => defined({ name: str(v, 'name'), description: str(v, 'description'), sourcePath: str(v, 'source'), copyToPackageShare: flag(v, 'share') ?? (flag(v, 'no-share') ? false : undefined), dependencyIds: list(v, 'depends').length ? list(v, 'depends') : undefined }),
    flagsHelp: '--name NAME --description TEXT --source DIR --share|--no-share --depends PACKAGE_ID...',
  },
  bootimage: {
    kind: 'boot-images', noun: 'boot image', columns: ['id', 'name', 'architecture', 'deployFromPxe', 'imagePath', 'version'],
    options: { ...name, arch: { type: 'string' }, 'image-path': { type: 'string' }, pxe: { type: 'boolean' }, 'no-pxe': { type: 'boolean' } },
    body: (v) => defined({ name: str(v, 'name'), architecture: str(v, 'arch'), imagePath: str(v, 'image-path'), deployFromPxe: flag(v, 'pxe') ?? (flag(v, 'no-pxe') ? false : undefined) }),
    flagsHelp: '--name NAME --arch x86|x64|arm64 --image-path PATH --pxe|--no-pxe',
  },
  ts: {
    kind: 'task-sequences', noun: 'task sequence', columns: ['id', 'name', 'bootImageId', 'disabled', 'steps'],
    options: { ...name, description: { type: 'string' }, 'boot-image': { type: 'string' }, 'no-boot-image': { type: 'boolean' }, disable: { type: 'boolean' }, enable: { type: 'boolean' }, 'steps-file': { type: 'string' } },
    body: (v) => {
      const stepsFile = str(v, 'steps-file');
      const steps = stepsFile ? bodyFrom({ 'body-file': stepsFile }).steps : undefined;
      return defined({ name: str(v, 'name'), description: str(v, 'description'), bootImageId: flag(v, 'no-boot-image') ? null : str(v, 'boot-image'), disabled: flag(v, 'disable') ? true : flag(v, 'enable') ? false : undefined, steps });
    },
    flagsHelp: '--name NAME --description TEXT --boot-image ID|--no-boot-image --disable|--enable --steps-file FILE (JSON {"steps":[…]})',
  },
  dp: {
    kind: 'distribution-points', noun: 'distribution point', columns: ['id', 'name', 'url', 'pxeEnabled', 'maintenance'],
    options: { ...name, url: { type: 'string' }, share: { type: 'string' }, pxe: { type: 'boolean' }, maintenance: { type: 'boolean' }, 'no-maintenance': { type: 'boolean' } },
    body: (v) => defined({ name: str(v, 'name'), url: str(v, 'url'), shareUrl: str(v, 'share'), pxeEnabled: flag(v, 'pxe'), maintenance: flag(v, 'maintenance') ?? (flag(v, 'no-maintenance') ? false : undefined) }),
    flagsHelp: '--name NAME --url URL --share URL --pxe --maintenance|--no-maintenance',
  },
  'dp-group': {
    kind: 'dp-groups', noun: 'distribution point group', columns: ['id', 'name', 'distributionPointIds'],
    options: { ...name, dp: { type: 'string', multiple: true } },
    body: (v) => defined({ name: str(v, 'name'), distributionPointIds: list(v, 'dp').length ? list(v, 'dp') : undefined }),
    flagsHelp: '--name NAME --dp DP_ID...',
  },
  'boundary-group': {
    kind: 'boundary-groups', noun: 'boundary group', columns: ['id', 'name', 'boundaries', 'distributionPointIds', 'isSiteDefault'],
    options: { ...name, subnet: { type: 'string', multiple: true }, range: { type: 'string', multiple: true }, dp: { type: 'string', multiple: true }, neighbour: { type: 'string', multiple: true }, 'site-default': { type: 'boolean' } },
    body: (v) => {
      const boundaries = [
        ...list(v, 'subnet').map((cidr) => ({ kind: 'subnet', cidr })),
        ...list(v, 'range').map((r) => {
          const [from, to] = r.split('-');
          if (!from || !to) throw usageError(`--range takes FROM-TO, not "${r}"`);
          return { kind: 'range', from, to };
        }),
      ];
      const neighbours = list(v, 'neighbour').map((n) => {
        const [id, minutes] = n.split(':');
        return defined({ boundaryGroupId: id, failoverMinutes: minutes === undefined ? undefined : Number(minutes) });
      });
      return defined({ name: str(v, 'name'), boundaries: boundaries.length ? boundaries : undefined, distributionPointIds: list(v, 'dp').length ? list(v, 'dp') : undefined, neighbours: neighbours.length ? neighbours : undefined, isSiteDefault: flag(v, 'site-default') });
    },
    flagsHelp: '--name NAME --subnet CIDR... --range FROM-TO... --dp DP_ID... --neighbour GROUP_ID[:FAILOVER_MINUTES]... --site-default',
  },
};

export const ENTITY_COMMANDS = Object.keys(KINDS);

export async function entityCommand(command: string, argv: string[]): Promise<number> {
  const k = KINDS[command]!;
  const usage = [
    `usage: pxepoint ${command} list`,
    `       pxepoint ${command} get ID`,
    `       pxepoint ${command} create ${k.flagsHelp}`,
    `       pxepoint ${command} update ID [flags as for create]`,
    `       pxepoint ${command} delete ID`,
    ...(command === 'collection' ? [`       pxepoint collection members ID`] : []),
    ...(command === 'ts' ? [`       pxepoint ts check ID        (rule 1: list invalid references)`] : []),
    `  every command: --json, --data-dir DIR, --config FILE; create/update: --body JSON | --body-file FILE`,
  ].join('\n');
  const [sub, ...rest] = argv;
  const { values, positionals } = parse(rest, { ...k.options, ...BODY_OPTIONS }, usage);
  if (values.help || !sub) {
    process.stdout.write(usage + '\n');
    return sub ? 0 : 2;
  }
  const id = positionals[0];
  const needId = (): string => {
    if (!id) throw usageError(`pxepoint ${command} ${sub} needs an ID`, usage);
    return id;
  };
  const ctx = await openContext(values);
  try {
    const { service, actor, out } = ctx;
    switch (sub) {
      case 'list':
        table(out, await service.list(k.kind), k.columns);
        return 0;
      case 'get':
        record(out, await service.get(k.kind, needId()));
        return 0;
      case 'create': {
        const created = await service.create(k.kind, { ...bodyFrom(values), ...k.body(values) }, actor);
        message(out, `created ${k.noun} ${created.id}`, created);
        return 0;
      }
      case 'update': {
        const updated = await service.update(k.kind, needId(), { ...bodyFrom(values), ...k.body(values) }, actor);
        message(out, `changed ${k.noun} ${updated.id}`, updated);
        return 0;
      }
      case 'delete':
        await service.remove(k.kind, needId(), actor);
        message(out, `deleted ${k.noun} ${id}`, { deleted: id });
        return 0;
      case 'members':
        if (command !== 'collection') break;
        table(out, await service.members(needId()), ['id', 'name', 'macs', 'architecture']);
        return 0;
      case 'check': {
        if (command !== 'ts') break;
        const problems = await service.checkTaskSequence(needId());
        if (out.json) out.write(JSON.stringify(problems, null, 2) + '\n');
        else out.write(problems.length === 0 ? `task sequence ${id}: all references are valid\n` : problems.map((p) => `- ${p.message}`).join('\n') + '\n');
        return problems.length === 0 ? 0 : 1;
      }
    }
    throw usageError(`unknown subcommand "${sub}"`, usage);
  } finally {
    await ctx.close();
  }
}
