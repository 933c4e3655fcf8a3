import { DEFAULT_CONFIG, resolveConfig } from '@cm/config'
import type { BenchSuite } from '../harness.ts'

const init = { maxConnections: 100, dialTimeout: 5_000, inboundConnectionThreshold: 10 }
const denyList = Array.from({ length: 1_000 }, (_, index) => `10.${(index >> 8) & 0xff}.${index & 0xff}.0/24`)

/**
 * The config resolver against the floor: merging over the defaults with no validation at
 * all, which is what py-libp2p's dataclass and js-libp2p's `??` defaults amount to for
 * most options.
 */
export const configSuite: BenchSuite = {
  name: 'config',
  description: 'resolveConfig() against an unvalidated merge over the defaults',
  baseline: 'unvalidated merge (spread over defaults)',
  tasks: () => [
    { name: 'unvalidated merge (spread over defaults)', batch: 100, fn: () => { for (let index = 0; index < 100; index++) Object.freeze({ ...DEFAULT_CONFIG, ...init }) } },
    { name: 'resolveConfig(3 options)', batch: 100, fn: () => { for (let index = 0; index < 100; index++) resolveConfig(init) } },
    { name: 'resolveConfig(1,000 deny entries)', fn: () => resolveConfig({ denyList }) }
  ]
}
