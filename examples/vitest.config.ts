import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    restoreMocks: true,
    // Each test runs an example as a separate process, as a user would.
    testTimeout: 60_000
  }
})
