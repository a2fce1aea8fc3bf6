/**
 * The DHCP role: `startDhcpServer(opts)` opens the listeners (listener.ts) and answers
 *
 *  - ProxyDHCP mode (default, beside an existing DHCP server): PXE/HTTP Boot clients
 *    only (option 60 starts with PXEClient or HTTPClient), on 67 with boot info and no
 *    address, and on 4011 (boot-server requests: OVMF 4011→4011, iPXE 68→4011 xid 0);
 *    everyone else is never answered;
 *  - full mode (labs, isolated build networks): addresses from pools per subnet and
 *    reservations (leases.ts, full.ts), leases durable before the ACK, plus boot info
 *    for PXE clients, and 4011 as above.
 *
 * Relayed requests (giaddr) are answered by unicast to the relay on 67; option 82 is
 * recorded in the request and the `dhcp.decision` event. Invalid packets are counted,
 * published as `dhcp.packet.invalid` and dropped. Layering: listener → this handler →
 * pure decision (`decide`, src/pxe/decide.ts) and pure replies (proxy.ts, builder.ts).
 */
import diagnostics_channel from 'node:diagnostics_channel';
import { networkInterfaces } from 'node:os';
import { readFileSync } from 'node:fs';
import type dgram from 'node:dgram';
import { PxeError } from '../errors.js';
import { publish } from '../events.js';
import type { PxeBootRequest, PxeChannel, PxeDecision } from '../pxe/types.js';
import { isPxeClientPacket, pxeRequestFrom, type PxeRequestContext } from '../pxe/request.js';
import type { LeaseStore } from '../site/repository.js';
import { IP_UDP_OVERHEAD, MIN_MAX_MESSAGE_SIZE, encodeReply, replyDestination } from './builder.js';
import { isDhcpParseError } from './errors.js';
import { LeaseWriter, leaseQueryOf, leaseStep, poolForRequest, subnetMaskOf, type LeaseStep } from './full.js';
import { firstExternalIpv4, resolveInterfaces, type DhcpInterface } from './interfaces.js';
import { LeaseBook, normaliseMac, type DhcpPoolConfig, type DhcpReservationConfig } from './leases.js';
import { openDhcpListeners, type DhcpEndpoint } from './listener.js';
import { createReplySender, type ReplySender } from './reply-sender.js';
import type { NativeNet } from '../native/udp-device.js';
import { DhcpMessageType, DhcpPort, messageTypeName } from './option-codes.js';
import { BOOTP_MIN_SIZE, encodeDhcpPacket, encodeDhcpPacketInto, encodedSize, macAddress, parseDhcpPacket, type DhcpPacket } from './packet.js';
import { messageType, relayAgentInfo, serverIdentifier } from './options.js';
import { addressReply, bootServerAck, informAck, nakReply, proxyOffer, type BootTarget } from './proxy.js';

export interface DhcpServerLog {
  warn(msg: string): void;
  info(msg: string): void;
}

export interface DhcpServerOptions {
  mode: 'proxy' | 'full';
  /** Bind address of the wildcard sockets (no `interfaces`). */
  address: string;
  dhcpPort: number;
  pxePort: number;
  /** Where clients listen (68). */
  clientPort?: number;
  /** Where relays listen (67); tests run a relay on a high port. */
  relayPort?: number;
  /**
   * Where "broadcast" replies go. Default 255.255.255.255, or the bind address when
   * that is a loopback address (tests never put DHCP on a real network).
   */
  broadcastAddress?: string;
  /** Rule 49: names or MACs; empty = every interface. */
  interfaces: readonly string[];
  /** Option 54 / next-server when not per interface; default: the bind address, else the first external IPv4. */
  serverAddress?: string | null;
  /** HTTP port for boot URLs handed to iPXE / HTTP Boot clients. */
  httpPort?: number;
  /** Full mode. */
  pools?: readonly DhcpPoolConfig[];
  reservations?: readonly DhcpReservationConfig[];
  leaseSeconds?: number;
  /** Full mode: where leases live (the repository's `leases`). Required in full mode. */
  leases?: LeaseStore;
  /** Rule 50, read per answer so a settings change applies at once. */
  responseDelaySeconds?: number | (() => number);
  /** Rule 55: file with one colon MAC per line, read at start. */
  macIgnoreListFile?: string | null;
  /** More MACs never to boot (from configuration). */
  macIgnoreList?: Iterable<string>;
  /** The PXE decision (src/pxe/decide.ts with a fresh policy snapshot). */
  decide: (req: PxeBootRequest) => PxeDecision | Promise<PxeDecision>;
  /**
   * After a decision to answer: where the client goes (e.g. a boot session's URL).
   * Default: the decision's bootFile. Return null to stay silent after all.
   */
  onServiced?: (req: PxeBootRequest, decision: PxeDecision) => BootTarget | null | Promise<BootTarget | null>;
  /** Passed to pxeRequestFrom (quirk switches). */
  requestContext?: Pick<PxeRequestContext, 'quirks'>;
  log?: DhcpServerLog;
  /** For tests: replaces the native addon (null = behave as if it were not built). */
  native?: NativeNet | null;
  /** Bound on PXE answers waiting for a decision or the response delay (flood protection). */
  maxPending?: number;
  /**
   * Send the replies of one event-loop turn with one sendmmsg(2) through the native addon
   * (per-interface sockets; default: yes when the addon has it, unless the environment has
   * PXEPOINT_DHCP_NATIVE=0). false forces one dgram send per reply. Decided once, at start.
   */
  nativeSend?: boolean;
}

export interface DhcpServerStats {
  received: number;
  invalid: number;
  ignored: number;
  offers: number;
  acks: number;
  naks: number;
  proxyReplies: number;
  bootServerReplies: number;
  released: number;
  declined: number;
  sendErrors: number;
  persistErrors: number;
  overloaded: number;
  decisionErrors: number;
  /** Datagrams the batched native receive dropped for being larger than its 2 KiB slot (src/dhcp/native-recv.ts). */
  oversized: number;
  /** recvmmsg failures on the batched native receive (the last errno is in the receiver's stats). */
  receiveErrors: number;
}

export interface DhcpServer {
  readonly mode: 'proxy' | 'full';
  readonly endpoints: ReadonlyArray<{ kind: 'dhcp' | 'pxe'; interface: string | null; port: number; address: string }>;
  readonly stats: DhcpServerStats;
  readonly warnings: readonly string[];
  readonly macIgnoreList: ReadonlySet<string>;
  /** Full mode's lease book (null in proxy mode). */
  readonly leaseBook: LeaseBook | null;
  close(): Promise<void>;
}

/** Rule 55's file: one MAC per line ("01:23:45:67:89:ab"); blank lines and # comments allowed. */
export function readMacIgnoreList(file: string): Set<string> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new PxeError('PXE_ERR_CONFIG', `cannot read the MAC ignore list ${file}: ${(e as Error).message}`);
  }
  const out = new Set<string>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') return;
    const mac = normaliseMac(line);
    // A typo must not silently let a machine boot (rule 55: "never boots … no matter what").
    if (!mac) throw new PxeError('PXE_ERR_CONFIG', `MAC ignore list ${file} line ${i + 1}: "${line}" is not a MAC address; write it like 01:23:45:67:89:ab`);
    out.add(mac);
  });
  return out;
}

const ZERO = '0.0.0.0';

/**
 * encodeReply's size rule only matters when the options could exceed the smallest limit a
 * client may set (576 − 28 bytes); typical address replies are far below it, so they are
 * encoded directly (half the work on the hot path of full mode), into `scratch` when given.
 */
function encodeFast(request: DhcpPacket, reply: DhcpPacket, scratch: Buffer | null): Buffer {
  if (encodedSize(reply) <= MIN_MAX_MESSAGE_SIZE - IP_UDP_OVERHEAD) {
    if (scratch) {
      const n = encodeDhcpPacketInto(reply, scratch, { minSize: BOOTP_MIN_SIZE });
      if (n >= 0) return scratch.subarray(0, n);
    }
    return encodeDhcpPacket(reply, { minSize: BOOTP_MIN_SIZE });
  }
  return encodeReply(request, reply).buffer;
}

/** One OFFER or ACK on its way out (full mode). */
interface AddressJob {
  readonly p: DhcpPacket;
  readonly mac: string;
  readonly ep: DhcpEndpoint;
  readonly from: dgram.RemoteInfo;
  /** performance.now() at receive. */
  readonly t0: number;
  readonly step: Extract<LeaseStep, { kind: 'offer' | 'ack' }>;
  readonly serverAddress: string;
  readonly ip: string;
}

const isLoopback = (a: string): boolean => a.startsWith('127.');
/** The channel events.ts publishes `dhcp.decision` on. */
const decisionChannel = diagnostics_channel.channel('pxepoint.dhcp.decision');
/** Milliseconds since `since` (a performance.now() reading: monotonic, and no BigInt per packet). */
const elapsedMs = (since: number): number => performance.now() - since;

export async function startDhcpServer(opts: DhcpServerOptions): Promise<DhcpServer> {
  const log = opts.log ?? { warn: () => {}, info: () => {} };
  const clientPort = opts.clientPort ?? DhcpPort.Client;
  const relayPort = opts.relayPort ?? DhcpPort.Server;
  const broadcastAddress = opts.broadcastAddress ?? (isLoopback(opts.address) ? opts.address : '255.255.255.255');
  const httpPort = opts.httpPort ?? 80;
  const maxPending = opts.maxPending ?? 4096;
  const loopbackOnly = isLoopback(opts.address) && opts.interfaces.length === 0;
  const ignored = new Set<string>();
  if (opts.macIgnoreListFile) for (const m of readMacIgnoreList(opts.macIgnoreListFile)) ignored.add(m);
  for (const m of opts.macIgnoreList ?? []) {
    const mac = normaliseMac(m);
    if (!mac) throw new PxeError('PXE_ERR_CONFIG', `"${m}" in the MAC ignore list is not a MAC address`);
    ignored.add(mac);
  }
  const interfaces: DhcpInterface[] = resolveInterfaces(opts.interfaces);
  const fallbackServer = opts.serverAddress
    ?? (opts.address !== ZERO ? opts.address : firstExternalIpv4() ?? '127.0.0.1');
  const serverAddressOf = (ep: DhcpEndpoint): string => ep.iface?.address ?? fallbackServer;
  const ourAddresses = new Set<string>([fallbackServer, ...interfaces.map((i) => i.address)]);
  const isOurServerId = (id: string): boolean => ourAddresses.has(id);

  let book: LeaseBook | null = null;
  let writer: LeaseWriter | null = null;
  if (opts.mode === 'full') {
    if (!opts.leases) throw new PxeError('PXE_ERR_CONFIG', 'full DHCP mode needs a lease store');
    if (!opts.pools || opts.pools.length === 0) {
      throw new PxeError('PXE_ERR_CONFIG', 'full DHCP mode needs at least one pool: add "dhcp": { "pools": [{ "subnet": "10.77.0.0/24", "rangeStart": "10.77.0.100", "rangeEnd": "10.77.0.250" }] } to the config file');
    }
    const existing = await opts.leases.list();
    book = new LeaseBook(opts.pools, opts.reservations ?? [], { leaseSeconds: opts.leaseSeconds ?? 3600 }, existing);
    writer = new LeaseWriter(opts.leases, (e, n) => {
      stats.persistErrors += n;
      log.warn(`could not store ${n} DHCP lease(s), their ACKs were not sent: ${(e as Error).message}`);
    });
  }

  const stats: DhcpServerStats = {
    received: 0, invalid: 0, ignored: 0, offers: 0, acks: 0, naks: 0, proxyReplies: 0, bootServerReplies: 0,
    released: 0, declined: 0, sendErrors: 0, persistErrors: 0, overloaded: 0, decisionErrors: 0,
    oversized: 0, receiveErrors: 0, // read from the native receivers once the listeners are open
  };
  const timers = new Set<NodeJS.Timeout>();
  let lastSendErrorLog = 0;
  const onSendError = (e: Error, ep: DhcpEndpoint): void => {
    stats.sendErrors++;
    // Rate-limited: a misrouted broadcast fails on every packet (e.g. ENETUNREACH without a route).
    const now = Date.now();
    if (now - lastSendErrorLog >= 60_000) {
      lastSendErrorLog = now;
      log.warn(`DHCP could not send on ${ep.iface?.name ?? 'the wildcard socket'}: ${e.message} (${stats.sendErrors} send error(s) so far)` +
        (ep.iface ? '' : '; without --interface replies follow the routing table — name the PXE interface with --interface'));
    }
  };
  const replies: ReplySender = createReplySender({
    onError: onSendError,
    ...(opts.nativeSend !== undefined ? { nativeSend: opts.nativeSend } : {}),
    ...(opts.native !== undefined ? { native: opts.native } : {}),
  });
  /** Where fast-path replies are encoded when the sender copies them at once (no allocation per reply). */
  const scratch = Buffer.alloc(MIN_MAX_MESSAGE_SIZE);
  let pending = 0;
  let closed = false;

  const delayMs = (): number => {
    const d = typeof opts.responseDelaySeconds === 'function' ? opts.responseDelaySeconds() : opts.responseDelaySeconds ?? 0;
    return Number.isFinite(d) && d > 0 ? Math.min(d, 60) * 1000 : 0;
  };

  const send = (ep: DhcpEndpoint, request: DhcpPacket, reply: DhcpPacket, from: dgram.RemoteInfo): void => {
    if (closed) return;
    const buffer = encodeFast(request, reply, replies.copies(ep) ? scratch : null);
    const logicalPort = ep.kind === 'pxe' ? DhcpPort.PxeBootServer : DhcpPort.Server;
    let dest = replyDestination(request, reply, { address: from.address, port: from.port }, logicalPort);
    // Node cannot send to an address the client does not answer ARP for yet: broadcast
    // instead (RFC 2131 §4.1 allows it). NAKs without a relay are always broadcast.
    const nak = reply.options[0]?.data[0] === DhcpMessageType.Nak;
    if (dest.needsArpEntry || (nak && request.giaddr === ZERO)) dest = { ...dest, address: '255.255.255.255', port: DhcpPort.Client, broadcast: true };
    let address = dest.broadcast ? broadcastAddress : dest.address;
    // Bound to loopback (tests, demos): nothing ever leaves the host.
    if (loopbackOnly && !isLoopback(address)) address = broadcastAddress;
    // Logical ports 67 (relay) and 68 (client) map to the configured ones; a 4011 answer
    // goes back to the exact source port (68 for iPXE, 4011 for OVMF).
    const toSource = ep.kind === 'pxe' && request.giaddr === ZERO && from.address !== ZERO && !dest.broadcast;
    const port = toSource ? dest.port
      : dest.port === DhcpPort.Server && request.giaddr !== ZERO ? relayPort
        : dest.port === DhcpPort.Client ? clientPort : dest.port;
    replies.send(ep, buffer, port, address);
  };

  const later = (fn: () => void, ms: number): void => {
    if (ms <= 0) return fn();
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };

  const relayOf = (p: DhcpPacket): Record<string, unknown> | null => {
    if (p.giaddr === ZERO) return null;
    const r = relayAgentInfo(p);
    return { giaddr: p.giaddr, circuitId: r?.circuitId?.toString('hex') ?? null, remoteId: r?.remoteId?.toString('hex') ?? null };
  };

  const decided = (
    p: DhcpPacket, mac: string, ep: DhcpEndpoint, channel: PxeChannel | 'dhcp', t0: number, decideMs: number,
    outcome: { decision: string; reason: string; ip: string | null; reasonCode?: string; pxe?: PxeDecision | null; bootFile?: string | null },
  ): void => {
    if (!decisionChannel.hasSubscribers) return; // no one listening: build nothing
    publish('dhcp.decision', {
      mac, ip: outcome.ip, channel, messageType: messageTypeName(messageType(p)), interface: ep.iface?.name ?? null,
      decision: outcome.decision, reason: outcome.reason, reasonCode: outcome.reasonCode ?? null,
      pxe: outcome.pxe != null, deviceId: outcome.pxe?.deviceId ?? null, deploymentId: outcome.pxe?.deploymentId ?? null,
      bootFile: outcome.bootFile ?? null,
      relay: relayOf(p), decideMs, latencyMs: elapsedMs(t0),
    });
  };

  /** Asks the decision; resolves to where the client boots, or null to stay silent. */
  const pxeTarget = async (req: PxeBootRequest): Promise<{ decision: PxeDecision; target: BootTarget | null }> => {
    const decision = await opts.decide(req);
    if (decision.action === 'ignore') return { decision, target: null };
    const target = opts.onServiced ? await opts.onServiced(req, decision)
      : decision.bootFile !== null ? { file: decision.bootFile, http: decision.http } : null;
    return { decision, target };
  };

  const ignoredDecision = (mac: string): PxeDecision => ({
    action: 'ignore', reasonCode: 'mac-ignored', reason: `${mac} is on the MAC exclusion list: never boots, no matter what (rule 55)`,
    deviceId: null, unknownObjectId: null, deploymentId: null, bootImageId: null, bootImageArchitecture: null, bootFile: null, http: false,
  } as PxeDecision);

  /** ProxyDHCP on 67 and the boot server on 4011 (both modes). */
  const answerPxe = (p: DhcpPacket, mac: string, ep: DhcpEndpoint, from: dgram.RemoteInfo, t0: number): void => {
    const type = messageType(p);
    const channel: PxeChannel = ep.kind === 'pxe' ? 'boot-server' : 'proxy';
    const serverAddress = serverAddressOf(ep);
    if (ep.kind === 'dhcp') {
      // Proxy offers answer DISCOVERs; a REQUEST on 67 is for the DHCP server, unless it names us.
      const sid = serverIdentifier(p);
      if (!(type === DhcpMessageType.Discover || (type === DhcpMessageType.Request && sid !== undefined && ourAddresses.has(sid)))) {
        stats.ignored++;
        return;
      }
    } else if (type !== DhcpMessageType.Request && type !== DhcpMessageType.Inform && type !== DhcpMessageType.Discover) {
      stats.ignored++;
      return;
    }
    const req = pxeRequestFrom(p, channel, { interface: ep.iface?.name ?? null, ...opts.requestContext });
    if (!req) {
      stats.ignored++;
      return;
    }
    if (pending >= maxPending) {
      stats.overloaded++;
      return;
    }
    pending++;
    const finish = (): void => {
      pending--;
    };
    void (async () => {
      try {
        const { decision, target } = ignored.has(mac) ? { decision: ignoredDecision(mac), target: null } : await pxeTarget(req);
        const decideMs = elapsedMs(t0);
        if (!target) {
          stats.ignored++;
          decided(p, mac, ep, channel, t0, decideMs, { decision: 'ignore', reason: decision.reason, reasonCode: decision.reasonCode, ip: req.clientIp, pxe: decision });
          return finish();
        }
        const reply = ep.kind === 'pxe'
          ? bootServerAck(p, req, target, serverAddress, httpPort)
          : proxyOffer(p, req, target, serverAddress, httpPort);
        later(() => {
          finish();
          send(ep, p, reply, from);
          if (ep.kind === 'pxe') stats.bootServerReplies++;
          else stats.proxyReplies++;
          decided(p, mac, ep, channel, t0, decideMs, { decision: decision.action, reason: decision.reason, reasonCode: decision.reasonCode, ip: req.clientIp, pxe: decision, bootFile: reply.file });
        }, delayMs());
      } catch (e) {
        finish();
        stats.decisionErrors++;
        log.warn(`PXE decision for ${mac} failed: ${(e as Error).message}`);
      }
    })();
  };

  /** Full mode on 67. */
  const answerFull = (p: DhcpPacket, mac: string, ep: DhcpEndpoint, from: dgram.RemoteInfo, t0: number): void => {
    const serverAddress = serverAddressOf(ep);
    const q = leaseQueryOf(p, mac);
    const pool = poolForRequest(book!, p, ep.iface?.address ?? null, serverAddress);
    const step = leaseStep(book!, p, q, pool, isOurServerId, Date.now());
    switch (step.kind) {
      case 'ignore':
        stats.ignored++;
        decided(p, mac, ep, 'dhcp', t0, elapsedMs(t0), { decision: 'ignore', reason: step.reason, ip: null });
        return;
      case 'nak': {
        stats.naks++;
        send(ep, p, nakReply(p, serverAddress, step.reason), from);
        decided(p, mac, ep, 'dhcp', t0, elapsedMs(t0), { decision: 'nak', reason: step.reason, ip: null });
        return;
      }
      case 'store':
        if (step.what === 'release') stats.released++;
        else stats.declined++;
        writer!.write(step.lease, null);
        decided(p, mac, ep, 'dhcp', t0, elapsedMs(t0), { decision: step.what, reason: `${step.what} of ${step.lease.ip}`, ip: step.lease.ip });
        return;
      case 'inform': {
        const reply = informAck(p, serverAddress, step.pool ? subnetMaskOf(step.pool) : undefined, step.pool?.config.router, step.pool?.config.dnsServers);
        send(ep, p, reply, from);
        decided(p, mac, ep, 'dhcp', t0, elapsedMs(t0), { decision: 'inform', reason: 'configuration only (DHCPINFORM)', ip: p.ciaddr });
        return;
      }
      case 'offer':
      case 'ack':
        break;
    }
    const job: AddressJob = { p, mac, ep, from, t0, step, serverAddress, ip: step.kind === 'offer' ? step.ip : step.lease.ip };
    if (!isPxeClientPacket(p) || ignored.has(mac)) {
      deliver(job, buildAddressReply(job, null), elapsedMs(t0), null, 0);
      return;
    }
    const req = pxeRequestFrom(p, 'dhcp', { interface: ep.iface?.name ?? null, clientIp: job.ip, ...opts.requestContext });
    if (!req || pending >= maxPending) {
      if (req) stats.overloaded++;
      deliver(job, buildAddressReply(job, null), elapsedMs(t0), null, 0);
      return;
    }
    pending++;
    void (async () => {
      let reply: DhcpPacket;
      let decision: PxeDecision | null = null;
      try {
        const r = await pxeTarget(req);
        decision = r.decision;
        reply = buildAddressReply(job, r.target ? { req, target: r.target } : null);
      } catch (e) {
        stats.decisionErrors++;
        log.warn(`PXE decision for ${mac} failed: ${(e as Error).message}; answering with an address only`);
        reply = buildAddressReply(job, null);
      }
      pending--;
      deliver(job, reply, elapsedMs(t0), decision, decision && decision.action !== 'ignore' ? delayMs() : 0);
    })();
  };

  // Full mode's OFFER/ACK path, hoisted (no closure per packet: this runs ~20k times a second).
  function buildAddressReply(job: AddressJob, pxe: { req: PxeBootRequest; target: BootTarget } | null): DhcpPacket {
    const { step } = job;
    const pool = step.pool;
    return addressReply(job.p, {
      messageType: step.kind === 'offer' ? DhcpMessageType.Offer : DhcpMessageType.Ack,
      serverAddress: job.serverAddress, yiaddr: job.ip, leaseSeconds: step.leaseSeconds, subnetMask: subnetMaskOf(pool),
      ...(pool.config.router ? { router: pool.config.router } : {}),
      ...(pool.config.dnsServers ? { dnsServers: pool.config.dnsServers } : {}),
      ...(pool.config.domainName ? { domainName: pool.config.domainName } : {}),
      ...(pxe ? { pxe: { ...pxe, httpPort } } : {}),
    });
  }

  function sendAddressReply(job: AddressJob, reply: DhcpPacket, decideMs: number, pxeDecision: PxeDecision | null): void {
    const { p, step, ip } = job;
    send(job.ep, p, reply, job.from);
    if (step.kind === 'offer') stats.offers++;
    else stats.acks++;
    decided(p, job.mac, job.ep, 'dhcp', job.t0, decideMs, {
      decision: step.kind, reason: pxeDecision ? `${step.kind} ${ip}; PXE: ${pxeDecision.reason}` : `${step.kind} ${ip}`,
      ip, reasonCode: pxeDecision?.reasonCode, pxe: pxeDecision, bootFile: reply.file || null,
    });
  }

  function deliver(job: AddressJob, reply: DhcpPacket, decideMs: number, pxeDecision: PxeDecision | null, wait: number): void {
    const { step } = job;
    if (step.kind === 'ack') {
      // The ACK leaves only once its lease is durable (group commit).
      writer!.write(step.lease, wait > 0
        ? () => later(() => sendAddressReply(job, reply, decideMs, pxeDecision), wait)
        : () => sendAddressReply(job, reply, decideMs, pxeDecision));
    } else if (wait > 0) {
      later(() => sendAddressReply(job, reply, decideMs, pxeDecision), wait);
    } else {
      sendAddressReply(job, reply, decideMs, pxeDecision);
    }
  }

  const onMessage = (msg: Buffer, from: dgram.RemoteInfo, ep: DhcpEndpoint): void => {
    const t0 = performance.now();
    stats.received++;
    const p = parseDhcpPacket(msg);
    if (isDhcpParseError(p)) {
      stats.invalid++;
      publish('dhcp.packet.invalid', { code: p.code, message: p.message, from: from.address, port: ep.port, interface: ep.iface?.name ?? null, length: msg.length });
      return;
    }
    const mac = p.op === 1 ? macAddress(p) : undefined;
    if (mac === undefined || messageType(p) === undefined) {
      stats.ignored++; // replies from other servers, non-Ethernet clients, plain BOOTP
      return;
    }
    try {
      if (ep.kind === 'pxe' || opts.mode === 'proxy') {
        // Never answer non-PXE clients in proxy mode or on 4011.
        if (!isPxeClientPacket(p)) {
          stats.ignored++;
          return;
        }
        answerPxe(p, mac, ep, from, t0);
      } else {
        answerFull(p, mac, ep, from, t0);
      }
    } catch (e) {
      // A packet must never take the listener down; count it and go on.
      stats.invalid++;
      publish('dhcp.packet.invalid', { code: 'PXE_ERR_DHCP_HANDLER', message: (e as Error).message, from: from.address, port: ep.port, interface: ep.iface?.name ?? null, length: msg.length });
    }
  };

  const listeners = await openDhcpListeners({
    address: opts.address, dhcpPort: opts.dhcpPort, pxePort: opts.pxePort, interfaces, onMessage,
    onError: onSendError,
    ...(opts.native !== undefined ? { native: opts.native } : {}),
  });
  for (const w of listeners.warnings) log.warn(w);
  // The native receivers count in C; these read their totals (enumerable, so copies of stats carry them).
  const receivers = listeners.endpoints.flatMap((ep) => (ep.receiver ? [ep.receiver] : []));
  const receiverTotal = (k: 0 | 1) => (): number => receivers.reduce((sum, r) => sum + r.stats[k]!, 0);
  Object.defineProperties(stats, {
    oversized: { enumerable: true, get: receiverTotal(0) },
    receiveErrors: { enumerable: true, get: receiverTotal(1) },
  });
  if (interfaces.length === 0 && (opts.address === '0.0.0.0' || opts.address === undefined)) {
    const nics = Object.entries(networkInterfaces())
      .filter(([, addrs]) => (addrs ?? []).some((a) => a.family === 'IPv4' && !a.internal))
      .map(([name]) => name);
    if (nics.length > 1) {
      log.warn(`DHCP listens on every interface (${nics.join(', ')}) and broadcast replies follow the routing table; ` +
        'name the PXE network with --interface so answers leave through it (rule 49)');
    }
  }
  const sweep = book ? setInterval(() => book!.sweepOffers(Date.now()), 10_000) : null;
  sweep?.unref();

  return {
    mode: opts.mode,
    endpoints: listeners.endpoints.map((ep) => ({ kind: ep.kind, interface: ep.iface?.name ?? null, port: ep.socket.address().port, address: ep.socket.address().address })),
    stats,
    warnings: listeners.warnings,
    macIgnoreList: ignored,
    leaseBook: book,
    async close() {
      if (closed) return;
      if (sweep) clearInterval(sweep);
      await writer?.close();
      closed = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      replies.close(); // what the last turn queued (e.g. ACKs of the final commit)
      await listeners.close();
    },
  };
}
