import { defineConfig } from 'tsup'
import { libraryBuild } from '../../tsup.shared.ts'

export default defineConfig([
  libraryBuild(),
  // The CLI (bin pyp2p-doctor): ESM only, keeps its shebang.
  libraryBuild({ entry: ['src/cli.ts'], format: ['esm'], dts: false, clean: false }),
])
