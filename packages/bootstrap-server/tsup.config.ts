import { defineConfig } from 'tsup'
import { libraryBuild } from '../../tsup.shared.ts'

export default defineConfig([
  libraryBuild(),
  // The CLI: ESM only, keeps its shebang.
  libraryBuild({ entry: ['src/bin.ts'], format: ['esm'], dts: false, clean: false }),
])
