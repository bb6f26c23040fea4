import { defineConfig } from 'tsup'
import { libraryBuild } from '../../tsup.shared.ts'

// Private package: ESM only (its users are the workspace's own vitest runs, which load the sources
// through the @pyp2p/source condition anyway).
export default defineConfig(libraryBuild({ format: ['esm'] }))
