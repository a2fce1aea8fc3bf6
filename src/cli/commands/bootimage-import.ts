/**
 * `pxepoint bootimage import` and `pxepoint bootimage bcd` (docs/winpe.md): a
 * boot.wim and its boot files laid out under the TFTP/HTTP root, recorded as a
 * BootImage; the BCD stores regenerated after a change of the ramdisk TFTP
 * settings. Every other `bootimage` subcommand is the plain entity's.
 */
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { ARCHITECTURES, type Architecture } from '../../site/model.js';
import { installImport, prepareImport, regenerateBcds, imageDir, type BcdSettings } from '../../winpe/import.js';
import { int, parse, str, usageError } from '../args.js';
import { openContext } from '../context.js';
import { message } from '../output.js';

export const BOOTIMAGE_IMPORT_USAGE = `usage: pxepoint bootimage import --arch x86|x64|arm64 (--wim FILE | --iso-tree DIR) [--boot-files DIR] [--iso-tree DIR]
                                 [--name NAME] [--id BOOT_IMAGE_ID] [--index N] [--no-pxe]
                                 [--ramdisk-block-size N] [--ramdisk-window-size N] [--root DIR]
       pxepoint bootimage bcd BOOT_IMAGE_ID [--ramdisk-block-size N] [--ramdisk-window-size N] [--root DIR]
  import  reads the WIM with wimlib (wimtools), takes bootmgfw.efi, the BIOS PXE programs, boot.sdi and
          the fonts from --boot-files (the ADK), --iso-tree (a Windows ISO's files) or the WIM itself,
          copies everything under the TFTP root (images/<ID>/, boot/<arch>/, boot/), records sizes and
          SHA-256 in images/<ID>/winpe.json, writes one BCD per firmware, and creates the boot image
          (or updates --id). x86 images must bring the BIOS programs (rule 77).
  bcd     rewrites the image's BCDs with new RamDiskTFTPBlockSize / RamDiskTFTPWindowSize (rule 88;
          defaults 4096 and 1). bootmgr over pxepoint's TFTP does well with 1456 and 8.
  --root  the boot files root (default: tftpRoot of the configuration)`;

const OPTIONS = {
  arch: { type: 'string' },
  wim: { type: 'string' },
  'boot-files': { type: 'string' },
  'iso-tree': { type: 'string' },
  name: { type: 'string' },
  id: { type: 'string' },
  index: { type: 'string' },
  'no-pxe': { type: 'boolean' },
  'ramdisk-block-size': { type: 'string' },
  'ramdisk-window-size': { type: 'string' },
  root: { type: 'string' },
} as const;

/**
 * Import: flags win, else the configuration's winpe.ramdiskTftp* (rule 88 defaults 4096 / 1).
 * `bcd` (a rewrite after a settings change): the flags given, the rest kept from the image.
 */
function bcdSettings(values: Parameters<typeof int>[0], config?: { ramdiskTftpBlockSize: number; ramdiskTftpWindowSize: number }): BcdSettings {
  const block = int(values, 'ramdisk-block-size') ?? config?.ramdiskTftpBlockSize;
  const window = int(values, 'ramdisk-window-size') ?? config?.ramdiskTftpWindowSize;
  return { ...(block !== undefined ? { tftpBlockSize: block } : {}), ...(window !== undefined ? { tftpWindowSize: window } : {}) };
}

export async function bootImageCommand(sub: string, argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, OPTIONS, BOOTIMAGE_IMPORT_USAGE);
  if (values.help) return (process.stdout.write(BOOTIMAGE_IMPORT_USAGE + '\n'), 0);
  const ctx = await openContext(values);
  try {
    const settings = bcdSettings(values, sub === 'bcd' ? undefined : ctx.config.winpe);
    const root = path.resolve(str(values, 'root') ?? ctx.config.tftpRoot);
    if (sub === 'bcd') {
      const [id] = positionals;
      if (!id || positionals.length !== 1) throw usageError('give one BOOT_IMAGE_ID', BOOTIMAGE_IMPORT_USAGE);
      await ctx.service.get('boot-images', id);
      const m = await regenerateBcds(root, id, settings);
      message(ctx.out, `boot image ${id}: BCD rewritten (RamDiskTFTPBlockSize ${m.bcd.tftpBlockSize}, RamDiskTFTPWindowSize ${m.bcd.tftpWindowSize}): ${[m.bcd.bios, m.bcd.uefi].filter(Boolean).join(', ')}`, m);
      return 0;
    }
    if (positionals.length !== 0) throw usageError(`unexpected argument "${positionals[0]}"`, BOOTIMAGE_IMPORT_USAGE);
    const arch = str(values, 'arch');
    if (arch === undefined || !(ARCHITECTURES as readonly string[]).includes(arch)) throw usageError(`--arch must be one of ${ARCHITECTURES.join(', ')}`, BOOTIMAGE_IMPORT_USAGE);
    const architecture = arch as Architecture;
    const wim = str(values, 'wim');
    const isoTree = str(values, 'iso-tree');
    if (wim === undefined && isoTree === undefined) throw usageError('give --wim FILE or --iso-tree DIR', BOOTIMAGE_IMPORT_USAGE);
    const bootFiles = str(values, 'boot-files');
    const index = int(values, 'index');
    const existingId = str(values, 'id');
    if (existingId !== undefined) await ctx.service.get('boot-images', existingId); // fails early, naming the ID

    // Everything that can fail on bad input runs before anything is written.
    const prep = await prepareImport({
      architecture,
      scratch: path.join(os.tmpdir(), `pxepoint-winpe-${randomBytes(6).toString('hex')}`),
      ...(wim !== undefined ? { wim: path.resolve(wim) } : {}),
      ...(bootFiles !== undefined ? { bootFiles: path.resolve(bootFiles) } : {}),
      ...(isoTree !== undefined ? { isoTree: path.resolve(isoTree) } : {}),
      ...(index !== undefined ? { index } : {}),
    });
    try {
      const name = str(values, 'name') ?? prep.info.images.find((i) => i.index === prep.index)?.name ?? `Windows PE (${architecture})`;
      const deployFromPxe = values['no-pxe'] !== true;
      const image = existingId !== undefined
        ? await ctx.service.update('boot-images', existingId, { name, architecture, deployFromPxe }, ctx.actor)
        : await ctx.service.create('boot-images', { name, architecture, deployFromPxe, imagePath: 'images/importing/boot.wim' }, ctx.actor);
      let manifest;
      try {
        manifest = await installImport(prep, root, image.id, architecture, settings);
      } catch (e) {
        // A record pointing at files that were never laid out would mislead the PXE decision.
        if (existingId === undefined) await ctx.service.remove('boot-images', image.id, ctx.actor).catch(() => undefined);
        throw e;
      }
      const imagePath = `${imageDir(image.id)}/boot.wim`;
      const saved = image.imagePath === imagePath ? image : await ctx.service.update('boot-images', image.id, { imagePath }, ctx.actor);
      const lines = [
        `${existingId !== undefined ? 'updated' : 'imported'} boot image ${saved.id} "${saved.name}" (${architecture}, WIM image ${prep.index}) under ${root}:`,
        ...manifest.files.map((f) => `  ${f.path}  ${f.size} bytes  sha256 ${f.sha256}  (${f.source})`),
        ...(prep.missingOptional.length > 0 ? [`  not found (optional): ${prep.missingOptional.join(', ')}`] : []),
      ];
      message(ctx.out, lines.join('\n'), { bootImage: saved, manifest, missingOptional: prep.missingOptional });
      return 0;
    } finally {
      await prep.cleanup();
    }
  } finally {
    await ctx.close();
  }
}
