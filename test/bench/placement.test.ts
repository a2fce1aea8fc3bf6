/**
 * The benches' process placement (bench/placement.ts): which command prefix a server and
 * a load generator get for each BENCH_*_PLACEMENT value. Pure apart from looking up taskset.
 */
import os from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { benchPlacement, placed } from '../../bench/placement.js';
import { which } from '../support/tools.js';

const VAR = 'PXP_TEST_PLACEMENT';
afterEach(() => {
  delete process.env[VAR];
});

const canPin = os.cpus().length >= 2 && which('taskset') !== null;

describe('benchPlacement', () => {
  it.runIf(canPin)('split (the default): servers on CPU 0, clients on CPU 1', () => {
    const p = benchPlacement(VAR);
    expect(p.mode).toBe('split');
    expect(p.pinned).toBe(true);
    expect(p.server.slice(1)).toEqual(['-c', '0']);
    expect(p.client.slice(1)).toEqual(['-c', '1']);
    expect(p.server[0]).toMatch(/taskset$/);
    expect(p.describe()).toBe('servers on CPU 0, clients on CPU 1');
  });

  it.runIf(canPin)('shared: everything on CPU 0', () => {
    process.env[VAR] = 'shared';
    const p = benchPlacement(VAR);
    expect(p.server.slice(1)).toEqual(['-c', '0']);
    expect(p.client.slice(1)).toEqual(['-c', '0']);
    expect(p.describe()).toBe('servers and clients on CPU 0');
  });

  it('none: no prefix, unpinned', () => {
    process.env[VAR] = 'none';
    const p = benchPlacement(VAR);
    expect(p).toMatchObject({ mode: 'none', pinned: false, server: [], client: [] });
    expect(p.describe()).toBe('unpinned');
  });

  it('refuses a value it does not know, or one the bench does not allow, naming the choices', () => {
    process.env[VAR] = 'spread';
    expect(() => benchPlacement(VAR)).toThrow(`${VAR}=spread: use one of split, shared, none`);
    process.env[VAR] = 'shared';
    expect(() => benchPlacement(VAR, ['split', 'none'])).toThrow('use one of split, none');
  });
});

describe('placed', () => {
  it('puts the command after the prefix, or runs it as is without one', () => {
    expect(placed(['/usr/bin/taskset', '-c', '1'], 'perfdhcp', ['-4', '-r', '1000'])).toEqual(['/usr/bin/taskset', ['-c', '1', 'perfdhcp', '-4', '-r', '1000']]);
    expect(placed([], 'perfdhcp', ['-4'])).toEqual(['perfdhcp', ['-4']]);
  });
});
