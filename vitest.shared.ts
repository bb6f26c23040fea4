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
    // Two test files at a time (vitest's default on 2 cores is one): lab tests spend most of their time
    // waiting on the network and on daemons, and CI must stay under 15 minutes. Each lab test builds its
    // own namespaces under a unique prefix, so two never share a router.
    maxWorkers: 2,
    minWorkers: 1,
    reporters: ['default'],
  },
})
