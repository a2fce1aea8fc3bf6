/**
 * `npm run bench -- <name> [args]`: one entry point for every benchmark.
 * Adding a benchmark is one line in `benches`: a name and the module that runs it.
 * Each module exports `main(args: string[]): Promise<number>` (the exit code).
 */
const benches: Record<string, () => Promise<{ main(args: string[]): Promise<number> }>> = {
  tftp: () => import('./tftp.js'),
  dhcp: () => import('./dhcp.js'),
  policy: () => import('./policy.js'),
  content: () => import('./content.js'),
};

const [name, ...args] = process.argv.slice(2);
const load = name ? benches[name] : undefined;
if (!load) {
  console.error(`usage: npm run bench -- <${Object.keys(benches).join('|')}> [args]`);
  process.exit(2);
}
const code = await (await load()).main(args);
process.exit(code);
