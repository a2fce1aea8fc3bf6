/**
 * The composition root of `pxepoint serve`: opens the store, loads the sample
 * site when asked, and starts the listeners of the configured roles. The only
 * module that knows every room.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
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
import { BootSessions, bootFilesResolver, decidePxeBoot, prepareBoot, pxeSettings, startBootTimeline } from './pxe/index.js';
import { PxePasswordSource } from './pxe/pxe-password.js';
import { composeResolvers, createDiskResolver } from './tftp/files.js';
import { startTftpServer, type TftpServer } from './tftp/server.js';
import { loadPolicySnapshot, type PolicySnapshot } from './policy/index.js';
import { SiteContent } from './content/site-content.js';
import { DpNode } from './content/dp-node.js';
import { nativeChainFor } from './winpe/native-chain.js';
import { buildDpApp } from './http/dp/app.js';

export const SAMPLE_SITE_FILE = fileURLToPath(new URL('../fixtures/sample-site/site.json', import.meta.url));

export interface StartOptions {
  /** Load fixtures/sample-site into an empty data directory and create an admin token. */
  sampleSite?: boolean;
  logger?: Logger;
}

export interface RunningServer {
  config: PxepointConfig;
  /** Null in a distribution-point-only process (it never opens the site database). */
  service: SiteService | null;
  /** The client API's service: issues boot tokens (the PXE responder's per-boot variables file). */
  clientService: ClientService | null;
  /** Base URL of the HTTP listener (admin API under /api/). */
  httpUrl: string | null;
  /** Secret of the admin token created for the sample site (also in <dataDir>/admin-token). */
  adminToken: string | null;
  /** The DHCP role (ProxyDHCP or full), when the pxe role runs with DHCP on. */
  dhcp: DhcpServer | null;
  /** The TFTP listener's port when the pxe role runs, else null. */
  tftpPort: number | null;
  /** Boot sessions the DHCP responder opens (prepareBoot); the HTTP boot routes read them. */
  bootSessions: BootSessions | null;
  /** Base URL of the content routes (content/…, dp/packages, share/…) of this process, if it serves them. */
  contentUrl?: string | null;
  /** The distribution point node, when this process runs the dp role without the site. */
  dpNode?: DpNode | null;
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
async function startPxeResponder(config: PxepointConfig, repo: SiteRepository, clientService: ClientService, sessions: BootSessions, log: Logger, pxePassword: PxePasswordSource): Promise<{ dhcp: DhcpServer; close(): Promise<void> }> {
  const snapshot = await freshPolicySnapshot(repo, log);
  const dhcpMode = config.dhcpMode === 'full' ? 'full' : 'proxy';
  const settings = pxeSettings({
    interfaces: config.interfaces,
    responseDelaySeconds: config.dhcp.responseDelaySeconds,
    respond: config.pxe.respond,
    unknownComputerSupport: config.pxe.unknownComputerSupport,
    whenNothingApplies: config.pxe.whenNothingApplies,
    duplicateIdentifiers: config.pxe.duplicateIdentifiers,
  });
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
      // Rules 47/73: passwordSet is the presence of <dataDir>/keys/pxe-password.json (re-checked at most once a second).
      decide: (req) => decidePxeBoot(req, { snapshot: snapshot.get(), settings: { ...settings, interfaces: [], passwordSet: pxePassword.isSet() }, now: new Date() }),
      onServiced: async (req, decision) => {
        await prepareBoot(decision, req, { sessions, issueToken: (input) => clientService.issueBootToken(input) });
        // pxe.chain native (docs/winpe.md): firmware PXE gets the Windows boot program and the
        // BCD path for option 252; anything nativeChainFor cannot answer keeps the iPXE chain.
        const firmware = req.architecture.row.firmware;
        if (config.pxe.chain === 'native' && !req.isIpxe && !req.isHttpBoot && firmware !== 'other'
          && (decision.action === 'boot' || decision.action === 'boot-with-prompt' || decision.action === 'abort')) {
          const architecture = decision.bootImageArchitecture ?? decision.machineArchitecture ?? req.architecture.row.images[0] ?? null;
          const native = architecture === null ? null
            : nativeChainFor({ action: decision.action, firmware, architecture, bootImageId: decision.bootImageId });
          if (native) return { file: native.bootFile, http: false, bcdPath: native.bcdPath };
        }
        return decision.bootFile === null ? null : { file: decision.bootFile, http: decision.http };
      },
      log: { warn: (m) => log.warn(m), info: (m) => log.info(m) },
    });
    const where = dhcp.endpoints.filter((e) => e.kind === 'dhcp').map((e) => e.interface ?? (e.address === '0.0.0.0' ? '0.0.0.0 (every interface)' : e.address)).join(', ');
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

/**
 * The dp role without the site (src/content/dp-node.ts): its own content library
 * pulled from the site named in `dp.siteUrl`, served on the HTTP port. The site's
 * database is never opened here.
 */
async function startDistributionPoint(config: PxepointConfig, log: Logger): Promise<{ node: DpNode; url: string; close(): Promise<void> }> {
  const { siteUrl, id, tokenFile } = config.dp;
  const token = tokenFile ? readFileSync(tokenFile, 'utf8').trim() : process.env.PXEPOINT_DP_TOKEN?.trim();
  if (!siteUrl || !id || !token) {
    throw new Error('the dp role needs dp.siteUrl, dp.id and a site API token (dp.tokenFile or PXEPOINT_DP_TOKEN) in the config file (docs/content.md)');
  }
  const node = await DpNode.open({
    dataDir: config.dataDir, siteUrl, dpId: id, token, pollMs: config.dp.pollSeconds * 1000, validateMs: config.dp.validateMinutes * 60_000,
    ...(config.dp.sitePublicKeyFile ? { publicKeyPem: readFileSync(config.dp.sitePublicKeyFile, 'utf8') } : {}),
    log: { info: (m) => log.info({ component: 'dp' }, m), warn: (m) => log.warn({ component: 'dp' }, m) },
  });
  const app = await buildDpApp({ source: node });
  try {
    await app.listen({ host: config.listen, port: config.httpPort });
  } catch (e) {
    await node.close();
    throw e;
  }
  node.start();
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.httpPort;
  const host = config.listen === '0.0.0.0' || config.listen === '::' ? '127.0.0.1' : config.listen;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}/`;
  log.info(`distribution point ${id} serving content at ${url} (site ${siteUrl})`);
  return { node, url, async close() { await node.close(); await app.close(); } };
}

/** A site is "empty" when nothing but the built-ins exists. */
async function isEmptySite(repo: SiteRepository): Promise<boolean> {
  return (await repo.deployments.count()) === 0 && (await repo.taskSequences.count()) === 0 && (await repo.tokens.count()) === 0;
}

function logEvents(log: Logger): () => void {
  const offs = [
    subscribe('site.change', (e) => log.info({ event: 'site.change', ...e }, String(e.text))),
    subscribe('deploy.highrisk', (e) => log.warn({ event: 'deploy.highrisk', ...e }, 'high-risk deployment accepted')),
    // SMSPXE-style decision lines: PXE requests at info, plain address traffic at debug.
    subscribe('dhcp.decision', (e) => {
      const line = `${String(e.mac)} ${String(e.channel)} ${String(e.messageType)}: ${String(e.decision)} (${String(e.reason)})`;
      if (e.pxe) log.info({ event: 'dhcp.decision', ...e }, line);
      else log.debug({ event: 'dhcp.decision', ...e }, line);
    }),
  ];
  return () => offs.forEach((off) => off());
}

export async function startServer(config: PxepointConfig, opts: StartOptions = {}): Promise<RunningServer> {
  const log = opts.logger ?? pino({ level: config.logLevel, redact: ['secret', 'token', 'req.headers.authorization'] });
  mkdirSync(config.dataDir, { recursive: true });
  if (config.roles.includes('dp') && !config.roles.includes('site') && !config.roles.includes('pxe')) {
    const dp = await startDistributionPoint(config, log);
    return {
      config, service: null, clientService: null, httpUrl: null, adminToken: null,
      dhcp: null, tftpPort: null, bootSessions: null, contentUrl: dp.url, dpNode: dp.node, close: () => dp.close(),
    };
  }
  const repo = await openSqliteRepository({ dataDir: config.dataDir });
  const service = new SiteService(repo);
  // The site's content library (signing key, content-addressed store); only the site role serves it.
  const content = config.roles.includes('site') ? await SiteContent.open(repo, config.dataDir) : null;
  const clientService = new ClientService(repo, content ? {
    contentSigningKey: () => ({ alg: 'ed25519', keyId: content.key.keyId, publicKey: content.publicKeyPem() }),
  } : {});
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

    // Boot sessions: opened by the DHCP responder, read by the HTTP boot routes, TFTP and the timeline.
    const bootSessions = config.roles.includes('pxe') ? new BootSessions() : null;
    // Rules 47/73/100: the PXE password's derived key (pxe/pxe-password.ts); a CLI set/clear in another process is seen within a second.
    const pxePassword = new PxePasswordSource(config.dataDir, {
      onChange: (state, reason) => (state === 'broken'
        ? log.warn(`PXE password key unusable, variables files are refused: ${reason ?? ''}`)
        : log.info(state === 'set' ? 'PXE password set: variables files are served sealed' : 'no PXE password: variables files are served in the clear')),
    });
    if (bootSessions) {
      const timeline = startBootTimeline({ store: repo.bootEvents, sessions: bootSessions, onError: (e) => log.warn({ err: e }, "could not record a boot timeline event") });
      closers.unshift(() => timeline.flush());
      closers.unshift(() => timeline.stop());
    }

    let httpUrl: string | null = null;
    if (config.roles.includes('site')) {
      // The site's content library: its DP routes make a one-process site its own distribution point.
      const app = await buildHttpApp({
        service, clientService, logger: log,
        // Issue 7: the boot media registry (/api/media, /boot/media/<id>/start.cfg).
        media: clientService.media, dataDir: config.dataDir, tftpRoot: config.tftpRoot,
        ...(content ? { content } : {}),
        ...(bootSessions ? { boot: { sessions: bootSessions, filesRoot: config.tftpRoot, promptTimeoutSeconds: config.pxe.promptTimeoutSeconds, pxePassword: pxePassword.lookup } } : {}),
      });
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

    let tftp: TftpServer | null = null;
    if (bootSessions) {
      // TFTP scripts have no Host header: they name the HTTP listener by the address DHCP advertises.
      const httpBase = (client: { address: string }): string => {
        const port = httpUrl ? new URL(httpUrl).port : String(config.httpPort);
        const host = config.dhcp.serverAddress ?? (config.listen !== '0.0.0.0' && config.listen !== '::' ? config.listen : client.address === '127.0.0.1' ? '127.0.0.1' : null);
        return host ? `http://${host}:${port}` : (httpUrl ?? `http://127.0.0.1:${port}`);
      };
      try {
        tftp = await startTftpServer({
          address: config.listen,
          port: config.tftpPort,
          root: config.tftpRoot,
          resolver: composeResolvers(
            bootFilesResolver(bootSessions, { baseUrl: httpBase, script: { promptTimeoutSeconds: config.pxe.promptTimeoutSeconds }, variables: { pxePassword: pxePassword.lookup } }),
            createDiskResolver(config.tftpRoot),
          ),
          ...config.tftp,
        });
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        if (err.code === 'EADDRINUSE') throw new Error(`TFTP port ${config.tftpPort} on ${config.listen} is already in use; pick another with --tftp-port N`);
        if (err.code === 'EACCES') throw new Error(`not allowed to listen on TFTP port ${config.tftpPort}; run as root, grant CAP_NET_BIND_SERVICE, or use --tftp-port above 1023`);
        throw e;
      }
      const t = tftp;
      closers.unshift(() => t.close());
      log.info(`TFTP serving ${config.tftpRoot} on ${config.listen}:${t.port}`);
    }

    let dhcp: DhcpServer | null = null;
    if (bootSessions && config.dhcpMode !== 'off') {
      const responder = await startPxeResponder(config, repo, clientService, bootSessions, log, pxePassword);
      dhcp = responder.dhcp;
      closers.unshift(() => responder.close());
    } else if (config.interfaces.length > 0) {
      log.warn('--interface has no effect without DHCP (--dhcp-mode off or no pxe role)');
    }
    let dpNode: DpNode | null = null;
    if (config.roles.includes('dp') && !config.roles.includes('site')) {
      const dp = await startDistributionPoint(config, log);
      dpNode = dp.node;
      closers.unshift(() => dp.close());
    }

    return {
      config,
      service,
      clientService,
      httpUrl,
      adminToken,
      dhcp,
      tftpPort: tftp?.port ?? null,
      bootSessions,
      contentUrl: httpUrl ? `${httpUrl}/` : null,
      dpNode,
      async close() {
        for (const c of closers) await c();
      },
    };
  } catch (e) {
    for (const c of closers) await c();
    throw e;
  }
}
