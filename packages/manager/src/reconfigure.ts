import type { ConnectionConfig } from '@cm/config'
import type { DefaultGate } from '@cm/gate'

const LISTS = [['deny', 'denyList'], ['allow', 'allowList'], ['trusted', 'trustedList']] as const

/**
 * Brings the gate's configured lists and directions from `previous` to `next`: entries
 * removed are removed, entries added are added, and rules added at run time (`deny` with a
 * TTL, say) are left alone, which rebuilding the gate would lose.
 */
export function applyGateChanges (gate: DefaultGate, previous: ConnectionConfig, next: ConnectionConfig, changed: ReadonlyArray<keyof ConnectionConfig>): void {
  for (const [list, name] of LISTS) {
    // Stryker disable next-line ConditionalExpression: fast path; an unchanged list has the same entries before and after, so nothing is removed or added (`true` is killed by the tests, hidden by this comment)
    if (!changed.includes(name)) continue
    const before = new Set(previous[name])
    const after = new Set(next[name])
    for (const entry of before) {
      if (!after.has(entry)) gate.remove(list, entry)
    }
    for (const entry of after) {
      if (before.has(entry)) continue
      if (list === 'deny') gate.deny(entry)
      else if (list === 'allow') gate.allow(entry)
      else gate.trust(entry)
    }
  }
  if (changed.includes('denyListDirection')) gate.setDirection('deny', next.denyListDirection)
  if (changed.includes('allowListDirection')) gate.setDirection('allow', next.allowListDirection)
}

/** Whether a change can turn away connections the gate admitted before. */
export function narrowsGate (changed: ReadonlyArray<keyof ConnectionConfig>): boolean {
  return changed.includes('denyList') || changed.includes('allowList') || changed.includes('denyListDirection') || changed.includes('allowListDirection')
}
