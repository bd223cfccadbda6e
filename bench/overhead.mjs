// Per-invocation cost of the chaos middlewares with faults off, against a bare
// Middy handler. Run after `pnpm build`:  pnpm bench   (node bench/overhead.mjs)
//
// Each chain runs in its own Node process, as each function does in Lambda (one
// handler per process: a shared JIT would see call sites no real function has).
// Within a process: warm-up, then ROUNDS rounds of N invocations, keeping the
// fastest round (noise only ever adds time); the median over REPEATS processes
// is reported. Chaos chains are compared with as many do-nothing middlewares,
// which is what Middy's own dispatch costs. Two rows give the chain Powertools Tracer (the
// `tracer` option, tracing on as in Lambda) and an OpenTelemetry SDK registered, each invocation
// in an active span as the Lambda layers run it, each against as many no-ops in the same setting:
// with faults off, chaos calls neither. A last
// scenario keeps invoking for
// 3M calls and reports the cost per window, the number of config fetches and
// the heap, to show that nothing grows with traffic. A second table gives the
// cost of one `await chaosPoint(…)` in a handler's code (@middy-chaos/point),
// measured the same way; `node bench/overhead.mjs --only=points` prints it alone.
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import middy from '@middy/core'
import { chaosAwsSdk } from '../packages/aws-sdk/lib/index.js'
import { getConfigSource } from '../packages/core/lib/index.js'
import { chaosException } from '../packages/exception/lib/index.js'
import { chaosHttp } from '../packages/http/lib/index.js'
import { chaosLatency } from '../packages/latency/lib/index.js'
import { chaosPoint, chaosPoints } from '../packages/point/lib/index.js'
import { chaosStatusCode } from '../packages/status-code/lib/index.js'

const event = { httpMethod: 'GET', path: '/' }
const context = {
  awsRequestId: 'bench',
  functionName: 'bench',
  getRemainingTimeInMillis: () => 30_000,
}
const lambda = async () => ({ statusCode: 200, body: 'Hello from Lambda!' })

// The workshop's "off" value, cached: what a function sees between experiments.
const off = {
  is_enabled: false,
  fault_type: 'latency',
  delay: 400,
  error_code: 404,
  exception_msg: 'Fault injected by chaos-lambda',
  rate: 1,
}
// An experiment live for a fault type this chain does not use.
const otherFault = { version: 1, faults: [{ type: 'cpu_burn', rate: 1 }] }

const chain = (config, copies, options = {}) => {
  const handler = middy(lambda)
  for (let i = 0; i < copies; i++) {
    handler
      .use(chaosLatency({ config, ...options }))
      .use(chaosStatusCode({ config, ...options }))
      .use(chaosException({ config, ...options }))
  }
  return handler
}

/** Powertools Tracer with tracing on, as in Lambda (the X-Ray SDK reads the environment when it loads). */
const poweredTracer = async () => {
  Object.assign(process.env, {
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
    LAMBDA_TASK_ROOT: '/var/task',
    POWERTOOLS_TRACE_ENABLED: 'true',
    AWS_XRAY_DAEMON_ADDRESS: '127.0.0.1:9',
    _X_AMZN_TRACE_ID: 'Root=1-6750c0de-0123456789abcdef01234567;Parent=0123456789abcdef;Sampled=1',
  })
  const { Tracer } = await import('@aws-lambda-powertools/tracer')
  const tracer = new Tracer({ serviceName: 'bench' })
  if (!tracer.isTracingEnabled()) throw new Error('tracing is off')
  return tracer
}

/** An OpenTelemetry SDK registered as the Lambda layers register it; each invocation in an active span. */
const inSpans = async (build) => {
  const { context, trace } = await import('@opentelemetry/api')
  const { AsyncLocalStorageContextManager } = await import('@opentelemetry/context-async-hooks')
  const { BasicTracerProvider } = await import('@opentelemetry/sdk-trace-base')
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
  trace.setGlobalTracerProvider(new BasicTracerProvider())
  const tracer = trace.getTracer('bench')
  const handler = build()
  return (event, ctx) =>
    tracer.startActiveSpan('invocation', (span) => handler(event, ctx).finally(() => span.end()))
}
const ownFaultsNotDrawn = {
  version: 1,
  faults: [
    { type: 'aws_sdk', error: 'ThrottlingException', rate: 0 },
    { type: 'http', hosts: ['.example.com'], fault: 'refused', rate: 0 },
  ],
}
const dependencies = (config) =>
  chain(config, 1)
    .use(chaosAwsSdk({ config, clients: [new DynamoDBClient({ region: 'us-east-1' })] }))
    .use(chaosHttp({ config }))
// Do-nothing middlewares with the same hooks (a before and an after each, each a
// closure of its own as the chaos hooks are): the cost of Middy's own dispatch.
const noopMiddleware = () => ({ before: () => undefined, after: () => undefined })
const noops = (count) => {
  const handler = middy(lambda)
  for (let i = 0; i < count; i++) handler.use(noopMiddleware())
  return handler
}

const scenarios = {
  bare: () => middy(lambda),
  'no-op x3': () => noops(3),
  'chaos x3, off': () => chain(off, 1),
  'chaos x3, other fault live': () => chain(otherFault, 1),
  // The X-Ray SDK's context (cls-hooked, on async_hooks) slows every promise of the process:
  // compared with as many no-ops in a process with the Tracer loaded.
  'no-op x3, tracer': async () => {
    await poweredTracer()
    return noops(3)
  },
  'chaos x3, off, tracer': async () => chain(off, 1, { tracer: await poweredTracer() }),
  'no-op x3, OpenTelemetry': () => inSpans(() => noops(3)),
  'chaos x3, off, OpenTelemetry': () => inSpans(() => chain(off, 1)),
  'no-op x5': () => noops(5),
  // The workshop's three and the dependency faults (AWS SDK calls, outbound HTTP).
  'chaos x5, off': () => dependencies(off),
  'chaos x5, other fault live': () => dependencies(otherFault),
  // An aws_sdk and an http fault live but never drawn: decided each invocation, no scope opened.
  'chaos x5, own faults live, rate 0': () => dependencies(ownFaultsNotDrawn),
  'no-op x4': () => noops(4),
  // The workshop's three and the failure points' middleware.
  'chaos x4 with points, off': () => chain(off, 1).use(chaosPoints({ config: off })),
  'no-op x9': () => noops(9),
  'chaos x9, off': () => chain(off, 3),
  'no-op x30': () => noops(30),
  'chaos x30, off': () => chain(off, 10),
}

// One `await chaosPoint(…)` as a handler's code writes it, against an await of a settled promise
// (what any `await` costs). Each scenario makes a loop of n calls.
const settled = Promise.resolve()
const labels = { provider: 'stripe' }
const pointCalls = {
  'await of a settled promise (baseline)': () => async (n) => {
    for (let i = 0; i < n; i++) await settled
  },
  'chaosPoint, no point fault live': () => async (n) => {
    for (let i = 0; i < n; i++) await chaosPoint('orders.charge', { labels })
  },
  // The invocation holds a point fault for another point: the call looks its invocation up.
  'chaosPoint, the invocation holds a fault for another point': () => {
    let calls = 0
    const handler = middy(async () => {
      for (let i = 0; i < calls; i++) await chaosPoint('orders.charge', { labels })
    }).use(
      chaosPoints({
        config: { version: 1, faults: [{ type: 'point', name: 'orders.save', error: 'X' }] },
      }),
    )
    return async (n) => {
      calls = n
      await handler(event, context)
    }
  },
}

const timedLoop = async (loop, n) => {
  const start = process.hrtime.bigint()
  await loop(n)
  return Number(process.hrtime.bigint() - start) / n
}

/** A loop of n invocations of a handler. */
const invocations = (handler) => async (n) => {
  for (let i = 0; i < n; i++) await handler(event, context)
}
const run = (handler, n) => timedLoop(invocations(handler), n)
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

const scenario = process.argv[2]
if (scenario === 'traffic') {
  const handler = chain(off, 1)
  const source = getConfigSource({ config: off })
  await run(handler, 100_000)
  const rows = []
  let total = 0
  for (let window = 1; window <= 30; window++) {
    const ns = await run(handler, 100_000)
    total += 100_000
    if (window === 1 || window % 10 === 0) {
      rows.push({
        total,
        ns,
        fetches: source.fetchCount,
        heapMB: process.memoryUsage().heapUsed / 2 ** 20,
      })
    }
  }
  console.log(JSON.stringify(rows))
} else if (scenario && !scenario.startsWith('--')) {
  // A chain makes a loop of n invocations; a point scenario, a loop of n calls.
  const loop = Object.hasOwn(pointCalls, scenario)
    ? pointCalls[scenario]()
    : invocations(await scenarios[scenario]())
  await timedLoop(loop, 300_000)
  const rounds = Number(process.env.ROUNDS ?? 10)
  const n = Number(process.env.N ?? 200_000)
  const samples = []
  for (let r = 0; r < rounds; r++) samples.push(await timedLoop(loop, n))
  console.log(JSON.stringify(Math.min(...samples)))
} else {
  const self = fileURLToPath(import.meta.url)
  // The figure is the last line (a fault that fires logs its lines before it).
  const measure = (name) =>
    JSON.parse(
      execFileSync(process.execPath, [self, name], { encoding: 'utf8' }).trim().split('\n').at(-1),
    )
  const repeats = Number(process.env.REPEATS ?? 5)
  const onlyPoints = scenario === '--only=points'
  // --only=points: the point calls, and the workshop's chain with and without chaosPoints().
  const chains = onlyPoints
    ? ['bare', 'no-op x3', 'chaos x3, off', 'no-op x4', 'chaos x4 with points, off']
    : Object.keys(scenarios)
  const names = [...chains, ...Object.keys(pointCalls)]
  const results = Object.fromEntries(names.map((name) => [name, []]))
  // Interleave the processes so that machine noise spreads over all scenarios.
  for (let i = 0; i < repeats; i++) {
    for (const name of names) results[name].push(measure(name))
  }
  console.log(
    `node ${process.version}; each in its own process: fastest of ${process.env.ROUNDS ?? 10} rounds, median of ${repeats} processes`,
  )
  const bare = median(results.bare)
  console.log('| chain | ns/invocation | over bare | over as many no-op middlewares |')
  console.log('| --- | ---: | ---: | ---: |')
  for (const name of chains) {
    const m = median(results[name])
    const count = /x(\d+)/.exec(name)?.[1]
    // With OpenTelemetry, against as many no-ops with OpenTelemetry.
    const noop = name.startsWith('chaos')
      ? (results[name.replace(/^chaos (x\d+), [^,]+/, 'no-op $1')] ?? results[`no-op x${count}`])
      : undefined
    const overNoop = noop ? `+${(m - median(noop)).toFixed(0)}` : '—'
    console.log(
      `| ${name} | ${m.toFixed(0)} | ${name === 'bare' ? '—' : `+${(m - bare).toFixed(0)}`} | ${overNoop} |`,
    )
  }
  const baseline = median(results['await of a settled promise (baseline)'])
  console.log("\nPoints: one `await chaosPoint(…)` in a handler's code")
  console.log('| call | ns/call | over an await of a settled promise |')
  console.log('| --- | ---: | ---: |')
  for (const name of Object.keys(pointCalls)) {
    const m = median(results[name])
    console.log(
      `| ${name} | ${m.toFixed(1)} | ${name.endsWith('(baseline)') ? '—' : `+${(m - baseline).toFixed(1)}`} |`,
    )
  }
  if (!onlyPoints) {
    console.log('\nTraffic: chaos x3, off, 3M invocations in windows of 100,000')
    console.log(
      '| invocations so far | ns/invocation in the window | config fetches | heap used (MB) |',
    )
    console.log('| ---: | ---: | ---: | ---: |')
    for (const row of measure('traffic')) {
      console.log(
        `| ${row.total.toLocaleString('en')} | ${row.ns.toFixed(0)} | ${row.fetches} | ${row.heapMB.toFixed(1)} |`,
      )
    }
  }
}
