/**
 * A typed HTTP client for the client API contract (policy/client-api.ts). It
 * speaks exactly that contract: identify once, then bearer-authenticated calls.
 *
 * - Every request has a timeout (AbortSignal.timeout).
 * - Only network failures (connection refused/reset, DNS, timeout) are retried,
 *   with doubling backoff and a bounded number of attempts. An HTTP answer — even
 *   a 500 — is the site's word and is not retried here.
 * - An error answer surfaces as a PxeError carrying the site's own `code` and
 *   `message`, so the CLI prints what the site said to fix.
 */
import { PxeError, isPxeError } from '../errors.js';
import type {
  IdentifyRequest, IdentifyResponse, PolicyResponse, StatusReport, StatusResponse, VariablesResponse,
} from '../policy/client-api.js';
import type { Variable } from '../site/model.js';
import { REFERENCE_CLIENT_ERRORS } from './error-codes.js';

/**
 * Paths of the client API. POST /client/identify is fixed by the contract; the
 * others live here, in one place, so the client follows the server if they move.
 */
export const CLIENT_ROUTES = {
  /** Body: IdentifyRequest plus `variables`, the variables the client holds (SMSTSPreferredAdvertID among them, rule 26). */
  identify: { method: 'POST', path: '/client/identify' },
  policy: { method: 'GET', path: '/client/policy' },
  variables: { method: 'GET', path: '/client/variables' },
  status: { method: 'POST', path: '/client/status' },
} as const;

/**
 * The identify body: the contract's request plus the variables the client holds
 * before policy (PXE file, media, prestart: rule 26). The site keeps them for the
 * session and selection reads SMSTSPreferredAdvertID from them.
 */
/** Kept as a name for readability: the contract itself carries `variables`. */
export type IdentifyWithVariables = IdentifyRequest;

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

export interface ClientApiOptions {
  /** Base URL of the site, e.g. http://127.0.0.1:8080 (a path prefix is kept). */
  siteUrl: string;
  fetch?: FetchLike;
  /** Per attempt. Default 15 s. */
  timeoutMs?: number;
  /** Total attempts for a network failure, 1–10. Default 4. */
  attempts?: number;
  /** First backoff; doubles per attempt, capped at 5 s. Default 250 ms. */
  backoffMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

export interface RequestOptions {
  /** Override the attempts for this call (status with SMSTSDisableStatusRetry, rule 144). */
  attempts?: number;
}

const MAX_ATTEMPTS = 10;
const MAX_BACKOFF_MS = 5_000;

export const defaultSleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Network-level failures: fetch rejects with a TypeError ("fetch failed") or an abort/timeout. */
function isNetworkFailure(e: unknown): boolean {
  if (isPxeError(e)) return false;
  if (e instanceof TypeError) return true;
  const name = (e as { name?: string } | null)?.name;
  return name === 'TimeoutError' || name === 'AbortError';
}

function describeNetworkFailure(e: unknown): string {
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (e as Error).message;
}

export class ClientApi {
  readonly siteUrl: string;
  private readonly fetchFn: FetchLike;
  private readonly timeoutMs: number;
  private readonly attempts: number;
  private readonly backoffMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private session: string | null = null;

  constructor(opts: ClientApiOptions) {
    let url: URL;
    try {
      url = new URL(opts.siteUrl);
    } catch {
      throw new PxeError(REFERENCE_CLIENT_ERRORS.identity, `site URL "${opts.siteUrl}" is not a URL; give it like http://site.example:8080`, 400);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new PxeError(REFERENCE_CLIENT_ERRORS.identity, `site URL "${opts.siteUrl}" must start with http:// or https://`, 400);
    }
    this.siteUrl = url.href.replace(/\/+$/, '');
    this.fetchFn = opts.fetch ?? ((input, init) => fetch(input, init));
    this.timeoutMs = opts.timeoutMs ?? 15_000;
    this.attempts = Math.min(Math.max(opts.attempts ?? 4, 1), MAX_ATTEMPTS);
    this.backoffMs = opts.backoffMs ?? 250;
    this.sleep = opts.sleep ?? defaultSleep;
  }

  get sessionToken(): string | null {
    return this.session;
  }

  async identify(request: IdentifyWithVariables): Promise<IdentifyResponse> {
    const reply = await this.call<IdentifyResponse>(CLIENT_ROUTES.identify, request, false);
    if (typeof reply?.sessionToken !== 'string' || reply.sessionToken === '') {
      throw new PxeError(REFERENCE_CLIENT_ERRORS.badReply, `the site's identify answer has no sessionToken`, 502);
    }
    this.session = reply.sessionToken;
    return reply;
  }

  policy(): Promise<PolicyResponse> {
    return this.call<PolicyResponse>(CLIENT_ROUTES.policy, undefined, true);
  }

  variables(): Promise<VariablesResponse> {
    return this.call<VariablesResponse>(CLIENT_ROUTES.variables, undefined, true);
  }

  status(report: StatusReport, opts: RequestOptions = {}): Promise<StatusResponse> {
    return this.call<StatusResponse>(CLIENT_ROUTES.status, report, true, opts);
  }

  private async call<T>(route: { method: string; path: string }, body: unknown, authenticated: boolean, opts: RequestOptions = {}): Promise<T> {
    if (authenticated && this.session === null) {
      throw new PxeError(REFERENCE_CLIENT_ERRORS.identity, `call identify before ${route.method} ${route.path}: there is no session yet`, 400);
    }
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (authenticated) headers.authorization = `Bearer ${this.session}`;
    const url = this.siteUrl + route.path;
    const attempts = Math.min(Math.max(opts.attempts ?? this.attempts, 1), MAX_ATTEMPTS);
    // Serialised before the loop: a TypeError from here is a bug, not a network failure to retry.
    const payload = body === undefined ? undefined : JSON.stringify(body);

    let lastError: unknown;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      let res: Response;
      let text: string;
      try {
        res = await this.fetchFn(url, {
          method: route.method,
          headers,
          body: payload,
          signal: AbortSignal.timeout(this.timeoutMs),
        });
        text = await res.text();
      } catch (e) {
        if (!isNetworkFailure(e)) throw e;
        lastError = e;
        if (attempt < attempts) await this.sleep(Math.min(this.backoffMs * 2 ** (attempt - 1), MAX_BACKOFF_MS));
        continue;
      }
      return parseReply<T>(res, text, route);
    }
    const timedOut = (lastError as { name?: string }).name === 'TimeoutError';
    throw new PxeError(
      timedOut ? REFERENCE_CLIENT_ERRORS.timeout : REFERENCE_CLIENT_ERRORS.unreachable,
      timedOut
        ? `the site at ${this.siteUrl} did not answer ${route.method} ${route.path} within ${this.timeoutMs} ms (${attempts} attempt(s)); check the site is running and reachable`
        : `cannot reach the site at ${this.siteUrl} (${describeNetworkFailure(lastError)}) after ${attempts} attempt(s); check --site and that pxepoint serve is running`,
      503,
      { route: route.path, attempts },
    );
  }
}

function parseReply<T>(res: Response, text: string, route: { method: string; path: string }): T {
  let json: unknown;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (res.ok) {
    if (json === undefined) throw new PxeError(REFERENCE_CLIENT_ERRORS.badReply, `the site answered ${route.method} ${route.path} with ${res.status} but no JSON body`, 502);
    return json as T;
  }
  const err = json as { code?: unknown; message?: unknown } | undefined;
  if (err && typeof err.code === 'string' && typeof err.message === 'string') {
    // The site's own words: its code and the message that says what to fix.
    const { code, message, ...rest } = err as Record<string, unknown>;
    throw new PxeError(code as string, message as string, res.status, { ...rest, route: route.path, httpStatus: res.status });
  }
  throw new PxeError(
    REFERENCE_CLIENT_ERRORS.badReply,
    `the site answered ${route.method} ${route.path} with HTTP ${res.status} and no error code: ${text.slice(0, 200)}`,
    res.status,
    { route: route.path, httpStatus: res.status },
  );
}
