/**
 * `pxepoint` command dispatcher. Errors with a PXE_ERR code print their message
 * (which says what to fix) and exit non-zero; anything else is a bug and prints
 * its stack.
 */
import { isPxeError } from '../errors.js';
import { bootTokenCommand } from './commands/boot-token.js';
import { deployCommand, deploymentCommand } from './commands/deploy.js';
import { ENTITY_COMMANDS, entityCommand } from './commands/entities.js';
import { clearPxeCommand, messagesCommand, settingsCommand, tokenCommand } from './commands/operations.js';
import { serveCommand } from './commands/serve.js';
import { clientCommand } from './commands/client.js';
import { templateCommand } from './commands/template.js';
import { addContentCommand, contentCommand } from './commands/content.js';

const USAGE = `pxepoint — PXE and boot-media provisioning server

usage: pxepoint <command> [...]   (every command takes --help; data commands take --json and --data-dir DIR)

  serve                      run the server (DHCP/ProxyDHCP, TFTP, HTTP, admin API)
  token create|list|revoke   admin API bearer tokens
  boot-token issue           a one-time client API boot token for one machine
  device                     devices (MACs, SMBIOS GUID, architecture, variables)
  collection                 collections (members, rules, variables); collection members ID
  package | bootimage | ts   content objects and task sequences; ts check ID
  dp | dp-group | boundary-group   distribution points and boundary groups
  deploy                     the deploy wizard: deploy a task sequence to a collection
  deployment                 list/get/update/delete deployments
  template                   save/apply deployment templates
  clear-pxe                  Clear Required PXE Deployments on a device or collection
  settings                   site settings (deployment verification)
  messages                   status and audit messages
  client                     the reference client: identify, pick a deployment, run it (docs/client.md)
  package add-content ID --source DIR   a new content version (content library, docs/content.md)
  content status|distribute|validate    package content on distribution points
  media create|list|show|block|unblock  boot media: build them, the registry, blocking (docs/media.md)`;

/** Where an API-worded message needs the CLI's spelling. */
const CLI_HINTS: Record<string, string> = {
  PXE_ERR_HIGH_RISK_NOT_ACCEPTED: 'On the command line, consent with --accept-high-risk (the acceptance is audited).',
};

const COMMANDS: Record<string, (argv: string[]) => Promise<number>> = {
  serve: serveCommand,
  token: tokenCommand,
  'boot-token': bootTokenCommand,
  deploy: deployCommand,
  deployment: deploymentCommand,
  template: templateCommand,
  'clear-pxe': clearPxeCommand,
  timeline: (argv: string[]) => import('./commands/timeline.js').then((m) => m.timelineCommand(argv)), // boot timeline of a MAC (docs/pxe.md)
  settings: settingsCommand,
  messages: messagesCommand,
  client: clientCommand,
  ...Object.fromEntries(ENTITY_COMMANDS.map((c) => [c, (argv: string[]) => entityCommand(c, argv)])),
  content: contentCommand,
  media: (argv: string[]) => import('./commands/media.js').then((m) => m.mediaCommand(argv)), // boot media (docs/media.md)
  // `package add-content` is the content library's; every other `package` subcommand is the entity's.
  package: (argv: string[]) => (argv[0] === 'add-content' ? addContentCommand(argv.slice(1)) : entityCommand('package', argv)),
  bootimage: (argv: string[]) => (argv[0] === 'import' || argv[0] === 'bcd' ? import('./commands/bootimage-import.js').then((m) => m.bootImageCommand(argv[0]!, argv.slice(1))) : entityCommand('bootimage', argv)), // WinPE import (docs/winpe.md)
};

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE + '\n');
    return command ? 0 : 2;
  }
  const run = COMMANDS[command];
  if (!run) {
    process.stderr.write(`pxepoint: unknown command "${command}"\n\n${USAGE}\n`);
    return 2;
  }
  try {
    return await run(rest);
  } catch (e) {
    if (isPxeError(e)) {
      const field = typeof e.details.field === 'string' && !e.message.includes(e.details.field) ? ` (${e.details.field})` : '';
      const hint = CLI_HINTS[e.code] ? `\n${CLI_HINTS[e.code]}` : '';
      process.stderr.write(`pxepoint: ${e.message}${field} [${e.code}]${hint}\n`);
      return e.code === 'PXE_ERR_USAGE' ? 2 : 1;
    }
    throw e;
  }
}
