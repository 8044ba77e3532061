import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 180_000,
    // Two cores: CLI tests start worker pools of their own, so test files run one at a time.
    fileParallelism: false,
    reporters: ['default'],
  },
});
