import { defineConfig } from 'vitest/config';

// Unit and loopback integration tests. End-to-end tests (real firmware in QEMU,
// network namespaces) run with vitest.e2e.config.ts from .ci/run.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/e2e/**', 'node_modules/**'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});
