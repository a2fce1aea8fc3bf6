/**
 * Server configuration: defaults < config file (--config FILE, JSON) < flags.
 * Every port is configurable so tests and unprivileged users run on high ports.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { PxeError } from './errors.js';
import { validateInput } from './app/validate.js';
import type { DhcpPoolConfig, DhcpReservationConfig } from './dhcp/leases.js';

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

/** The DHCP responder (src/dhcp/server.ts; docs/dhcp.md "Listeners"). */
export interface DhcpSettings {
  /** Full mode: one pool per subnet (relayed clients are matched by giaddr, local ones by interface). */
  pools: DhcpPoolConfig[];
  /** Full mode: fixed addresses by MAC. */
  reservations: DhcpReservationConfig[];
  /** Full mode: option 51, unless a pool says otherwise. */
  leaseSeconds: number;
  /** Rule 50: wait this long before answering a PXE client (several PXE servers on one segment). */
  responseDelaySeconds: number;
  /** Rule 55: a file with one colon MAC per line; those clients never boot. Read at start. */
  macIgnoreListFile: string | null;
  /** Option 54 / next-server when it cannot be read from the interface (wildcard socket). */
  serverAddress: string | null;
  /** Where clients listen (68); configurable for tests. */
  clientPort: number;
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
  dhcp: DhcpSettings;
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
  dhcp: { pools: [], reservations: [], leaseSeconds: 3600, responseDelaySeconds: 0, macIgnoreListFile: null, serverAddress: null, clientPort: 68 },
};

const port = { type: 'integer', minimum: 0, maximum: 65535 };
const IPV4 = { type: 'string', pattern: '^\\d{1,3}(\\.\\d{1,3}){3}$' };
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
    dhcp: {
      type: 'object',
      additionalProperties: false,
      properties: {
        pools: {
          type: 'array',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['subnet', 'rangeStart', 'rangeEnd'],
            properties: {
              subnet: { type: 'string', pattern: '^\\d{1,3}(\\.\\d{1,3}){3}/\\d{1,2}$' },
              rangeStart: IPV4,
              rangeEnd: IPV4,
              router: IPV4,
              dnsServers: { type: 'array', items: IPV4, maxItems: 8 },
              domainName: { type: 'string', minLength: 1, maxLength: 255 },
              leaseSeconds: { type: 'integer', minimum: 60, maximum: 31_536_000 },
            },
          },
        },
        reservations: {
          type: 'array',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['mac', 'ip'],
            properties: {
              mac: { type: 'string', pattern: '^[0-9A-Fa-f]{2}([:-]?[0-9A-Fa-f]{2}){5}$' },
              ip: IPV4,
              hostname: { type: 'string', minLength: 1, maxLength: 63 },
            },
          },
        },
        leaseSeconds: { type: 'integer', minimum: 60, maximum: 31_536_000 },
        responseDelaySeconds: { type: 'number', minimum: 0, maximum: 32 },
        macIgnoreListFile: { type: ['string', 'null'], minLength: 1 },
        serverAddress: { oneOf: [IPV4, { type: 'null' }] },
        clientPort: port,
      },
    },
  },
};

export type ConfigOverrides = Partial<Omit<PxepointConfig, 'tftp' | 'dhcp'>> & { tftp?: Partial<TftpSettings>; dhcp?: Partial<DhcpSettings> };

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
    dhcp: { ...DEFAULT_CONFIG.dhcp, ...file.dhcp, ...flags.dhcp },
  };
  return { ...merged, dataDir: resolve(merged.dataDir), tftpRoot: resolve(merged.tftpRoot) };
}
