// Cold start: import + the first response, in fresh Node processes, of
//   - bare Middy fetching one parameter with Powertools SSMProvider (the baseline),
//   - the same with Powertools Logger imported,
//   - the workshop chain (latency, status code, exception) reading its config from SSM, faults off.
// Each variant runs RUNS times, interleaved so machine noise spreads over all; medians are
// reported. A small HTTP server stands in for SSM (GetParameter), so no network is involved.
// Run after `pnpm build`:  node bench/coldstart.mjs   (part of `pnpm bench`)
import { createServer } from 'node:http'
import { fileURLToPath } from 'node:url'

const OFF =
  '{"is_enabled":false,"fault_type":"latency","delay":400,"error_code":404,"exception_msg":"Fault injected by chaos-lambda","rate":1}'

const variant = process.argv[2]
if (variant) {
  // Child: measured from the process's own time origin to the first response.
  const context = { getRemainingTimeInMillis: () => 30_000, awsRequestId: 'c', functionName: 'f' }
  const event = { httpMethod: 'GET', path: '/' }
  const { default: middy } = await import('@middy/core')
  let handler
  if (variant === 'middy+ssm' || variant === 'middy+logger+ssm') {
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
const variants = ['middy+ssm', 'middy+logger+ssm', 'workshop chain']
const runs = Number(process.env.RUNS ?? 25)
const results = Object.fromEntries(variants.map((name) => [name, []]))
const measure = (name) =>
  new Promise((resolve, reject) => {
    // Async, so that this process keeps serving the fake SSM endpoint.
    import('node:child_process').then(({ execFile }) =>
      execFile(process.execPath, [self, name], { env, encoding: 'utf8' }, (error, stdout) =>
        error ? reject(error) : resolve(JSON.parse(stdout)),
      ),
    )
  })
for (let i = 0; i < runs; i++) for (const name of variants) results[name].push(await measure(name))
server.close()
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const base = median(results['middy+ssm'])
console.log(
  `node ${process.version}; import + first response in a fresh process, median of ${runs} (interleaved)`,
)
console.log('| function | ms to the first response | over bare Middy + SSMProvider |')
console.log('| --- | ---: | ---: |')
for (const name of variants) {
  const m = median(results[name])
  console.log(
    `| ${name} | ${m.toFixed(1)} | ${name === 'middy+ssm' ? '—' : `+${(m - base).toFixed(1)}`} |`,
  )
}
