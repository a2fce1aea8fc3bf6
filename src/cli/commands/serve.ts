/** `pxepoint serve`: config file + flags, then the composition root (server.ts). */
import { readConfigFile, resolveConfig, ROLES, type ConfigOverrides, type DhcpMode, type Role } from '../../config.js';
import { startServer } from '../../server.js';
import { flag, int, list, parse, str, usageError } from '../args.js';

export const SERVE_USAGE = `usage: pxepoint serve [--config FILE] [flags]
  --data-dir DIR            database and state (default ./data)
  --listen ADDR             address to bind (default 0.0.0.0)
  --http-port N             admin/client API and boot files over HTTP (default 8080)
  --tftp-port N             TFTP (default 69; needs root or CAP_NET_BIND_SERVICE)
  --tftp-root DIR           boot files (default ./bootfiles)
  --dhcp-mode proxy|full|off  ProxyDHCP beside an existing DHCP server (default), full DHCP, or none
  --dhcp-port N             DHCP server port (default 67)
  --pxe-port N              PXE boot-server discovery port (default 4011)
  --interface NAME          answer DHCP only on this interface (repeatable)
  --role site,pxe,dp        roles of this process (default all three)
  --log-level LEVEL         fatal|error|warn|info|debug|trace|silent
  --unknown-computers       enable unknown computer support (rule 46; config pxe.unknownComputerSupport)
  --sample-site             load the sample site into an empty data directory (what \`npm start\` does)`;

export async function serveCommand(argv: string[]): Promise<number> {
  const { values } = parse(
    argv,
    {
      listen: { type: 'string' }, 'http-port': { type: 'string' }, 'tftp-port': { type: 'string' }, 'tftp-root': { type: 'string' },
      'dhcp-mode': { type: 'string' }, 'dhcp-port': { type: 'string' }, 'pxe-port': { type: 'string' }, interface: { type: 'string', multiple: true },
      role: { type: 'string' }, 'log-level': { type: 'string' }, 'sample-site': { type: 'boolean' }, 'unknown-computers': { type: 'boolean' },
    },
    SERVE_USAGE,
  );
  if (values.help) {
    process.stdout.write(SERVE_USAGE + '\n');
    return 0;
  }
  const sample = flag(values, 'sample-site') === true;
  const roles = str(values, 'role')?.split(',').map((r) => r.trim()) as Role[] | undefined;
  if (roles?.some((r) => !ROLES.includes(r))) throw usageError(`--role takes a comma-separated list of ${ROLES.join(', ')}`, SERVE_USAGE);
  const flags: ConfigOverrides = Object.fromEntries(
    Object.entries({
      dataDir: str(values, 'data-dir'), listen: str(values, 'listen'), httpPort: int(values, 'http-port'), tftpPort: int(values, 'tftp-port'),
      tftpRoot: str(values, 'tftp-root'), dhcpMode: str(values, 'dhcp-mode') as DhcpMode | undefined, dhcpPort: int(values, 'dhcp-port'),
      pxePort: int(values, 'pxe-port'), interfaces: list(values, 'interface').length ? list(values, 'interface') : undefined, roles,
      logLevel: str(values, 'log-level'),
      pxe: flag(values, 'unknown-computers') ? { unknownComputerSupport: true } : undefined,
    }).filter(([, v]) => v !== undefined),
  );
  const file = str(values, 'config');
  // The sample site is a demo on one machine: loopback, unprivileged ports, no DHCP
  // unless the flags or the config file say otherwise.
  // Unknown-computer support is on so the sample's All Unknown Computers deployment services new machines.
  const sampleDefaults: ConfigOverrides = sample ? { listen: '127.0.0.1', tftpPort: 6969, dhcpMode: 'off', pxe: { unknownComputerSupport: true } } : {};
  const config = resolveConfig({ ...sampleDefaults, ...(file ? readConfigFile(file) : {}) }, flags);
  const server = await startServer(config, { sampleSite: sample });

  const lines = [`pxepoint serving site data from ${config.dataDir}`];
  if (server.httpUrl) {
    lines.push(`  admin API:  ${server.httpUrl}/api/   (OpenAPI: ${server.httpUrl}/openapi.json)`);
  }
  if (server.tftpPort !== null) lines.push(`  TFTP:       ${config.listen}:${server.tftpPort} (root ${config.tftpRoot})`);
  if (server.dhcp) lines.push(`  DHCP:       ${config.dhcpMode === 'full' ? 'full DHCP' : 'ProxyDHCP'} on ports ${config.dhcpPort} and ${config.pxePort}`);
  if (server.adminToken) {
    lines.push(`  admin token (saved in ${config.dataDir}/admin-token): ${server.adminToken}`);
    lines.push(`  try:  curl -H "Authorization: Bearer $(cat ${config.dataDir}/admin-token)" ${server.httpUrl}/api/deployments`);
  }
  process.stdout.write(lines.join('\n') + '\n');

  await new Promise<void>((resolveStop) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      void server.close().then(resolveStop, resolveStop);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  return 0;
}
