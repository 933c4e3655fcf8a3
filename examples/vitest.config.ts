import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    restoreMocks: true,
    // Each test runs an example as a separate process, as a user would; one at a time, so that
    // a loaded 2-core machine runs them no slower than `pnpm examples` does.
    fileParallelism: false,
    testTimeout: 60_000
  }
})
