/**
 * Atomic small-file writes (keys, key files): the bytes go to a temporary file
 * beside the target (unique name, created exclusively), are fsynced, given
 * `mode`, then renamed over the target. A reader sees the old file or the whole
 * new one, never part of one; two processes writing at once each rename a
 * complete file, and the last rename wins.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs';

/** Writes `data` to `file` atomically with permissions `mode`. The directory must exist. */
export function writeFileAtomicSync(file: string, data: string, mode: number): void {
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const fd = openSync(tmp, 'wx', mode);
  try {
    writeSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  chmodSync(tmp, mode);
  renameSync(tmp, file);
}
