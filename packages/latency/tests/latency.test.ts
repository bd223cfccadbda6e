import middy from '@middy/core'
import type { ChaosConfig, ChaosLambdaConfig } from '@middy-chaos/core'
import { describe, expect, it } from 'vitest'
import {
  helloWorld,
  makeContext,
  onFakeClock,
  untypedConfig,
  useCapturedLogs,
} from '../../../test/helpers/index.js'
import { chaosLatency, MAX_DELAY_MS } from '../src/index.js'

const timed = async <T>(fn: () => Promise<T>) => {
  const started = performance.now()
  const result = await fn()
  return { result, elapsed: performance.now() - started }
}

describe('chaosLatency', () => {
  const logs = useCapturedLogs()

  it('delays the invocation by the chaos_lambda delay, before the handler', async () => {
    // Prepare: the handler and a later after hook note when they ran (fake ms)
    const order: string[] = []
    const config: ChaosLambdaConfig = {
      is_enabled: true,
      fault_type: 'latency',
      delay: 120,
      rate: 1,
    }
    const chain = (now: () => number) =>
      middy(async () => {
        order.push(`handler@${now()}`)
        return helloWorld()
      })
        .use(chaosLatency({ config }))
        .after(() => {
          order.push(`after@${now()}`)
        })

    // Act: on a fake clock, so the wait is the one the fault asked for, whatever the load
    const { result, ms } = await onFakeClock((now) => chain(now)({}, makeContext()))

    // Assess: 120 ms, all of it before the handler
    expect(result).toEqual({ statusCode: 200, body: 'Hello from Lambda!' })
    expect(ms).toBe(120)
    expect(order).toEqual(['handler@120', 'after@120'])
    expect(logs.injected()[0]).toMatchObject({
      chaos: {
        faultType: 'latency',
        phase: 'before',
        delay: 120,
        minDelay: 120,
        maxDelay: 120,
        rate: 1,
      },
    })
  })

  it('waits after the handler when asked in code or in the config', async () => {
    // Prepare: a handler that notes when it ran (fake ms)
    const handlerAt: number[] = []
    const lambda = (now: () => number) => async () => {
      handlerAt.push(now())
      return helloWorld()
    }
    const inCode: ChaosConfig = { version: 1, faults: [{ type: 'latency', delay: 80 }] }
    const inConfig: ChaosConfig = {
      version: 1,
      faults: [{ type: 'latency', delay: 80, phase: 'after' }],
    }

    // Act: on a fake clock
    const code = await onFakeClock((now) =>
      middy(lambda(now)).use(chaosLatency({ config: inCode, phase: 'after' }))({}, makeContext()),
    )
    const config = await onFakeClock((now) =>
      middy(lambda(now)).use(chaosLatency({ config: inConfig }))({}, makeContext()),
    )

    // Assess: the handler at once, the answer 80 ms later
    expect(handlerAt).toEqual([0, 0])
    expect([code.ms, config.ms]).toEqual([80, 80])
    expect(logs.injected()[0]).toMatchObject({ chaos: { phase: 'after', delay: 80 } })
    expect(logs.injected()[1]).toMatchObject({ chaos: { phase: 'after' } })
  })

  it('draws a delay uniformly from a range', async () => {
    const config: ChaosConfig = {
      version: 1,
      faults: [{ type: 'latency', delay: { min: 5, max: 25 } }],
    }
    const handler = middy(helloWorld).use(chaosLatency({ config }))
    for (let i = 0; i < 30; i++) await handler({}, makeContext())
    const delays = logs.injected().map((line) => (line.chaos as { delay: number }).delay)
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(5)
    expect(Math.max(...delays)).toBeLessThanOrEqual(25)
    expect(new Set(delays).size).toBeGreaterThan(3)
  })

  it('accepts minDelay / maxDelay', async () => {
    const config: ChaosConfig = {
      version: 1,
      faults: [{ type: 'latency', minDelay: 10, maxDelay: 10 }],
    }
    await middy(helloWorld).use(chaosLatency({ config }))({}, makeContext())
    expect(logs.injected()[0]).toMatchObject({ chaos: { delay: 10 } })
  })

  it('never sleeps past the deadline: clamps to the remaining time minus the margin and says so', async () => {
    // Prepare: 5 s asked for, 300 ms left, a 100 ms margin
    const config: ChaosConfig = { version: 1, faults: [{ type: 'latency', delay: 5_000 }] }
    const handler = middy(helloWorld).use(chaosLatency({ config, deadlineMargin: 100 }))

    // Act: on the real clock
    const { result, elapsed } = await timed(() => handler({}, makeContext({ timeoutMs: 300 })))

    // Assess: the delay the fault took is the time it saw left less the margin, at most 200 ms;
    // it waited that long (a busy machine only adds to it), and nowhere near the 5 s asked for
    expect(result).toEqual({ statusCode: 200, body: 'Hello from Lambda!' })
    const line = logs.injected()[0]?.chaos as { delay: number; remainingTimeMs: number }
    expect(line).toMatchObject({ requestedDelay: 5_000, clamped: true })
    expect(line.remainingTimeMs).toBeLessThanOrEqual(300)
    expect(line.delay).toBe(Math.max(0, line.remainingTimeMs - 100))
    expect(elapsed).toBeGreaterThanOrEqual(180)
    expect(elapsed).toBeLessThan(2_000) // ten times the 200 ms: the 5 s would fail it
  })

  it('on a fake clock, ends the clamped delay exactly at the margin before the deadline', async () => {
    const config: ChaosConfig = { version: 1, faults: [{ type: 'latency', delay: 5_000 }] }
    const { result, ms } = await onFakeClock(() =>
      middy(helloWorld).use(chaosLatency({ config, deadlineMargin: 100 }))(
        {},
        makeContext({ timeoutMs: 300 }),
      ),
    )
    expect(result).toEqual({ statusCode: 200, body: 'Hello from Lambda!' })
    expect(ms).toBe(200)
    expect(logs.injected()[0]?.chaos).toMatchObject({ delay: 200, remainingTimeMs: 300 })
  })

  it.each([
    [{ delay: -1 }, `faults[0].delay: must be an integer from 0 to ${MAX_DELAY_MS} ms (got -1)`],
    [
      { delay: '400' },
      `faults[0].delay: must be an integer from 0 to ${MAX_DELAY_MS} ms (got "400")`,
    ],
    [
      { delay: 1e9 },
      `faults[0].delay: must be an integer from 0 to ${MAX_DELAY_MS} ms (got 1000000000)`,
    ],
    [{ delay: { min: 9, max: 3 } }, 'faults[0].delay: min (9) must not exceed max (3)'],
    [{}, 'faults[0].delay: is required: a number of ms, or { "min": ms, "max": ms }'],
  ])('rejects %j with a message naming the field and the bound', async (fields, message) => {
    // Act: on a fake clock, where any wait would show
    // Values the types reject, on purpose: what the library does with them at run time.
    const config = untypedConfig({ version: 1, faults: [{ type: 'latency', ...fields }] })
    const { result, ms } = await onFakeClock(() =>
      middy(helloWorld).use(chaosLatency({ config }))({}, makeContext()),
    )

    // Assess: the handler answered with no wait and no fault, and the warning says why
    expect(result).toEqual({ statusCode: 200, body: 'Hello from Lambda!' })
    expect(ms).toBe(0)
    expect(logs.injected()).toEqual([])
    expect(logs.byLevel('warn')[0]?.issues).toEqual([message])
  })

  it('names chaos_lambda fields as chaos_lambda spells them', async () => {
    const config = untypedConfig({ is_enabled: true, fault_type: 'latency', delay: 'slow' })
    await middy(helloWorld).use(chaosLatency({ config }))({}, makeContext())
    expect(logs.byLevel('warn')[0]?.issues).toEqual([
      `delay: must be an integer from 0 to ${MAX_DELAY_MS} ms (got "slow")`,
    ])
  })
})
