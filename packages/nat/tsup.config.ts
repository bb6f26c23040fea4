import { defineConfig } from 'tsup'

// nat-upnp and nat-pmp are devDependencies, patched (../../patches) and bundled here, so the
// published package depends on neither them nor their flagged dependencies (request, ip, xml2js
// 0.1, async, debug 0.7). Node built-ins and `debug` (our own dependency) stay external.
export default defineConfig({
  entry: ['src/index.ts', 'src/cli.ts'],
  format: ['esm', 'cjs'],
  dts: { entry: 'src/index.ts' },
  sourcemap: true,
  clean: true,
  target: 'node20',
  noExternal: ['nat-upnp', 'nat-pmp'],
  // The bundled CommonJS modules call require() for Node built-ins; ESM output needs a real one.
  banner: ({ format }) =>
    format === 'esm'
      ? {
          js: "import { createRequire as __pyp2pCreateRequire } from 'node:module'; const require = __pyp2pCreateRequire(import.meta.url);",
        }
      : {},
})
