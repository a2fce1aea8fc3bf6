/**
 * Reading a medium: a mounted directory or the ISO file itself (no root, no
 * mount). STUB: the media-core engineer implements (ISO 9660 reader in iso-reader.ts).
 */
import type { Readable } from 'node:stream';

export interface MediaSource {
  kind: 'directory' | 'iso';
  /** The path given (directory or .iso). */
  location: string;
  /** A file's bytes (paths '/'-separated, relative to the medium's root; case-insensitive match as on ISO 9660); null when absent. */
  readFile(path: string, maxBytes?: number): Promise<Buffer | null>;
  /** Size of a regular file; null when absent. */
  size(path: string): Promise<number | null>;
  /** Streams a regular file (large package files are never read whole). */
  stream(path: string): Promise<Readable>;
  /** Names in a directory ('' = root); null when it is not a directory. */
  list(dir: string): Promise<string[] | null>;
  close(): Promise<void>;
}

/** Opens a directory or an ISO 9660 image (Rock Ridge / Joliet names). Throws PxeError MEDIA_ERRORS.format with what is wrong. */
export async function openMediaSource(path: string): Promise<MediaSource> {
  void path;
  throw new Error('not implemented');
}
