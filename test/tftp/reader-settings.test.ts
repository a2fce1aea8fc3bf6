/**
 * How a TFTP transfer reads its file (src/tftp/server.ts readerSettings, decision 0015):
 * the guard that sends only large blocks (≥ 16 KiB) straight from the page cache into
 * their window slot, the read-ahead size per block size, and syncTopUp only while
 * busy-polling. Pure: no sockets, no files.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_READ_AHEAD } from '../../src/tftp/reader.js';
import { readerSettings } from '../../src/tftp/server.js';

describe('readerSettings', () => {
  it.each([
    // blksize, busyPoll → directMin, readAhead, syncTopUp
    [512, false, undefined, DEFAULT_READ_AHEAD, false],
    [1456, true, undefined, DEFAULT_READ_AHEAD, true], // OVMF/iPXE-size blocks: through read-ahead chunks
    [1468, true, undefined, DEFAULT_READ_AHEAD, true],
    [8192, true, undefined, DEFAULT_READ_AHEAD, true],
    [16383, true, undefined, DEFAULT_READ_AHEAD, true], // one byte under the guard
    [16384, true, 16384, DEFAULT_READ_AHEAD, true], // from here blocks go straight into the window
    [65464, true, 16384, 8 * 65464, true], // 8 blocks a read once that beats the default
    [65464, false, 16384, 8 * 65464, false],
  ] as const)('blksize %i, busy-poll %s: directMin %s, readAhead %i, syncTopUp %s', (blksize, busyPoll, directMin, readAhead, syncTopUp) => {
    const s = readerSettings({ blksize, netascii: false, busyPoll });
    expect(s).toEqual({ readAhead, netascii: false, syncTopUp, ...(directMin === undefined ? {} : { directMin }) });
  });

  it('caps the computed read-ahead at 1 MiB and honours an explicit one', () => {
    expect(readerSettings({ blksize: 65464, netascii: false, busyPoll: false }).readAhead).toBeLessThanOrEqual(1 << 20);
    expect(readerSettings({ blksize: 1468, netascii: false, busyPoll: false, readAhead: 4096 }).readAhead).toBe(4096);
  });

  it('passes netascii through (the reader then never reads directly)', () => {
    expect(readerSettings({ blksize: 65464, netascii: true, busyPoll: true })).toMatchObject({ netascii: true, directMin: 16384 });
  });
});
