/**
 * Test-only workaround: js-libp2p 3 calls `Promise.withResolvers` (ES2024, Node 22) while
 * upgrading connections; on Node 20 every inbound upgrade fails with
 * `EncryptionFailedError: Promise.withResolvers is not a function`. This setup file
 * installs a spec-compliant `Promise.withResolvers` when, and only when, the runtime lacks
 * it, so the real-node tests run under `pnpm test` (Node 20) as well as under Node 22 (where
 * CI runs them again, without it). `@cm/libp2p` itself needs neither: it is the node that
 * does. Applications run js-libp2p 3 on Node 22.
 */
interface Resolvers<T> {
  promise: Promise<T>
  resolve: (value: T | PromiseLike<T>) => void
  reject: (reason?: unknown) => void
}

const PromiseConstructor = Promise as PromiseConstructor & { withResolvers?: <T>() => Resolvers<T> }

if (typeof PromiseConstructor.withResolvers !== 'function') {
  Object.defineProperty(Promise, 'withResolvers', {
    // As specified: NewPromiseCapability(this), so subclasses get instances of themselves.
    value: function withResolvers<T> (this: PromiseConstructor): Resolvers<T> {
      let resolve!: Resolvers<T>['resolve']
      let reject!: Resolvers<T>['reject']
      const promise = new this<T>((resolvePromise, rejectPromise) => {
        resolve = resolvePromise
        reject = rejectPromise
      })
      return { promise, resolve, reject }
    },
    writable: true,
    enumerable: false,
    configurable: true
  })
}

export {}
