/**
 * What every data command needs: the configuration, the opened store, the site
 * service, and the acting user for the audit trail. CLI commands work on the data
 * directory directly (SQLite allows the server and the CLI side by side).
 */
import { userInfo } from 'node:os';
import { readConfigFile, resolveConfig, type PxepointConfig } from '../config.js';
import { SiteService, type Actor } from '../app/site-service.js';
import { openSqliteRepository } from '../store/sqlite/open.js';
import { makeOut, type Out } from './output.js';
import { str, flag, type Values } from './args.js';

export interface CliContext {
  config: PxepointConfig;
  service: SiteService;
  actor: Actor;
  out: Out;
  close(): Promise<void>;
}

export function configFrom(values: Values): PxepointConfig {
  const file = str(values, 'config');
  const dataDir = str(values, 'data-dir') ?? process.env.PXEPOINT_DATA_DIR;
  return resolveConfig(file ? readConfigFile(file) : {}, dataDir ? { dataDir } : {});
}

export async function openContext(values: Values): Promise<CliContext> {
  const config = configFrom(values);
  const repo = await openSqliteRepository({ dataDir: config.dataDir });
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    /* no passwd entry (containers) */
  }
  return {
    config,
    service: new SiteService(repo),
    actor: { name: `cli:${user}`, component: 'cli' },
    out: makeOut(flag(values, 'json') === true),
    close: () => repo.close(),
  };
}
