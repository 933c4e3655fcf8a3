import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    restoreMocks: true,
    // The integration tests start redis-server processes and TCP listeners: one file at a
    // time keeps them from competing for the two cores of the CI machine.
    fileParallelism: false,
    testTimeout: 30_000,
    hookTimeout: 30_000
  }
})
