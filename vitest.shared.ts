import { defineConfig } from 'vitest/config'

// One config for the root run and for each package's own `vitest run`. Workspace packages resolve to
// their TypeScript sources through the `@pyp2p/source` export condition, so tests never need a build.
export default defineConfig({
  resolve: { conditions: ['@pyp2p/source'] },
  ssr: { resolve: { conditions: ['@pyp2p/source'] } },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    // Lab tests build namespaces and start daemons; they wait on events, never on sleeps, and these
    // are only the upper bounds after which a hung test fails.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default'],
  },
})
