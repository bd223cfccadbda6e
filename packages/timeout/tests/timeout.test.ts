import middy from '@middy/core'
import { ChaosInjectedError, isInjectedError } from '@middy-chaos/core'
import type { Context } from 'aws-lambda'
import { describe, expect, it } from 'vitest'
import { helloWorld, makeContext, useCapturedLogs } from '../../../test/helpers/index.js'
import { ChaosTimeoutError, chaosTimeout, DEADLINE_GRACE_MS, MAX_BUFFER_MS } from '../src/index.js'

const timeout = (fields: object = {}) => ({ version: 1, faults: [{ type: 'timeout', ...fields }] })

/** Runs `call`, and says when it settled (ms from now) and how. */
const settle = async (call: () => Promise<unknown>) => {
  const started = performance.now()
  try {
    const result = await call()
    return { result, error: undefined, at: performance.now() - started }
  } catch (error) {
    return { result: undefined, error: error as Error, at: performance.now() - started }
  }
}

/** A handler that records when it started (ms after `origin`) and how much time it had left. */
const recorder = (origin: () => number, work = 0) => {
  const calls: { at: number; remaining: number }[] = []
  const handler = async (_event: unknown, context: { getRemainingTimeInMillis(): number }) => {
    calls.push({ at: performance.now() - origin(), remaining: context.getRemainingTimeInMillis() })
    if (work > 0) await new Promise((resolve) => setTimeout(resolve, work))
    return helloWorld()
  }
  return { calls, handler }
}

/** Timers this process has armed (a fault must leave none behind). */
const timers = () => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length

describe('chaosTimeout', () => {
  const logs = useCapturedLogs()

  it('holds the invocation until the deadline: the handler never runs, and the invocation ends there', async () => {
    // Prepare: a function with 300 ms left
    let started = 0
    const { calls, handler } = recorder(() => started)
    const chain = middy(handler).use(chaosTimeout({ config: timeout() }))

    // Act
    started = performance.now()
    const { result, error, at } = await settle(() => chain({}, makeContext({ timeoutMs: 300 })))

    // Assess: Lambda would end it at 300 ms; nothing did here, so the fault did, just after
    expect(calls).toEqual([])
    expect(result).toBeUndefined()
    expect(error).toBeInstanceOf(ChaosTimeoutError)
    expect(error?.name).toBe('TimeoutError')
    expect(error?.message).toMatch(/^Task timed out/)
    expect(at).toBeGreaterThanOrEqual(299)
    expect(at).toBeLessThan(300 + DEADLINE_GRACE_MS + 95)
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
    const holdMs = (logs.injected()[0]?.chaos as { holdMs?: number } | undefined)?.holdMs ?? 0
    expect(holdMs).toBeGreaterThan(280)
    expect(holdMs).toBeLessThanOrEqual(300)
  })

  it('with a buffer, lets the handler start that long before the deadline, as failure-lambda does', async () => {
    // Prepare
    let started = 0
    const { calls, handler } = recorder(() => started)
    const chain = middy(handler).use(chaosTimeout({ config: timeout({ buffer: 100 }) }))

    // Act
    started = performance.now()
    const { result } = await settle(() => chain({}, makeContext({ timeoutMs: 300 })))

    // Assess: the handler started at 300 - 100 ms at the earliest, with at most 100 ms left
    expect(result).toEqual(await helloWorld())
    expect(calls).toHaveLength(1)
    expect(calls[0]?.at).toBeGreaterThanOrEqual(199)
    expect(calls[0]?.remaining).toBeLessThanOrEqual(101)
    expect(logs.injected()[0]).toMatchObject({ chaos: { buffer: 100, outcome: 'continue' } })
  })

  it('throw mode: throws a TimeoutError at deadline - buffer, never later, and the handler does not run', async () => {
    // Prepare: the code's own timeout handling, as an onError middleware
    let started = 0
    const { calls, handler } = recorder(() => started)
    const seen: { name: string; remaining: number; at: number }[] = []
    const chain = middy(handler)
      .onError((request) => {
        seen.push({
          name: (request.error as Error).name,
          remaining: request.context.getRemainingTimeInMillis(),
          at: performance.now() - started,
        })
        return { statusCode: 504, body: 'timed out, cleaned up' }
      })
      .use(chaosTimeout({ config: timeout({ mode: 'throw', buffer: 150 }) }))

    // Act
    started = performance.now()
    const { result } = await settle(() => chain({}, makeContext({ timeoutMs: 400 })))

    // Assess: thrown at 400 - 150 ms, before the deadline
    expect(calls).toEqual([])
    expect(result).toEqual({ statusCode: 504, body: 'timed out, cleaned up' })
    expect(seen).toHaveLength(1)
    expect(seen[0]?.name).toBe('TimeoutError')
    expect(seen[0]?.at).toBeGreaterThanOrEqual(249)
    expect(seen[0]?.at).toBeLessThan(400)
    expect(seen[0]?.remaining).toBeGreaterThan(0)
    expect(seen[0]?.remaining).toBeLessThanOrEqual(151)
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
    expect(at).toBeGreaterThanOrEqual(199)
    expect(at).toBeLessThan(300)
  })

  it("lets the user's Middy timeoutEarly handling be seen: the handler starts with less time than it needs", async () => {
    // Prepare: a handler needing 300 ms, Middy answering 408 100 ms before the deadline
    const { handler } = recorder(() => 0, 300)
    const chain = middy(handler, {
      timeoutEarlyInMillis: 100,
      timeoutEarlyResponse: () => ({ statusCode: 408, body: 'timeoutEarly' }),
    }).use(chaosTimeout({ config: timeout({ buffer: 250 }) }))

    // Act
    const { result, at } = await settle(() => chain({}, makeContext({ timeoutMs: 600 })))

    // Assess: held until 350 ms, Middy's race fired at about 500 ms, before the deadline
    expect(result).toEqual({ statusCode: 408, body: 'timeoutEarly' })
    expect(at).toBeGreaterThanOrEqual(495)
    expect(at).toBeLessThan(600)
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
    expect(at).toBeGreaterThanOrEqual(199)
    expect(logs.injected()[0]).toMatchObject({ chaos: { phase: 'after' } })
  })

  it('never holds past the deadline: a buffer longer than the time left does not hold at all', async () => {
    const chain = middy(helloWorld).use(chaosTimeout({ config: timeout({ buffer: 5_000 }) }))
    const { result, at } = await settle(() => chain({}, makeContext({ timeoutMs: 2_000 })))
    expect(result).toEqual(await helloWorld())
    expect(at).toBeLessThan(1_000)
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
    expect(at).toBeLessThan(1_000)
    expect(logs.lines).toEqual([])
  })

  it('dry run: logs what it would do, holds nothing', async () => {
    const chain = middy(helloWorld).use(chaosTimeout({ config: timeout({ dryRun: true }) }))
    const { result, at } = await settle(() => chain({}, makeContext({ timeoutMs: 2_000 })))
    expect(result).toEqual(await helloWorld())
    expect(at).toBeLessThan(1_000)
    expect(logs.lines.map((line) => line.message)).toEqual(['Chaos fault dry run: not injected'])
    expect(logs.lines[0]).toMatchObject({
      chaos: { dryRun: true, mode: 'hold', outcome: 'lambda timeout' },
    })
  })

  it('leaves nothing for the next invocation, also when the handler throws', async () => {
    // Prepare: every other invocation times out (every: 2), the handler throws on the others
    const before = timers()
    const chain = middy(async () => {
      throw new Error('handler failed')
    }).use(chaosTimeout({ config: timeout({ mode: 'throw', buffer: 50, every: 2 }) }))

    // Act
    const first = await settle(() => chain({}, makeContext({ timeoutMs: 2_000 })))
    const second = await settle(() => chain({}, makeContext({ timeoutMs: 150 })))
    const third = await settle(() => chain({}, makeContext({ timeoutMs: 2_000 })))

    // Assess: the handler's own error, unchanged and at once, before and after the timeout
    expect(first.error?.message).toBe('handler failed')
    expect(first.at).toBeLessThan(1_000)
    expect(second.error).toBeInstanceOf(ChaosTimeoutError)
    expect(third.error?.message).toBe('handler failed')
    expect(third.at).toBeLessThan(1_000)
    expect(timers()).toBeLessThanOrEqual(before)
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
    const chain = middy(helloWorld).use(chaosTimeout({ config: timeout(fields) }))
    const { result, at } = await settle(() => chain({}, makeContext({ timeoutMs: 2_000 })))
    expect(result).toEqual(await helloWorld())
    expect(at).toBeLessThan(1_000)
    expect(logs.byLevel('warn')[0]?.issues).toEqual([message])
  })

  it('refuses invalid options in code at once', () => {
    expect(() => chaosTimeout({ buffer: -5 })).toThrow(TypeError)
    expect(() => chaosTimeout({ mode: 'hang' as 'hold' })).toThrow(/"hold" or "throw"/)
  })
})
