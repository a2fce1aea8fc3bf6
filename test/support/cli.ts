/** Runs the `pxepoint` CLI in-process against a data directory and captures what it prints. */
import { vi } from 'vitest';
import { main } from '../../src/cli/main.js';

export interface CliResult {
  code: number;
  out: string;
  err: string;
}

export async function runCli(dataDir: string, ...argv: string[]): Promise<CliResult> {
  let out = '';
  let err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((out += String(chunk)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => ((err += String(chunk)), true));
  try {
    const code = await main([...argv, '--data-dir', dataDir]);
    return { code, out, err };
  } finally {
    vi.restoreAllMocks();
  }
}
