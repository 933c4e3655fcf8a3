import { InvalidConfigError, resolveConfig } from '../src/index.ts'
import type { ConnectionConfigInit } from '../src/index.ts'

/** The InvalidConfigError that resolveConfig(init) throws; throws itself when init is accepted. */
export function refusal (init: unknown): InvalidConfigError {
  try {
    resolveConfig(init as ConnectionConfigInit)
  } catch (error) {
    if (InvalidConfigError.isInstance(error)) return error
    throw error
  }
  throw new Error('expected resolveConfig to refuse the options')
}
