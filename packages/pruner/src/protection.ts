/**
 * What a selection asks about protections: whether a peer is protected. A
 * {@link ProtectionRegistry} is one; a caller may supply its own (backed by a peer store,
 * say).
 *
 * @example
 * ```ts
 * import { selectVictims } from '@cm/pruner'
 * import type { ProtectionLookup } from '@cm/pruner'
 *
 * const bootstrappers = new Set(['QmBootstrapPeer'])
 * const protection: ProtectionLookup = { isProtected: peer => bootstrappers.has(peer) }
 * selectVictims([], { count: 1, protection })
 * ```
 */
export interface ProtectionLookup {
  /**
   * Whether connections to `peer` must never be selected.
   *
   * @param peer - the peer, as in {@link PruneCandidate.peer}
   */
  isProtected(peer: string): boolean
}

/**
 * Protections by peer, each under one or more reason tags (`'bootstrap'`, `'relay'`,
 * `'sync'`...): every connection to a protected peer is exempt from pruning, whatever the
 * strategy.
 *
 * The semantics are go-libp2p's and nim-libp2p's:
 * - a peer is protected while it holds at least one tag;
 * - tags are a set, not a count: protecting twice under one tag needs one unprotect;
 * - protections are keyed by peer, not by connection, so they **survive reconnects** (and
 *   disconnects: a protection lasts until it is removed, whether or not the peer is
 *   connected). A registry holds one entry per protected peer, so its size is bounded by
 *   what its owner protects; {@link ProtectionRegistry.clear} drops entries in bulk.
 *
 * Peers are opaque strings compared exactly: use the same text form as
 * {@link PruneCandidate.peer}.
 *
 * @example
 * ```ts
 * import { ProtectionRegistry } from '@cm/pruner'
 *
 * const protection = new ProtectionRegistry()
 * protection.protect('QmRelay', 'relay')
 * protection.protect('QmRelay', 'bootstrap')
 * protection.unprotect('QmRelay', 'relay') // true: still protected under 'bootstrap'
 * protection.isProtected('QmRelay') // true
 * protection.unprotect('QmRelay', 'bootstrap') // false: no longer protected
 * ```
 */
export class ProtectionRegistry implements ProtectionLookup {
  readonly #tags = new Map<string, Set<string>>()

  /**
   * Protects `peer` under `tag`. Idempotent.
   *
   * @param peer - the peer to protect
   * @param tag - why: the name under which the protection is later removed
   * @returns `true` if the tag was new for this peer, `false` if it was already there
   *
   * @example
   * ```ts
   * import { ProtectionRegistry } from '@cm/pruner'
   *
   * const protection = new ProtectionRegistry()
   * protection.protect('QmPeer', 'sync') // true
   * protection.protect('QmPeer', 'sync') // false: already protected under 'sync'
   * ```
   */
  protect (peer: string, tag: string): boolean {
    let tags = this.#tags.get(peer)
    if (tags === undefined) {
      tags = new Set()
      this.#tags.set(peer, tags)
    }
    if (tags.has(tag)) {
      return false
    }
    tags.add(tag)
    return true
  }

  /**
   * Removes the protection of `peer` under `tag`; other tags stay. Removing a tag the peer
   * does not hold does nothing.
   *
   * @param peer - the peer
   * @param tag - the tag to remove
   * @returns whether the peer is still protected (under another tag)
   *
   * @example
   * ```ts
   * import { ProtectionRegistry } from '@cm/pruner'
   *
   * const protection = new ProtectionRegistry()
   * protection.protect('QmPeer', 'sync')
   * protection.unprotect('QmPeer', 'sync') // false: no tag left
   * ```
   */
  unprotect (peer: string, tag: string): boolean {
    const tags = this.#tags.get(peer)
    if (tags === undefined) {
      return false
    }
    tags.delete(tag)
    if (tags.size === 0) {
      this.#tags.delete(peer)
      return false
    }
    return true
  }

  /**
   * Whether `peer` is protected: under `tag` when one is given, under any tag otherwise.
   *
   * @param peer - the peer
   * @param tag - a tag to look for; omitted, any tag counts
   *
   * @example
   * ```ts
   * import { ProtectionRegistry } from '@cm/pruner'
   *
   * const protection = new ProtectionRegistry()
   * protection.protect('QmPeer', 'sync')
   * protection.isProtected('QmPeer') // true
   * protection.isProtected('QmPeer', 'relay') // false
   * ```
   */
  isProtected (peer: string, tag?: string): boolean {
    const tags = this.#tags.get(peer)
    return tags !== undefined && (tag === undefined || tags.has(tag))
  }

  /**
   * The tags under which `peer` is protected, in the order they were added.
   *
   * @param peer - the peer
   *
   * @example
   * ```ts
   * import { ProtectionRegistry } from '@cm/pruner'
   *
   * const protection = new ProtectionRegistry()
   * protection.protect('QmPeer', 'sync')
   * protection.protect('QmPeer', 'relay')
   * protection.tagsOf('QmPeer') // ['sync', 'relay']
   * ```
   */
  tagsOf (peer: string): string[] {
    return [...this.#tags.get(peer) ?? []]
  }

  /**
   * The protected peers, in the order they were first protected.
   *
   * @example
   * ```ts
   * import { ProtectionRegistry } from '@cm/pruner'
   *
   * const protection = new ProtectionRegistry()
   * protection.protect('QmPeer', 'sync')
   * protection.peers() // ['QmPeer']
   * ```
   */
  peers (): string[] {
    return [...this.#tags.keys()]
  }

  /**
   * How many peers are protected.
   *
   * @example
   * ```ts
   * import { ProtectionRegistry } from '@cm/pruner'
   *
   * new ProtectionRegistry().size // 0
   * ```
   */
  get size (): number {
    return this.#tags.size
  }

  /**
   * Removes every protection of `peer`, or of every peer when none is given.
   *
   * @param peer - the peer to clear; omitted, all
   *
   * @example
   * ```ts
   * import { ProtectionRegistry } from '@cm/pruner'
   *
   * const protection = new ProtectionRegistry()
   * protection.protect('QmPeer', 'sync')
   * protection.clear()
   * protection.size // 0
   * ```
   */
  clear (peer?: string): void {
    if (peer === undefined) {
      this.#tags.clear()
    } else {
      this.#tags.delete(peer)
    }
  }
}
