/**
 * `pxepoint settings pxe-password set|clear|show` (rules 47, 73): the site-wide PXE
 * password. Never taken on the command line (it would show in `ps` and shell
 * history): from a file, from stdin, or from PXEPOINT_PXE_PASSWORD. Only the key
 * derived from it is stored (<dataDir>/keys/pxe-password.json); a running server
 * sees the change within a second (src/pxe/pxe-password.ts).
 */
import { readFileSync } from 'node:fs';
import { clearPxePassword, pxePasswordStatus, setPxePassword } from '../../app/pxe-password.js';
import { PXE_PASSWORD_ENV } from '../../pxe/pxe-password.js';
import { flag, parse, str, usageError } from '../args.js';
import { openContext } from '../context.js';
import { message } from '../output.js';

export const PXE_PASSWORD_USAGE = `usage: pxepoint settings pxe-password set (--password-file FILE | --password-stdin | ${PXE_PASSWORD_ENV}=… in the environment)
       pxepoint settings pxe-password clear
       pxepoint settings pxe-password show
  Rules 47/73: with a PXE password, every PXE variables file (the boot token and variables)
  is served sealed; the client asks for the password on its welcome page. The password is
  the first line of FILE or of stdin; only a key derived from it is stored.`;

/** The first line of `text` (a trailing newline is not part of the password). */
const firstLine = (text: string): string => text.split(/\r?\n/)[0] ?? '';

function readPassword(file: string | undefined, stdin: boolean): string {
  if (file !== undefined && stdin) throw usageError('give one of --password-file or --password-stdin', PXE_PASSWORD_USAGE);
  if (file !== undefined) {
    try {
      return firstLine(readFileSync(file, 'utf8'));
    } catch (e) {
      throw usageError(`cannot read the password file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  if (stdin) return firstLine(readFileSync(0, 'utf8'));
  const env = process.env[PXE_PASSWORD_ENV];
  if (env !== undefined && env !== '') return env;
  throw usageError(`the password is never taken on the command line: give --password-file FILE, --password-stdin, or set ${PXE_PASSWORD_ENV}`, PXE_PASSWORD_USAGE);
}

export async function pxePasswordCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === '--help' || sub === '-h') return (process.stdout.write(PXE_PASSWORD_USAGE + '\n'), 0);
  const { values, positionals } = parse(rest, { 'password-file': { type: 'string' }, 'password-stdin': { type: 'boolean' } }, PXE_PASSWORD_USAGE);
  if (values.help || !sub) return (process.stdout.write(PXE_PASSWORD_USAGE + '\n'), sub ? 0 : 2);
  if (positionals.length > 0) throw usageError(`unexpected "${positionals[0]}" (the password is never taken on the command line)`, PXE_PASSWORD_USAGE);
  if (sub !== 'set' && sub !== 'clear' && sub !== 'show') throw usageError(`unknown subcommand "${sub}"`, PXE_PASSWORD_USAGE);
  if (sub !== 'set' && (values['password-file'] !== undefined || values['password-stdin'] !== undefined)) throw usageError(`pxe-password ${sub} takes no password`, PXE_PASSWORD_USAGE);
  // Read the password before opening the store: a usage error leaves nothing behind.
  const password = sub === 'set' ? readPassword(str(values, 'password-file'), flag(values, 'password-stdin') === true) : null;
  const ctx = await openContext(values);
  try {
    const dataDir = ctx.config.dataDir;
    if (sub === 'show') {
      const s = pxePasswordStatus(dataDir);
      message(ctx.out, s.passwordSet ? `a PXE password is set${s.problem ? ` but its key cannot be used: ${s.problem}` : ''}` : 'no PXE password is set', s);
      return 0;
    }
    if (sub === 'set') {
      const s = await setPxePassword(ctx.service.repo, dataDir, password!, ctx.actor);
      message(ctx.out, 'PXE password set: PXE variables files are served sealed (a running server applies it within a second)', s);
      return 0;
    }
    const s = await clearPxePassword(ctx.service.repo, dataDir, ctx.actor);
    message(ctx.out, s.cleared ? 'PXE password cleared: PXE variables files are served in the clear' : 'no PXE password was set', s);
    return 0;
  } finally {
    await ctx.close();
  }
}
