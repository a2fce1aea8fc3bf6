/**
 * Option negotiation (pure): what the client asked for + the server's limits + the
 * file's size → the values the transfer uses and the OACK to send.
 *
 * RFC 2347: the server acknowledges only options it understands, with values it
 * accepts; an unknown or malformed option is simply left out of the OACK. If no
 * option survives, there is no OACK and DATA 1 is the answer (RFC 1350 behaviour).
 */
import { MAX_BLKSIZE, type TftpOption } from './packet.js';

export interface NegotiationLimits {
  /** Largest blksize offered; requests above it are clamped (RFC 2348 allows a smaller answer). */
  maxBlksize: number;
  /** Largest windowsize offered (RFC 7440 allows a smaller answer). */
  maxWindowsize: number;
  /** Retransmission timeout when the client does not send `timeout`. */
  defaultTimeoutMs: number;
  /**
   * Upper bound on windowsize × blksize, the bytes a transfer keeps for retransmission;
   * the windowsize is lowered to respect it (RFC 7440 lets the server answer smaller).
   */
  maxWindowBytes?: number;
}

export interface NegotiatedOptions {
  blksize: number;
  windowsize: number;
  timeoutMs: number;
  /** The size announced to the client, when it asked for tsize and we know it. */
  tsize: number | null;
  /** Options for the OACK, in the client's order and spelling; null → send DATA 1 directly. */
  oack: TftpOption[] | null;
}

export const DEFAULT_BLKSIZE = 512;

/** Strict decimal: RFC 2347 values are ASCII digits; "0x10", "1e3", " 5" are refused. */
function decimal(value: string): number | null {
  if (!/^[0-9]{1,10}$/.test(value)) return null;
  return Number(value);
}

/**
 * @param fileSize the octet size of the file, or null when it is not known in
 *   advance (netascii conversion changes it), in which case tsize is not acknowledged.
 */
export function negotiateOptions(
  requested: readonly TftpOption[],
  limits: NegotiationLimits,
  fileSize: number | null,
): NegotiatedOptions {
  const result: NegotiatedOptions = {
    blksize: DEFAULT_BLKSIZE,
    windowsize: 1,
    timeoutMs: limits.defaultTimeoutMs,
    tsize: null,
    oack: null,
  };
  const oack: TftpOption[] = [];
  const seen = new Set<string>();
  for (const { name, value } of requested) {
    const key = name.toLowerCase();
    // A repeated option is ambiguous; the first one counts.
    if (seen.has(key)) continue;
    seen.add(key);
    const n = decimal(value);
    switch (key) {
      case 'blksize': {
        // RFC 2348: 8..65464. Values above our maximum are answered with the maximum.
        if (n === null || n < 8) break;
        const b = Math.min(n, MAX_BLKSIZE, Math.max(8, limits.maxBlksize));
        result.blksize = b;
        oack.push({ name, value: String(b) });
        break;
      }
      case 'windowsize': {
        // RFC 7440: 1..65535, the server may answer with a smaller value.
        if (n === null || n < 1 || n > 65535) break;
        const w = Math.min(n, Math.max(1, limits.maxWindowsize));
        result.windowsize = w;
        oack.push({ name, value: String(w) });
        break;
      }
      case 'timeout': {
        // RFC 2349: 1..255 seconds; the server must echo it unchanged or leave it out.
        if (n === null || n < 1 || n > 255) break;
        result.timeoutMs = n * 1000;
        oack.push({ name, value: String(n) });
        break;
      }
      case 'tsize': {
        // RFC 2349: a read request carries 0; the OACK carries the real size.
        if (n === null || fileSize === null) break;
        result.tsize = fileSize;
        oack.push({ name, value: String(fileSize) });
        break;
      }
      default:
        break; // unknown options are ignored (RFC 2347)
    }
  }
  // Bound the window's memory. blksize is known only after the loop (any order is legal).
  if (limits.maxWindowBytes !== undefined && result.windowsize * result.blksize > limits.maxWindowBytes) {
    result.windowsize = Math.max(1, Math.floor(limits.maxWindowBytes / result.blksize));
    const w = oack.find((o) => o.name.toLowerCase() === 'windowsize');
    if (w) w.value = String(result.windowsize);
  }
  result.oack = oack.length > 0 ? oack : null;
  return result;
}
