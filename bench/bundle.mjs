// The bundle a user ships for the AWS FIS workshop's function (examples/hello-world: Middy
// and the latency, status-code and exception middlewares), as esbuild makes it for Lambda:
// bundled, minified, ESM for Node, the AWS SDK left external (the Lambda runtime has it).
// Used by bench/size.mjs (`pnpm bench`) and by test/size.test.ts (the size budget in CI).
// Needs `pnpm build`: the example imports the packages as published (their lib/).
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const root = fileURLToPath(new URL('..', import.meta.url))

/** How esbuild bundles a function for Lambda here: one minified ESM file, the AWS SDK external. */
export const LAMBDA_BUNDLE = Object.freeze({
  bundle: true,
  minify: true,
  format: 'esm',
  platform: 'node',
  target: 'node22',
  external: ['@aws-sdk/*', '@smithy/*'],
})

/**
 * The example traces with Powertools Tracer, whose X-Ray SDK (about 125 KB minified) is the
 * function's choice, not chaos's: measured apart (`withTracer`), so that the figures and the
 * budget say what chaos costs.
 */
export const TRACER_PACKAGES = ['@aws-lambda-powertools/tracer']

/**
 * Bytes of the bundle in all, and of this project's own code in it (packages/*); the source
 * files it was made of (`sources`: the packages' lib/ is chunked, their source maps name them).
 */
export const measureBundle = async ({ withTracer = false } = {}) => {
  const result = await build({
    ...LAMBDA_BUNDLE,
    ...(withTracer ? {} : { external: [...LAMBDA_BUNDLE.external, ...TRACER_PACKAGES] }),
    entryPoints: [`${root}examples/hello-world/src/index.ts`],
    write: false,
    metafile: true,
    // Through the packages' own source maps: which of their source modules the bundle holds.
    sourcemap: 'external',
    outdir: `${root}.tmp/size`,
    logLevel: 'silent',
  })
  const output = Object.values(result.metafile.outputs).find((out) => out.entryPoint)
  const map = result.outputFiles.find((file) => file.path.endsWith('.map'))
  const sources = JSON.parse(map?.text ?? '{"sources":[]}').sources
  const byPackage = {}
  for (const [path, input] of Object.entries(output.inputs)) {
    const match = /(?:^|\/)packages\/([^/]+)\//.exec(path)
    const inModules = /.*node_modules\/(@[^/]+\/[^/]+|[^/@.][^/]*)/.exec(path)?.[1]
    const name = match ? `@middy-chaos/${match[1]}` : (inModules ?? path)
    byPackage[name] = (byPackage[name] ?? 0) + input.bytesInOutput
  }
  const own = Object.entries(byPackage)
    .filter(([name]) => name.startsWith('@middy-chaos/'))
    .reduce((sum, [, bytes]) => sum + bytes, 0)
  return { total: output.bytes, own, byPackage, sources }
}
