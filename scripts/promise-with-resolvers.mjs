// Test-only workaround, for the libp2p tests (packages/libp2p/vitest.config.ts) and the
// libp2p example (examples/src/libp2p.ts): js-libp2p 3 calls `Promise.withResolvers`
// (ES2024, Node 22) while upgrading connections, and on Node 20 every inbound upgrade fails
// with `EncryptionFailedError: Promise.withResolvers is not a function`. This installs a
// spec-compliant `Promise.withResolvers` when, and only when, the runtime lacks it, so they
// run under the repository's Node 20 as well as under Node 22 (where CI runs the tests again,
// without it). `@cm/libp2p` itself needs neither: the node does. Applications run js-libp2p 3
// on Node 22.
if (typeof Promise.withResolvers !== 'function') {
  Object.defineProperty(Promise, 'withResolvers', {
    // As specified: NewPromiseCapability(this), so a subclass gets an instance of itself.
    value: function withResolvers () {
      let resolve
      let reject
      const promise = new this((resolvePromise, rejectPromise) => {
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
