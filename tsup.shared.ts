import type { Options } from 'tsup'

/**
 * The build every @pyp2p package shares: ESM + CJS + `.d.ts` for Node 20 from `src/index.ts`, with
 * source maps. A package's tsup.config.ts passes only what differs (more entries, ESM only, bundling).
 */
export function libraryBuild(overrides: Options = {}): Options {
  return {
    entry: ['src/index.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
    ...overrides,
  }
}
