/**
 * TFTP listener: read requests on the well-known port, one ephemeral-port socket
 * per transfer (RFC 1350 TIDs), limits, counters and events. The protocol itself
 * is in transfer.ts; names and bytes come from a TftpFileResolver.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { loadNativeNet, type NativeNet } from '../native/udp-device.js';
import { publish } from '../events.js';
import { createDiskResolver, type TftpClientInfo, type TftpFileResolver, type TftpFileSource } from './files.js';
import { negotiateOptions } from './options.js';
import { encodeError, isTftpParseError, OPCODE, parseTftpPacket, TFTP_ERROR, type TftpRequest } from './packet.js';
import { isTftpAccessError, looksLikeTraversal, normalizeRequestName } from './paths.js';
import { DEFAULT_READ_AHEAD, FileBlockReader } from './reader.js';
import { Transfer, type TransferResult, type TransferTimer } from './transfer.js';

export interface TftpServerOptions {
  /** Listen address; '0.0.0.0' by default, '::' for IPv6. */
  address?: string;
  /** 69 by default; 0 picks a free port (tests). */
  port?: number;
  /** Directory served to clients; nothing outside it is reachable. */
  root: string;
  /** Replaces the disk resolver (compose GeneratedFiles in front of createDiskResolver(root)). */
  resolver?: TftpFileResolver;
  /** Largest blksize granted (RFC 2348 max 65464). */
  maxBlksize?: number;
  /** Largest windowsize granted (RFC 7440). */
  maxWindowsize?: number;
  /** Largest windowsize × blksize granted, i.e. retransmission memory per transfer (1 MiB). */
  maxWindowBytes?: number;
  /** Retransmission timeout when the client sends no `timeout` option. */
  timeoutMs?: number;
  /** Timeouts without progress before a transfer is abandoned. */
  retries?: number;
  /** Concurrent transfers; requests beyond it are dropped (firmware retries its RRQ). */
  maxTransfers?: number;
  /** Concurrent transfers per client address; beyond it the client gets ERROR 0. */
  maxPerClient?: number;
  /** Read-ahead chunk per transfer (two are held); default max(256 KiB, 8 × blksize). */
  readAheadBytes?: number;
  /** Socket buffer size for transfer sockets; the kernel may cap it (net.core.wmem_max). */
  socketBufferBytes?: number;
  /**
   * Send each window with one sendmmsg(2) through the native addon (default: yes when
   * the addon is built, unless the environment has PXEPOINT_TFTP_NATIVE=0). false forces
   * the pure-JS path (one dgram send per datagram). Decided once, at start.
   */
  nativeSend?: boolean;
  /**
   * With the native path, hand each run of full blocks to the kernel as one UDP GSO
   * super-datagram (UDP_SEGMENT); turned off per transfer at the first refusal (blocks
   * larger than the path MTU, a device without segmentation). Default: on, unless the
   * environment has PXEPOINT_TFTP_GSO=0.
   */
  udpGso?: boolean;
  /**
   * Native path only: after a window (or the OACK) is sent, check the transfer socket
   * for the ACK without sleeping for up to this many microseconds before going back to
   * the event loop (docs/decisions/0015-tftp-busy-poll.md). Spins only while exactly one
   * transfer runs and its ACK is due, never when idle; a transfer whose ACKs keep coming
   * later than this backs off. 0 turns it off. Default 100 (DEFAULT_BUSY_POLL_MICROS) on a
   * machine with two CPUs or more, 0 on one (the spin would take the only CPU from every
   * other process); PXEPOINT_TFTP_BUSY_POLL_US in the environment overrides the default.
   */
  busyPollMicros?: number;
}

/** See busyPollMicros: covers the ACK turnaround of a window on a fast LAN or loopback. */
export const DEFAULT_BUSY_POLL_MICROS = 100;
/** Longest the busy-poll keeps one transfer going before the event loop runs again. */
const BUSY_POLL_TURN_MS = 2;
/** Blocks at least this large are read straight into the window (no read-ahead chunk in between). */
const DIRECT_READ_MIN = 16 * 1024;
/** Largest client datagram the busy-poll takes (ACKs are 4 bytes, ERRORs ~516); larger ones go to dgram. */
const BUSY_POLL_BUF = 2048;

/**
 * How a transfer reads its file (pure; table-tested in test/tftp/reader-settings.test.ts):
 * large blocks get larger reads (8 blocks a read, at most 1 MiB), small ones the default;
 * while busy-polling, read-ahead chunks are refilled from the page cache during the spin;
 * and only blocks of at least DIRECT_READ_MIN go from the page cache straight into their
 * window slot (for small blocks one read-ahead chunk serves many blocks, which is cheaper).
 */
export function readerSettings(t: { blksize: number; netascii: boolean; busyPoll: boolean; readAhead?: number | undefined }): NonNullable<ConstructorParameters<typeof FileBlockReader>[1]> {
  return {
    readAhead: t.readAhead ?? Math.min(1 << 20, Math.max(DEFAULT_READ_AHEAD, 8 * t.blksize)),
    netascii: t.netascii,
    syncTopUp: t.busyPoll,
    ...(t.blksize >= DIRECT_READ_MIN ? { directMin: DIRECT_READ_MIN } : {}),
  };
}

function busyPollSetting(want: number | undefined): number {
  const env = process.env.PXEPOINT_TFTP_BUSY_POLL_US;
  // CPUs of the machine, not the affinity mask: a server pinned to one CPU of several
  // takes that CPU only from work pinned beside it; the scheduler moves the rest.
  const v = want ?? (env !== undefined && env !== '' ? Number(env) : os.cpus().length >= 2 ? DEFAULT_BUSY_POLL_MICROS : 0);
  return Number.isFinite(v) && v > 0 ? Math.min(Math.floor(v), 10_000) : 0;
}

/** The native send functions, or null: the pure-JS path. */
interface NativeSend {
  openTransferSocket: NonNullable<NativeNet['openTransferSocket']>;
  sockaddrFor: NonNullable<NativeNet['sockaddrFor']>;
  sendWindow: NonNullable<NativeNet['sendWindow']>;
  closeFd: NativeNet['closeFd'];
  /** Absent from an addon built before it existed: no busy-poll then. */
  pollRecv: NativeNet['pollRecv'];
}

function selectNativeSend(want: boolean | undefined): NativeSend | null {
  if (want === false) return null;
  if (want === undefined && process.env.PXEPOINT_TFTP_NATIVE === '0') return null;
  const addon = loadNativeNet().addon;
  // An addon built before the fast path existed lacks these: fall back to dgram.
  if (!addon || typeof addon.sendWindow !== 'function' || typeof addon.openTransferSocket !== 'function' || typeof addon.sockaddrFor !== 'function') return null;
  return {
    openTransferSocket: addon.openTransferSocket.bind(addon),
    sockaddrFor: addon.sockaddrFor.bind(addon),
    sendWindow: addon.sendWindow.bind(addon),
    closeFd: addon.closeFd.bind(addon),
    pollRecv: typeof addon.pollRecv === 'function' ? addon.pollRecv.bind(addon) : undefined,
  };
}

export interface TftpStats {
  requests: number;
  started: number;
  completed: number;
  /** Timed out or failed to read. */
  failed: number;
  /** Ended by the client with an ERROR packet (e.g. OVMF's tsize probe, ERROR 8). */
  clientAborted: number;
  refused: number;
  invalidPackets: number;
  unknownTid: number;
  duplicateRequests: number;
  active: number;
  bytesSent: number;
  retransmits: number;
  /** Busy-polls that caught the ACK (native path, busyPollMicros). */
  busyPollHits: number;
  /** Busy-polls that ran out of time (the ACK then came through the event loop). */
  busyPollMisses: number;
}

export interface TftpServer {
  readonly address: string;
  readonly port: number;
  /** True when transfers send windows through the native sendmmsg path. */
  readonly nativeSend: boolean;
  /** Busy-poll budget in µs after each window (0: off, or not the native path). */
  readonly busyPollMicros: number;
  stats(): TftpStats;
  close(): Promise<void>;
}

interface ActiveTransfer {
  key: string;
  client: TftpClientInfo;
  transfer: Transfer | null;
  socket: dgram.Socket | null;
  source: TftpFileSource | null;
  ended: Promise<void>;
  cancel(reason: string): void;
}

/** dgram resolves every destination with dns.lookup (a nextTick per packet); ours are IPs already. */
const ipLookup4 = (address: string, _family: unknown, cb: (err: Error | null, address: string, family: number) => void): void => {
  cb(null, address, 4);
};
const ipLookup6 = (address: string, _family: unknown, cb: (err: Error | null, address: string, family: number) => void): void => {
  cb(null, address, 6);
};

const UNKNOWN_TID_PACKET = encodeError(TFTP_ERROR.UNKNOWN_TID, 'unknown transfer ID');

/** Replies to hostile sources must never throw out of a message handler. */
function sendSafely(socket: dgram.Socket, packet: Buffer, to: { address: string; port: number }): void {
  try {
    socket.send(packet, to.port, to.address);
  } catch {
    // a closed socket or an unusable address: nothing to tell anyone
  }
}

function realTimer(onFire: () => void): TransferTimer {
  let t: NodeJS.Timeout | null = null;
  let armedMs = -1;
  return {
    arm(ms) {
      // refresh() reuses the timer object: one allocation per transfer, not per window.
      if (t && ms === armedMs) t.refresh();
      else {
        if (t) clearTimeout(t);
        t = setTimeout(onFire, ms);
        armedMs = ms;
      }
    },
    cancel() {
      if (t) clearTimeout(t);
      t = null;
      armedMs = -1;
    },
  };
}

export async function startTftpServer(opts: TftpServerOptions): Promise<TftpServer> {
  const address = opts.address ?? '0.0.0.0';
  const family = net.isIPv6(address) ? 'udp6' : 'udp4';
  const ipLookup = family === 'udp6' ? ipLookup6 : ipLookup4;
  const limits = {
    maxBlksize: opts.maxBlksize ?? 65464,
    maxWindowsize: opts.maxWindowsize ?? 64,
    defaultTimeoutMs: opts.timeoutMs ?? 1000,
    maxWindowBytes: opts.maxWindowBytes ?? 1024 * 1024,
  };
  const retries = opts.retries ?? 5;
  const maxTransfers = opts.maxTransfers ?? 100;
  const maxPerClient = opts.maxPerClient ?? 8;
  const readAhead = opts.readAheadBytes;
  const sockBuf = opts.socketBufferBytes ?? 4 * 1024 * 1024;
  const resolver = opts.resolver ?? createDiskResolver(opts.root);
  const native = selectNativeSend(opts.nativeSend);
  const gsoWanted = opts.udpGso ?? process.env.PXEPOINT_TFTP_GSO !== '0';
  const pollRecv = native?.pollRecv;
  const busyPollMicros = pollRecv ? busyPollSetting(opts.busyPollMicros) : 0;
  // One receive buffer for every busy-poll: the thread spins for one transfer at a time.
  const pollBuf = busyPollMicros > 0 ? Buffer.allocUnsafe(BUSY_POLL_BUF) : null;

  const stats: TftpStats = {
    requests: 0,
    started: 0,
    completed: 0,
    failed: 0,
    clientAborted: 0,
    refused: 0,
    invalidPackets: 0,
    unknownTid: 0,
    duplicateRequests: 0,
    active: 0,
    bytesSent: 0,
    retransmits: 0,
    busyPollHits: 0,
    busyPollMisses: 0,
  };
  const active = new Map<string, ActiveTransfer>();
  const perClient = new Map<string, number>();
  let closing = false;

  const main = dgram.createSocket({ type: family, recvBufferSize: 1024 * 1024, lookup: ipLookup as never });
  main.on('error', () => {
    // Receive errors on UDP are transient (ICMP noise); the socket stays usable.
  });

  const refuse = (client: TftpClientInfo, file: string | null, code: number | null, reason: string, message: string): void => {
    stats.refused++;
    // Names come from the wire: cap what reaches the logs.
    publish('tftp.request.refused', { client: `${client.address}:${client.port}`, file: file?.slice(0, 256) ?? null, code, reason });
    if (code !== null && !closing) sendSafely(main, encodeError(code, message), client);
  };

  const invalidPacket = (client: TftpClientInfo, reason: string, opcode: number): void => {
    stats.invalidPackets++;
    publish('tftp.packet.invalid', { client: `${client.address}:${client.port}`, reason, opcode });
  };

  main.on('message', (msg, rinfo) => {
    // Source port 0 cannot be answered (dgram refuses it) and is never a real client.
    if (rinfo.port === 0) {
      stats.invalidPackets++;
      return;
    }
    const client = { address: rinfo.address, port: rinfo.port };
    const p = parseTftpPacket(msg);
    if (isTftpParseError(p)) {
      invalidPacket(client, p.reason, p.opcode);
      if (p.opcode === OPCODE.RRQ || p.opcode === OPCODE.WRQ) {
        // A malformed request still gets an answer, so the client does not retry it;
        // one that smuggles a traversal (e.g. behind a NUL) is an access violation.
        const fields = msg.toString('latin1', 2).split('\0');
        stats.requests++;
        if (fields.some(looksLikeTraversal)) refuse(client, fields[0] ?? null, TFTP_ERROR.ACCESS_VIOLATION, 'access', 'access violation');
        else refuse(client, fields[0] ?? null, TFTP_ERROR.ILLEGAL_OPERATION, 'malformed-request', `malformed request: ${p.reason}`);
      }
      return;
    }
    if (p.type === 'wrq') {
      stats.requests++;
      refuse(client, p.filename, TFTP_ERROR.ACCESS_VIOLATION, 'write-request', 'writes are not accepted by this server');
      return;
    }
    if (p.type !== 'rrq') {
      // DATA/ACK/OACK/ERROR belong on a transfer port; on port 69 they are stale or noise.
      invalidPacket(client, `unexpected ${p.type} on request port`, -1);
      return;
    }
    stats.requests++;
    handleReadRequest(p, client);
  });

  function handleReadRequest(req: TftpRequest, client: TftpClientInfo): void {
    const key = `${client.address}|${client.port}`;
    if (active.has(key)) {
      // The client repeated its RRQ (our OACK/DATA 1 was lost or slow); the running
      // transfer's own timer retransmits, a second transfer would only compete.
      stats.duplicateRequests++;
      return;
    }
    if (closing) return;
    const name = normalizeRequestName(req.filename);
    if (!name.ok || looksLikeTraversal(req.mode)) {
      refuse(client, req.filename, TFTP_ERROR.ACCESS_VIOLATION, 'access', `access violation: ${name.ok ? 'bad mode field' : name.reason}`);
      return;
    }
    const mode = req.mode.toLowerCase();
    if (mode !== 'octet' && mode !== 'netascii') {
      refuse(client, req.filename, TFTP_ERROR.ILLEGAL_OPERATION, 'bad-mode', `transfer mode "${req.mode}" is not supported; use octet`);
      return;
    }
    if (active.size >= maxTransfers) {
      refuse(client, req.filename, null, 'busy', '');
      return;
    }
    const n = perClient.get(client.address) ?? 0;
    if (n >= maxPerClient) {
      refuse(client, req.filename, TFTP_ERROR.NOT_DEFINED, 'per-client-limit', `too many transfers from ${client.address}; try again`);
      return;
    }
    perClient.set(client.address, n + 1);
    let endResolve!: () => void;
    const entry: ActiveTransfer = {
      key,
      client,
      transfer: null,
      socket: null,
      source: null,
      ended: new Promise<void>((r) => (endResolve = r)),
      cancel: () => undefined,
    };
    active.set(key, entry);
    stats.active = active.size;
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      active.delete(key);
      stats.active = active.size;
      const left = (perClient.get(client.address) ?? 1) - 1;
      if (left <= 0) perClient.delete(client.address);
      else perClient.set(client.address, left);
      endResolve();
    };
    runTransfer(req, client, mode === 'netascii', entry, release).catch(() => release());
  }

  async function runTransfer(
    req: TftpRequest,
    client: TftpClientInfo,
    netascii: boolean,
    entry: ActiveTransfer,
    release: () => void,
  ): Promise<void> {
    let cancelled = false;
    entry.cancel = () => {
      cancelled = true;
    };
    let source: TftpFileSource | null;
    try {
      source = await resolver.open(req.filename, client);
    } catch (e) {
      if (isTftpAccessError(e)) refuse(client, req.filename, TFTP_ERROR.ACCESS_VIOLATION, 'access', `access violation: ${e.reason}`);
      else refuse(client, req.filename, TFTP_ERROR.NOT_DEFINED, 'open-error', 'the file could not be opened');
      release();
      return;
    }
    if (!source) {
      refuse(client, req.filename, TFTP_ERROR.FILE_NOT_FOUND, 'not-found', 'file not found');
      release();
      return;
    }
    if (cancelled || closing) {
      await source.close().catch(() => undefined);
      release();
      return;
    }
    entry.source = source;
    const neg = negotiateOptions(req.options, limits, netascii ? null : source.size);
    // Native path: the kernel address of the client, once per transfer (null for a
    // scoped IPv6 address or a family mismatch: that transfer uses dgram's send).
    const dest = native && (family === 'udp6' ? net.isIPv6(client.address) : net.isIPv4(client.address)) ? native.sockaddrFor(client.address, client.port) : null;
    // With the native path the socket is created by the addon and handed to dgram as an
    // fd (like the DHCP listener does): we then own a known fd for sendmmsg, instead of
    // reading the undocumented `socket._handle.fd`. dgram still receives, closes it and
    // sends everything else (OACK, ERROR 5, the rest of a window the kernel had no room for).
    let fd = -1;
    if (dest && native) {
      try {
        fd = native.openTransferSocket(address, sockBuf, 1024 * 1024);
      } catch {
        fd = -1;
      }
    }
    const socket =
      fd >= 0
        ? dgram.createSocket({ type: family, lookup: ipLookup as never })
        : dgram.createSocket({ type: family, recvBufferSize: 1024 * 1024, sendBufferSize: sockBuf, lookup: ipLookup as never });
    entry.socket = socket;
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        const done = (): void => {
          socket.off('error', reject);
          resolve();
        };
        if (fd >= 0) socket.bind({ fd }, done);
        else socket.bind(0, address, done);
      });
    } catch {
      // bind({ fd }) fails only synchronously, before dgram takes the fd over: ours to close.
      if (fd >= 0 && native) native.closeFd(fd);
      socket.close();
      await source.close().catch(() => undefined);
      refuse(client, req.filename, TFTP_ERROR.NOT_DEFINED, 'socket-error', 'server could not open a transfer port');
      release();
      return;
    }
    if (cancelled || closing) {
      socket.close();
      await source.close().catch(() => undefined);
      release();
      return;
    }
    const reader = new FileBlockReader(source, readerSettings({ blksize: neg.blksize, netascii, busyPoll: busyPollMicros > 0 && fd >= 0, readAhead }));
    const startedAt = performance.now();
    const options = { blksize: neg.blksize, windowsize: neg.windowsize, timeoutMs: neg.timeoutMs, tsize: neg.tsize, mode: netascii ? 'netascii' : 'octet' };
    const fileSize = source.size;
    stats.started++;
    publish('tftp.transfer.start', {
      file: req.filename,
      client: `${client.address}:${client.port}`,
      size: fileSize,
      requested: req.options,
      options,
      transferPort: socket.address().port,
    });

    const onEnd = (r: TransferResult): void => {
      stats.bytesSent += r.bytes;
      stats.retransmits += r.retransmits;
      if (r.outcome === 'ok') stats.completed++;
      else if (r.outcome === 'client-error') stats.clientAborted++;
      else if (r.outcome !== 'cancelled') stats.failed++;
      publish('tftp.transfer.end', {
        file: req.filename,
        client: `${client.address}:${client.port}`,
        size: fileSize,
        options,
        ...r,
        durationMs: Math.round((performance.now() - startedAt) * 10) / 10,
      });
      try {
        socket.close();
      } catch {
        // already closed
      }
      reader.close().then(release, release);
    };

    // UDP GSO (one super-datagram per run of full blocks) while the kernel accepts it.
    let gso = native !== null && gsoWanted;
    const transfer = new Transfer(
      { blksize: neg.blksize, windowsize: neg.windowsize, timeoutMs: neg.timeoutMs, retries, oack: neg.oack },
      reader,
      {
        send: (buf) => {
          try {
            socket.send(buf, client.port, client.address);
          } catch (e) {
            // Only a closed socket throws here; end the transfer outside the send loop.
            queueMicrotask(() => transfer.cancel(`send failed: ${(e as Error).message}`));
          }
        },
        sendSlots:
          fd >= 0 && dest && native
            ? (ring, stride, lens, first, count) => {
                let sent = native.sendWindow(fd, dest, ring, stride, lens, first, count, gso);
                if (sent === count) return;
                if (gso && (sent === -22 || sent === -5 || sent === -90)) {
                  // EINVAL/EIO/EMSGSIZE: segments larger than the path MTU, or a device
                  // that cannot segment. Plain sendmmsg for the rest of this transfer.
                  gso = false;
                  sent = native.sendWindow(fd, dest, ring, stride, lens, first, count, false);
                  if (sent === count) return;
                }
                if (sent < 0) {
                  queueMicrotask(() => transfer.cancel(`send failed: errno ${-sent}`));
                  return;
                }
                // The socket buffer is full: the rest goes through dgram, which queues it
                // in libuv until the socket is writable (what the JS path always does).
                try {
                  for (let j = sent; j < count; j++) {
                    const slot = (first + j) % lens.length;
                    socket.send(ring, slot * stride, lens[slot] as number, client.port, client.address);
                  }
                } catch (e) {
                  queueMicrotask(() => transfer.cancel(`send failed: ${(e as Error).message}`));
                }
              }
            : undefined,
        createTimer: realTimer,
        now: () => performance.now(),
      },
      onEnd,
    );
    entry.transfer = transfer;
    entry.cancel = (reason) => transfer.cancel(reason);

    // Busy-poll (busyPollMicros): after a window is sent, wait for its ACK spinning
    // instead of sleeping in epoll, so the ACK is taken without this thread's wake-up.
    // Only while this is the one running transfer (others would wait behind the spin),
    // only while an ACK is due, at most BUSY_POLL_TURN_MS before the event loop runs
    // again; a transfer whose ACKs keep missing the budget spins on ever fewer windows
    // (every 2nd, 4th, … 64th), so a slow client costs little CPU. The ACK goes through
    // transfer.handlePacket like one from dgram; anything else is left to dgram.
    let spinning = false;
    let misses = 0;
    let skip = 0;
    const busyPoll = (): void => {
      if (spinning || !pollBuf || !pollRecv || fd < 0 || !dest) return;
      if (active.size !== 1 || !transfer.awaitingAck || skip > 0) {
        if (skip > 0 && transfer.awaitingAck) skip--;
        reader.readAhead(); // not spinning: read ahead on the thread pool as usual
        return;
      }
      spinning = true;
      try {
        const until = performance.now() + BUSY_POLL_TURN_MS;
        while (transfer.awaitingAck && active.size === 1 && !closing) {
          // The wait for the ACK is idle time: read the next window's first block into its
          // slot, and refill one read-ahead chunk from the page cache.
          transfer.prefill();
          reader.topUp();
          const n = pollRecv(fd, dest, pollBuf, busyPollMicros, -1);
          if (n < 0) {
            if (n === -1) {
              stats.busyPollMisses++;
              misses = Math.min(misses + 1, 6);
              skip = (1 << misses) - 1;
            }
            break;
          }
          stats.busyPollHits++;
          misses = 0;
          transfer.handlePacket(pollBuf.subarray(0, n));
          if (performance.now() >= until) break;
        }
      } finally {
        spinning = false;
      }
    };

    socket.on('message', (msg, rinfo) => {
      if (rinfo.port !== client.port || rinfo.address !== client.address) {
        // RFC 1350: a packet from a foreign TID gets ERROR 5 and the transfer goes on.
        stats.unknownTid++;
        if (rinfo.port !== 0) sendSafely(socket, UNKNOWN_TID_PACKET, rinfo);
        return;
      }
      transfer.handlePacket(msg);
      busyPoll();
    });
    socket.on('error', (err) => transfer.cancel(`socket error: ${err.message}`));
    transfer.start();
    busyPoll();
  }

  await new Promise<void>((resolve, reject) => {
    main.once('error', reject);
    main.bind(opts.port ?? 69, address, () => {
      main.off('error', reject);
      resolve();
    });
  });
  const bound = main.address();

  return {
    address: bound.address,
    port: bound.port,
    nativeSend: native !== null,
    busyPollMicros,
    stats: () => ({ ...stats }),
    async close() {
      if (closing) return;
      closing = true;
      await new Promise<void>((r) => main.close(() => r()));
      const waits: Promise<void>[] = [];
      for (const e of active.values()) {
        e.cancel('server closing');
        waits.push(e.ended);
      }
      await Promise.all(waits);
    },
  };
}
