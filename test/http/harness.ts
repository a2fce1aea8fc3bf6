/**
 * A site service on an in-memory SQLite store, the HTTP app around it, and an
 * API token — everything a test needs to talk to the admin API with `inject`.
 */
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { SiteService } from '../../src/app/site-service.js';
import { buildHttpApp, type HttpAppOptions } from '../../src/http/app.js';
import type { SiteRepository } from '../../src/site/repository.js';
import { openSqliteRepository } from '../../src/store/sqlite/open.js';

export const TOKEN_NAME = 'tester';
export const ACTOR = `token:${TOKEN_NAME}`;

export interface Harness {
  app: FastifyInstance;
  service: SiteService;
  repo: SiteRepository;
  /** The bearer secret of the token named TOKEN_NAME. */
  secret: string;
  /** An authenticated request; `body` is sent as JSON. */
  api(method: InjectOptions['method'], url: string, body?: unknown): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

export async function startHarness(options: Partial<Omit<HttpAppOptions, 'service'>> = {}): Promise<Harness> {
  const repo = await openSqliteRepository({ file: ':memory:' });
  const service = new SiteService(repo);
  const { secret } = await service.createToken({ name: TOKEN_NAME }, { name: 'test-setup', component: 'test' });
  const app = await buildHttpApp({ service, ...options });
  await app.ready();
  return {
    app,
    service,
    repo,
    secret,
    api: (method, url, body) =>
      app.inject({
        method,
        url,
        headers: { authorization: `Bearer ${secret}` },
        ...(body === undefined ? {} : { payload: body as InjectOptions['payload'] }),
      }),
    async close() {
      await app.close();
      await repo.close();
    },
  };
}
