/**
 * Points in a handler's code under a `point` fault: what a call gets (a wait,
 * an error, an altered copy of its data), which calls (name, labels, first,
 * every Nth), and the scope: only the code of the invocation that drew the
 * fault, never a call made outside it or after it, however it ends.
 */
import middy, { type MiddlewareObj } from '@middy/core'
import type { ChaosConfig } from '@middy-chaos/core'
import { ChaosInjectedError, FieldReader, isInjectedError } from '@middy-chaos/core'
import { chaosStatusCode } from '@middy-chaos/status-code'
import { describe, expect, it, vi } from 'vitest'
import { makeContext, restApiEvent, useCapturedLogs } from '../../../test/helpers/index.js'
import type { PointEntry } from '../src/index.js'
import { chaosPoint, chaosPoints, pointFault, pointFaultsLive } from '../src/index.js'

const fault = (...entries: Omit<PointEntry, 'type'>[]): ChaosConfig => ({
  version: 1,
  faults: entries.map((entry) => ({ type: 'point', ...entry })),
})

/** What a point call gave: its value, or the error it threw. */
const outcome = async <T>(call: () => Promise<T>) => {
  try {
    return { value: await call() }
  } catch (error) {
    return { error: error as Error & Record<string, unknown> }
  }
}

/** One invocation under `config`, whose handler is `lambda`. */
const invoke = <R>(config: object, lambda: () => Promise<R>, options: object = {}) =>
  middy(lambda).use(chaosPoints({ config, ...options }))(restApiEvent(), makeContext())

const deepFreeze = <T>(value: T): T => {
  if (typeof value === 'object' && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner)
    Object.freeze(value)
  }
  return value
}

/** Whether a promise has settled after one turn of the microtask queue. */
const settlesAtOnce = async (promise: Promise<unknown>): Promise<boolean> => {
  let settled = false
  void promise.then(
    () => {
      settled = true
    },
    () => {
      settled = true
    },
  )
  await Promise.resolve()
  return settled
}

describe('chaosPoint with no point fault', () => {
  it('resolves at once with its data untouched, in code that runs without the middleware', async () => {
    // Prepare
    const order = { id: 'o-1' }

    // Act
    const first = chaosPoint('orders.charge', { labels: { provider: 'stripe' } })
    const second = chaosPoint('orders.save')
    const withData = chaosPoint('orders.save', { data: order })

    // Assess: one shared settled promise, nothing looked up
    expect(first).toBe(second)
    expect(await settlesAtOnce(first)).toBe(true)
    expect(await settlesAtOnce(withData)).toBe(true)
    expect(await withData).toBe(order)
    expect(await first).toBeUndefined()
    expect(pointFaultsLive()).toBe(0)
  })

  it('resolves at once in an invocation whose config has none, or whose point fault did not fire', async () => {
    // Prepare
    const seen: unknown[] = []
    const lambda = async () => {
      seen.push(pointFaultsLive(), await settlesAtOnce(chaosPoint('orders.charge')))
    }

    // Act
    await invoke(fault(), lambda)
    await invoke(fault({ name: 'orders.charge', error: 'CardDeclinedError', rate: 0 }), lambda)
    await invoke({ version: 1, faults: [{ type: 'latency', delay: 5 }] }, lambda)

    // Assess
    expect(seen).toEqual([0, true, 0, true, 0, true])
  })
})

describe('chaosPoint under a point fault: what a call gets', () => {
  const logs = useCapturedLogs()

  it('waits the delay, then goes on; the end of the invocation says how many calls were affected', async () => {
    // Act
    const result = await invoke(fault({ name: 'orders.charge', delay: 150 }), async () => {
      const started = performance.now()
      await chaosPoint('orders.charge')
      const waited = performance.now() - started
      await chaosPoint('orders.save')
      return waited
    })

    // Assess
    expect(result).toBeGreaterThanOrEqual(140)
    expect(logs.injected()[0]).toMatchObject({
      chaos: { faultType: 'point', name: 'orders.charge', delay: 150, calls: 'all' },
    })
    expect(logs.lines.find((line) => line.message === 'Chaos fault ended')).toMatchObject({
      chaos: { faultType: 'point', affectedCalls: 1, points: { 'orders.charge': 1 } },
    })
  })

  it('throws the configured error: its name, message and fields, marked as injected', async () => {
    // Prepare
    const config = fault({
      name: 'orders.charge',
      error: {
        name: 'CardDeclinedError',
        message: 'Your card was declined',
        code: 'card_declined',
        statusCode: 402,
        details: { retryable: false },
      },
    })
    const lambda = () => outcome(() => chaosPoint('orders.charge'))

    // Act
    const { error } = await invoke(config, lambda)
    ;(error?.details as Record<string, unknown>).retryable = true
    const again = await invoke(config, lambda)

    // Assess
    expect(error).toBeInstanceOf(ChaosInjectedError)
    expect(isInjectedError(error)).toBe(true)
    expect(error).toMatchObject({
      name: 'CardDeclinedError',
      message: 'Your card was declined',
      code: 'card_declined',
      statusCode: 402,
      faultType: 'point',
    })
    // Each throw gets its own fields: what a handler does to one never reaches the next.
    expect(again.error?.details).toEqual({ retryable: false })
  })

  it('names the point in the default message; "message" goes beside an error name', async () => {
    // Act
    const plain = await invoke(fault({ name: 'orders.*', error: 'TimeoutError' }), () =>
      outcome(() => chaosPoint('orders.save')),
    )
    const worded = await invoke(
      fault({ name: 'orders.save', error: 'TimeoutError', message: 'gave up' }),
      () => outcome(() => chaosPoint('orders.save')),
    )

    // Assess
    expect(plain.error).toMatchObject({
      name: 'TimeoutError',
      message: 'Fault injected by middy-chaos at point orders.save',
    })
    expect(worded.error).toMatchObject({ name: 'TimeoutError', message: 'gave up' })
  })

  it('hands back an altered copy of its data, never writing to the original', async () => {
    // Prepare
    const order = deepFreeze({
      id: 'o-1',
      items: [{ sku: 'a', price: 10 }],
      customer: { email: 'x@example.com', name: 'X' },
    })
    const config = fault({
      name: 'orders.load',
      set: [{ path: 'items.0.price', value: -1 }],
      remove: ['customer.email'],
    })
    const lambda = async () => {
      const altered = await chaosPoint('orders.load', { data: order })
      const untouched = await chaosPoint('orders.other', { data: order })
      return { altered, untouched }
    }

    // Act
    const { altered, untouched } = await invoke(config, lambda)

    // Assess
    expect(altered).toEqual({
      id: 'o-1',
      items: [{ sku: 'a', price: -1 }],
      customer: { name: 'X' },
    })
    expect(order).toEqual({
      id: 'o-1',
      items: [{ sku: 'a', price: 10 }],
      customer: { email: 'x@example.com', name: 'X' },
    })
    expect(untouched).toBe(order)
    expect(logs.injected()[0]?.chaos).toMatchObject({
      edits: ['set items.0.price', 'remove customer.email'],
    })
  })

  it('skips an edit that does not apply, says so when the invocation ends, and hands back the data', async () => {
    // Act
    const value = await invoke(
      fault({ name: 'orders.load', remove: ['customer.email'] }),
      async () => chaosPoint('orders.load', { data: 'text' }),
    )

    // Assess
    expect(value).toBe('text')
    expect(logs.lines.find((line) => line.message === 'Chaos fault ended')).toMatchObject({
      chaos: { affectedCalls: 0, skippedEdits: ['customer.email: not an object or an array'] },
    })
  })

  it.each([
    ['all', [true, true, true, true, true]],
    ['first', [true, false, false, false, false]],
    ['first:2', [true, true, false, false, false]],
    ['every:2', [false, true, false, true, false]],
  ])('with "calls": "%s", affects those calls of the invocation', async (calls, expected) => {
    // Act
    const thrown = await invoke(
      fault({ name: 'orders.save', error: 'X', calls: calls as PointEntry['calls'] }),
      async () => {
        const seen: boolean[] = []
        for (let i = 0; i < 5; i++) {
          // Another point between them is not counted.
          await chaosPoint('orders.charge')
          seen.push('error' in (await outcome(() => chaosPoint('orders.save'))))
        }
        return seen
      },
    )

    // Assess
    expect(thrown).toEqual(expected)
  })

  it('counts calls per invocation: the next invocation starts again from the first', async () => {
    // Prepare
    const handler = middy(async () => 'error' in (await outcome(() => chaosPoint('orders.save'))))
    handler.use(chaosPoints({ config: fault({ name: 'orders.save', error: 'X', calls: 'first' }) }))

    // Act
    const first = await handler({}, makeContext())
    const second = await handler({}, makeContext())

    // Assess
    expect([first, second]).toEqual([true, true])
  })

  it.each([
    [{ name: 'orders.charge' }, 'orders.charge', { provider: 'stripe' }, true],
    [{ name: 'orders.*' }, 'orders.charge', undefined, true],
    [{ name: 'orders.?' }, 'orders.charge', undefined, false],
    [{ name: 'orders.charge' }, 'orders.charged', undefined, false],
    [{ name: '*', labels: { provider: 'stripe' } }, 'orders.charge', { provider: 'stripe' }, true],
    [{ name: '*', labels: { provider: 'str*' } }, 'x', { provider: 'stripe', region: 'eu' }, true],
    [{ name: '*', labels: { provider: 'stripe' } }, 'x', { provider: 'adyen' }, false],
    [{ name: '*', labels: { provider: 'stripe' } }, 'x', undefined, false],
    [
      { name: '*', labels: { provider: 'stripe', region: 'eu' } },
      'x',
      { provider: 'stripe' },
      false,
    ],
    [{ name: '*', labels: { attempt: '2' } }, 'x', { attempt: 2 }, true],
    [{ name: '*', labels: { live: 'true' } }, 'x', { live: true }, true],
    [{ name: '*', labels: { id: '*' } }, 'x', { id: 'a'.repeat(1025) }, false],
    // Own labels only, as match reads own data only.
    [
      { name: '*', labels: { provider: 'stripe' } },
      'x',
      Object.create({ provider: 'stripe' }),
      false,
    ],
    [{ name: '*' }, 'a'.repeat(257), undefined, false],
  ])('%j affects %s with labels %j: %s', async (entry, name, labels, expected) => {
    // Act
    const result = await invoke(fault({ ...entry, error: 'X' }), () =>
      outcome(() => chaosPoint(name, labels === undefined ? {} : { labels })),
    )

    // Assess
    expect('error' in result).toBe(expected)
  })

  it('applies every entry that matches a call, in the order of the config', async () => {
    // Prepare
    const config = fault(
      { name: 'orders.load', set: [{ path: 'status', value: 'lost' }] },
      { name: 'orders.*', delay: 20, set: [{ path: 'total', value: 0 }] },
      { name: 'orders.save', error: 'SaveFailedError' },
    )

    // Act
    const result = await invoke(config, async () => ({
      loaded: await chaosPoint('orders.load', { data: { status: 'new', total: 12 } }),
      saved: await outcome(() => chaosPoint('orders.save')),
    }))

    // Assess
    expect(result.loaded).toEqual({ status: 'lost', total: 0 })
    expect(result.saved.error?.name).toBe('SaveFailedError')
    expect(logs.injected()).toHaveLength(3)
  })

  it('never waits past the Lambda deadline less the margin', async () => {
    // Prepare: a delay of 15 minutes in an invocation with 300 ms left: the test would time out
    const handler = middy(async () => {
      await chaosPoint('orders.charge')
      return 'went on'
    }).use(chaosPoints({ config: fault({ name: 'orders.charge', delay: 900_000 }) }))

    // Act
    const result = await handler({}, makeContext({ timeoutMs: 300 }))

    // Assess
    expect(result).toBe('went on')
    expect(logs.lines.find((line) => line.message === 'Chaos fault ended')).toMatchObject({
      chaos: { affectedCalls: 1, clampedDelays: 1 },
    })
  })

  it('a point still waiting when its invocation ends does not throw into code that outlived it', async () => {
    // Prepare: the handler does not await the point
    let late: Promise<{ value?: unknown; error?: Error }> | undefined
    const handler = middy(async () => {
      late = outcome(() => chaosPoint('orders.audit', { data: 'kept' }))
    }).use(chaosPoints({ config: fault({ name: 'orders.audit', delay: 50, error: 'X' }) }))

    // Act
    await handler({}, makeContext())

    // Assess
    expect(await late).toEqual({ value: 'kept' })
  })
})

describe('chaosPoint: scoped to the invocation, nothing left after it', () => {
  useCapturedLogs()

  it('affects only the concurrent invocation that drew the fault, never a call made outside', async () => {
    // Prepare: every second invocation draws the fault; both wait for each other before the point
    let release: () => void = () => undefined
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    const handler = middy(async (event: { id: string }) => {
      await gate
      return { id: event.id, ...(await outcome(() => chaosPoint('orders.charge'))) }
    }).use(chaosPoints({ config: fault({ name: 'orders.charge', error: 'X', every: 2 }) }))
    // A call made by other code of the process while both run (a timer set before them)
    let liveDuring = 0
    const outside = new Promise<unknown>((resolve) => {
      setTimeout(() => {
        liveDuring = pointFaultsLive()
        void outcome(() => chaosPoint('orders.charge')).then(resolve)
      }, 0)
    })

    // Act
    const one = handler({ id: 'one' }, makeContext())
    const two = handler({ id: 'two' }, makeContext())
    const during = await outside
    release()
    const [first, second] = await Promise.all([one, two])

    // Assess
    expect(liveDuring).toBe(1)
    expect(first).toEqual({ id: 'one', value: undefined })
    expect(second).toMatchObject({ id: 'two', error: { name: 'X' } })
    expect(during).toEqual({ value: undefined })
    expect(pointFaultsLive()).toBe(0)
  })

  it.each<[string, () => Promise<unknown>, MiddlewareObj | undefined]>([
    ['ends normally', async () => 'done', undefined],
    [
      'throws',
      async () => {
        throw new Error('handler failed')
      },
      undefined,
    ],
    ['is answered early by a later middleware', async () => 'done', { before: () => 'early' }],
    [
      'is answered early by a status-code fault',
      async () => 'done',
      chaosStatusCode({
        config: {
          version: 1,
          faults: [{ type: 'status_code', statusCode: 503, preventExecution: true }],
        },
      }),
    ],
  ])('leaves nothing when the invocation %s', async (_, lambda, later) => {
    // Prepare: a timer set inside the invocation reaches the point after it (same async context)
    let after: Promise<unknown> | undefined
    const startTimer: MiddlewareObj = {
      before: () => {
        after = new Promise((resolve) => {
          setTimeout(() => void outcome(() => chaosPoint('orders.charge')).then(resolve), 20)
        })
      },
    }
    const handler = middy(lambda)
      .use(chaosPoints({ config: fault({ name: 'orders.charge', error: 'X' }) }))
      .use(startTimer)
    if (later) handler.use(later)

    // Act
    await handler(restApiEvent(), makeContext()).catch(() => undefined)
    const liveAfter = pointFaultsLive()

    // Assess
    expect(liveAfter).toBe(0)
    expect(await after).toEqual({ value: undefined })
  })
})

describe('chaosPoints: the config engine every fault has', () => {
  const logs = useCapturedLogs()

  it('with the kill switch, registers one empty hook, and no point is ever affected', async () => {
    // Prepare
    vi.stubEnv('CHAOS_DISABLED', 'true')
    const middleware = chaosPoints({ config: fault({ name: 'orders.charge', error: 'X' }) })
    vi.unstubAllEnvs()

    // Act
    const result = await middy(() => outcome(() => chaosPoint('orders.charge'))).use(middleware)(
      {},
      makeContext(),
    )

    // Assess
    expect(Object.keys(middleware)).toEqual(['before'])
    expect(middleware.before?.name).toBe('chaosPointBeforeDisabled')
    expect(result).toEqual({ value: undefined })
  })

  it('in a dry run, says what the points would get and touches none', async () => {
    // Act
    const result = await invoke(
      fault({ name: 'orders.charge', labels: { provider: 'stripe' }, error: 'CardDeclinedError' }),
      () => outcome(() => chaosPoint('orders.charge', { labels: { provider: 'stripe' } })),
      { dryRun: true },
    )

    // Assess
    expect(result).toEqual({ value: undefined })
    expect(
      logs.lines.find((line) => line.message === 'Chaos fault dry run: not injected'),
    ).toMatchObject({
      chaos: {
        faultType: 'point',
        dryRun: true,
        name: 'orders.charge',
        labels: { provider: 'stripe' },
        error: 'CardDeclinedError',
      },
    })
  })

  it('targets invocations with match, as every fault does', async () => {
    // Prepare
    const handler = middy(async () => 'error' in (await outcome(() => chaosPoint('orders.charge'))))
    handler.use(
      chaosPoints({
        config: fault({
          name: 'orders.charge',
          error: 'X',
          match: [{ path: 'httpMethod', equals: 'POST' }],
        }),
      }),
    )

    // Act
    const post = await handler(restApiEvent({ httpMethod: 'POST' }), makeContext())
    const get = await handler(restApiEvent({ httpMethod: 'GET' }), makeContext())

    // Assess
    expect([post, get]).toEqual([true, false])
  })

  it('counts each invocation in which the fault fired in the metrics', async () => {
    // Prepare
    const added: string[] = []
    const metrics = {
      singleMetric: () => ({
        addDimension: (name: string, value: string) => added.push(`${name}=${value}`),
        addMetric: (name: string) => added.push(name),
      }),
    }

    // Act
    await invoke(fault({ name: 'orders.charge', delay: 1 }), async () => undefined, { metrics })

    // Assess
    expect(added).toEqual(['faultType=point', 'ChaosFaultInjected'])
  })
})

describe('chaosPoints: config checks', () => {
  const logs = useCapturedLogs()

  const invalid: [object, string][] = [
    [{ delay: 5 }, 'faults[0].name: is required'],
    [{ name: 'orders charge', delay: 5 }, 'faults[0].name: must be a point name'],
    [{ name: 'a'.repeat(129), delay: 5 }, 'faults[0].name: must be at most 128 characters'],
    [{ name: 'x' }, 'faults[0].delay: is required unless "error", "set" or "remove" is given'],
    [{ name: 'x', delay: -1 }, 'faults[0].delay: must be an integer from 0 to 900000 ms'],
    [{ name: 'x', delay: 5, labels: 'provider=stripe' }, 'faults[0].labels: must be an object'],
    [
      { name: 'x', delay: 5, labels: { provider: 7 } },
      'faults[0].labels.provider: must be a value or a glob',
    ],
    [{ name: 'x', delay: 5, labels: { 'a b': 'x' } }, 'faults[0].labels.a b: must be a label name'],
    [
      { name: 'x', delay: 5, labels: JSON.parse('{"__proto__":"x"}') },
      'faults[0].labels.__proto__: must be a label name',
    ],
    [
      { name: 'x', delay: 5, labels: Object.fromEntries([...'abcdefghijk'].map((k) => [k, 'v'])) },
      'faults[0].labels: must select at most 10 labels (got 11)',
    ],
    [
      { name: 'x', delay: 5, calls: 'second' },
      'faults[0].calls: must be "all", "first", "first:K" or "every:N"',
    ],
    [{ name: 'x', delay: 5, calls: 'every:0' }, 'faults[0].calls: must be'],
    [{ name: 'x', delay: 5, calls: 'first:10001' }, 'faults[0].calls: must be'],
    [{ name: 'x', error: 'not a name!' }, 'faults[0].error: must be an error name'],
    [{ name: 'x', error: 42 }, 'faults[0].error: must be an error name, or {'],
    [
      { name: 'x', error: { name: 'X', toString: 'y' } },
      'faults[0].error.toString: must be a field name',
    ],
    [
      { name: 'x', error: { name: 'X', stack: 'y' } },
      'faults[0].error.stack: must be a field name',
    ],
    [{ name: 'x', error: { name: 'X', message: 7 } }, 'faults[0].error.message: must be a string'],
    [
      { name: 'x', error: { name: 'X', blob: 'y'.repeat(5000) } },
      'faults[0].error: extra fields must be JSON values',
    ],
    [{ name: 'x', delay: 5, message: 'm' }, 'faults[0].message: applies to an error'],
    [
      { name: 'x', error: { name: 'X' }, message: 'm' },
      'faults[0].message: conflicts with "error"',
    ],
    [{ name: 'x', error: 'X', remove: ['a'] }, 'faults[0].remove: conflicts with "error"'],
    [{ name: 'x', set: [{ path: '__proto__.a', value: 1 }] }, 'faults[0].set[0].path'],
  ]

  it.each(invalid.map(([entry, says]) => ({ entry, says })))(
    'says $says',
    async ({ entry, says }) => {
      // Act
      // Values the types reject, on purpose: what the library does with them at run time.
      const result = await invoke(fault(entry as PointEntry), () =>
        outcome(() => chaosPoint('x', { data: 'd' })),
      )

      // Assess
      expect(result).toEqual({ value: 'd' })
      expect(String(logs.byLevel('warn')[0]?.issues)).toContain(says)
    },
  )

  it('describes an entry for status and the experiment plan', () => {
    const describe = pointFault.describe as (params: unknown) => string
    const read = (entry: object) =>
      pointFault.parse(new FieldReader(entry as Record<string, unknown>, 'faults[0]', []), {})
    expect(
      describe(read({ name: 'orders.charge', labels: { provider: 'stripe' }, delay: 300 })),
    ).toBe('point orders.charge{provider=stripe}: +300ms')
    expect(describe(read({ name: 'orders.save', error: 'SaveFailedError', calls: 'first' }))).toBe(
      'point orders.save: SaveFailedError, first call',
    )
    expect(
      describe(read({ name: 'orders.*', set: [{ path: 'total', value: 0 }], calls: 'every:3' })),
    ).toBe('point orders.*: set data.total, every 3 calls')
  })
})
