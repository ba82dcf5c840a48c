import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Subprocess tests run the built CLI; two cores, so keep workers modest.
    maxWorkers: 2,
  },
});
