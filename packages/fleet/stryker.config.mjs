// @ts-check
// Mutation testing for this package: `pnpm mutate fleet` from the root (TESTING.md). Only
// the budget counter and its table: the rest of the package is driven by tests that start
// redis-server processes and TCP nodes, seconds per run, too slow to run once per mutant.
import { strykerConfig } from '../../scripts/stryker.base.mjs'

export default strykerConfig(import.meta.dirname, {
  mutate: ['src/budget.ts', 'src/key-counts.ts'],
  vitest: { configFile: 'vitest.mutate.config.ts' }
})
