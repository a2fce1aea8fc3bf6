/**
 * Server configuration: defaults < config file (--config FILE, JSON) < flags.
 * Every port is configurable so tests and unprivileged users run on high ports.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { PxeError } from './errors.js';
import { validateInput } from './app/validate.js';

export type DhcpMode = 'proxy' | 'full' | 'off';
export type Role = 'site' | 'pxe' | 'dp';
export const ROLES: readonly Role[] = ['site', 'pxe', 'dp'];

export interface TftpSettings {
  /** RFC 2348 upper bound a client may negotiate. */
  maxBlksize: number;
  /** RFC 7440 upper bound a client may negotiate. */
  maxWindowsize: number;
  timeoutMs: number;
  retries: number;
  maxTransfers: number;
  maxPerClient: number;
}

export interface PxepointConfig {
  dataDir: string;
  /** Address the HTTP, TFTP and DHCP listeners bind to. */
  listen: string;
  httpPort: number;
  tftpPort: number;
  tftpRoot: string;
  dhcpMode: DhcpMode;
  dhcpPort: number;
  /** PXE boot-server discovery port (4011). */
  pxePort: number;
  /** Answer DHCP only on these interfaces (empty: all). */
  interfaces: string[];
  roles: Role[];
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  tftp: TftpSettings;
}

export const DEFAULT_CONFIG: PxepointConfig = {
  dataDir: './data',
  listen: '0.0.0.0',
  httpPort: 8080,
  tftpPort: 69,
  tftpRoot: './bootfiles',
  dhcpMode: 'proxy',
  dhcpPort: 67,
  pxePort: 4011,
  interfaces: [],
  roles: ['site', 'pxe', 'dp'],
  logLevel: 'info',
  tftp: { maxBlksize: 65464, maxWindowsize: 64, timeoutMs: 1000, retries: 5, maxTransfers: 256, maxPerClient: 8 },
};

const port = { type: 'integer', minimum: 0, maximum: 65535 };
const configSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    dataDir: { type: 'string', minLength: 1 },
    listen: { type: 'string', minLength: 1 },
    httpPort: port,
    tftpPort: port,
    tftpRoot: { type: 'string', minLength: 1 },
    dhcpMode: { type: 'string', enum: ['proxy', 'full', 'off'] },
    dhcpPort: port,
    pxePort: port,
    interfaces: { type: 'array', items: { type: 'string', minLength: 1 } },
    roles: { type: 'array', items: { type: 'string', enum: [...ROLES] }, minItems: 1 },
    logLevel: { type: 'string', enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] },
    tftp: {
      type: 'object',
      additionalProperties: false,
      properties: {
        maxBlksize: { type: 'integer', minimum: 8, maximum: 65464 },
        maxWindowsize: { type: 'integer', minimum: 1, maximum: 64 },
        timeoutMs: { type: 'integer', minimum: 100, maximum: 255_000 },
        retries: { type: 'integer', minimum: 0, maximum: 100 },
        maxTransfers: { type: 'integer', minimum: 1, maximum: 100_000 },
        maxPerClient: { type: 'integer', minimum: 1, maximum: 10_000 },
      },
    },
  },
};

export type ConfigOverrides = Partial<Omit<PxepointConfig, 'tftp'>> & { tftp?: Partial<TftpSettings> };

export function readConfigFile(file: string): ConfigOverrides {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new PxeError('PXE_ERR_CONFIG', `cannot read config file ${file}: ${(e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new PxeError('PXE_ERR_CONFIG', `config file ${file} is not valid JSON: ${(e as Error).message}`);
  }
  try {
    return validateInput<ConfigOverrides>(configSchema, json, 'config');
  } catch (e) {
    throw new PxeError('PXE_ERR_CONFIG', `config file ${file}: ${(e as Error).message}`);
  }
}

/** Defaults < file < flags; relative paths are resolved against the working directory. */
export function resolveConfig(file: ConfigOverrides = {}, flags: ConfigOverrides = {}): PxepointConfig {
  validateInput(configSchema, flags, 'flag');
  const merged: PxepointConfig = {
    ...DEFAULT_CONFIG,
    ...file,
    ...flags,
    tftp: { ...DEFAULT_CONFIG.tftp, ...file.tftp, ...flags.tftp },
  };
  return { ...merged, dataDir: resolve(merged.dataDir), tftpRoot: resolve(merged.tftpRoot) };
}
