import middy from '@middy/core'
import { describe, expect, it } from 'vitest'
import {
  helloWorld,
  makeContext,
  untypedConfig,
  useCapturedLogs,
} from '../../../../test/helpers/index.js'
import {
  ChaosInjectedError,
  createFaultMiddleware,
  type FaultDefinition,
  type Phase,
} from '../../src/index.js'

type Seen = { phase: Phase; label: string }

/** A fault that records where it ran, so the engine can be tested alone. */
const recorder = (seen: Seen[]): FaultDefinition<{ label: string }> => ({
  type: 'record',
  phases: ['before', 'after', 'onError'],
  defaultPhase: 'before',
  parse: (fields) => {
    const label = fields.string('label', { default: 'x', maxLength: 10 })
    return label === undefined ? undefined : { label }
  },
  plan: ({ phase, params }) => ({
    details: { extra: 1 },
    run: () => {
      seen.push({ phase, label: params.label })
    },
  }),
})

/** A config with entries of the test's own faults, which the types do not know. */
const doc = (...faults: object[]) => untypedConfig({ version: 1, faults })

describe('createFaultMiddleware', () => {
  const logs = useCapturedLogs()

  it('names hooks after the fault and phase, for Middy profiling', () => {
    const middleware = createFaultMiddleware(recorder([]), { config: doc() })
    expect(middleware.before?.name).toBe('chaosRecordBefore')
    expect(middleware.after?.name).toBe('chaosRecordAfter')
    expect(middleware.onError?.name).toBe('chaosRecordOnError')
  })

  it('registers only the phases asked for in code', () => {
    const middleware = createFaultMiddleware(recorder([]), { config: doc(), phases: ['before'] })
    expect(middleware.after).toBeUndefined()
    expect(middleware.onError).toBeUndefined()
  })

  it('refuses code options naming a phase the fault does not support', () => {
    const beforeOnly = { ...recorder([]), phases: ['before'] as Phase[] }
    expect(() => createFaultMiddleware(beforeOnly, { config: doc(), phases: ['after'] })).toThrow(
      'record: phase "after" is not supported (supported: before)',
    )
    expect(() =>
      createFaultMiddleware(recorder([]), { config: doc(), phases: ['before'], phase: 'after' }),
    ).toThrow('record: phase "after" is not among the registered phases (before)')
  })

  it('runs in the default phase, or the one the config chooses', async () => {
    const seen: Seen[] = []
    const config = doc(
      { type: 'record', label: 'a' },
      { type: 'record', label: 'b', phase: 'after' },
    )
    await middy(helloWorld).use(createFaultMiddleware(recorder(seen), { config }))(
      {},
      makeContext(),
    )
    expect(seen).toEqual([
      { phase: 'before', label: 'a' },
      { phase: 'after', label: 'b' },
    ])
  })

  it('runs in onError when the config asks and the handler throws', async () => {
    const seen: Seen[] = []
    const handler = middy(async () => {
      throw new Error('handler failed')
    }).use(
      createFaultMiddleware(recorder(seen), { config: doc({ type: 'record', phase: 'onError' }) }),
    )
    await expect(handler({}, makeContext())).rejects.toThrow('handler failed')
    expect(seen).toEqual([{ phase: 'onError', label: 'x' }])
  })

  it('ignores, with a warning, a config phase the middleware did not register', async () => {
    const seen: Seen[] = []
    const config = doc({ type: 'record', phase: 'after' })
    const handler = middy(helloWorld).use(
      createFaultMiddleware(recorder(seen), { config, phases: ['before'] }),
    )
    expect(await handler({}, makeContext())).toEqual(await helloWorld())
    expect(seen).toEqual([])
    expect(logs.byLevel('warn')[0]?.issues).toEqual([
      'faults[0].phase: "after" is not a phase this record middleware registered (before)',
    ])
  })

  it('skips an entry whose own fields are invalid, naming the field, and keeps the others', async () => {
    const seen: Seen[] = []
    const config = doc(
      { type: 'record', label: 'far too long a label' },
      { type: 'record', label: 'ok' },
    )
    await middy(helloWorld).use(createFaultMiddleware(recorder(seen), { config }))(
      {},
      makeContext(),
    )
    expect(seen).toEqual([{ phase: 'before', label: 'ok' }])
    expect(logs.byLevel('warn')[0]?.issues).toEqual([
      'faults[0].label: must be at most 10 characters (got 20)',
    ])
  })

  it('never fires at rate 0 and always at rate 1', async () => {
    const seen: Seen[] = []
    const config = doc(
      { type: 'record', label: 'never', rate: 0 },
      { type: 'record', label: 'always', rate: 1 },
    )
    const handler = middy(helloWorld).use(createFaultMiddleware(recorder(seen), { config }))
    for (let i = 0; i < 500; i++) await handler({}, makeContext())
    expect(seen.filter((s) => s.label === 'never')).toHaveLength(0)
    expect(seen.filter((s) => s.label === 'always')).toHaveLength(500)
  })

  it('ignores fault types it has no middleware for', async () => {
    const seen: Seen[] = []
    const config = doc({ type: 'cpu_burn', cores: 2 }, { type: 'record' })
    await middy(helloWorld).use(createFaultMiddleware(recorder(seen), { config }))(
      {},
      makeContext(),
    )
    expect(seen).toHaveLength(1)
    expect(logs.byLevel('warn')).toHaveLength(0)
  })

  it('writes one structured line per injected fault and nothing at INFO otherwise', async () => {
    const config = doc({ type: 'record', label: 'a', rate: 1 })
    const on = middy(helloWorld).use(createFaultMiddleware(recorder([]), { config }))
    const off = middy(helloWorld).use(createFaultMiddleware(recorder([]), { config: doc() }))
    await off({}, makeContext())
    expect(logs.lines).toHaveLength(0)
    await on({}, makeContext())
    expect(logs.injected()).toHaveLength(1)
    expect(logs.injected()[0]).toMatchObject({
      level: 'INFO',
      message: 'Chaos fault injected',
      chaos: { faultType: 'record', phase: 'before', rate: 1, label: 'a', extra: 1 },
      awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e812345678',
      functionName: 'hello-world',
    })
  })

  it('turns a bug in a fault into a warning and an untouched invocation', async () => {
    const buggy: FaultDefinition<object> = {
      type: 'buggy',
      phases: ['before', 'after'],
      defaultPhase: 'after',
      parse: () => ({}),
      plan: () => ({
        run: () => {
          throw new TypeError('cannot read properties of undefined')
        },
      }),
    }
    const handler = middy(helloWorld).use(
      createFaultMiddleware(buggy, { config: doc({ type: 'buggy' }) }),
    )
    expect(await handler({}, makeContext())).toEqual(await helloWorld())
    expect(logs.byLevel('warn')[0]).toMatchObject({
      message: 'Chaos buggy fault failed; invocation continues untouched',
      error: 'TypeError: cannot read properties of undefined',
    })
  })

  it('turns a parser that throws into a warning and no fault', async () => {
    const throwing: FaultDefinition<object> = {
      type: 'throwing',
      phases: ['before'],
      defaultPhase: 'before',
      parse: () => {
        throw new Error('parser bug')
      },
      plan: () => ({ run: () => 'never' }),
    }
    const handler = middy(helloWorld).use(
      createFaultMiddleware(throwing, { config: doc({ type: 'throwing' }) }),
    )
    expect(await handler({}, makeContext())).toEqual(await helloWorld())
    expect(logs.byLevel('warn')[0]?.issues).toEqual(['(fault): validation failed: parser bug'])
  })

  it('lets errors thrown on purpose through', async () => {
    const thrower: FaultDefinition<object> = {
      type: 'thrower',
      phases: ['before'],
      defaultPhase: 'before',
      parse: () => ({}),
      plan: () => ({
        run: () => {
          throw new ChaosInjectedError('on purpose')
        },
      }),
    }
    const handler = middy(helloWorld).use(
      createFaultMiddleware(thrower, { config: doc({ type: 'thrower' }) }),
    )
    await expect(handler({}, makeContext())).rejects.toThrow('on purpose')
  })

  it('keeps hooks synchronous when nothing is injected, so Middy does not await them', () => {
    const middleware = createFaultMiddleware(recorder([]), {
      config: doc({ type: 'record', rate: 0 }),
    })
    const request = {
      event: {},
      context: makeContext(),
      response: undefined,
      error: undefined,
      internal: {},
    }
    // first call may fetch (static source: a resolved promise)
    return Promise.resolve(middleware.before?.(request as never)).then(() => {
      expect(middleware.before?.(request as never)).toBeUndefined()
      expect(middleware.after?.({ ...request, internal: {} } as never)).toBeUndefined()
    })
  })
})

describe('one snapshot per invocation', () => {
  useCapturedLogs() // keeps the log output out of the test report

  /** A store whose value is switched by the test; maxAge 0: every invocation fetches. */
  const switchable = () => {
    const state = { value: doc({ type: 'record', label: 'old', phase: 'after' }) as unknown }
    return { state, provider: { get: async () => JSON.stringify(state.value) } }
  }

  it('every hook of an invocation sees the config it started with, even if the store changes meanwhile', async () => {
    const seen: Seen[] = []
    const { state, provider } = switchable()
    const handler = middy(async () => {
      state.value = doc({ type: 'record', label: 'new', phase: 'after' })
      return helloWorld()
    })
      .use(createFaultMiddleware(recorder(seen), { provider, parameterName: '/p', maxAge: 0 }))
      .use(createFaultMiddleware(recorder(seen), { provider, parameterName: '/p', maxAge: 0 }))
    await handler({}, makeContext())
    expect(seen.map((s) => s.label)).toEqual(['old', 'old'])
    await handler({}, makeContext())
    expect(seen.map((s) => s.label)).toEqual(['old', 'old', 'new', 'new'])
  })

  it('interleaved invocations keep their own snapshots', async () => {
    const seen: Seen[] = []
    const { state, provider } = switchable()
    let release: () => void = () => {}
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    const options = { provider, parameterName: '/q', maxAge: 0 }
    const slow = middy(async () => {
      await gate
      return helloWorld()
    }).use(createFaultMiddleware(recorder(seen), options))
    const fast = middy(helloWorld).use(createFaultMiddleware(recorder(seen), options))

    const first = slow({}, makeContext()) // starts with "old", then waits in the handler
    await new Promise((resolve) => setTimeout(resolve, 20))
    state.value = doc({ type: 'record', label: 'new', phase: 'after' })
    await fast({}, makeContext()) // a whole invocation with "new" in between
    release()
    await first
    expect(seen.map((s) => s.label)).toEqual(['new', 'old'])
  })
})
