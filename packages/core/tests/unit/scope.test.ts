import { Logger } from '@aws-lambda-powertools/logger'
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware'
import middy from '@middy/core'
import { describe, expect, it, vi } from 'vitest'
import { makeContext, untypedConfig, useCapturedLogs } from '../../../../test/helpers/index.js'
import {
  activateInScope,
  createFaultMiddleware,
  currentScope,
  type FaultDefinition,
} from '../../src/index.js'

/** A fault acting on the calls of an invocation: it writes its label into the invocation's scope. */
const probeFault = (ended: string[] = []): FaultDefinition<{ label: string }> => ({
  type: 'probe',
  phases: ['before'],
  defaultPhase: 'before',
  scope: 'calls',
  parse: (fields) => ({ label: fields.string('label', { default: 'on', maxLength: 10 }) }),
  plan: ({ params, request }) => ({
    run: () => {
      activateInScope(request, 'probe', params.label, () => ended.push(params.label))
    },
  }),
})

/** What a call made from here (an SDK call, an HTTP request) would see. */
const seen = () => currentScope()?.fault<string>('probe')

/** A config with an entry of the test's own fault, which the types do not know. */
const doc = (fields: object = {}) =>
  untypedConfig({ version: 1, faults: [{ type: 'probe', ...fields }] })

/** A handler that reports what its calls see, before and after an await. */
const lambda = async () => {
  const first = seen()
  await new Promise((resolve) => setTimeout(resolve, 5))
  return { first, later: seen() }
}

const asyncMiddleware = {
  before: async () => {
    await new Promise((resolve) => setTimeout(resolve, 1))
  },
}

describe("createFaultMiddleware with a fault of scope: 'calls'", () => {
  useCapturedLogs()

  it.each([
    [
      'first in the chain',
      () => middy(lambda).use(createFaultMiddleware(probeFault(), { config: doc() })),
    ],
    [
      'after an asynchronous middleware',
      () =>
        middy(lambda)
          .use(asyncMiddleware)
          .use(createFaultMiddleware(probeFault(), { config: doc() })),
    ],
    [
      "after Powertools Logger's injectLambdaContext",
      () =>
        middy(lambda)
          .use(injectLambdaContext(new Logger({ serviceName: 'orders' }), { resetKeys: true }))
          .use(createFaultMiddleware(probeFault(), { config: doc() })),
    ],
    [
      'before an asynchronous middleware',
      () =>
        middy(lambda)
          .use(createFaultMiddleware(probeFault(), { config: doc() }))
          .use(asyncMiddleware),
    ],
  ])('reaches the calls of the handler when %s', async (_, make) => {
    // Act
    const result = await make()({}, makeContext())

    // Assess
    expect(result).toEqual({ first: 'on', later: 'on' })
  })

  it("gives no scope to a fault that acts on the invocation itself (no scope: 'calls')", async () => {
    // Prepare: the same fault without its scope
    const { scope: _, ...invocationFault } = probeFault()

    // Act
    const result = await middy(lambda).use(
      createFaultMiddleware(invocationFault, { config: doc() }),
    )({}, makeContext())

    // Assess: its plan ran, but the calls of the handler see nothing
    expect(result).toEqual({ first: undefined, later: undefined })
  })

  it('reaches the handler while the config is still being fetched (cold start)', async () => {
    // Prepare
    const provider = {
      get: async () => {
        await new Promise((resolve) => setTimeout(resolve, 20))
        return JSON.stringify(doc({ label: 'slow' }))
      },
    }
    const handler = middy(lambda).use(
      createFaultMiddleware(probeFault(), { provider, parameterName: '/scope/cold' }),
    )

    // Act
    const result = await handler({}, makeContext())

    // Assess
    expect(result).toEqual({ first: 'slow', later: 'slow' })
  })

  it('ends with the invocation: calls made after it, or outside any invocation, see nothing', async () => {
    // Prepare
    const ended: string[] = []
    const handler = middy(lambda).use(createFaultMiddleware(probeFault(ended), { config: doc() }))
    expect(seen()).toBeUndefined()

    // Act
    const result = await handler({}, makeContext())

    // Assess
    expect(result.first).toBe('on')
    expect(seen()).toBeUndefined()
    expect(ended).toEqual(['on'])
  })

  it.each([
    ['the handler throws', { after: () => undefined }, true],
    ['a later middleware answers early in before', { before: () => 'cached' }, false],
    ['a later middleware answers early in after', { after: () => 'replaced' }, false],
  ])('leaves nothing on when %s', async (_, later, throws) => {
    // Prepare
    const ended: string[] = []
    const handler = middy(async () => {
      if (throws) throw new Error('handler failed')
      return lambda()
    })
      .use(createFaultMiddleware(probeFault(ended), { config: doc() }))
      .use(later)

    // Act
    await handler({}, makeContext()).catch(() => undefined)

    // Assess
    expect(seen()).toBeUndefined()
    expect(ended).toEqual(['on'])
  })

  it('is inert once Middy records an error, even when a later onError hook throws', async () => {
    // Prepare
    const ended: string[] = []
    let duringOnError: string | undefined = 'unset'
    const handler = middy(async () => {
      throw new Error('handler failed')
    })
      .use(createFaultMiddleware(probeFault(ended), { config: doc() }))
      .use({
        onError: () => {
          duringOnError = seen()
          throw new Error('onError failed')
        },
      })

    // Act
    await expect(handler({}, makeContext())).rejects.toThrow('onError failed')

    // Assess: its own onError never ran, yet nothing sees the fault
    expect(ended).toEqual([])
    expect(duringOnError).toBeUndefined()
    expect(seen()).toBeUndefined()
  })

  it('keeps interleaved invocations apart: only the one that drew the fault sees it', async () => {
    // Prepare: every second invocation draws the fault
    let release: () => void = () => undefined
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    const handler = middy(async (event: { id: string }) => {
      const first = seen()
      await gate
      return { id: event.id, first, later: seen() }
    }).use(createFaultMiddleware(probeFault(), { config: doc({ every: 2 }) }))

    // Act: both start from the same caller, the second while the first waits
    const one = handler({ id: 'one' }, makeContext())
    const two = handler({ id: 'two' }, makeContext())
    const three = handler({ id: 'three' }, makeContext())
    const callerSees = seen()
    release()
    const results = await Promise.all([one, two, three])

    // Assess
    expect(results).toEqual([
      { id: 'one', first: undefined, later: undefined },
      { id: 'two', first: 'on', later: 'on' },
      { id: 'three', first: undefined, later: undefined },
    ])
    expect(callerSees).toBeUndefined()
  })

  it('hides another invocation when it is invoked from inside it', async () => {
    // Prepare
    const inner = middy(lambda).use(
      createFaultMiddleware(probeFault(), { config: doc({ rate: 0 }) }),
    )
    const outer = middy(async () => ({ outer: seen(), inner: await inner({}, makeContext()) })).use(
      createFaultMiddleware(probeFault(), { config: doc({ label: 'outer' }) }),
    )

    // Act
    const result = await outer({}, makeContext())

    // Assess
    expect(result).toEqual({ outer: 'outer', inner: { first: undefined, later: undefined } })
  })

  it('restores request.response as a plain property when the scope ends', async () => {
    // Prepare
    let request: object | undefined
    const handler = middy(lambda)
      .use(createFaultMiddleware(probeFault(), { config: doc() }))
      .use({
        after: (r) => {
          request = r
        },
      })

    // Act
    await handler({}, makeContext())

    // Assess
    expect(Object.getOwnPropertyDescriptor(request, 'response')).toMatchObject({
      writable: true,
      value: { first: 'on', later: 'on' },
    })
  })

  it('with the kill switch, is the plain disabled middleware', () => {
    vi.stubEnv('CHAOS_DISABLED', 'true')
    const middleware = createFaultMiddleware(probeFault(), { config: doc() })
    vi.unstubAllEnvs()
    expect(Object.keys(middleware)).toEqual(['before'])
  })
})
