import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    restoreMocks: true,
    // Property tests and real-socket tests: allow for a loaded CI machine.
    testTimeout: 60_000,
    // One file at a time: the load test and the real-socket tests must not compete for the CPU.
    fileParallelism: false
  }
})
