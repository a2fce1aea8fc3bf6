import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientApi } from '../../src/client/api.js';
import { isPxeError } from '../../src/errors.js';
import { startFakeSite, type FakeSite } from './helpers.js';

const identifyBody = { macs: ['52:54:00:77:00:10'], smbiosGuid: null, architecture: 'x64' as const, bootSource: 'pxe' as const, pxeToken: 't' };

describe('ClientApi', () => {
  let site: FakeSite;
  beforeAll(async () => {
    site = await startFakeSite();
  });
  afterAll(() => site.close());

  it('identifies, then sends the session as a bearer token', async () => {
    const api = new ClientApi({ siteUrl: site.url + '/' });
    expect(await api.identify(identifyBody)).toMatchObject({ deviceId: '16777217' });
    expect(api.sessionToken).toBe('session-secret-123');
    expect(await api.variables()).toEqual({ variables: [] });
    expect(await api.policy()).toMatchObject({ offered: [], autoRun: null });
  });

  it('surfaces the site\'s code and message', async () => {
    site.state.identify = { status: 401, error: { code: 'PXE_ERR_CLIENT_UNAUTHENTICATED', message: 'the PXE boot token was refused' } };
    const api = new ClientApi({ siteUrl: site.url });
    const err = await api.identify(identifyBody).catch((e: unknown) => e);
    expect(isPxeError(err) && err.code).toBe('PXE_ERR_CLIENT_UNAUTHENTICATED');
    expect((err as Error).message).toBe('the PXE boot token was refused');
  });

  it('refuses to call before identify', async () => {
    await expect(new ClientApi({ siteUrl: site.url }).policy()).rejects.toThrow(/identify/);
  });

  it('retries network failures only, a bounded number of times, with doubling backoff', async () => {
    const sleeps: number[] = [];
    let calls = 0;
    const api = new ClientApi({
      siteUrl: 'http://127.0.0.1:1',
      attempts: 3,
      backoffMs: 100,
      sleep: async (ms) => void sleeps.push(ms),
      fetch: async () => {
        calls++;
        throw new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } });
      },
    });
    const err = await api.identify(identifyBody).catch((e: unknown) => e);
    expect(isPxeError(err) && err.code).toBe('PXE_ERR_CLIENT_UNREACHABLE');
    expect((err as Error).message).toMatch(/ECONNREFUSED.*3 attempt/);
    expect(calls).toBe(3);
    expect(sleeps).toEqual([100, 200]);
  });

  it('recovers when the network comes back, and does not retry an HTTP 500', async () => {
    let calls = 0;
    const ok = new ClientApi({
      siteUrl: 'http://127.0.0.1:1',
      sleep: async () => undefined,
      fetch: async () => {
        calls++;
        if (calls < 2) throw new TypeError('fetch failed');
        return new Response(JSON.stringify({ sessionToken: 's', expiresIn: 1, deviceId: null, deviceName: null, unknownObjectId: '2046820353' }), { status: 200 });
      },
    });
    expect((await ok.identify(identifyBody)).unknownObjectId).toBe('2046820353');
    expect(calls).toBe(2);

    let calls500 = 0;
    const five = new ClientApi({
      siteUrl: 'http://127.0.0.1:1',
      sleep: async () => undefined,
      fetch: async () => (calls500++, new Response('oops', { status: 500 })),
    });
    await expect(five.identify(identifyBody)).rejects.toThrow(/HTTP 500 and no error code/);
    expect(calls500).toBe(1);
  });

  it('times out a request that never answers', async () => {
    const api = new ClientApi({
      siteUrl: 'http://127.0.0.1:1',
      timeoutMs: 50,
      attempts: 2,
      sleep: async () => undefined,
      fetch: (_url, init) => new Promise((_r, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal!.reason))),
    });
    const err = await api.identify(identifyBody).catch((e: unknown) => e);
    expect(isPxeError(err) && err.code).toBe('PXE_ERR_CLIENT_TIMEOUT');
  });

  it('refuses a site URL that is not http(s)', () => {
    expect(() => new ClientApi({ siteUrl: 'ftp://x' })).toThrow(/http:\/\//);
    expect(() => new ClientApi({ siteUrl: 'nope' })).toThrow(/not a URL/);
  });
});
