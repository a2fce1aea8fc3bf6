/** A site with a content library on loopback, for the content tests. */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { SiteService } from '../../src/app/site-service.js';
import { SiteContent } from '../../src/content/site-content.js';
import { buildHttpApp } from '../../src/http/app.js';
import type { SiteRepository } from '../../src/site/repository.js';
import { openSqliteRepository } from '../../src/store/sqlite/open.js';

export const ACTOR = { name: 'test', component: 'test' };

export function tempDir(prefix = 'pxp-content-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Writes `files` (path → content) under a new folder. */
export function makeFolder(files: Record<string, string | Buffer>): string {
  const dir = tempDir('pxp-src-');
  for (const [path, data] of Object.entries(files)) {
    const abs = join(dir, ...path.split('/'));
    mkdirSync(join(abs, '..'), { recursive: true });
    writeFileSync(abs, data);
  }
  return dir;
}

/** Deterministic pseudo-random bytes (xorshift), so tests need no fixtures. */
export function bytes(n: number, seed = 1): Buffer {
  const b = Buffer.alloc(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    b[i] = x & 0xff;
  }
  return b;
}

export interface Site {
  dataDir: string;
  repo: SiteRepository;
  service: SiteService;
  content: SiteContent;
  app: FastifyInstance;
  /** "http://127.0.0.1:PORT/" (listening) */
  url: string;
  token: string;
  close(): Promise<void>;
}

export async function startSite(opts: { listen?: boolean } = {}): Promise<Site> {
  const dataDir = tempDir('pxp-site-');
  const repo = await openSqliteRepository({ file: ':memory:' });
  const service = new SiteService(repo);
  const { secret } = await service.createToken({ name: 'dp' }, ACTOR);
  const content = await SiteContent.open(repo, dataDir);
  const app = await buildHttpApp({ service, content });
  let url = '';
  if (opts.listen !== false) {
    await app.listen({ host: '127.0.0.1', port: 0 });
    const addr = app.server.address();
    url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/`;
  } else {
    await app.ready();
  }
  return {
    dataDir, repo, service, content, app, url, token: secret,
    async close() {
      await app.close();
      await repo.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Polls `check` until it is truthy (bounded). */
export async function waitFor<T>(check: () => Promise<T> | T, what: string, timeoutMs = 15_000): Promise<NonNullable<T>> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v as NonNullable<T>;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
