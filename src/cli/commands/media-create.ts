/**
 * `pxepoint media create`: builds bootable or stand-alone media (src/media/build.ts)
 * into an ISO image (BIOS + UEFI, hybrid for `dd` to a USB stick) or a folder, and
 * registers it with the site. The flags become the same JSON options POST
 * /api/media takes (schemas.ts mediaCreate), so both refuse with the same words.
 *
 * The password is never a command-line argument (anyone can read those with ps):
 * --password-file FILE (first line), --password-stdin, or PXEPOINT_MEDIA_PASSWORD.
 * A progress bar goes to stderr when it is a terminal, plain stage lines otherwise;
 * --json prints nothing but the result. SIGINT/SIGTERM stop the build and remove
 * everything it wrote (an existing --out is left as it was).
 */
import { readFileSync } from 'node:fs';
import { MediaService, publicMedia } from '../../app/media-service.js';
import { isPxeError } from '../../errors.js';
import { buildMedia, defaultSiteUrls, type MediaFormat } from '../../media/build.js';
import type { BuildProgress, BuildStage } from '../../media/iso-image.js';
import { flag, list, parse, str, usageError, variables } from '../args.js';
import { openContext } from '../context.js';

export const MEDIA_PASSWORD_ENV = 'PXEPOINT_MEDIA_PASSWORD';

export const MEDIA_CREATE_USAGE = `usage: pxepoint media create --type bootable|standalone --boot-image ID --out FILE.iso
                             [--format iso|dir] [--site-url URL]... [--label TEXT] [--unattended]
                             [--password-file FILE | --password-stdin] [--var NAME=VALUE]... [--prestart "cmd /c …"]
                             [--cert-valid-from TIME] [--cert-valid-until TIME]
                             [--ts TASK_SEQUENCE_ID] [--valid-from TIME] [--valid-until TIME]
                             [--root DIR] [--json] [--data-dir DIR] [--config FILE]
  Builds boot media and registers them with the site (docs/media.md).
  --type             bootable: the boot image, the site's address and the media variables; policy and
                     content come from the network. standalone: also the task sequence (--ts), its policy
                     and its packages' content (hashed, rule 118); runs with no network.
  --boot-image ID    an imported Windows PE boot image (pxepoint bootimage import); wimboot must be under
                     the boot files root (boot/wimboot)
  --out PATH         the ISO image (BIOS and UEFI; also boots after dd to a USB stick). Written under a hidden
                     name beside it and renamed when complete: a failed build leaves no image there, and an
                     existing file stays until the new one is complete. Nothing is written elsewhere.
  --format dir       write the medium's files into the folder PATH instead (an empty folder or an earlier medium);
                     with EFI/BOOT/BOOTX64.EFI, so a copy on a FAT32 USB stick boots on UEFI (BIOS: dd the ISO)
  --site-url URL     the site as machines reach it (http://HOST:PORT), repeatable, tried in order;
                     default: the configuration's listen address or dhcp.serverAddress. Required for bootable.
  --label TEXT       MediaLabel.txt and the ISO volume id (default "pxepoint")
  --unattended       no prompts but the password (rule 97); with SMSTSPreferredAdvertID the deployment starts
                     by itself (rule 20)
  --password-file F  the media password: the first line of F; or --password-stdin (first line of stdin), or the
                     environment variable ${MEDIA_PASSWORD_ENV}. There is no --password flag: arguments are visible
                     to every user in ps. With a password the variables (and the stand-alone policy) are encrypted
                     (AES-256-GCM, scrypt); without one they are signed, not secret.
  --var NAME=VALUE   a media variable (rule 104; names: letters, digits, _ and -, starting with a letter, at most
                     256; values at most 4000 characters), e.g. --var SMSTSPreferredAdvertID=PXP20001
  --prestart CMD     runs before the task sequence is selected (rule 105); use "cmd /c …"
  --cert-valid-from, --cert-valid-until TIME
                     the media certificate's dates (rule 101; default now … now + 365 days); the site refuses
                     the medium outside them. TIME: 2026-12-01 or 2026-12-01T08:00:00Z
  --ts ID            stand-alone: the task sequence (rule 92: its steps must run without the network)
  --valid-from, --valid-until TIME
                     stand-alone only (rule 103): the medium does not start when the machine's clock is outside
  --root DIR         the boot files root (default: tftpRoot of the configuration)`;

const OPTIONS = {
  type: { type: 'string' },
  'boot-image': { type: 'string' },
  out: { type: 'string' },
  format: { type: 'string' },
  'site-url': { type: 'string', multiple: true },
  label: { type: 'string' },
  'password-file': { type: 'string' },
  'password-stdin': { type: 'boolean' },
  unattended: { type: 'boolean' },
  var: { type: 'string', multiple: true },
  prestart: { type: 'string' },
  'cert-valid-from': { type: 'string' },
  'cert-valid-until': { type: 'string' },
  'valid-from': { type: 'string' },
  'valid-until': { type: 'string' },
  ts: { type: 'string' },
  root: { type: 'string' },
} as const;

/** JSON option → flag, for error messages. */
const FLAG_OF: Record<string, string> = {
  type: '--type', bootImageId: '--boot-image', siteUrls: '--site-url', label: '--label', password: 'the password',
  unattended: '--unattended', variables: '--var', prestart: '--prestart', certValidFrom: '--cert-valid-from',
  certValidUntil: '--cert-valid-until', validFrom: '--valid-from', validUntil: '--valid-until', taskSequenceId: '--ts',
};

const firstLine = (text: string): string => text.split(/\r?\n/)[0] ?? '';

function readPassword(values: Parameters<typeof str>[0]): string | undefined {
  const file = str(values, 'password-file');
  const stdin = flag(values, 'password-stdin') === true;
  const env = process.env[MEDIA_PASSWORD_ENV];
  if (file !== undefined && stdin) throw usageError('give --password-file or --password-stdin, not both', MEDIA_CREATE_USAGE);
  let password: string | undefined;
  if (file !== undefined) {
    try {
      password = firstLine(readFileSync(file, 'utf8'));
    } catch (e) {
      throw usageError(`--password-file ${file}: ${(e as Error).message}`);
    }
  } else if (stdin) password = firstLine(readFileSync(0, 'utf8'));
  else if (env !== undefined) password = env;
  if (password !== undefined && password === '') throw usageError(`the media password is empty (${file !== undefined ? `first line of ${file}` : stdin ? 'stdin' : MEDIA_PASSWORD_ENV})`);
  return password;
}

const STAGE_TEXT: Record<BuildStage, string> = {
  preparing: 'checking the boot image, the task sequence and its content',
  'boot-loader': 'preparing the GRUB boot loader (BIOS and UEFI)',
  writing: 'writing the image',
  verifying: 'verifying the image',
  registering: 'registering the medium with the site',
};

/** Progress on stderr: a bar on a terminal, one line per stage otherwise, nothing with --json. */
function progressPrinter(json: boolean): { onProgress: (p: BuildProgress) => void; end: () => void } {
  if (json) return { onProgress: () => undefined, end: () => undefined };
  const tty = process.stderr.isTTY === true;
  let stage: BuildStage | null = null;
  let barShown = false;
  let lastDraw = 0;
  return {
    onProgress: (p) => {
      if (tty && p.percent !== null) {
        const now = Date.now();
        if (p.stage === stage && now - lastDraw < 100 && p.percent < 100) return;
        lastDraw = now;
        const width = 30;
        const filled = Math.round((p.percent / 100) * width);
        process.stderr.write(`\r${STAGE_TEXT[p.stage]} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${p.percent.toFixed(0).padStart(3)}%`);
        barShown = true;
        stage = p.stage;
        return;
      }
      if (p.stage === stage) return;
      if (barShown) { process.stderr.write('\n'); barShown = false; }
      stage = p.stage;
      process.stderr.write(`${STAGE_TEXT[p.stage]}…\n`);
    },
    end: () => { if (barShown) process.stderr.write('\n'); },
  };
}

export async function mediaCreateCommand(argv: string[]): Promise<number> {
  if (argv.some((a) => a === '--password' || a.startsWith('--password='))) {
    throw usageError(`there is no --password flag (command-line arguments are visible to every user in ps): give --password-file FILE, --password-stdin, or set ${MEDIA_PASSWORD_ENV}`);
  }
  const { values, positionals } = parse(argv, OPTIONS, MEDIA_CREATE_USAGE);
  if (values.help) return (process.stdout.write(MEDIA_CREATE_USAGE + '\n'), 0);
  if (positionals.length > 0) throw usageError(`unexpected argument "${positionals[0]}"`, MEDIA_CREATE_USAGE);
  const out = str(values, 'out');
  if (out === undefined) throw usageError('give --out FILE.iso (or --format dir --out DIR)', MEDIA_CREATE_USAGE);
  const format = (str(values, 'format') ?? 'iso') as MediaFormat;
  if (format !== 'iso' && format !== 'dir') throw usageError(`--format is iso or dir, not "${String(format)}"`, MEDIA_CREATE_USAGE);
  const type = str(values, 'type');
  if (type === undefined) throw usageError('give --type bootable or --type standalone', MEDIA_CREATE_USAGE);
  const bootImageId = str(values, 'boot-image');
  if (bootImageId === undefined) throw usageError('give --boot-image ID (pxepoint bootimage list)', MEDIA_CREATE_USAGE);
  const password = readPassword(values);
  const vars = variables(values);
  const siteUrls = list(values, 'site-url');
  const input: Record<string, unknown> = {
    type,
    bootImageId,
    ...(siteUrls.length > 0 ? { siteUrls } : {}),
    ...(str(values, 'label') !== undefined ? { label: str(values, 'label') } : {}),
    ...(password !== undefined ? { password } : {}),
    ...(flag(values, 'unattended') === true ? { unattended: true } : {}),
    ...(vars !== undefined ? { variables: vars } : {}),
    ...(str(values, 'prestart') !== undefined ? { prestart: str(values, 'prestart') } : {}),
    ...(str(values, 'cert-valid-from') !== undefined ? { certValidFrom: str(values, 'cert-valid-from') } : {}),
    ...(str(values, 'cert-valid-until') !== undefined ? { certValidUntil: str(values, 'cert-valid-until') } : {}),
    ...(str(values, 'valid-from') !== undefined ? { validFrom: str(values, 'valid-from') } : {}),
    ...(str(values, 'valid-until') !== undefined ? { validUntil: str(values, 'valid-until') } : {}),
    ...(str(values, 'ts') !== undefined ? { taskSequenceId: str(values, 'ts') } : {}),
  };

  const ctx = await openContext(values);
  const printer = progressPrinter(ctx.out.json);
  const abort = new AbortController();
  let interrupted: NodeJS.Signals | null = null;
  const onSignal = (sig: NodeJS.Signals): void => {
    interrupted = sig;
    abort.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const result = await buildMedia(input, out, format, {
      repo: ctx.service.repo,
      media: new MediaService(ctx.service.repo),
      dataDir: ctx.config.dataDir,
      tftpRoot: str(values, 'root') ?? ctx.config.tftpRoot,
      defaultSiteUrls: defaultSiteUrls(ctx.config),
      actor: ctx.actor,
      onProgress: printer.onProgress,
      signal: abort.signal,
    });
    printer.end();
    const rec = result.record;
    if (ctx.out.json) {
      ctx.out.write(JSON.stringify({ record: publicMedia(rec), outPath: result.outPath, format: result.format, warnings: result.warnings }, null, 2) + '\n');
    } else {
      for (const w of result.warnings) process.stderr.write(`warning: ${w}\n`);
      ctx.out.write([
        `created ${rec.type} medium ${rec.id} "${rec.label}" (${rec.architecture}, boot image ${rec.bootImageId}${rec.taskSequenceId !== null ? `, task sequence ${rec.taskSequenceId}` : ''})`,
        `  ${result.format === 'iso' ? 'image' : 'folder'}: ${result.outPath}`,
        ...(rec.imageSha256 !== null ? [`  sha256: ${rec.imageSha256}`] : []),
        `  media certificate valid ${rec.certificateNotBefore} to ${rec.certificateNotAfter}`,
        ...(rec.validFrom !== null || rec.validUntil !== null ? [`  runs only between ${rec.validFrom ?? '(any time)'} and ${rec.validUntil ?? '(any time)'} (machine clock)`] : []),
        `  unattended: ${rec.unattended ? 'yes' : 'no'}; password: ${rec.passwordRequired ? 'yes (variables encrypted)' : 'no (variables signed, not secret)'}`,
        ...(rec.variableNames.length > 0 ? [`  variables: ${rec.variableNames.join(', ')}`] : []),
      ].join('\n') + '\n');
    }
    return 0;
  } catch (e) {
    printer.end();
    if (interrupted !== null) {
      process.stderr.write(`pxepoint: media build interrupted (${interrupted}); nothing was written under ${out}\n`);
      return interrupted === 'SIGINT' ? 130 : 143;
    }
    if (isPxeError(e) && e.code === 'PXE_ERR_INVALID' && typeof e.details.field === 'string' && e.details.field.startsWith('body.')) {
      const key = e.details.field.slice(5).split('.')[0]!;
      const what = FLAG_OF[key] ?? key;
      const m = /^body\.variables\.(\d+)\.(name|value)$/.exec(e.details.field);
      const v = m ? vars?.[Number(m[1])] : undefined;
      const why = key === 'label' && /pattern/.test(e.message) ? 'no control characters (tabs, line breaks)'
        : v !== undefined && m![2] === 'name' ? `"${v.name.slice(0, 64)}": names are 1–256 letters, digits, _ or -, starting with a letter (rule 113; names starting with _ are read-only)`
          : v !== undefined ? `"${v.name}": a value holds at most 4000 characters (rule 113)`
            : e.message.replace(/^body\.[^:]*:\s*/, '');
      throw usageError(`${what}: ${why} (pxepoint media create --help)`);
    }
    throw e;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await ctx.close();
  }
}
