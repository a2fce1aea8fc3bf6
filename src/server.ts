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
import { loadSiteDocument } from './app/site-document.js';
import { openSqliteRepository } from './store/sqlite/open.js';
import { buildHttpApp } from './http/app.js';
import { subscribe } from './events.js';
import type { SiteRepository } from './site/repository.js';

export const SAMPLE_SITE_FILE = fileURLToPath(new URL('../fixtures/sample-site/site.json', import.meta.url));

export interface StartOptions {
  /** Load fixtures/sample-site into an empty data directory and create an admin token. */
  sampleSite?: boolean;
  logger?: Logger;
}

export interface RunningServer {
  config: PxepointConfig;
  service: SiteService;
  /** Base URL of the HTTP listener (admin API under /api/). */
  httpUrl: string | null;
  /** Secret of the admin token created for the sample site (also in <dataDir>/admin-token). */
  adminToken: string | null;
  close(): Promise<void>;
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
  const closers: (() => Promise<void> | void)[] = [() => repo.close()];
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
      const app = await buildHttpApp({ service, logger: log });
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

    if (config.roles.includes('pxe') && config.dhcpMode !== 'off') {
      log.warn(`DHCP mode "${config.dhcpMode}" is not available yet (PXE responder); serving without DHCP`);
    }
    if (config.interfaces.length > 0) log.warn('--interface is not available yet (PXE responder); it has no effect');
    if (config.roles.includes('dp') && !config.roles.includes('site')) log.warn('the dp role on its own is not available yet (content issue)');

    return {
      config,
      service,
      httpUrl,
      adminToken,
      async close() {
        for (const c of closers) await c();
      },
    };
  } catch (e) {
    for (const c of closers) await c();
    throw e;
  }
}
