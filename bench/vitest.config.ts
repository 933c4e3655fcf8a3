import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    restoreMocks: true,
    // runSuite() measures for real (tinybench calibrates its timer first): allow for a loaded machine.
    testTimeout: 60_000
  }
})
