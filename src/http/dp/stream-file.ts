/**
 * Streams a byte range of a file to a response with two reused buffers: one is read
 * into while the other is being written to the socket, and a buffer is reused only
 * after the socket took it (write callback). Memory per response is exactly
 * 2 × BUFFER_SIZE whatever the file size, and nothing is left for the garbage
 * collector, so many clients at once cost neither heap growth nor GC pauses
 * (a fs.ReadStream allocates a fresh buffer per read).
 */
import { open } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';

export const BUFFER_SIZE = 256 * 1024;

function write(res: ServerResponse, chunk: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    res.write(chunk, (err) => (err ? reject(err) : resolve()));
  });
}

/** Sends bytes [start, end] (inclusive) of `path`; ends the response. Rejects (and destroys the response) on error. */
export async function streamFileRange(path: string, start: number, end: number, res: ServerResponse): Promise<void> {
  const fh = await open(path, 'r');
  const bufs = [Buffer.allocUnsafe(BUFFER_SIZE), Buffer.allocUnsafe(BUFFER_SIZE)];
  let pending: Promise<void> = Promise.resolve();
  let closed = false;
  const onClose = (): void => {
    closed = true;
  };
  // A client that goes away mid-write makes the response emit 'error' (after the write
  // callback has it): without a listener that would crash the process.
  const onError = (): void => {
    closed = true;
  };
  res.once('close', onClose);
  res.on('error', onError);
  try {
    let pos = start;
    let i = 0;
    // Bounded: each turn advances pos by at least one byte or stops.
    while (pos <= end && !closed) {
      const buf = bufs[i]!;
      const { bytesRead } = await fh.read(buf, 0, Math.min(BUFFER_SIZE, end - pos + 1), pos);
      if (bytesRead === 0) throw new Error(`${path} is shorter than expected`);
      await pending; // the other buffer is free again once the socket took it
      pending = write(res, bytesRead === buf.length ? buf : buf.subarray(0, bytesRead));
      // Awaited on the next turn; until then a failed write must not count as an unhandled rejection.
      pending.catch(() => undefined);
      pos += bytesRead;
      i ^= 1;
    }
    await pending;
    if (!closed) res.end();
  } catch (e) {
    res.destroy(e as Error);
  } finally {
    res.off('close', onClose);
    // 'error' may still be emitted on a later tick: keep swallowing it.
    await fh.close();
  }
}
