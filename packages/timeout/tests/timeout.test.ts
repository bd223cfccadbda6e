import middy from '@middy/core'
import type { ChaosConfig } from '@middy-chaos/core'
import { ChaosInjectedError, isInjectedError } from '@middy-chaos/core'
import type { Context } from 'aws-lambda'
import { describe, expect, it, vi } from 'vitest'
import {
  helloWorld,
  makeContext,
  onFakeClock,
  useCapturedLogs,
} from '../../../test/helpers/index.js'
import type { TimeoutEntry } from '../src/index.js'
import { ChaosTimeoutError, chaosTimeout, DEADLINE_GRACE_MS, MAX_BUFFER_MS } from '../src/index.js'

const timeout = (fields: Omit<TimeoutEntry, 'type'> = {}): ChaosConfig => ({
  version: 1,
  faults: [{ type: 'timeout', ...fields }],
})

/**
 * Runs `call` on a fake clock, and says when it settled (fake ms) and how: the
 * instants the fault chose, not how long a busy machine took to get there.
 */
const settle = async (call: () => Promise<unknown>) => {
  const { result, error, ms } = await onFakeClock(call)
  return { result, error: error as Error | undefined, at: ms }
}

/** Runs `call` on the real clock, and says when it settled (ms from now) and how. */
const settleReal = async (call: () => Promise<unknown>) => {
  const started = performance.now()
  try {
    const result = await call()
    return { result, error: undefined, at: performance.now() - started }
  } catch (error) {
    return { result: undefined, error: error as Error, at: performance.now() - started }
  }
}

/** A handler that records when it started (ms from `now()`) and how much time it had left. */
const recorder = (now: () => number, work = 0) => {
  const calls: { at: number; remaining: number }[] = []
  const handler = async (_event: unknown, context: { getRemainingTimeInMillis(): number }) => {
    calls.push({ at: now(), remaining: context.getRemainingTimeInMillis() })
    if (work > 0) await new Promise((resolve) => setTimeout(resolve, work))
    return helloWorld()
  }
  return { calls, handler }
}

describe('chaosTimeout', () => {
  const logs = useCapturedLogs()

  it('holds the invocation until the deadline: the handler never runs, and the invocation ends there', async () => {
    // Prepare: a function with 300 ms left
    const { calls, handler } = recorder(() => 0)
    const chain = middy(handler).use(chaosTimeout({ config: timeout() }))

    // Act
    const { result, error, at } = await settle(() => chain({}, makeContext({ timeoutMs: 300 })))

    // Assess: Lambda would end it at 300 ms; nothing did here, so the fault did, just after
    expect(calls).toEqual([])
    expect(result).toBeUndefined()
    expect(error).toBeInstanceOf(ChaosTimeoutError)
    expect(error?.name).toBe('TimeoutError')
    expect(error?.message).toMatch(/^Task timed out/)
    expect(at).toBe(300 + DEADLINE_GRACE_MS)
    expect(logs.injected()[0]).toMatchObject({
      message: 'Chaos fault injected',
      chaos: {
        faultType: 'timeout',
        phase: 'before',
        mode: 'hold',
        buffer: 0,
        outcome: 'lambda timeout',
      },
    })
    expect(logs.injected()[0]?.chaos).toMatchObject({ holdMs: 300, remainingTimeMs: 300 })
  })

  it('with a buffer, lets the handler start that long before the deadline, as failure-lambda does', async () => {
    // Prepare
    let started = 0
    const { calls, handler } = recorder(() => Date.now() - started)
    const chain = middy(handler).use(chaosTimeout({ config: timeout({ buffer: 100 }) }))

    // Act
    const { result } = await settle(() => {
      started = Date.now()
      return chain({}, makeContext({ timeoutMs: 300 }))
    })

    // Assess: the handler started at 300 - 100 ms, with 100 ms left
    expect(result).toEqual(await helloWorld())
    expect(calls).toEqual([{ at: 200, remaining: 100 }])
    expect(logs.injected()[0]).toMatchObject({ chaos: { buffer: 100, outcome: 'continue' } })
  })

  it('throw mode: throws a TimeoutError at deadline - buffer, never later, and the handler does not run', async () => {
    // Prepare: the code's own timeout handling, as an onError middleware
    let started = 0
    const { calls, handler } = recorder(() => Date.now() - started)
    const seen: { name: string; remaining: number; at: number }[] = []
    const chain = middy(handler)
      .onError((request) => {
        seen.push({
          name: (request.error as Error).name,
          remaining: request.context.getRemainingTimeInMillis(),
          at: Date.now() - started,
        })
        return { statusCode: 504, body: 'timed out, cleaned up' }
      })
      .use(chaosTimeout({ config: timeout({ mode: 'throw', buffer: 150 }) }))

    // Act
    const { result } = await settle(() => {
      started = Date.now()
      return chain({}, makeContext({ timeoutMs: 400 }))
    })

    // Assess: thrown at 400 - 150 ms, before the deadline
    expect(calls).toEqual([])
    expect(result).toEqual({ statusCode: 504, body: 'timed out, cleaned up' })
    expect(seen).toEqual([{ name: 'TimeoutError', remaining: 150, at: 250 }])
    expect(logs.injected()[0]).toMatchObject({
      chaos: { faultType: 'timeout', mode: 'throw', buffer: 150, outcome: 'throw' },
    })
  })

  it('throw mode takes a 100 ms buffer by default, and the option mode from code', async () => {
    const chain = middy(helloWorld).use(chaosTimeout({ config: timeout(), mode: 'throw' }))
    const { error, at } = await settle(() => chain({}, makeContext({ timeoutMs: 300 })))
    expect(error).toBeInstanceOf(ChaosTimeoutError)
    expect(error).toBeInstanceOf(ChaosInjectedError)
    expect(isInjectedError(error)).toBe(true)
    expect(at).toBe(200)
  })

  it("lets the user's Middy timeoutEarly handling be seen: the handler starts with less time than it needs", async () => {
    // Prepare: a handler needing 300 ms, Middy answering 408 100 ms before the deadline. On the
    // real clock: Middy's timer comes from node:timers, which a fake clock does not reach.
    const { calls, handler } = recorder(() => 0, 300)
    const chain = middy(handler, {
      timeoutEarlyInMillis: 100,
      timeoutEarlyResponse: () => ({ statusCode: 408, body: 'timeoutEarly' }),
    }).use(chaosTimeout({ config: timeout({ buffer: 250 }) }))

    // Act
    const { result, at } = await settleReal(() => chain({}, makeContext({ timeoutMs: 600 })))

    // Assess: held until 250 ms before the deadline (the hold the fault logged, and the time
    // the handler saw left, less than the 300 ms it needs); Middy's race answered, not the
    // handler, 100 ms before the deadline at the earliest
    expect(result).toEqual({ statusCode: 408, body: 'timeoutEarly' })
    const line = logs.injected()[0]?.chaos as { holdMs: number; remainingTimeMs: number }
    expect(line.remainingTimeMs).toBeLessThanOrEqual(600)
    expect(line.holdMs).toBe(line.remainingTimeMs - 250)
    expect(calls).toHaveLength(1)
    expect(calls[0]?.remaining).toBeLessThanOrEqual(251)
    expect(at).toBeGreaterThanOrEqual(495)
    expect(at).toBeLessThan(6_000) // ten times the 600 ms: a hold past the deadline would show
  })

  it('after the handler: the work is done, but the answer never leaves before the deadline', async () => {
    let ran = false
    const chain = middy(async () => {
      ran = true
      return helloWorld()
    }).use(chaosTimeout({ config: timeout({ phase: 'after' }) }))
    const { result, error, at } = await settle(() => chain({}, makeContext({ timeoutMs: 200 })))
    expect(ran).toBe(true)
    expect(result).toBeUndefined()
    expect(error).toBeInstanceOf(ChaosTimeoutError)
    expect(at).toBe(200 + DEADLINE_GRACE_MS)
    expect(logs.injected()[0]).toMatchObject({ chaos: { phase: 'after' } })
  })

  it('never holds past the deadline: a buffer longer than the time left does not hold at all', async () => {
    const chain = middy(helloWorld).use(chaosTimeout({ config: timeout({ buffer: 5_000 }) }))
    const { result, at } = await settle(() => chain({}, makeContext({ timeoutMs: 2_000 })))
    expect(result).toEqual(await helloWorld())
    expect(at).toBe(0)
    expect(logs.injected()[0]).toMatchObject({ chaos: { holdMs: 0 } })
  })

  it('without a deadline (no Lambda context) does nothing and says so', async () => {
    const chain = middy(helloWorld).use(chaosTimeout({ config: timeout() }))
    // Middy's own default when no context is passed: an empty object
    const { result } = await settle(() => chain({}, {} as Context))
    expect(result).toEqual(await helloWorld())
    expect(logs.injected()).toEqual([])
    expect(logs.byLevel('warn')[0]).toMatchObject({
      message: expect.stringMatching(/^Chaos timeout fault skipped: no Lambda deadline known/),
    })
  })

  it('changes nothing while disabled', async () => {
    const chain = middy(helloWorld).use(chaosTimeout({ config: { ...timeout(), enabled: false } }))
    const { result, at } = await settle(() => chain({}, makeContext({ timeoutMs: 2_000 })))
    expect(result).toEqual(await helloWorld())
    expect(at).toBe(0)
    expect(logs.lines).toEqual([])
  })

  it('dry run: logs what it would do, holds nothing', async () => {
    const chain = middy(helloWorld).use(chaosTimeout({ config: timeout({ dryRun: true }) }))
    const { result, at } = await settle(() => chain({}, makeContext({ timeoutMs: 2_000 })))
    expect(result).toEqual(await helloWorld())
    expect(at).toBe(0)
    expect(logs.lines.map((line) => line.message)).toEqual(['Chaos fault dry run: not injected'])
    expect(logs.lines[0]).toMatchObject({
      chaos: { dryRun: true, mode: 'hold', outcome: 'lambda timeout' },
    })
  })

  it('leaves nothing for the next invocation, also when the handler throws', async () => {
    // Prepare: every other invocation times out (every: 2), the handler throws on the others
    const chain = middy(async () => {
      throw new Error('handler failed')
    }).use(chaosTimeout({ config: timeout({ mode: 'throw', buffer: 50, every: 2 }) }))

    // Act: the three on one fake clock, then the timers still armed on it
    const { result } = await onFakeClock(async (now) => {
      const run = async (timeoutMs: number) => {
        const from = now()
        const error = await chain({}, makeContext({ timeoutMs })).catch((caught: Error) => caught)
        return { error: error as Error, at: now() - from }
      }
      const first = await run(2_000)
      const second = await run(150)
      const third = await run(2_000)
      return { first, second, third, timers: vi.getTimerCount() }
    })
    const { first, second, third, timers } = result ?? {}

    // Assess: the handler's own error, unchanged and at once, before and after the timeout
    expect(first?.error.message).toBe('handler failed')
    expect(first?.at).toBe(0)
    expect(second?.error).toBeInstanceOf(ChaosTimeoutError)
    expect(second?.at).toBe(100)
    expect(third?.error.message).toBe('handler failed')
    expect(third?.at).toBe(0)
    expect(timers).toBe(0)
  })

  it.each([
    [{ buffer: -1 }, `faults[0].buffer: must be an integer from 0 to ${MAX_BUFFER_MS} ms (got -1)`],
    [
      { buffer: 1.5 },
      `faults[0].buffer: must be an integer from 0 to ${MAX_BUFFER_MS} ms (got 1.5)`,
    ],
    [
      { buffer: MAX_BUFFER_MS + 1 },
      `faults[0].buffer: must be an integer from 0 to ${MAX_BUFFER_MS} ms (got 900001)`,
    ],
    [{ mode: 'hang' }, 'faults[0].mode: must be one of "hold", "throw" (got "hang")'],
  ])('rejects %j with a message naming the field and the bound', async (fields, message) => {
    // Values the types reject, on purpose: what the library does with them at run time.
    const chain = middy(helloWorld).use(chaosTimeout({ config: timeout(fields as TimeoutEntry) }))
    const { result, at } = await settle(() => chain({}, makeContext({ timeoutMs: 2_000 })))
    expect(result).toEqual(await helloWorld())
    expect(at).toBe(0)
    expect(logs.byLevel('warn')[0]?.issues).toEqual([message])
  })

  it('refuses invalid options in code at once', () => {
    expect(() => chaosTimeout({ buffer: -5 })).toThrow(TypeError)
    expect(() => chaosTimeout({ mode: 'hang' as 'hold' })).toThrow(/"hold" or "throw"/)
  })
})
