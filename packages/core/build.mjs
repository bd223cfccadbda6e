// Builds lib/: the JavaScript with esbuild (this file), the declarations with tsc
// (`tsc -p tsconfig.json`, which emits only them). One module per source file would make a
// function loaded from node_modules read, compile and link some 30 files of ours at its cold
// start (about 0.5 ms each); bundled here with code splitting, each source module still exists
// once (one ChaosHttpError class, one registry of sources), in a few files:
//   - one per entry point of package.json's exports (index, fault, file-provider,
//     formats/failure-lambda), plus scope.js (its own entry so that its code, which registers
//     itself when it loads, is in a function's bundle only with a fault that uses it);
//   - chunks for what entry points share, and one for what is loaded only once a fault is on
//     (runner.ts and what only it imports, behind an `import()`).
// A function importing `@middy-chaos/core/fault` with faults off loads `fault.js` and the chunks
// it imports, nothing else. Every package import (Powertools, Middy, node:*) stays an import.
import { readFile, rm, writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const here = fileURLToPath(new URL('.', import.meta.url))

await rm(`${here}lib`, { recursive: true, force: true })
const result = await build({
  absWorkingDir: here,
  entryPoints: [
    'src/index.ts',
    'src/fault.ts',
    'src/file-provider.ts',
    'src/formats/failure-lambda.ts',
    'src/scope.ts',
  ],
  outbase: 'src',
  outdir: 'lib',
  // Chunks beside index.js: sources.ts loads './file-provider.js' relative to its own file.
  chunkNames: '[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node22',
  packages: 'external',
  sourcemap: true,
  metafile: true,
  logLevel: 'warning',
})

// esbuild keeps the order in which chunks run with bare imports (`import "./chunk-X.js"`) of
// chunks whose bindings a file does not use. A function's bundler, told by package.json that
// nothing here has side effects, drops them and warns about each. None is needed: every chunk
// imports, by name, the chunks whose code it runs, and nothing here relies on another module's
// side effect without using a binding of it (scope.ts and the failure-lambda reader register
// themselves with functions they import by name). Blanked, not deleted: the source maps hold.
for (const file of Object.keys(result.metafile.outputs)) {
  if (!file.endsWith('.js')) continue
  const text = await readFile(`${here}${file}`, 'utf8')
  const blanked = text.replace(/^import "\.{1,2}\/[\w-]+\.js";$/gm, '')
  if (blanked !== text) await writeFile(`${here}${file}`, blanked)
}

// A chunk with no code (what modules of types only make) was imported bare, and no longer is:
// it would ship as a file nothing loads.
for (const file of Object.keys(result.metafile.outputs)) {
  if (!file.endsWith('.js')) continue
  const text = await readFile(`${here}${file}`, 'utf8')
  if (text.replace(/^\/\/# sourceMappingURL=.*$/m, '').trim() === '') {
    await rm(`${here}${file}`)
    await rm(`${here}${file}.map`, { force: true })
  }
}
