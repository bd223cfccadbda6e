/**
 * failure-lambda's README configs for its `timeout` mode, through the middleware: "Sleeps until
 * Lambda timeout minus a configurable buffer", then the handler runs ("then continues").
 */
import middy from '@middy/core'
import { parseConfig } from '@middy-chaos/core'
import type { Context } from 'aws-lambda'
import { describe, expect, it } from 'vitest'
import { V1_CONFIGURATION } from '../../../test/formats/failure-lambda.fixtures.js'
import {
  helloWorld,
  makeContext,
  onFakeClock,
  useCapturedLogs,
} from '../../../test/helpers/index.js'
import { chaosTimeout, timeoutFault } from '../src/index.js'

/** The README's "Configuration" example with only the timeout flag on. */
const example = () => {
  const config = structuredClone(V1_CONFIGURATION)
  config.timeout.enabled = true
  return config
}
/** The README's "Create the SSM parameter" value, timeout on: no percentage, so 100. */
const minimal = { timeout: { enabled: true, timeout_buffer_ms: 500 } }

describe('failure-lambda timeout configs', () => {
  const logs = useCapturedLogs()

  it('map onto a timeout held until timeout_buffer_ms before the deadline, before the handler', () => {
    for (const config of [example(), minimal]) {
      const { document, issues } = parseConfig(config, { faults: [timeoutFault] })
      expect(issues).toEqual([])
      expect(document.faults).toHaveLength(1)
      expect(document.faults[0]).toMatchObject({
        type: 'timeout',
        rate: 1,
        phase: 'before',
        fields: { mode: 'hold', buffer: 500 },
      })
    }
  })

  it('sleep until the deadline less 500 ms, then run the handler with the 500 ms left', async () => {
    // Prepare
    const seen: { at: number; remaining: number }[] = []
    const chain = (now: () => number) =>
      middy(async (_event: unknown, context: { getRemainingTimeInMillis(): number }) => {
        seen.push({ at: now(), remaining: context.getRemainingTimeInMillis() })
        return helloWorld()
      }).use(chaosTimeout({ config: example() }))

    // Act: on a fake clock, so the instants are the ones the fault chose, whatever the load
    const { result } = await onFakeClock((now) => chain(now)({}, makeContext({ timeoutMs: 800 })))

    // Assess
    expect(result).toEqual(await helloWorld())
    expect(seen).toEqual([{ at: 300, remaining: 500 }])
    expect(logs.injected()[0]).toMatchObject({
      chaos: { faultType: 'timeout', mode: 'hold', buffer: 500, outcome: 'continue' },
    })
  })

  it('a handler slower than the buffer then times out: Middy timeoutEarly fires before the deadline', async () => {
    // Prepare: a handler needing 700 ms. On the real clock: Middy's timer comes from
    // node:timers, which a fake clock does not reach.
    let remaining = -1
    const chain = middy(async (_event: unknown, context: Context) => {
      remaining = context.getRemainingTimeInMillis()
      await new Promise((resolve) => setTimeout(resolve, 700))
      return helloWorld()
    }).use(chaosTimeout({ config: minimal }))

    // Act
    const started = performance.now()
    const error = await chain({}, makeContext({ timeoutMs: 800 })).catch((caught: Error) => caught)
    const elapsed = performance.now() - started

    // Assess: Middy's own timeoutEarly error (5 ms, its default, before the deadline), not the
    // handler's answer: the fault held until 500 ms before the deadline and no later (the hold
    // it logged), so the handler started with at most 500 ms of the 700 it needs
    expect(error).toMatchObject({ name: 'TimeoutError', cause: { package: '@middy/core' } })
    const line = logs.injected()[0]?.chaos as { holdMs: number; remainingTimeMs: number }
    expect(line.remainingTimeMs).toBeLessThanOrEqual(800)
    expect(line.holdMs).toBe(line.remainingTimeMs - 500)
    expect(remaining).toBeGreaterThanOrEqual(0)
    expect(remaining).toBeLessThanOrEqual(501)
    expect(elapsed).toBeGreaterThanOrEqual(790)
    expect(elapsed).toBeLessThan(8_000) // ten times the 800 ms: a hold past the deadline would show
  })

  it('timeout_buffer_ms defaults to 0, as in failure-lambda: held until the deadline', async () => {
    let ran = false
    const chain = middy(async () => {
      ran = true
      return helloWorld()
    }).use(chaosTimeout({ config: { timeout: { enabled: true } } }))
    const error = await chain({}, makeContext({ timeoutMs: 200 })).catch((caught: Error) => caught)
    expect(ran).toBe(false)
    expect((error as Error).message).toMatch(/^Task timed out/)
  })

  it('skips a flag failure-lambda would skip, naming the field', () => {
    const { document, notes } = parseConfig(
      { timeout: { enabled: true, timeout_buffer_ms: -1 } },
      { faults: [timeoutFault] },
    )
    expect(document.faults).toEqual([])
    expect(notes?.join('\n')).toMatch(/timeout_buffer_ms must be a non-negative number \(got -1\)/)
  })
})
