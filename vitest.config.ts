import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/helpers/cleanup.ts'],
    // A bound on a hang, not a speed goal (those live in npm run bench): on a loaded two-core
    // machine a test that runs the CLI four times can take a minute.
    testTimeout: 120_000,
    hookTimeout: 30_000,
    // Subprocess tests run the built CLI; two cores, so keep workers modest.
    maxWorkers: 2,
  },
});
