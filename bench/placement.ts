/**
 * Where a bench's processes run. On a small VM the scheduler decides whether a load
 * generator and the server under test share a core, and that alone moves results by
 * 1.5–3x: a cross-core wake-up is an IPI (expensive under virtualisation), a same-core
 * one a plain context switch, and a generator that lands on the server's core waits for
 * it (unpinned, perfdhcp's receiving thread last ran on the DHCP server's core in about
 * half of the samples, and its socket overflowed). So every bench pins, with taskset and
 * identically for pxepoint and its peers:
 *
 *  - "split" (default): servers on CPU 0, load generators and clients on CPU 1 — like two
 *    machines, each woken by the other;
 *  - "shared": everything on CPU 0 (where the CPU itself is the limit);
 *  - "none": no pinning, the scheduler decides.
 *
 * With one CPU, or without taskset, nothing is pinned and `describe()` says so.
 */
import os from 'node:os';
import { which } from '../test/support/tools.js';

export type PlacementMode = 'split' | 'shared' | 'none';

export interface Placement {
  readonly mode: PlacementMode;
  /** True when processes are really pinned. */
  readonly pinned: boolean;
  /** The command prefix for a server ([] when unpinned), e.g. ['taskset', '-c', '0']. */
  readonly server: readonly string[];
  /** The command prefix for a load generator or client. */
  readonly client: readonly string[];
  /** "servers on CPU 0, clients on CPU 1", "unpinned", … for the bench's header. */
  describe(): string;
}

/** Reads the placement from `envVar` (split | shared | none; default split); an unknown value is an error. */
export function benchPlacement(envVar: string, allowed: readonly PlacementMode[] = ['split', 'shared', 'none']): Placement {
  const raw = process.env[envVar] ?? 'split';
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new Error(`${envVar}=${raw}: use one of ${allowed.join(', ')}`);
  }
  const mode = raw as PlacementMode;
  const taskset = mode === 'none' || os.cpus().length < 2 ? null : which('taskset');
  const on = (cpu: number): readonly string[] => (taskset ? [taskset, '-c', String(cpu)] : []);
  return {
    mode,
    pinned: taskset !== null,
    server: on(0),
    client: on(mode === 'shared' ? 0 : 1),
    describe: () => (taskset === null ? 'unpinned' : mode === 'shared' ? 'servers and clients on CPU 0' : 'servers on CPU 0, clients on CPU 1'),
  };
}

/** `bin args` run under `prefix` (a Placement's server or client prefix): [command, argv]. */
export function placed(prefix: readonly string[], bin: string, args: readonly string[]): [string, string[]] {
  return prefix.length > 0 ? [prefix[0]!, [...prefix.slice(1), bin, ...args]] : [bin, [...args]];
}
