import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Two cores: most long tests wait on QEMU or child processes, so two files at a time pay off.
    maxWorkers: 2,
    projects: [
      {
        test: {
          name: 'node',
          environment: 'node',
          include: ['electron/**/*.test.ts', 'shared/**/*.test.ts', 'test/integration/**/*.test.ts', 'test/harness/**/*.test.ts'],
          testTimeout: 30_000,
          hookTimeout: 600_000,
          // stops the shared S3 gateway (test/helpers/s3-gateway.ts) if this run started it
          globalSetup: ['test/helpers/s3-gateway-teardown.ts'],
        },
      },
      {
        oxc: { jsx: { runtime: 'automatic' } },
        test: {
          name: 'web',
          environment: 'jsdom',
          include: ['renderer/**/*.test.ts', 'renderer/**/*.test.tsx'],
          testTimeout: 30_000,
        },
      },
    ],
  },
});
