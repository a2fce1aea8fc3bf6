/** media.json (types.ts MediaDescriptor): parse with clear errors. STUB: the media-core engineer implements. */
import type { MediaDescriptor } from './types.js';

/** Parses and validates media.json text; throws PxeError MEDIA_ERRORS.format naming the bad field. */
export function parseMediaDescriptor(text: string): MediaDescriptor {
  void text;
  throw new Error('not implemented');
}

/** The descriptor as written on media (stable key order, 2-space JSON, trailing newline). */
export function formatMediaDescriptor(d: MediaDescriptor): string {
  return JSON.stringify(d, null, 2) + '\n';
}
