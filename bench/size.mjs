// What a function ships: minified bundles as esbuild makes them for Lambda (bench/bundle.mjs).
//   1. The functions of bench/functions.mjs (faults off, AWS SDK external): what the workshop's
//      three faults add over the stack they are built on (Middy + Logger + SSMProvider), and
//      failure-lambda 1.x's middleware (FAILURE_LAMBDA_REPO=<a checkout of its repository>).
//   2. examples/hello-world, part by part: the budget test/size.test.ts holds.
// Run after `pnpm build`:  node bench/size.mjs   (part of `pnpm bench`)
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { LAMBDA_BUNDLE, measureBundle } from './bundle.mjs'
import { functions } from './functions.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
const failureLambdaRepo = process.env.FAILURE_LAMBDA_REPO
const kb = (bytes) => `${(bytes / 1024).toFixed(1)} KB`

const sizes = {}
for (const [name, source] of Object.entries(
  functions({ failureLambda: failureLambdaRepo !== undefined }),
)) {
  const result = await build({
    ...LAMBDA_BUNDLE,
    // Resolved as the example function resolves its packages (the workspace's builds).
    stdin: { contents: source, resolveDir: `${root}examples/hello-world`, loader: 'js' },
    ...(failureLambdaRepo
      ? { alias: { 'failure-lambda/middy': `${failureLambdaRepo}/src/middy.ts` } }
      : {}),
    write: false,
    logLevel: 'silent',
  })
  sizes[name] = result.outputFiles[0].contents.length
}
console.log('Minified bundles (esbuild, ESM, AWS SDK external), faults off')
console.log('| function | bundle | over the stack |')
console.log('| --- | ---: | ---: |')
for (const [name, bytes] of Object.entries(sizes)) {
  const over = bytes - sizes.stack
  console.log(
    `| ${name} | ${kb(bytes)} | ${name === 'stack' ? '—' : `${over >= 0 ? '+' : ''}${kb(over)}`} |`,
  )
}

const { total, own, byPackage } = await measureBundle()
console.log(
  '\nMinified bundle of examples/hello-world (Middy + 3 faults, AWS SDK and Powertools Tracer external)',
)
console.log('| part | size |')
console.log('| --- | ---: |')
for (const [name, bytes] of Object.entries(byPackage).sort((a, b) => b[1] - a[1])) {
  if (bytes >= 1024) console.log(`| ${name} | ${kb(bytes)} |`)
}
console.log(`| **this project's own code** | **${kb(own)}** |`)
console.log(`| **the whole bundle** | **${kb(total)}** |`)
const traced = await measureBundle({ withTracer: true })
console.log(
  `\nWith Powertools Tracer and its X-Ray SDK bundled too: ${kb(traced.total)} (+${kb(traced.total - total)})`,
)
