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
  /**
   * µs the TFTP server busy-polls for a window's ACK (native path, one transfer running;
   * docs/tftp.md). Unset: 100 on two CPUs or more, 0 (off) on one. 0 turns it off.
   */
  busyPollMicros?: number;
}

/** The PXE decision's settings (ConfigMgr's PXE tab, rules 45–56; docs/pxe.md). */
export interface PxeConfig {
  /** "Allow this distribution point to respond to incoming PXE requests" (rule 45). */
  respond: boolean;
  /** "Enable unknown computer support" (rule 46): off by default, as in ConfigMgr; --sample-site turns it on. */
  unknownComputerSupport: boolean;
  /** Nothing applies to a machine: stay silent ("Not serviced") or send the abort program (rule 71). */
  whenNothingApplies: 'ignore' | 'abort';
  /** Rule 56: MACs and SMBIOS GUIDs shared by several machines, never used to match a record. */
  duplicateIdentifiers: string[];
  /** Rule 68: seconds the F12/Enter prompt waits before booting the next device. */
  promptTimeoutSeconds: number;
  /** Firmware PXE clients get the iPXE chain loader ('ipxe'), or the native Windows chain over TFTP ('native': boot program + BCD path in option 252, docs/winpe.md). */
  chain: 'ipxe' | 'native';
}

/** Windows PE boot images (src/winpe; docs/winpe.md). */
export interface WinpeConfig {
  /** RamDiskTFTPBlockSize written into every generated BCD (rule 88: default 4096). */
  ramdiskTftpBlockSize: number;
  /** RamDiskTFTPWindowSize written into every generated BCD (rule 88: default 1). */
  ramdiskTftpWindowSize: number;
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

/**
 * The dp role (src/content/dp-node.ts; docs/content.md). A DP process knows its
 * site, its own DistributionPoint id and a credential: an admin API token of the
 * site, read from `tokenFile` or the PXEPOINT_DP_TOKEN environment variable.
 */
export interface DpSettings {
  /** The site's base URL ("http://site.example:8080/"); required for `--role dp` without site. */
  siteUrl: string | null;
  /** This DP's id in the site (`pxepoint dp list`). */
  id: string | null;
  tokenFile: string | null;
  /** How often the DP asks the site what to hold. */
  pollSeconds: number;
  /** Scheduled content validation (re-hash everything held); 0 turns it off. */
  validateMinutes: number;
  /** The site's manifest-signing key (PEM file); default: fetched once over the authenticated API and pinned. */
  sitePublicKeyFile: string | null;
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
  pxe: PxeConfig;
  winpe: WinpeConfig;
  dp: DpSettings;
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
  pxe: { respond: true, unknownComputerSupport: false, whenNothingApplies: 'ignore', duplicateIdentifiers: [], promptTimeoutSeconds: 10, chain: 'ipxe' },
  winpe: { ramdiskTftpBlockSize: 4096, ramdiskTftpWindowSize: 1 },
  dp: { siteUrl: null, id: null, tokenFile: null, pollSeconds: 30, validateMinutes: 1440, sitePublicKeyFile: null },
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
        busyPollMicros: { type: 'integer', minimum: 0, maximum: 10_000 },
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
    winpe: {
      type: 'object',
      additionalProperties: false,
      properties: {
        ramdiskTftpBlockSize: { type: 'integer', minimum: 512, maximum: 65464 },
        ramdiskTftpWindowSize: { type: 'integer', minimum: 1, maximum: 64 },
      },
    },
    pxe: {
      type: 'object',
      additionalProperties: false,
      properties: {
        respond: { type: 'boolean' },
        unknownComputerSupport: { type: 'boolean' },
        whenNothingApplies: { type: 'string', enum: ['ignore', 'abort'] },
        duplicateIdentifiers: { type: 'array', items: { type: 'string', minLength: 12, maxLength: 38 }, maxItems: 10_000 },
        promptTimeoutSeconds: { type: 'integer', minimum: 1, maximum: 300 },
        chain: { type: 'string', enum: ['ipxe', 'native'] },
      },
    },
    dp: {
      type: 'object',
      additionalProperties: false,
      properties: {
        siteUrl: { type: ['string', 'null'], pattern: '^https?://' },
        id: { type: ['string', 'null'], minLength: 1, maxLength: 64 },
        tokenFile: { type: ['string', 'null'], minLength: 1 },
        pollSeconds: { type: 'number', minimum: 0.05, maximum: 86_400 },
        validateMinutes: { type: 'number', minimum: 0, maximum: 525_600 },
        sitePublicKeyFile: { type: ['string', 'null'], minLength: 1 },
      },
    },
  },
};

export type ConfigOverrides = Partial<Omit<PxepointConfig, 'tftp' | 'dhcp' | 'dp' | 'pxe' | 'winpe'>> & { winpe?: Partial<WinpeConfig>; tftp?: Partial<TftpSettings>; dhcp?: Partial<DhcpSettings>; dp?: Partial<DpSettings>; pxe?: Partial<PxeConfig> };

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
    pxe: { ...DEFAULT_CONFIG.pxe, ...file.pxe, ...flags.pxe },
    winpe: { ...DEFAULT_CONFIG.winpe, ...file.winpe, ...flags.winpe },
    dp: { ...DEFAULT_CONFIG.dp, ...file.dp, ...flags.dp },
  };
  return { ...merged, dataDir: resolve(merged.dataDir), tftpRoot: resolve(merged.tftpRoot) };
}
