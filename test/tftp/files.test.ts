import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bufferSource, composeResolvers, createDiskResolver, GeneratedFiles } from '../../src/tftp/files.js';
import { isTftpAccessError } from '../../src/tftp/paths.js';
import { startTftpServer } from '../../src/tftp/server.js';
import { tftpGet } from './helpers/client.js';

const client = { address: '10.0.0.5', port: 2070 };
let root: string;
beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'pxepoint-tftp-files-'));
  fs.mkdirSync(path.join(root, 'Boot'));
  fs.writeFileSync(path.join(root, 'Boot', 'BCD'), 'disk-bcd');
  fs.writeFileSync(path.join(root, 'script.ipxe'), 'disk-script');
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe('file sources and resolvers', () => {
  it('disk resolver: opens regular files with their size, streams ranges, refuses traversal', async () => {
    const disk = createDiskResolver(root);
    const src = await disk.open('\\boot\\bcd', client);
    expect(src?.size).toBe(8);
    const into = Buffer.alloc(16);
    const got = await src?.read(5, 10, into);
    expect(got?.toString()).toBe('bcd');
    expect(got?.buffer).toBe(into.buffer); // read into the caller's buffer, no allocation
    if (src?.readNow) {
      // Native addon: a synchronous read of cached pages (just written, so cached).
      const now = Buffer.alloc(16);
      expect(src.readNow(1, 10, now, 2)).toBe(7); // short only at the end of the file
      expect(now.subarray(2, 9).toString()).toBe('isk-bcd');
    }
    await src?.close();
    expect(await disk.open('Boot', client)).toBeNull(); // a directory is not a file
    expect(await disk.open('nope', client)).toBeNull();
    await expect(disk.open('../x', client)).rejects.toSatisfy(isTftpAccessError);
  });

  it('bufferSource returns views, clamped to the data', async () => {
    const s = bufferSource(Buffer.from('abcdef'));
    expect((await s.read(4, 10)).toString()).toBe('ef');
    expect((await s.read(10, 4)).length).toBe(0);
  });

  it('generated files are per client, match any spelling, and sit in front of the disk', async () => {
    const gen = new GeneratedFiles()
      .set('script.ipxe', (c) => Buffer.from(`#!ipxe\necho ${c.address}`))
      .set('\\SMSTemp\\only-some.var', (c) => (c.address === '10.0.0.5' ? Buffer.from('yes') : null));
    const r = composeResolvers(gen, createDiskResolver(root));
    /** Opens, reads the start and closes (a disk source holds a file handle until closed). */
    const head = async (name: string, c: typeof client, n = 100): Promise<string | undefined> => {
      const src = await r.open(name, c);
      try {
        return (await src?.read(0, n))?.toString();
      } finally {
        await src?.close();
      }
    };
    expect(await head('/SCRIPT.IPXE', client)).toBe('#!ipxe\necho 10.0.0.5');
    expect(await head('smstemp/ONLY-SOME.VAR', client, 10)).toBe('yes');
    // The generator declines for another client, and the disk has no such file.
    expect(await r.open('smstemp/only-some.var', { address: '10.0.0.6', port: 1 })).toBeNull();
    // Falls through to the disk for names it does not know.
    expect(await head('boot/bcd', client)).toBe('disk-bcd');
    expect(gen.has('SCRIPT.IPXE')).toBe(true);
    expect(gen.delete('script.ipxe')).toBe(true);
    expect(await head('script.ipxe', client)).toBe('disk-script');
    expect(() => gen.set('../evil', () => null)).toThrow(/not servable/);
  });

  it('serves over IPv6 loopback too', async () => {
    let s;
    try {
      s = await startTftpServer({ address: '::1', port: 0, root });
    } catch {
      console.warn('IPv6 loopback unavailable here; skipping the IPv6 check');
      return;
    }
    try {
      const r = await tftpGet({ host: '::1', port: s.port, file: 'Boot/BCD', options: [['tsize', '0']] });
      expect(r.data.toString()).toBe('disk-bcd');
    } finally {
      await s.close();
    }
  });
});
