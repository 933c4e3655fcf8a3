/**
 * Example-only workaround: js-libp2p 3 calls `Promise.withResolvers` (ES2024, Node 22) while
 * upgrading connections; on Node 20 every inbound upgrade fails with
 * `EncryptionFailedError: Promise.withResolvers is not a function`. The libp2p example
 * imports this first, so that it runs under the repository's Node 20 as well; it installs
 * a spec-compliant `Promise.withResolvers` only when the runtime lacks it. Applications run
 * js-libp2p 3 on Node 22. (packages/libp2p/test/support has the same file for the tests.)
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
