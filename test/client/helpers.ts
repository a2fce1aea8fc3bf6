/**
 * Test helpers for the reference client: policy builders, and a small fake site
 * (fastify on 127.0.0.1) that speaks the client API contract and serves content.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import type {
  ContentFile, IdentifyResponse, PolicyDeployment, PolicyPackage, PolicyResponse, PolicyStep, StatusReport,
} from '../../src/policy/client-api.js';
import type { Variable } from '../../src/site/model.js';

export const tempDir = (prefix = 'pxepoint-client-'): string => mkdtempSync(join(tmpdir(), prefix));

export const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

export function contentFile(path: string, data: string): ContentFile {
  return { path, size: Buffer.byteLength(data), sha256: sha256(data) };
}

let stepIndex = 0;
export function step(partial: Partial<PolicyStep> & Pick<PolicyStep, 'type'>): PolicyStep {
  return {
    index: partial.index ?? stepIndex++,
    name: partial.name ?? `${partial.type} step`,
    type: partial.type,
    packageId: partial.packageId ?? null,
    commandLine: partial.commandLine ?? null,
    variableName: partial.variableName ?? null,
    variableValue: partial.variableValue ?? null,
    continueOnError: partial.continueOnError ?? false,
    accessContentDirectly: partial.accessContentDirectly ?? false,
    ...('disabled' in partial ? { disabled: (partial as { disabled?: boolean }).disabled } : {}),
  };
}

export function pkg(id: string, files: ContentFile[], locations: string[]): PolicyPackage {
  return { id, name: `Package ${id}`, version: 1, files, locations };
}

export function deployment(id: string, steps: PolicyStep[], opts: Partial<PolicyDeployment> = {}): PolicyDeployment {
  const indexed = steps.map((s, i) => ({ ...s, index: i }));
  return {
    deploymentId: id,
    taskSequenceId: opts.taskSequenceId ?? 'PXP00010',
    taskSequenceName: opts.taskSequenceName ?? `TS for ${id}`,
    purpose: opts.purpose ?? 'available',
    availableTo: opts.availableTo ?? 'clients-media-pxe',
    due: opts.due ?? false,
    taskSequence: opts.taskSequence ?? { id: opts.taskSequenceId ?? 'PXP00010', name: opts.taskSequenceName ?? `TS for ${id}`, bootImageId: null, steps: indexed },
    packages: opts.packages ?? [],
    deploymentOption: opts.deploymentOption ?? 'download-when-needed',
  };
}

export function policy(partial: Partial<PolicyResponse> = {}): PolicyResponse {
  return { offered: [], autoRun: null, prompt: false, preferredError: null, excluded: [], ...partial };
}

export interface FakeSite {
  app: FastifyInstance;
  url: string;
  /** Every status report received, in order. */
  statuses: StatusReport[];
  identifies: Record<string, unknown>[];
  /** Content requests: path → count. */
  contentHits: string[];
  /** Set what policy/variables/identify answer. */
  state: {
    policy: PolicyResponse | ((call: number) => PolicyResponse);
    variables: Variable[];
    identify: IdentifyResponse | { error: { code: string; message: string }; status: number };
    statusDeviceId: string | null;
    /** Files served under /content/<name>/<path>. */
    content: Record<string, Record<string, string | Buffer>>;
    /** Content "locations" that answer 500. */
    failing: Set<string>;
  };
  policyCalls: number;
  close(): Promise<void>;
}

/** A fake site speaking the client API contract, on loopback. */
export async function startFakeSite(): Promise<FakeSite> {
  const app = Fastify({ logger: false });
  const site: FakeSite = {
    app,
    url: '',
    statuses: [],
    identifies: [],
    contentHits: [],
    policyCalls: 0,
    state: {
      policy: policy(),
      variables: [],
      identify: { sessionToken: 'session-secret-123', expiresIn: 3600, deviceId: '16777217', deviceName: 'LAB-PC-01', unknownObjectId: null },
      statusDeviceId: null,
      content: {},
      failing: new Set(),
    },
    close: () => app.close(),
  };
  const authed = (auth: string | undefined): boolean => auth === 'Bearer session-secret-123';
  app.post('/client/identify', async (req, reply) => {
    site.identifies.push(req.body as Record<string, unknown>);
    const id = site.state.identify;
    if ('error' in id) return reply.code(id.status).send(id.error);
    return id;
  });
  app.get('/client/policy', async (req, reply) => {
    if (!authed(req.headers.authorization)) return reply.code(401).send({ code: 'PXE_ERR_CLIENT_UNAUTHENTICATED', message: 'no session' });
    site.policyCalls++;
    const p = site.state.policy;
    return typeof p === 'function' ? p(site.policyCalls) : p;
  });
  app.get('/client/variables', async (req, reply) => {
    if (!authed(req.headers.authorization)) return reply.code(401).send({ code: 'PXE_ERR_CLIENT_UNAUTHENTICATED', message: 'no session' });
    return { variables: site.state.variables };
  });
  app.post('/client/status', async (req, reply) => {
    if (!authed(req.headers.authorization)) return reply.code(401).send({ code: 'PXE_ERR_CLIENT_UNAUTHENTICATED', message: 'no session' });
    const report = req.body as StatusReport;
    site.statuses.push(report);
    const final = report.state === 13 || report.state === 11;
    return { accepted: true, ...(final ? { deviceId: site.state.statusDeviceId } : {}) };
  });
  app.get<{ Params: { loc: string; '*': string } }>('/content/:loc/*', async (req, reply) => {
    const { loc } = req.params;
    const path = req.params['*'];
    site.contentHits.push(`${loc}/${path}`);
    if (site.state.failing.has(loc)) return reply.code(500).send({ code: 'PXE_ERR_INTERNAL', message: 'broken' });
    const data = site.state.content[loc]?.[decodeURIComponent(path)];
    if (data === undefined) return reply.code(404).send({ code: 'PXE_ERR_CONTENT_NOT_FOUND', message: 'no such file' });
    return reply.type('application/octet-stream').send(Buffer.isBuffer(data) ? data : Buffer.from(data));
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  site.url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  return site;
}

/** The location URL of a named content folder on the fake site. */
export const location = (site: FakeSite, name: string): string => `${site.url}/content/${name}/`;
