import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    restoreMocks: true,
    // Real servers in child processes and real sockets: one file at a time.
    fileParallelism: false,
    testTimeout: 60_000
  }
})
