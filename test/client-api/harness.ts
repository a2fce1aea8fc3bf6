/**
 * The sample site on an in-memory SQLite store, served with the client API, plus
 * helpers that act like a machine (boot token → identify → session calls) and
 * like an administrator (the admin API with a token). The client service's clock
 * is controllable, for expiry.
 */
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { ClientService } from '../../src/app/client-service.js';
import { loadSiteDocument } from '../../src/app/site-document.js';
import { SiteService } from '../../src/app/site-service.js';
import { buildHttpApp, type HttpAppOptions } from '../../src/http/app.js';
import type { IdentifyResponse } from '../../src/policy/client-api.js';
import { SAMPLE_SITE_FILE } from '../../src/server.js';
import type { StatusMessage, Variable } from '../../src/site/model.js';
import type { SiteRepository } from '../../src/site/repository.js';
import { openSqliteRepository } from '../../src/store/sqlite/open.js';

/** The sample site's machines (fixtures/sample-site/site.json). */
export const LAB_PC_01 = { macs: ['52:54:00:77:00:10'], smbiosGuid: '4b1d0000-7777-4000-8000-000000000010', architecture: 'x64' } as const;
export const LAB_PC_02 = { macs: ['52:54:00:77:00:20'], smbiosGuid: '4b1d0000-7777-4000-8000-000000000020', architecture: 'x64' } as const;
export const NEW_MACHINE = { macs: ['52:54:00:99:00:01'], smbiosGuid: '4b1d0000-9999-4000-8000-000000000001', architecture: 'x64' } as const;

export type Machine = { macs: readonly string[]; smbiosGuid: string | null; architecture: 'x86' | 'x64' | 'arm64' };

export interface ClientHarness {
  app: FastifyInstance;
  repo: SiteRepository;
  service: SiteService;
  clients: ClientService;
  /** Moves the client service's clock. */
  advance(seconds: number): void;
  /** Admin API call with the test's API token. */
  admin(method: InjectOptions['method'], url: string, body?: unknown): Promise<LightMyRequestResponse>;
  /** POST /api/boot-tokens for a machine; returns the secret and id. */
  bootToken(machine: Machine, extra?: { bootSource?: 'pxe' | 'media'; ttlSeconds?: number; variables?: Variable[] }): Promise<{ token: string; id: string; expiresAt: string }>;
  /** POST /client/identify with any body (what a client sends is untrusted: tests send wrong ones too). */
  identify(body: Record<string, unknown>): Promise<LightMyRequestResponse>;
  /** Boots a machine from PXE: token, identify; the session token. */
  boot(machine: Machine, extra?: { variables?: Variable[] }): Promise<IdentifyResponse>;
  /** A session call. */
  call(session: string, method: InjectOptions['method'], url: string, body?: unknown, headers?: Record<string, string>): Promise<LightMyRequestResponse>;
  /** Audit messages of the client API written since the harness started. */
  refusals(): Promise<StatusMessage[]>;
  deploymentId(comment: string): Promise<string>;
  close(): Promise<void>;
}

export async function startClientHarness(options: { logger?: HttpAppOptions['logger'] } = {}): Promise<ClientHarness> {
  const repo = await openSqliteRepository({ file: ':memory:' });
  const service = new SiteService(repo);
  let now = Date.parse('2026-11-26T08:00:00.000Z');
  const clients = new ClientService(repo, { clock: () => new Date(now) });
  const actor = { name: 'test-setup', component: 'test' };
  await loadSiteDocument(service, SAMPLE_SITE_FILE, actor);
  const { secret } = await service.createToken({ name: 'tester' }, actor);
  const app = await buildHttpApp({ service, clientService: clients, ...(options.logger !== undefined ? { logger: options.logger } : {}) });
  await app.ready();

  const admin: ClientHarness['admin'] = (method, url, body) =>
    app.inject({ method, url, headers: { authorization: `Bearer ${secret}` }, ...(body === undefined ? {} : { payload: body as InjectOptions['payload'] }) });
  const identify: ClientHarness['identify'] = (body) => app.inject({ method: 'POST', url: '/client/identify', payload: body });
  const bootToken: ClientHarness['bootToken'] = async (machine, extra = {}) => {
    const r = await admin('POST', '/api/boot-tokens', {
      macs: machine.macs, smbiosGuid: machine.smbiosGuid, bootSource: extra.bootSource ?? 'pxe',
      ...(extra.ttlSeconds !== undefined ? { ttlSeconds: extra.ttlSeconds } : {}),
      ...(extra.variables !== undefined ? { variables: extra.variables } : {}),
    });
    if (r.statusCode !== 201) throw new Error(`boot token: ${r.statusCode} ${r.body}`);
    return r.json();
  };

  return {
    app, repo, service, clients,
    advance: (seconds) => void (now += seconds * 1000),
    admin,
    bootToken,
    identify,
    async boot(machine, extra = {}) {
      const { token } = await bootToken(machine, extra);
      const r = await identify({ ...machine, macs: [...machine.macs], bootSource: 'pxe', pxeToken: token });
      if (r.statusCode !== 200) throw new Error(`identify: ${r.statusCode} ${r.body}`);
      return r.json();
    },
    call: (session, method, url, body, headers = {}) =>
      app.inject({ method, url, headers: { authorization: `Bearer ${session}`, ...headers }, ...(body === undefined ? {} : { payload: body as InjectOptions['payload'] }) }),
    refusals: async () => (await repo.statusMessages.list({ kind: 'audit' })).filter((m) => m.component === 'client-api' && m.data.action === 'client-auth-refused'),
    async deploymentId(comment) {
      const d = (await repo.deployments.list()).find((x) => x.comment.startsWith(comment));
      if (!d) throw new Error(`no deployment with comment "${comment}"`);
      return d.id;
    },
    async close() {
      clients.close();
      await app.close();
      await repo.close();
    },
  };
}
