/** The client's address as the boot sessions know it: IPv4-mapped IPv6 ("::ffff:10.0.0.5") as plain IPv4. */
import type { FastifyRequest } from 'fastify';

export function clientAddress(req: FastifyRequest): string {
  const ip = req.ip;
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice('::ffff:'.length) : ip;
}

/** "http://<Host header>": the base URL the machine used to reach us, for the URLs in its script. */
export function baseUrlOf(req: FastifyRequest): string {
  const host = req.headers.host ?? 'localhost';
  // The Host header is client input: keep only what a host[:port] may contain.
  const safe = /^[A-Za-z0-9.\-:[\]]{1,255}$/.test(host) ? host : 'localhost';
  return `${req.protocol}://${safe}`;
}
