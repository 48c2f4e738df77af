import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          // Builds the lab images once (with progress) and reaps what dead runs left behind.
          globalSetup: ['test/integration/lab/global-setup.ts'],
          testTimeout: 300_000,
          hookTimeout: 600_000,
          // Lab resources (NFS server container, microVMs) are shared machines: run files one at a time.
          pool: 'forks',
          poolOptions: { forks: { singleFork: true } },
        },
      },
    ],
  },
});
