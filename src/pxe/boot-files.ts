/**
 * The generated boot files, one access policy for both transports:
 *
 *   boot/<mac-with-dashes>.ipxe   the machine's iPXE script (HTTP GET /boot/<mac>.ipxe, or TFTP)
 *   boot/vars/<name>.json         its variables file, by unguessable name only
 *
 * Access: a file exists only while the machine has a live boot session. The
 * machine's address binds on first contact when DHCP did not tell it (trust on
 * first use); after that any other address is refused (403 / TFTP error 2), so a
 * neighbour who guesses a MAC cannot read the script, and with it the name of the
 * variables file. The variables file is refused to every address but the bound
 * one, and is never served to a session without a bound address.
 */
import { TftpAccessError, normalizeRequestName } from '../tftp/paths.js';
import { bufferSource, type TftpClientInfo, type TftpFileResolver, type TftpFileSource } from '../tftp/files.js';
import { parseMac } from '../site/identifiers.js';
import type { BootSession, BootSessions } from './boot-sessions.js';
import { VARIABLES_NAME_PATTERN } from './boot-sessions.js';
import { renderIpxeScript, type IpxeScriptOptions } from './ipxe-script.js';
import { renderVariablesFile, sealVariablesFile, type VariablesFileOptions } from './variables-file.js';

export type BootFileResult =
  | { ok: true; session: BootSession; body: string; contentType: string }
  /** 503: a PXE password key file exists but cannot be used (the file is refused, never served in the clear). */
  | { ok: false; status: 403 | 404 | 503; reason: string; session?: BootSession };

export interface BootFileOptions {
  script: Omit<IpxeScriptOptions, 'baseUrl'>;
  variables: Omit<VariablesFileOptions, 'siteUrl'>;
}

const refused = (reason: string, session: BootSession): BootFileResult => ({ ok: false, status: 403, reason, session });

/** The script of the machine `macText` ("52-54-00-77-00-10" or any MAC form) for a request from `ip`. */
export function scriptFile(sessions: BootSessions, macText: string, ip: string, opts: IpxeScriptOptions): BootFileResult {
  const mac = parseMac(macText);
  if (mac === null) return { ok: false, status: 404, reason: `"${macText}" is not a MAC address` };
  const session = sessions.byMac(mac);
  if (session === undefined) return { ok: false, status: 404, reason: `no boot session for ${mac}: the responder has not answered this machine (or its session expired)` };
  if (session.clientIp === null) sessions.bindIp(session, ip);
  else if (session.clientIp !== ip) return refused(`the script of ${mac} is only served to ${session.clientIp}`, session);
  return { ok: true, session, body: renderIpxeScript(session, opts), contentType: 'text/plain; charset=utf-8' };
}

/** The variables file named `name`, for a request from `ip`. */
export function variablesFile(sessions: BootSessions, name: string, ip: string, opts: VariablesFileOptions): BootFileResult {
  const session = VARIABLES_NAME_PATTERN.test(name) ? sessions.byVariablesName(name) : undefined;
  if (session === undefined) return { ok: false, status: 404, reason: 'no such variables file' };
  if (session.clientIp === null) return refused('the variables file is served only once the machine\'s address is known (fetch the script first)', session);
  if (session.clientIp !== ip) return refused(`the variables file of ${session.mac} is only served to its machine`, session);
  // Rules 47/73/100: with a PXE password the file is sealed; without one, unchanged.
  const password = opts.pxePassword?.() ?? { state: 'unset' as const };
  if (password.state === 'broken') return { ok: false, status: 503, reason: `a PXE password is set but its key cannot be used: ${password.reason}`, session };
  const body = password.state === 'set' ? sealVariablesFile(session, { ...opts, derived: password.derived }) : renderVariablesFile(session, opts);
  session.variablesServedAt = sessions.now();
  return { ok: true, session, body, contentType: 'application/json; charset=utf-8' };
}

export interface BootFilesResolverOptions extends BootFileOptions {
  /** Base URL for scripts fetched over TFTP (they have no Host header), e.g. "http://10.77.0.2:8080". */
  baseUrl: string | ((client: TftpClientInfo) => string);
  /** Site URL written into variables files fetched over TFTP. Default: baseUrl. */
  siteUrl?: string | ((client: TftpClientInfo) => string);
}

/**
 * The same files over TFTP, as a `TftpFileResolver` to compose before the disk
 * resolver (`composeResolvers(bootFilesResolver(...), createDiskResolver(root))`).
 * Names other than the two generated forms fall through (null).
 */
export function bootFilesResolver(sessions: BootSessions, opts: BootFilesResolverOptions): TftpFileResolver {
  const value = (v: string | ((c: TftpClientInfo) => string), c: TftpClientInfo): string => (typeof v === 'string' ? v : v(c));
  return {
    async open(name: string, client: TftpClientInfo): Promise<TftpFileSource | null> {
      const norm = normalizeRequestName(name);
      if (!norm.ok) throw new TftpAccessError(norm.reason);
      const [first, second, third, ...rest] = norm.segments;
      if (first?.toLowerCase() !== 'boot' || rest.length > 0) return null;
      let result: BootFileResult | null = null;
      if (third === undefined && second !== undefined && /\.ipxe$/i.test(second)) {
        const mac = second.slice(0, -'.ipxe'.length);
        if (parseMac(mac) === null) return null;
        result = scriptFile(sessions, mac, client.address, { ...opts.script, baseUrl: value(opts.baseUrl, client) });
      } else if (second?.toLowerCase() === 'vars' && third !== undefined) {
        result = variablesFile(sessions, third, client.address, { ...opts.variables, siteUrl: value(opts.siteUrl ?? opts.baseUrl, client) });
      }
      if (result === null) return null;
      if (!result.ok) {
        if (result.status === 403) throw new TftpAccessError(result.reason);
        if (result.status === 503) throw new Error(result.reason); // TFTP error 0: the file exists but cannot be served
        return null;
      }
      return bufferSource(Buffer.from(result.body, 'utf8'));
    },
  };
}
