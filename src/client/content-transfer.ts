/**
 * One transfer of one file from one location (content.ts decides which and how
 * often): from `state.position` on, with a Range request when resuming. With
 * manifest chunk digests every chunk is collected, its XXH64 compared and only
 * then written and fed to SHA-256, so a bad chunk is never written; at the end
 * the SHA-256 of the whole file decides (rule 116). Without chunk digests the
 * bytes are written as they come and a bad file is started over.
 */
import { createHash, type Hash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { xxhashApi } from '../content/manifest.js';
import type { ContentFile } from '../policy/client-api.js';
import type { FetchLike } from './api.js';
import type { DownloadSettings } from './content.js';
import type { RunLog } from './log.js';

/** How one transfer ended. `blame`: locations whose bytes a failed whole-file check condemns. */
export type Attempt =
  | { kind: 'done' }
  | { kind: 'mismatch' | 'final' | 'retryable'; message: string; blame?: number[] };

/** A file being assembled from one or more locations. */
export interface FileState {
  handle: FileHandle;
  /** Bytes written and (with a manifest) chunk-verified. */
  position: number;
  sha: Hash;
  /** Indexes of the locations that gave bytes of it. */
  contributors: Set<number>;
}

export interface ChunkInfo {
  chunks: string[];
  chunkSize: number;
}

export interface TransferDeps {
  fetchFn: FetchLike;
  headersFor: (url: string) => Record<string, string>;
  log: RunLog;
}

const hex64 = (v: bigint): string => v.toString(16).padStart(16, '0');

export function networkMessage(e: unknown): string {
  const err = e as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (err.name === 'TimeoutError') return 'timed out';
  return err.cause?.code ?? err.cause?.message ?? err.message ?? String(e);
}

/**
 * One request to one location, from `state.position` on (a Range request when
 * resuming). With chunk digests, each chunk is checked before it is written.
 */
export async function transferOnce(
  deps: TransferDeps, url: string, index: number, file: ContentFile, state: FileState, settings: DownloadSettings, chunkInfo: ChunkInfo | null,
): Promise<Attempt> {
  const start = state.position;
  const headers: Record<string, string> = { ...deps.headersFor(url) };
  if (start > 0) headers.range = `bytes=${start}-`;
  let res: Response;
  try {
    res = await deps.fetchFn(url, { headers, signal: AbortSignal.timeout(settings.fileTimeoutMs) });
  } catch (e) {
    return { kind: 'retryable', message: networkMessage(e) };
  }
  const cancel = (): Promise<void> => res.body?.cancel().catch(() => undefined) ?? Promise.resolve();
  if (!res.ok || !res.body) {
    await cancel();
    return { kind: res.status >= 500 || res.status === 429 ? 'retryable' : 'final', message: `HTTP ${res.status}` };
  }
  let skip = 0;
  if (start > 0 && res.status === 206) {
    const m = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(res.headers.get('content-range') ?? '');
    if (!m || Number(m[1]) !== start) {
      await cancel();
      return { kind: 'final', message: `asked for bytes ${start}- and got Content-Range "${res.headers.get('content-range') ?? ''}"` };
    }
  } else if (start > 0) {
    skip = start; // a 200 to a Range request: the whole file again; drop what we have
  } else if (res.status !== 200) {
    await cancel();
    return { kind: 'final', message: `HTTP ${res.status} to a request for the whole file` };
  }

  const verify = settings.verify;
  const xx = chunkInfo ? await xxhashApi() : null;
  let chunkHash = xx?.create64(0n) ?? null;
  let pending: Buffer[] = [];
  let pendingLen = 0;
  const reader = res.body.getReader();
  const stop = async (a: Attempt): Promise<Attempt> => {
    await reader.cancel().catch(() => undefined);
    return a;
  };
  const commit = async (data: Buffer): Promise<void> => {
    await state.handle.write(data, 0, data.length, state.position);
    state.sha.update(data);
    state.position += data.length;
    state.contributors.add(index);
  };
  /** Without chunk digests a bad whole file is started over; every location that gave bytes of it is condemned. */
  const startOver = async (message: string): Promise<Attempt> => {
    const blame = [...state.contributors, index];
    await state.handle.truncate(0);
    state.position = 0;
    state.sha = createHash('sha256');
    state.contributors.clear();
    return { kind: 'mismatch', message, blame };
  };
  try {
    read: for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      let buf = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
      if (skip > 0) {
        const n = Math.min(skip, buf.length);
        skip -= n;
        buf = buf.subarray(n);
        if (buf.length === 0) continue;
      }
      if (!chunkInfo || !xx || !chunkHash) {
        if (verify && state.position + buf.length > file.size) {
          await reader.cancel().catch(() => undefined);
          return await startOver(`size mismatch: more than the ${file.size} bytes policy lists`);
        }
        await commit(buf);
        continue;
      }
      // Chunk-checked: collect one chunk, compare its XXH64, only then write it.
      let at = 0;
      while (at < buf.length) {
        if (state.position >= file.size) {
          // Trailing bytes past the file: not ours. The file is complete; the SHA-256 below decides.
          await reader.cancel().catch(() => undefined);
          break read;
        }
        const k = Math.floor(state.position / chunkInfo.chunkSize);
        const chunkEnd = Math.min((k + 1) * chunkInfo.chunkSize, file.size);
        const take = Math.min(chunkEnd - state.position - pendingLen, buf.length - at);
        const piece = buf.subarray(at, at + take);
        pending.push(piece);
        chunkHash.update(piece);
        pendingLen += take;
        at += take;
        if (state.position + pendingLen === chunkEnd) {
          const got = hex64(chunkHash.digest());
          const want = chunkInfo.chunks[k];
          if (got !== want) {
            return await stop({ kind: 'mismatch', message: `hash mismatch in chunk ${k} (bytes ${state.position}–${chunkEnd - 1}): XXH64 ${got}, manifest says ${want}` });
          }
          await commit(Buffer.concat(pending, pendingLen));
          pending = [];
          pendingLen = 0;
          chunkHash = xx.create64(0n);
        }
      }
    }
  } catch (e) {
    return { kind: 'retryable', message: networkMessage(e) };
  }
  if (!verify) {
    const sha256 = state.sha.digest('hex');
    const agrees = sha256 === file.sha256.toLowerCase() && state.position === file.size;
    deps.log.warn(`UNVERIFIED ${url}: ${state.position} bytes, sha256 ${sha256} (${agrees ? 'happens to match' : 'DOES NOT match'} policy; not checked, rule 117)`);
    return { kind: 'done' };
  }
  if (state.position < file.size) {
    // The location's copy ends early (the connection closed cleanly): it is not the file policy lists.
    if (!chunkInfo) return startOver(`size mismatch: ${state.position} bytes, policy says ${file.size}`);
    return { kind: 'mismatch', message: `size mismatch: the copy ends at ${state.position + pendingLen} bytes, policy says ${file.size}` };
  }
  const sha256 = state.sha.copy().digest('hex');
  if (sha256 !== file.sha256.toLowerCase()) {
    // Every chunk passed XXH64 yet the file is wrong (XXH64 is no cryptographic hash): start over, elsewhere.
    return startOver(`hash mismatch: sha256 ${sha256}, policy says ${file.sha256.toLowerCase()}`);
  }
  return { kind: 'done' };
}
