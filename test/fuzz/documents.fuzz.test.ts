/**
 * Fuzzed configs through parseConfig and the three workshop middlewares, in the
 * three formats: no throw, no injection from an entry that has any invalid or
 * conflicting field, no log line over the documented size, Object.prototype
 * left as it was. A latency entry longer than the test can wait is clamped by
 * the invocation's deadline (a context with 40 ms left), not left out.
 * `FUZZ_RUNS` sets the number of documents (2,000 here; `pnpm bench` runs 100,000).
 */
import middy from '@middy/core'
import { parseConfig, resetConfigSources } from '@middy-chaos/core'
import { chaosException } from '@middy-chaos/exception'
import { chaosLatency } from '@middy-chaos/latency'
import { chaosStatusCode } from '@middy-chaos/status-code'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { checkConfig } from '../../packages/experiment/src/config-check.js'
import { captureLogs, makeContext, restApiEvent } from '../helpers/index.js'

const RUNS = Number(process.env.FUZZ_RUNS ?? 2000)
/** The documented bound of a warning line (packages/core/README.md). */
const MAX_LINE = 8 * 1024

const value = fc.oneof(
  fc.constantFrom(0, 1, -1, 0.5, 2, 3, 99, 100, 404, 503, 600, 900_000, 900_001, 1e300, -0.5),
  fc.constantFrom('', '1', 'x'.repeat(5000), 'before', 'after', 'onError', 'boom', '__proto__'),
  fc.constantFrom(true, false, null, [], {}, { min: 1, max: 5 }, { min: 9, max: 1 }, { max: 3 }),
  fc.jsonValue({ maxDepth: 2 }),
)
const field = (names: string[]) => fc.dictionary(fc.constantFrom(...names), value, { maxKeys: 5 })
const entry = (type: string, names: string[]) =>
  field(['rate', 'phase', 'every', 'seed', 'dryRun', 'enabled', ...names]).map((fields) => ({
    ...fields,
    type,
  }))

/** middy-chaos documents with at most one entry per workshop fault type. */
const document = fc
  .record(
    {
      latency: entry('latency', ['delay', 'minDelay', 'maxDelay']),
      status: entry('status_code', ['statusCode', 'preventExecution', 'body', 'headers']),
      exception: entry('exception', ['message', 'errorName']),
    },
    { requiredKeys: [] },
  )
  .chain((entries) =>
    fc.record({
      version: fc.constantFrom(1, 1, 1, 2, '1'),
      faults: fc.shuffledSubarray(Object.values(entries)),
      enabled: fc.constantFrom(true, true, undefined, 'yes'),
    }),
  )

/** chaos_lambda documents, as the workshop's parameter holds them, with fuzzed fields. */
const chaosLambda = fc.record(
  {
    is_enabled: fc.oneof(fc.constant(true), value),
    fault_type: fc.oneof(
      fc.constantFrom('latency', 'status_code', 'exception', 'error', 'explode'),
      value,
    ),
    delay: value,
    error_code: value,
    exception_msg: value,
    rate: value,
  },
  { requiredKeys: ['is_enabled', 'fault_type'] },
)

/** failure-lambda 1.x documents with fuzzed flags. */
const flag = (names: string[]) =>
  field(['enabled', 'percentage', 'rate', 'match', ...names]).map((fields) => ({
    enabled: true,
    ...fields,
  }))
const failureLambda = fc.record(
  {
    latency: flag(['min_latency', 'max_latency']),
    statuscode: flag(['status_code']),
    exception: flag(['exception_msg']),
  },
  { requiredKeys: [] },
)

/** Every own property of Object.prototype and what it holds. */
const prototypeState = () =>
  Object.getOwnPropertyNames(Object.prototype)
    .sort()
    .map((key) => [key, Object.getOwnPropertyDescriptor(Object.prototype, key)])

/** Runs the workshop chain once on a config; returns the fault types it injected. */
const runChain = async (config: string, logs: ReturnType<typeof captureLogs>) => {
  resetConfigSources()
  logs.lines.length = 0
  const handler = middy(async () => ({ statusCode: 200, body: 'ok' }))
    .use(chaosLatency({ config }))
    .use(chaosStatusCode({ config }))
    .use(chaosException({ config }))
  // 40 ms left: any latency is clamped to it, so every document runs, quickly.
  await handler(restApiEvent(), makeContext({ timeoutMs: 40 })).catch(() => undefined)
  for (const line of logs.lines) expect(JSON.stringify(line).length).toBeLessThan(MAX_LINE)
  return logs.injected().map((line) => (line.chaos as { faultType: string }).faultType)
}

describe('fuzzed configs through the workshop chain', () => {
  let logs: ReturnType<typeof captureLogs>
  beforeAll(() => {
    logs = captureLogs()
  })
  afterAll(() => logs.restore())

  it(`never throw, never inject from a reported entry, never log past ${MAX_LINE} bytes (${RUNS} documents)`, async () => {
    const prototype = prototypeState()
    await fc.assert(
      fc.asyncProperty(document, async (doc) => {
        const config = JSON.stringify(doc)
        expect(() => parseConfig(config)).not.toThrow()
        const { issues } = checkConfig(config)
        const reported = new Set(
          issues.map((issue) => /^faults\[(\d+)\]/.exec(issue.path)?.[1]).filter(Boolean),
        )
        const documentReported = issues.some((issue) => !issue.path.startsWith('faults['))
        const injected = await runChain(config, logs)
        doc.faults.forEach((fault, index) => {
          if (documentReported || reported.has(String(index)))
            expect(injected, JSON.stringify(fault).slice(0, 200)).not.toContain(fault.type)
        })
      }),
      { numRuns: RUNS },
    )
    expect(prototypeState()).toEqual(prototype)
  }, 600_000)

  it(`chaos_lambda documents: never throw, nothing injected from a reported document, no line past ${MAX_LINE} bytes (${RUNS} documents)`, async () => {
    const prototype = prototypeState()
    await fc.assert(
      fc.asyncProperty(chaosLambda, async (doc) => {
        const config = JSON.stringify(doc)
        expect(() => parseConfig(config)).not.toThrow()
        const { issues } = checkConfig(config)
        const injected = await runChain(config, logs)
        // One entry: any issue is that entry's.
        if (issues.length > 0) expect(injected, config.slice(0, 200)).toEqual([])
      }),
      { numRuns: RUNS },
    )
    expect(prototypeState()).toEqual(prototype)
  }, 600_000)

  it(`failure-lambda documents: never throw, no line past ${MAX_LINE} bytes (${RUNS} documents)`, async () => {
    const prototype = prototypeState()
    await fc.assert(
      fc.asyncProperty(failureLambda, async (doc) => {
        const config = JSON.stringify(doc)
        expect(() => parseConfig(config)).not.toThrow()
        await runChain(config, logs)
      }),
      { numRuns: RUNS },
    )
    expect(prototypeState()).toEqual(prototype)
  }, 600_000)
})
