import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import { startHarness, type Harness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

function capture(): { stream: Writable; lines: () => Record<string, unknown>[]; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const text = () => chunks.join('');
  return { stream, text, lines: () => text().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('logging', () => {
  it('never writes a bearer secret or a new token\'s secret to the log', async () => {
    const out = capture();
    h = await startHarness({ logger: pino({ level: 'trace' }, out.stream) });
    const created = await h.api('POST', '/api/tokens', { name: 'logged' });
    const { secret } = created.json();
    await h.app.inject({ method: 'GET', url: '/api/devices', headers: { authorization: `Bearer ${secret}` } });
    await h.app.inject({ method: 'GET', url: '/api/devices', headers: { authorization: 'Bearer pxp_wrongwrongwrong' } });
    // Objects logged with a secret field are redacted wherever they come from.
    h.app.log.info({ secret, token: { secret }, req: { headers: { authorization: `Bearer ${secret}` } } }, 'probe');
    expect(out.lines().length).toBeGreaterThan(3);
    expect(out.text()).not.toContain(secret);
    expect(out.text()).not.toContain(h.secret);
    expect(out.text()).not.toContain('pxp_wrongwrongwrong');
    expect(out.text()).toContain('[redacted]');
  });

  it('takes pino options too', async () => {
    h = await startHarness({ logger: { level: 'silent' } });
    expect((await h.api('GET', '/api/health')).statusCode).toBe(200);
  });

  it('answers 500 with a generic message and logs the details', async () => {
    const out = capture();
    h = await startHarness({ logger: pino({ level: 'info' }, out.stream) });
    h.service.listDeployments = () => Promise.reject(new Error('disk I/O error at /var/lib/pxepoint/pxepoint.db'));
    const r = await h.api('GET', '/api/deployments');
    expect(r.statusCode).toBe(500);
    const body = r.json();
    expect(body).toEqual({ code: 'PXE_ERR_INTERNAL', message: expect.stringContaining(r.json().requestId), requestId: expect.any(String) });
    expect(r.body).not.toContain('disk I/O');
    expect(r.body).not.toContain('.ts:');
    const logged = out.lines().find((l) => l.level === 50);
    expect(JSON.stringify(logged)).toContain('disk I/O error');
    expect(logged?.reqId).toBe(body.requestId);
  });
});
