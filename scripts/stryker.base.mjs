// @ts-check
// The Stryker settings every package shares; each package's `stryker.config.mjs` calls
// `strykerConfig(import.meta.dirname)`. `pnpm mutate` (scripts/mutate.mjs) runs them; see
// TESTING.md for the habit and the figures.
import { basename, join } from 'node:path'

const root = join(import.meta.dirname, '..')

/**
 * @param {string} packageDir the package's folder (its `import.meta.dirname`)
 * @param {Record<string, unknown>} [overrides] settings of this package's own
 * @returns {Record<string, unknown>} Stryker's options
 */
export function strykerConfig (packageDir, overrides = {}) {
  const name = basename(packageDir)
  const reports = join(root, 'reports', 'mutation', name)
  return {
    testRunner: 'vitest',
    plugins: ['@stryker-mutator/vitest-runner'],
    vitest: { configFile: 'vitest.config.ts' },
    // Each mutant runs only the tests that reach it: what makes a package's run minutes, not hours.
    coverageAnalysis: 'perTest',
    // The sandbox copy breaks the relative path to tsconfig.base.json, so Stryker mutates src
    // in place and restores it when it ends: leave a package's src alone while its run goes.
    inPlace: true,
    mutate: ['src/**/*.ts', '!src/**/index.ts'],
    // Vitest does not type-check, so Stryker need not add `// @ts-nocheck` to every file:
    // in place, only the mutated src is touched.
    disableTypeChecks: false,
    // Results are reused for code and tests that did not change since the last run; the
    // file is seeded from the committed baseline, mutation/<package>.json (scripts/mutate.mjs).
    incremental: true,
    incrementalFile: join(reports, 'incremental.json'),
    reporters: ['clear-text', 'progress', 'json', 'html'],
    clearTextReporter: { allowColor: false, logTests: false, reportScoreTable: true },
    jsonReporter: { fileName: join(reports, 'mutation.json') },
    htmlReporter: { fileName: join(reports, 'index.html') },
    thresholds: { high: 95, low: 92, break: 92 },
    // Two cores, and the machine is shared: a third runner only adds timeouts.
    concurrency: 2,
    // A mutant that makes a loop endless is a kill (timeout); 10 s over the test's own time
    // leaves room for a loaded machine without letting such mutants cost minutes.
    timeoutMS: 10_000,
    tempDirName: join(root, '.stryker-tmp', name),
    cleanTempDir: 'always',
    ...overrides
  }
}
