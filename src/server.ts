/**
 * The composition root of `pxepoint serve`: opens the store, loads the sample
 * site when asked, and starts the listeners of the configured roles. The only
 * module that knows every room.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino, { type Logger } from 'pino';
import type { PxepointConfig } from './config.js';
import { SiteService, type Actor } from './app/site-service.js';
import { ClientService } from './app/client-service.js';
import { loadSiteDocument } from './app/site-document.js';
import { openSqliteRepository } from './store/sqlite/open.js';
import { buildHttpApp } from './http/app.js';
import { subscribe } from './events.js';
import type { SiteRepository } from './site/repository.js';
import { startDhcpServer, type DhcpServer } from './dhcp/server.js';
import { BootSessions, decidePxeBoot, prepareBoot, pxeSettings } from './pxe/index.js';
import { loadPolicySnapshot, type PolicySnapshot } from './policy/index.js';

export const SAMPLE_SITE_FILE = fileURLToPath(new URL('../fixtures/sample-site/site.json', import.meta.url));

export interface StartOptions {
  /** Load fixtures/sample-site into an empty data directory and create an admin token. */
  sampleSite?: boolean;
  logger?: Logger;
}

export interface RunningServer {
  config: PxepointConfig;
  service: SiteService;
  /** The client API's service: issues boot tokens (the PXE responder's per-boot variables file). */
  clientService: ClientService;
  /** Base URL of the HTTP listener (admin API under /api/). */
  httpUrl: string | null;
  /** Secret of the admin token created for the sample site (also in <dataDir>/admin-token). */
  adminToken: string | null;
  /** The DHCP role (ProxyDHCP or full), when the pxe role runs with DHCP on. */
  dhcp: DhcpServer | null;
  /** Boot sessions the DHCP responder opens (prepareBoot); the HTTP boot routes read them. */
  bootSessions: BootSessions | null;
  close(): Promise<void>;
}

/**
 * The policy snapshot the PXE decision reads, kept fresh: rebuilt (coalesced) after
 * every site change and every 30 s (client statuses change without a site.change).
 * A failed rebuild keeps the previous snapshot and is logged.
 */
async function freshPolicySnapshot(repo: SiteRepository, log: Logger): Promise<{ get(): PolicySnapshot; stop(): void }> {
  let snapshot = await loadPolicySnapshot(repo);
  let running = false;
  let again = false;
  const rebuild = (): void => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    loadPolicySnapshot(repo).then(
      (s) => { snapshot = s; },
      (e: unknown) => log.warn({ err: e }, 'could not rebuild the policy snapshot; the PXE responder keeps the previous one'),
    ).finally(() => {
      running = false;
      if (again) {
        again = false;
        rebuild();
      }
    });
  };
  let timer: NodeJS.Timeout | null = null;
  const off = subscribe('site.change', () => {
    timer ??= setTimeout(() => {
      timer = null;
      rebuild();
    }, 200);
  });
  const every = setInterval(rebuild, 30_000);
  every.unref();
  return {
    get: () => snapshot,
    stop() {
      off();
      clearInterval(every);
      if (timer) clearTimeout(timer);
    },
  };
}

/**
 * The PXE responder: the DHCP listeners (src/dhcp/server.ts) asking the pure decision
 * (src/pxe/decide.ts) with a fresh snapshot, and opening a boot session (prepareBoot:
 * boot token, variables file) for every request that gets an answer.
 */
async function startPxeResponder(config: PxepointConfig, repo: SiteRepository, clientService: ClientService, sessions: BootSessions, log: Logger): Promise<{ dhcp: DhcpServer; close(): Promise<void> }> {
  const snapshot = await freshPolicySnapshot(repo, log);
  const dhcpMode = config.dhcpMode === 'full' ? 'full' : 'proxy';
  const settings = pxeSettings({ interfaces: config.interfaces, responseDelaySeconds: config.dhcp.responseDelaySeconds });
  try {
    const dhcp = await startDhcpServer({
      mode: dhcpMode,
      address: config.listen,
      dhcpPort: config.dhcpPort,
      pxePort: config.pxePort,
      clientPort: config.dhcp.clientPort,
      interfaces: config.interfaces,
      serverAddress: config.dhcp.serverAddress,
      httpPort: config.httpPort,
      pools: config.dhcp.pools,
      reservations: config.dhcp.reservations,
      leaseSeconds: config.dhcp.leaseSeconds,
      leases: repo.leases,
      responseDelaySeconds: settings.responseDelaySeconds,
      macIgnoreListFile: config.dhcp.macIgnoreListFile,
      // The listener already answers only on the configured interfaces (rule 49).
      decide: (req) => decidePxeBoot(req, { snapshot: snapshot.get(), settings: { ...settings, interfaces: [] }, now: new Date() }),
      onServiced: async (req, decision) => {
        await prepareBoot(decision, req, { sessions, issueToken: (input) => clientService.issueBootToken(input) });
        return decision.bootFile === null ? null : { file: decision.bootFile, http: decision.http };
      },
      log: { warn: (m) => log.warn(m), info: (m) => log.info(m) },
    });
    const where = dhcp.endpoints.filter((e) => e.kind === 'dhcp').map((e) => e.interface ?? `${e.address} (all interfaces)`).join(', ');
    log.info(`DHCP ${dhcpMode === 'full' ? 'full mode' : 'ProxyDHCP'} listening on ${where}, ports ${config.dhcpPort} and ${config.pxePort}`);
    return {
      dhcp,
      async close() {
        snapshot.stop();
        await dhcp.close();
      },
    };
  } catch (e) {
    snapshot.stop();
    throw e;
  }
}

/** A site is "empty" when nothing but the built-ins exists. */
async function isEmptySite(repo: SiteRepository): Promise<boolean> {
  return (await repo.deployments.count()) === 0 && (await repo.taskSequences.count()) === 0 && (await repo.tokens.count()) === 0;
}

function logEvents(log: Logger): () => void {
  const offs = [
    subscribe('site.change', (e) => log.info({ event: 'site.change', ...e }, String(e.text))),
    subscribe('deploy.highrisk', (e) => log.warn({ event: 'deploy.highrisk', ...e }, 'high-risk deployment accepted')),
  ];
  return () => offs.forEach((off) => off());
}

export async function startServer(config: PxepointConfig, opts: StartOptions = {}): Promise<RunningServer> {
  const log = opts.logger ?? pino({ level: config.logLevel, redact: ['secret', 'token', 'req.headers.authorization'] });
  mkdirSync(config.dataDir, { recursive: true });
  const repo = await openSqliteRepository({ dataDir: config.dataDir });
  const service = new SiteService(repo);
  const clientService = new ClientService(repo);
  const closers: (() => Promise<void> | void)[] = [() => repo.close(), () => clientService.close()];
  closers.unshift(logEvents(log));

  let adminToken: string | null = null;
  try {
    if (opts.sampleSite && (await isEmptySite(repo))) {
      const actor: Actor = { name: 'sample-site', component: 'sample-site' };
      const summary = await loadSiteDocument(service, SAMPLE_SITE_FILE, actor);
      const { secret } = await service.createToken({ name: 'sample-admin' }, actor);
      adminToken = secret;
      writeFileSync(join(config.dataDir, 'admin-token'), secret + '\n', { mode: 0o600 });
      log.info({ created: summary.created, deployments: summary.deployments }, 'loaded the sample site into the empty data directory');
    } else if (opts.sampleSite && existsSync(join(config.dataDir, 'admin-token'))) {
      log.info(`data directory ${config.dataDir} already holds a site; the sample was not loaded again`);
    }

    let httpUrl: string | null = null;
    if (config.roles.includes('site')) {
      const app = await buildHttpApp({ service, clientService, logger: log });
      try {
        await app.listen({ host: config.listen, port: config.httpPort });
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        if (err.code === 'EADDRINUSE') throw new Error(`HTTP port ${config.httpPort} on ${config.listen} is already in use; pick another with --http-port N`);
        if (err.code === 'EACCES') throw new Error(`not allowed to listen on HTTP port ${config.httpPort}; use a port above 1023 or grant CAP_NET_BIND_SERVICE`);
        throw e;
      }
      closers.unshift(() => app.close());
      const addr = app.server.address();
      const port = typeof addr === 'object' && addr ? addr.port : config.httpPort;
      const host = config.listen === '0.0.0.0' || config.listen === '::' ? '127.0.0.1' : config.listen;
      httpUrl = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    }

    let dhcp: DhcpServer | null = null;
    let bootSessions: BootSessions | null = null;
    if (config.roles.includes('pxe') && config.dhcpMode !== 'off') {
      bootSessions = new BootSessions();
      const responder = await startPxeResponder(config, repo, clientService, bootSessions, log);
      dhcp = responder.dhcp;
      closers.unshift(() => responder.close());
    } else if (config.interfaces.length > 0) {
      log.warn('--interface has no effect without DHCP (--dhcp-mode off or no pxe role)');
    }
    if (config.roles.includes('dp') && !config.roles.includes('site')) log.warn('the dp role on its own is not available yet (content issue)');

    return {
      config,
      service,
      clientService,
      httpUrl,
      adminToken,
      dhcp,
      bootSessions,
      async close() {
        for (const c of closers) await c();
      },
    };
  } catch (e) {
    for (const c of closers) await c();
    throw e;
  }
}
