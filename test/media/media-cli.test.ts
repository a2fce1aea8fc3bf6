/** `pxepoint media list|show|block|unblock` on a data directory (issue 7, rule 102); secrets never printed. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MediaService } from '../../src/app/media-service.js';
import { openSqliteRepository } from '../../src/store/sqlite/open.js';
import { runCli } from '../support/cli.js';
import { ADMIN, MEDIA_SECRET, mediaRecord, sha256Hex } from './site-fixtures.js';

let dataDir: string;
beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'pxepoint-media-cli-'));
  const repo = await openSqliteRepository({ dataDir });
  await new MediaService(repo).register(mediaRecord('M-CLI'), ADMIN);
  await repo.close();
});
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const cli = (...argv: string[]) => runCli(dataDir, ...argv);

describe('pxepoint media', () => {
  it('lists and shows media, never the secret hash', async () => {
    const list = await cli('media', 'list');
    expect(list.code).toBe(0);
    expect(list.out).toMatch(/^ID\s+TYPE\s+LABEL/);
    expect(list.out).toContain('M-CLI');
    const json = await cli('media', 'show', 'M-CLI', '--json');
    expect(JSON.parse(json.out)).toMatchObject({ id: 'M-CLI', type: 'bootable', blocked: false });
    for (const r of [list, json]) expect(r.out).not.toContain(sha256Hex(MEDIA_SECRET));
  });

  it('blocks with a reason (audited as the CLI user) and unblocks; idempotent', async () => {
    const b = await cli('media', 'block', 'M-CLI', '--reason', 'lost at the depot');
    expect(b).toMatchObject({ code: 0, out: expect.stringContaining('blocked medium M-CLI') });
    expect((await cli('media', 'block', 'M-CLI')).out).toContain('already blocked');
    const shown = JSON.parse((await cli('media', 'show', 'M-CLI', '--json')).out);
    expect(shown).toMatchObject({ blocked: true, blockedBy: expect.stringMatching(/^cli:/) });
    const audit = JSON.parse((await cli('messages', '--json')).out) as { data: Record<string, unknown> }[];
    expect(audit.find((m) => m.data.action === 'block-media')).toMatchObject({ data: { id: 'M-CLI', reason: 'lost at the depot' } });
    expect((await cli('media', 'unblock', 'M-CLI')).out).toContain('unblocked medium M-CLI');
    expect((await cli('media', 'unblock', 'M-CLI')).out).toContain('was not blocked');
  });

  it('says what is wrong: unknown ids, missing ids, unknown subcommands', async () => {
    expect(await cli('media', 'show', 'NOPE')).toMatchObject({ code: 1, err: expect.stringContaining('PXE_ERR_NOT_FOUND') });
    expect(await cli('media', 'block')).toMatchObject({ code: 2, err: expect.stringContaining('takes one medium ID') });
    expect(await cli('media', 'burn', 'M-CLI')).toMatchObject({ code: 2, err: expect.stringContaining('unknown subcommand') });
    expect(await cli('media', 'show', 'M-CLI', '--reason', 'x')).toMatchObject({ code: 2 });
    expect((await cli('--help')).out).toContain('media create|list|show|block|unblock');
    expect(await cli('media', 'create', '--help')).toMatchObject({ code: 0, out: expect.stringContaining('--boot-image') }); // the builder's command
  });
});
