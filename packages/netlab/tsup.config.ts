import { defineConfig } from 'tsup'

// Private package: ESM only (its users are the workspace's own vitest runs, which load the sources
// through the @pyp2p/source condition anyway).
export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
})
