// Cold start: import + the first response, in fresh Node processes, of
//   - bare Middy, answering at once (no config at all),
//   - bare Middy fetching one parameter with Powertools SSMProvider (the baseline),
//   - the same with Powertools Logger imported,
//   - the workshop chain (latency, status code, exception) reading its config from SSM, faults off.
// Each variant runs RUNS times, interleaved so machine noise spreads over all; medians are
// reported. A small HTTP server stands in for SSM (GetParameter), so no network is involved.
// Each variant runs twice: from node_modules (every module file loaded on its own), and as
// esbuild bundles it for Lambda (one file, AWS SDK external), which is how functions ship.
// Run after `pnpm build`:  node bench/coldstart.mjs   (part of `pnpm bench`)
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:http'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { LAMBDA_BUNDLE } from './bundle.mjs'

const OFF =
  '{"is_enabled":false,"fault_type":"latency","delay":400,"error_code":404,"exception_msg":"Fault injected by chaos-lambda","rate":1}'

const variant = process.argv[2]
if (variant === 'bundled') {
  // Child: a bundle made by the parent; it prints its own time to the first response.
  await import(process.argv[3])
} else if (variant) {
  // Child: measured from the process's own time origin to the first response.
  const context = { getRemainingTimeInMillis: () => 30_000, awsRequestId: 'c', functionName: 'f' }
  const event = { httpMethod: 'GET', path: '/' }
  const { default: middy } = await import('@middy/core')
  let handler
  if (variant === 'middy') {
    handler = middy(async () => ({ statusCode: 200, body: 'Hello from Lambda!' }))
  } else if (variant === 'middy+ssm' || variant === 'middy+logger+ssm') {
    if (variant === 'middy+logger+ssm') {
      const { Logger } = await import('@aws-lambda-powertools/logger')
      new Logger({ serviceName: 'bench' })
    }
    const { SSMProvider } = await import('@aws-lambda-powertools/parameters/ssm')
    const provider = new SSMProvider()
    handler = middy(async () => {
      await provider.get('/bench/chaos')
      return { statusCode: 200, body: 'Hello from Lambda!' }
    })
  } else {
    const { chaosLatency } = await import('../packages/latency/lib/index.js')
    const { chaosStatusCode } = await import('../packages/status-code/lib/index.js')
    const { chaosException } = await import('../packages/exception/lib/index.js')
    handler = middy(async () => ({ statusCode: 200, body: 'Hello from Lambda!' }))
      .use(chaosLatency())
      .use(chaosStatusCode())
      .use(chaosException())
  }
  await handler(event, context)
  process.stdout.write(JSON.stringify(performance.now()))
  process.exit(0)
}

const server = createServer((request, response) => {
  request.resume()
  request.on('end', () => {
    response.setHeader('content-type', 'application/x-amz-json-1.1')
    response.end(
      JSON.stringify({
        Parameter: { Name: '/bench/chaos', Type: 'String', Value: OFF, Version: 1 },
      }),
    )
  })
})
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
const endpoint = `http://127.0.0.1:${server.address().port}`
const env = {
  ...process.env,
  AWS_ENDPOINT_URL_SSM: endpoint,
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'bench',
  AWS_SECRET_ACCESS_KEY: 'bench',
  CHAOS_PARAM: '/bench/chaos',
  POWERTOOLS_SERVICE_NAME: 'bench',
}
const self = fileURLToPath(import.meta.url)
const variants = ['middy', 'middy+ssm', 'middy+logger+ssm', 'workshop chain']

// The same three functions, bundled as esbuild does for Lambda.
const root = fileURLToPath(new URL('..', import.meta.url))
// Beside packages/core, whose node_modules holds the AWS SDK, as Lambda's runtime provides it.
await mkdir(join(root, 'packages/core/.tmp'), { recursive: true })
const bundles = await mkdtemp(join(root, 'packages/core/.tmp/coldstart-'))
const entry = (name) => {
  const first = `const context = { getRemainingTimeInMillis: () => 30_000, awsRequestId: 'c', functionName: 'f' }
import middy from '@middy/core'`
  const report = `await handler({ httpMethod: 'GET', path: '/' }, context)
process.stdout.write(JSON.stringify(performance.now()))
process.exit(0)`
  if (name === 'middy')
    return `${first}
const handler = middy(async () => ({ statusCode: 200, body: 'Hello from Lambda!' }))
${report}`
  if (name === 'workshop chain')
    return `${first}
import { chaosLatency } from '${root}packages/latency/lib/index.js'
import { chaosStatusCode } from '${root}packages/status-code/lib/index.js'
import { chaosException } from '${root}packages/exception/lib/index.js'
const handler = middy(async () => ({ statusCode: 200, body: 'Hello from Lambda!' }))
  .use(chaosLatency()).use(chaosStatusCode()).use(chaosException())
${report}`
  return `${first}
import { SSMProvider } from '@aws-lambda-powertools/parameters/ssm'
${name === 'middy+logger+ssm' ? "import { Logger } from '@aws-lambda-powertools/logger'\nnew Logger({ serviceName: 'bench' })" : ''}
const provider = new SSMProvider()
const handler = middy(async () => {
  await provider.get('/bench/chaos')
  return { statusCode: 200, body: 'Hello from Lambda!' }
})
${report}`
}
const bundled = {}
for (const name of variants) {
  const outfile = join(bundles, `${name.replace(/\W+/g, '-')}.mjs`)
  await build({
    ...LAMBDA_BUNDLE,
    stdin: { contents: entry(name), resolveDir: join(root, 'packages/core'), loader: 'js' },
    outfile,
    logLevel: 'silent',
  })
  bundled[name] = outfile
}

const runs = Number(process.env.RUNS ?? 25)
const keys = [...variants, ...variants.map((name) => `${name} (bundled)`)]
const results = Object.fromEntries(keys.map((name) => [name, []]))
const measure = (args) =>
  new Promise((resolve, reject) => {
    // Async, so that this process keeps serving the fake SSM endpoint.
    import('node:child_process').then(({ execFile }) =>
      execFile(process.execPath, args, { env, encoding: 'utf8' }, (error, stdout) =>
        error ? reject(error) : resolve(JSON.parse(stdout)),
      ),
    )
  })
for (let i = 0; i < runs; i++) {
  for (const name of variants) {
    results[name].push(await measure([self, name]))
    results[`${name} (bundled)`].push(await measure([self, 'bundled', bundled[name]]))
  }
}
server.close()
await rm(bundles, { recursive: true, force: true })
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
console.log(
  `node ${process.version}; import + first response in a fresh process, median of ${runs} (interleaved)`,
)
console.log('| function | ms to the first response | over bare Middy + SSMProvider |')
console.log('| --- | ---: | ---: |')
for (const name of keys) {
  const m = median(results[name])
  const base = median(results[name.endsWith('(bundled)') ? 'middy+ssm (bundled)' : 'middy+ssm'])
  console.log(
    `| ${name} | ${m.toFixed(1)} | ${name.startsWith('middy+ssm') ? '—' : `${m - base >= 0 ? '+' : ''}${(m - base).toFixed(1)}`} |`,
  )
}
