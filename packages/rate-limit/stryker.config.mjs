// @ts-check
// Mutation testing for this package: `pnpm mutate <name>` from the root (TESTING.md).
import { strykerConfig } from '../../scripts/stryker.base.mjs'

export default strykerConfig(import.meta.dirname)
