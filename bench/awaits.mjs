// What the chaos middlewares do to the rest of the function: the cost of one `await` in the
// handler's own code, after a few invocations, each scenario in its own Node process (as a Lambda
// environment is). Run it with each Node.js a function may run on:
//   node bench/awaits.mjs            (after `pnpm build`)
//   /path/to/node22 bench/awaits.mjs
// On Node.js 22, the first `run` or `enterWith` of an AsyncLocalStorage turns on promise hooks
// for the whole process: every `await` costs about 3 to 4 times as much from then on. Node.js 24
// keeps the context without them. Scenarios:
//   - bare:                  Middy and the handler, no chaos;
//   - workshop faults:       latency, status code and exception, faults off, their config read
//                            through a provider with an AWS SDK v3 client (as SSMProvider and the
//                            built-in store are), so that each fetch is handed an abort signal;
//   - aws-sdk fault:         the aws-sdk fault, faults off: it keeps each invocation's calls in
//                            an AsyncLocalStorage scope, which it enters while the cold start's
//                            config is in flight.
//   - AsyncLocalStorage.run: bare, after one `run` of an AsyncLocalStorage (the reference).
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const SCENARIOS = ['bare', 'workshop faults', 'aws-sdk fault', 'AsyncLocalStorage.run']
const AWAITS = 300_000

const child = async (scenario) => {
  const { default: middy } = await import('@middy/core')
  const { chaosLatency } = await import('../packages/latency/lib/index.js')
  const { chaosStatusCode } = await import('../packages/status-code/lib/index.js')
  const { chaosException } = await import('../packages/exception/lib/index.js')
  const { chaosAwsSdk } = await import('../packages/aws-sdk/lib/index.js')
  // An AWS SDK v3 client as the source sees one: `send` and a `middlewareStack`.
  const client = {
    middlewareStack: {},
    send: async () => ({ Parameter: { Value: '{"is_enabled":false}' } }),
  }
  const provider = {
    client,
    get: async (name) => (await client.send({ Name: name })).Parameter.Value,
  }
  const options = { provider, parameterName: '/bench/awaits', maxAge: 0 }
  const step = async (x) => x + 1
  const handler = async () => {
    let x = 0
    for (let i = 0; i < 10; i++) x = await step(x)
    return { statusCode: 200, body: String(x) }
  }
  let chain = middy(handler)
  if (scenario === 'workshop faults')
    chain = chain
      .use(chaosLatency(options))
      .use(chaosStatusCode(options))
      .use(chaosException(options))
  if (scenario === 'aws-sdk fault') chain = chain.use(chaosAwsSdk(options))
  if (scenario === 'AsyncLocalStorage.run') {
    const { AsyncLocalStorage } = await import('node:async_hooks')
    await new AsyncLocalStorage().run(1, async () => undefined)
  }
  const context = { getRemainingTimeInMillis: () => 30_000, awsRequestId: 'r', functionName: 'f' }
  for (let i = 0; i < 5; i++) await chain({}, context)
  let best = Number.POSITIVE_INFINITY
  for (let round = 0; round < 7; round++) {
    const start = performance.now()
    for (let i = 0; i < AWAITS; i++) await step(i)
    best = Math.min(best, performance.now() - start)
  }
  process.stdout.write(`${JSON.stringify({ ns: (best * 1e6) / AWAITS })}\n`)
}

if (process.argv[2] === '--child') {
  await child(process.argv[3])
} else {
  const self = fileURLToPath(import.meta.url)
  const processes = Number(process.env.PROCESSES ?? 5)
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
  const results = Object.fromEntries(SCENARIOS.map((name) => [name, []]))
  for (let i = 0; i < processes; i++) {
    for (const scenario of SCENARIOS) {
      const out = execFileSync(process.execPath, [self, '--child', scenario], { encoding: 'utf8' })
      results[scenario].push(JSON.parse(out.trim().split('\n').at(-1)).ns)
    }
  }
  console.log(
    `node ${process.version}; ns per await in the handler's code after 5 invocations: fastest of 7 rounds of ${AWAITS.toLocaleString('en')}, median of ${processes} processes`,
  )
  console.log('| scenario | ns per await | against bare |')
  console.log('| --- | ---: | ---: |')
  const bare = median(results.bare)
  for (const scenario of SCENARIOS) {
    const ns = median(results[scenario])
    console.log(`| ${scenario} | ${ns.toFixed(0)} | ${(ns / bare).toFixed(2)}× |`)
  }
}
