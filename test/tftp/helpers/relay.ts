/**
 * In-process lossy UDP relay on loopback for TFTP: drops, duplicates and reorders
 * packets in both directions with a seeded PRNG, so a failure is reproducible.
 *
 * TFTP changes ports mid-conversation (the server answers from a new TID), so the
 * relay mirrors that: the client talks to `port`; for every server TID it sees, it
 * opens a client-facing socket, and the client's packets to it go to that TID.
 */
import dgram from 'node:dgram';
import { mulberry32 } from '../../support/prng.js';

export { mulberry32 };


export interface Impairment {
  drop: number;
  dup: number;
  reorder: number;
}

export interface RelayStats {
  forwarded: number;
  dropped: number;
  duplicated: number;
  reordered: number;
}

export interface LossyRelay {
  port: number;
  stats: RelayStats;
  close(): Promise<void>;
}

export async function startLossyRelay(o: { serverPort: number; seed: number; impair: Impairment }): Promise<LossyRelay> {
  const rand = mulberry32(o.seed);
  const stats: RelayStats = { forwarded: 0, dropped: 0, duplicated: 0, reordered: 0 };
  const sockets: dgram.Socket[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let closed = false;

  const open = async (): Promise<dgram.Socket> => {
    const s = dgram.createSocket('udp4');
    s.on('error', () => undefined);
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
    sockets.push(s);
    return s;
  };

  const impaired = (via: dgram.Socket, msg: Buffer, port: number): void => {
    if (closed) return;
    if (rand() < o.impair.drop) {
      stats.dropped++;
      return;
    }
    const copy = Buffer.from(msg);
    const send = (): void => {
      if (!closed) via.send(copy, port, '127.0.0.1');
    };
    if (rand() < o.impair.reorder) {
      // Hold it back a little: the packets sent meanwhile overtake it.
      stats.reordered++;
      const t = setTimeout(() => {
        timers.delete(t);
        send();
      }, 1 + Math.floor(rand() * 4));
      timers.add(t);
    } else send();
    if (rand() < o.impair.dup) {
      stats.duplicated++;
      send();
    }
    stats.forwarded++;
  };

  const front = await open();
  // Per client port: the upstream socket; per server TID: the client-facing socket.
  // Promises are cached so packets arriving while a socket is being bound share it.
  const upstream = new Map<number, Promise<dgram.Socket>>();

  const upstreamFor = (clientPort: number): Promise<dgram.Socket> => {
    let p = upstream.get(clientPort);
    if (!p) {
      p = open().then((up) => {
        const faces = new Map<number, Promise<dgram.Socket>>();
        up.on('message', (m, from) => {
          const serverTid = from.port;
          let f = faces.get(serverTid);
          if (!f) {
            f = open().then((face) => {
              face.on('message', (cm) => impaired(up, cm, serverTid));
              return face;
            });
            faces.set(serverTid, f);
          }
          void f.then((face) => impaired(face, m, clientPort));
        });
        return up;
      });
      upstream.set(clientPort, p);
    }
    return p;
  };

  front.on('message', (msg, rinfo) => {
    void upstreamFor(rinfo.port).then((up) => impaired(up, msg, o.serverPort));
  });

  return {
    port: (front.address() as { port: number }).port,
    stats,
    async close() {
      closed = true;
      for (const t of timers) clearTimeout(t);
      await Promise.all(sockets.map((s) => new Promise<void>((r) => s.close(() => r()))));
    },
  };
}
