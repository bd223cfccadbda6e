/**
 * Fuzzed configs through parseConfig and the three workshop middlewares: no
 * throw, no injection from an entry that has any invalid or conflicting field,
 * no warning line over the documented size, Object.prototype left clean.
 * `FUZZ_RUNS` sets the number of documents (2,000 here; `pnpm bench` runs 100,000).
 */
import middy from '@middy/core'
import { parseConfig, resetConfigSources } from '@middy-chaos/core'
import { chaosException } from '@middy-chaos/exception'
import { chaosLatency } from '@middy-chaos/latency'
import { chaosStatusCode } from '@middy-chaos/status-code'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { checkConfig } from '../../packages/cli/src/config-check.js'
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

const delayIn = (fields: Record<string, unknown>) => {
  const delay = fields.delay ?? fields.maxDelay ?? fields.minDelay
  return typeof delay === 'number' ? delay : 0
}

describe('fuzzed configs through the workshop chain', () => {
  let logs: ReturnType<typeof captureLogs>
  beforeAll(() => {
    logs = captureLogs()
  })
  afterAll(() => logs.restore())

  it(`never throw, never inject from a reported entry, never log past ${MAX_LINE} bytes (${RUNS} documents)`, async () => {
    const prototypeKeys = Object.getOwnPropertyNames(Object.prototype).sort()
    await fc.assert(
      fc.asyncProperty(document, async (doc) => {
        // Keep runs short: no real waiting on a latency entry.
        for (const fault of doc.faults) if (delayIn(fault) > 50) return
        resetConfigSources()
        logs.lines.length = 0
        const config = JSON.stringify(doc)
        expect(() => parseConfig(config)).not.toThrow()
        const { issues } = checkConfig(config)
        const reported = new Set(
          issues.map((issue) => /^faults\[(\d+)\]/.exec(issue.path)?.[1]).filter(Boolean),
        )
        const documentReported = issues.some((issue) => !issue.path.startsWith('faults['))
        const handler = middy(async () => ({ statusCode: 200, body: 'ok' }))
          .use(chaosLatency({ config }))
          .use(chaosStatusCode({ config }))
          .use(chaosException({ config }))
        await handler(restApiEvent(), makeContext()).catch(() => undefined)
        const injected = logs
          .injected()
          .map((line) => (line.chaos as { faultType: string }).faultType)
        doc.faults.forEach((fault, index) => {
          if (documentReported || reported.has(String(index)))
            expect(injected, JSON.stringify(fault).slice(0, 200)).not.toContain(fault.type)
        })
        for (const line of logs.lines) expect(JSON.stringify(line).length).toBeLessThan(MAX_LINE)
      }),
      { numRuns: RUNS },
    )
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeKeys)
  }, 600_000)
})
