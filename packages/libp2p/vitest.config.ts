import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    restoreMocks: true,
    // js-libp2p 3 needs Promise.withResolvers (Node 22); on Node 20 the tests install it.
    setupFiles: ['../../scripts/promise-with-resolvers.mjs'],
    // Real nodes on loopback, on a loaded CI machine.
    testTimeout: 30_000,
    hookTimeout: 30_000
  }
})
