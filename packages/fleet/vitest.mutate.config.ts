import { defineConfig } from 'vitest/config'

// The tests `pnpm mutate fleet` runs against each mutant of the budget counter: the unit,
// model and simulation tests, in memory (stryker.config.mjs says why not the others).
export default defineConfig({
  test: {
    include: ['test/budget.test.ts', 'test/budget-model.test.ts', 'test/key-counts.test.ts'],
    restoreMocks: true,
    // The model and simulation tests take seconds each, longer with Stryker's coverage.
    testTimeout: 60_000
  }
})
