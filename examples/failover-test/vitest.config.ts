import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Booting two VMs under software emulation takes tens of seconds.
    testTimeout: 300_000,
    hookTimeout: 600_000,
    // qemu's parent-death signal follows the thread that started it: run in a process, not a worker.
    pool: 'forks',
  },
});
