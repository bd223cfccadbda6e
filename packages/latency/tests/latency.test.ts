import middy from '@middy/core'
import { describe, expect, it } from 'vitest'
import { helloWorld, makeContext, useCapturedLogs } from '../../../test/helpers/index.js'
import { chaosLatency, MAX_DELAY_MS } from '../src/index.js'

const timed = async <T>(fn: () => Promise<T>) => {
  const started = performance.now()
  const result = await fn()
  return { result, elapsed: performance.now() - started }
}

describe('chaosLatency', () => {
  const logs = useCapturedLogs()

  it('delays the invocation by the chaos_lambda delay, before the handler', async () => {
    const order: string[] = []
    const config = { is_enabled: true, fault_type: 'latency', delay: 120, rate: 1 }
    const handler = middy(async () => {
      order.push('handler')
      return helloWorld()
    })
      .use(chaosLatency({ config }))
      .after(() => {
        order.push('after')
      })
    const { result, elapsed } = await timed(() => handler({}, makeContext()))
    expect(result).toEqual({ statusCode: 200, body: 'Hello from Lambda!' })
    expect(elapsed).toBeGreaterThanOrEqual(118)
    expect(elapsed).toBeLessThan(400)
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
    const events: string[] = []
    const lambda = async () => {
      events.push(`handler@${Math.round(performance.now())}`)
      return helloWorld()
    }
    const config = { version: 1, faults: [{ type: 'latency', delay: 80 }] }
    const started = performance.now()
    await middy(lambda).use(chaosLatency({ config, phase: 'after' }))({}, makeContext())
    const handlerAt = Number(events[0]?.split('@')[1]) - started
    expect(handlerAt).toBeLessThan(40)
    expect(performance.now() - started).toBeGreaterThanOrEqual(78)
    expect(logs.injected()[0]).toMatchObject({ chaos: { phase: 'after', delay: 80 } })

    const configAfter = { version: 1, faults: [{ type: 'latency', delay: 80, phase: 'after' }] }
    const { elapsed } = await timed(() =>
      middy(lambda).use(chaosLatency({ config: configAfter }))({}, makeContext()),
    )
    expect(elapsed).toBeGreaterThanOrEqual(78)
    expect(logs.injected()[1]).toMatchObject({ chaos: { phase: 'after' } })
  })

  it('draws a delay uniformly from a range', async () => {
    const config = { version: 1, faults: [{ type: 'latency', delay: { min: 5, max: 25 } }] }
    const handler = middy(helloWorld).use(chaosLatency({ config }))
    for (let i = 0; i < 30; i++) await handler({}, makeContext())
    const delays = logs.injected().map((line) => (line.chaos as { delay: number }).delay)
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(5)
    expect(Math.max(...delays)).toBeLessThanOrEqual(25)
    expect(new Set(delays).size).toBeGreaterThan(3)
  })

  it('accepts minDelay / maxDelay', async () => {
    const config = { version: 1, faults: [{ type: 'latency', minDelay: 10, maxDelay: 10 }] }
    await middy(helloWorld).use(chaosLatency({ config }))({}, makeContext())
    expect(logs.injected()[0]).toMatchObject({ chaos: { delay: 10 } })
  })

  it('never sleeps past the deadline: clamps to the remaining time minus the margin and says so', async () => {
    const config = { version: 1, faults: [{ type: 'latency', delay: 5_000 }] }
    const handler = middy(helloWorld).use(chaosLatency({ config, deadlineMargin: 100 }))
    const { result, elapsed } = await timed(() => handler({}, makeContext({ timeoutMs: 300 })))
    expect(result).toEqual({ statusCode: 200, body: 'Hello from Lambda!' })
    expect(elapsed).toBeLessThan(300)
    expect(elapsed).toBeGreaterThanOrEqual(180)
    const line = logs.injected()[0]?.chaos as Record<string, unknown>
    expect(line).toMatchObject({ requestedDelay: 5_000, clamped: true })
    expect(line.delay).toBeLessThanOrEqual(200)
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
    const config = { version: 1, faults: [{ type: 'latency', ...fields }] }
    const { elapsed } = await timed(() =>
      middy(helloWorld).use(chaosLatency({ config }))({}, makeContext()),
    )
    expect(elapsed).toBeLessThan(50)
    expect(logs.byLevel('warn')[0]?.issues).toEqual([message])
  })

  it('names chaos_lambda fields as chaos_lambda spells them', async () => {
    const config = { is_enabled: true, fault_type: 'latency', delay: 'slow' }
    await middy(helloWorld).use(chaosLatency({ config }))({}, makeContext())
    expect(logs.byLevel('warn')[0]?.issues).toEqual([
      `delay: must be an integer from 0 to ${MAX_DELAY_MS} ms (got "slow")`,
    ])
  })
})
