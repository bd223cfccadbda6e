import middy from '@middy/core'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  captureLogs,
  makeContext,
  restApiEvent,
  untypedConfig,
} from '../../../../test/helpers/index.js'
import { chaosException } from '../../../exception/src/index.js'
import { chaosLatency } from '../../../latency/src/index.js'
import { chaosStatusCode } from '../../../status-code/src/index.js'
import { parseConfig } from '../../src/index.js'

const hello = { statusCode: 200, body: 'Hello from Lambda!' }
const workshopTypes = ['latency', 'status_code', 'exception', 'status-code', 'LATENCY']

/** Values that are wrong for the fields each workshop fault reads. */
const badNumber = fc.oneof(
  fc.integer({ max: -1 }),
  fc.integer({ min: 1_000_000 }),
  fc.double({ noNaN: false }).filter((n) => !Number.isInteger(n)),
  fc.string(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.integer()),
)

const badRate = fc.oneof(
  fc.double({ min: 1.0000001, max: 1e9, noNaN: true }),
  fc.double({ max: -0.0000001, min: -1e9, noNaN: true }),
  fc.string(),
  fc.constant(null),
  fc.boolean(),
)

/** chaos_lambda documents that are enabled but invalid in a way that must not inject. */
const invalidChaosLambda = fc.oneof(
  fc.record({
    is_enabled: fc.constant(true),
    fault_type: fc.constantFrom(...workshopTypes),
    delay: fc.integer({ min: 0, max: 5 }),
    error_code: fc.constantFrom(404, 500),
    exception_msg: fc.string(),
    rate: badRate,
  }),
  fc.record({
    is_enabled: fc.constant(true),
    fault_type: fc.constant('latency'),
    delay: badNumber,
  }),
  fc.record({
    is_enabled: fc.constant(true),
    fault_type: fc.constant('status_code'),
    error_code: badNumber,
  }),
  fc.record({
    is_enabled: fc.oneof(fc.string(), fc.integer(), fc.constant(null)),
    fault_type: fc.constantFrom(...workshopTypes),
    delay: fc.constant(1),
  }),
)

/** middy-chaos documents that are structurally wrong. */
const invalidMiddyChaos = fc.oneof(
  fc.record({ version: fc.integer({ min: 2 }), faults: fc.constant([{ type: 'exception' }]) }),
  fc.record({ version: fc.constant(1), faults: fc.oneof(fc.string(), fc.integer(), fc.object()) }),
  fc.record({
    version: fc.constant(1),
    faults: fc.array(
      fc.record({
        type: fc.constantFrom('exception', 'latency'),
        rate: badRate,
        delay: fc.constant(1),
      }),
      { minLength: 1, maxLength: 3 },
    ),
  }),
  fc.record({
    version: fc.constant(1),
    faults: fc.array(
      fc.record({
        type: fc.constant('exception'),
        message: fc.oneof(fc.integer(), fc.boolean(), fc.object()),
      }),
      {
        minLength: 1,
        maxLength: 3,
      },
    ),
  }),
)

/** Any document the property draws, valid or not: checked at run time only. */
const runChain = (drawn: unknown) => {
  const config = untypedConfig(drawn)
  return middy(async () => ({ ...hello }))
    .use(chaosLatency({ config }))
    .use(chaosStatusCode({ config }))
    .use(chaosException({ config }))(restApiEvent(), makeContext())
}

describe('parseConfig properties', () => {
  let logs: ReturnType<typeof captureLogs>
  beforeAll(() => {
    logs = captureLogs()
  })
  afterAll(() => logs.restore())

  it('never throws, whatever the input', () => {
    fc.assert(
      fc.property(fc.oneof(fc.anything(), fc.string(), fc.json(), fc.uint8Array()), (input) => {
        const result = parseConfig(input)
        expect(Array.isArray(result.document.faults)).toBe(true)
        for (const issue of result.issues) {
          expect(typeof issue.path).toBe('string')
          expect(typeof issue.message).toBe('string')
        }
      }),
      { numRuns: 10_000 },
    )
  })

  it('an input that is not a valid document gives no faults and says why', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), fc.integer(), fc.array(fc.anything()), fc.constant(null)),
        (input) => {
          let isObjectJson = false
          try {
            const parsed = typeof input === 'string' ? JSON.parse(input) : input
            isObjectJson = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
          } catch {}
          fc.pre(!isObjectJson)
          const { document, issues } = parseConfig(untypedConfig(input))
          expect(document.faults).toEqual([])
          expect(issues.length).toBeGreaterThan(0)
        },
      ),
      { numRuns: 5_000 },
    )
  })

  it('an invalid document never injects: the handler answers untouched', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(invalidChaosLambda, invalidMiddyChaos), async (config) => {
        const before = logs.injected().length
        const response = await runChain(config)
        expect(response).toEqual(hello)
        expect(logs.injected().length).toBe(before)
      }),
      { numRuns: 1_000 },
    )
  })

  it('arbitrary JSON never breaks the chain: the only error that escapes is an injected one', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue({ maxDepth: 4 }), async (config) => {
        try {
          const response = await runChain(JSON.stringify(config))
          expect(response).toHaveProperty('statusCode')
        } catch (error) {
          expect((error as Error).name).toBe('ChaosInjectedError')
        }
      }),
      { numRuns: 2_000 },
    )
  })
})
