import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    restoreMocks: true,
    // Property tests run thousands of cases: allow for a loaded CI machine.
    testTimeout: 60_000
  }
})
