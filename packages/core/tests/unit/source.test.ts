import middy from '@middy/core'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { helloWorld, makeContext, useCapturedLogs } from '../../../../test/helpers/index.js'
import {
  type ConfigProvider,
  ConfigSource,
  createFaultMiddleware,
  type FaultDefinition,
  getConfigSource,
  resetConfigSources,
} from '../../src/index.js'

/** A fault that records that it fired, for testing the engine alone. */
const markFault: FaultDefinition<{ label: string }> = {
  type: 'mark',
  phases: ['before', 'after'],
  defaultPhase: 'after',
  parse: (fields) => ({ label: fields.string('label', { default: 'marked' }) }),
  plan: ({ params, request }) => ({
    run: () => {
      ;(request.response as { body: string }).body += ` [${params.label}]`
    },
  }),
}

const markConfig = JSON.stringify({ version: 1, faults: [{ type: 'mark' }] })

/** A provider that counts calls and answers what `answer` says. */
const countingProvider = (answer: () => Promise<unknown>) => {
  const provider = {
    calls: 0,
    get: async (_name: string) => {
      provider.calls++
      return answer()
    },
  }
  return provider satisfies ConfigProvider
}

describe('ConfigSource', () => {
  useCapturedLogs() // keeps the log output out of the test report
  afterEach(() => {
    vi.useRealTimers()
    resetConfigSources()
  })

  it('asks the store once for a chain of different faults, created one after another', async () => {
    // Prepare: three fault types, so the catalog grows while the first fetch is under way
    const provider = countingProvider(async () => markConfig)
    const options = { provider, parameterName: '/chain', maxAge: 60 }
    const kinds = ['one', 'two', 'three'].map((type) => ({ ...markFault, type }))
    const handler = middy(helloWorld)
    for (const kind of kinds) handler.use(createFaultMiddleware(kind, { ...options }))

    // Act
    for (let i = 0; i < 10; i++) await handler({}, makeContext())

    // Assess
    expect(provider.calls).toBe(1)
  })

  it('fetches once per cache window however many middlewares and invocations', async () => {
    // Prepare
    const provider = countingProvider(async () => markConfig)
    const options = { provider, parameterName: '/chaos', maxAge: 60 }
    const handler = middy(helloWorld)
      .use(createFaultMiddleware(markFault, { ...options }))
      .use(createFaultMiddleware(markFault, { ...options }))
      .use(createFaultMiddleware(markFault, { ...options }))

    // Act
    const responses = []
    for (let i = 0; i < 200; i++) responses.push(await handler({}, makeContext()))

    // Assess
    expect(provider.calls).toBe(1)
    expect(responses[199]).toEqual({
      statusCode: 200,
      body: 'Hello from Lambda! [marked] [marked] [marked]',
    })
  })

  it('fetches the next document in the background in the last fifth of the window', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    const provider = countingProvider(async () => markConfig)
    const options = { provider, parameterName: '/chaos', maxAge: 5 }
    const handler = middy(helloWorld).use(createFaultMiddleware(markFault, options))
    const source = getConfigSource(options)
    await handler({}, makeContext())
    vi.advanceTimersByTime(3_900)
    expect(source.current()).not.toBeInstanceOf(Promise)
    expect(provider.calls).toBe(1)
    vi.advanceTimersByTime(200)
    // 4.1 s: served at once from the document in force, while the next one is fetched
    expect(source.current()).not.toBeInstanceOf(Promise)
    expect(provider.calls).toBe(2)
    await source.whenSettled()
    vi.advanceTimersByTime(3_900)
    expect(source.current()).not.toBeInstanceOf(Promise)
    expect(provider.calls).toBe(2)
  })

  it('never serves a document with faults past its window: the invocation waits for the next one', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    const provider = countingProvider(async () => markConfig)
    const options = { provider, parameterName: '/chaos', maxAge: 5 }
    const handler = middy(helloWorld).use(createFaultMiddleware(markFault, options))
    const source = getConfigSource(options)
    await handler({}, makeContext())
    vi.advanceTimersByTime(5_000)
    const stale = source.current()
    expect(stale).toBeInstanceOf(Promise)
    expect((await stale).fetchedAt).toBe(Date.now())
    expect(provider.calls).toBe(2)
  })

  it('shares one in-flight request between concurrent invocations', async () => {
    let release: (value: string) => void = () => {}
    const provider = countingProvider(
      () =>
        new Promise((resolve) => {
          release = resolve
        }),
    )
    const handler = middy(helloWorld)
      .use(createFaultMiddleware(markFault, { provider, parameterName: '/chaos', maxAge: 60 }))
      .use(createFaultMiddleware(markFault, { provider, parameterName: '/chaos', maxAge: 60 }))
    const pending = Array.from({ length: 25 }, () => handler({}, makeContext()))
    await new Promise((resolve) => setTimeout(resolve, 10))
    release(markConfig)
    const responses = await Promise.all(pending)
    expect(provider.calls).toBe(1)
    expect(responses.every((r) => r.body === 'Hello from Lambda! [marked] [marked]')).toBe(true)
  })

  it('honours POWERTOOLS_PARAMETERS_MAX_AGE when no maxAge is given', async () => {
    vi.stubEnv('POWERTOOLS_PARAMETERS_MAX_AGE', '0')
    const provider = countingProvider(async () => markConfig)
    const handler = middy(helloWorld).use(
      createFaultMiddleware(markFault, { provider, parameterName: '/chaos' }),
    )
    await handler({}, makeContext())
    await handler({}, makeContext())
    // The fetch started at init, then one per invocation, started after it arrived
    expect(provider.calls).toBe(3)
    vi.unstubAllEnvs()
  })

  it('reads the parameter named by CHAOS_PARAM and passes maxAge to the provider', async () => {
    vi.stubEnv('CHAOS_PARAM', '/from/env')
    const get = vi.fn(async () => markConfig)
    const handler = middy(helloWorld).use(
      createFaultMiddleware(markFault, { provider: { get }, maxAge: 7 }),
    )
    await handler({}, makeContext())
    expect(get).toHaveBeenCalledWith('/from/env', { maxAge: 7, forceFetch: true })
    vi.unstubAllEnvs()
  })

  it('gives sources with equal options once, and distinct ones otherwise', () => {
    const provider = countingProvider(async () => markConfig)
    const a = getConfigSource({ provider, parameterName: '/a', maxAge: 5 })
    expect(getConfigSource({ provider, parameterName: '/a', maxAge: 5 })).toBe(a)
    expect(getConfigSource({ provider, parameterName: '/b', maxAge: 5 })).not.toBe(a)
    expect(getConfigSource({ provider, parameterName: '/a', maxAge: 6 })).not.toBe(a)
  })
})

describe('ConfigSource fail-safety', () => {
  const logs = useCapturedLogs()
  afterEach(() => {
    resetConfigSources()
  })

  const hello = { statusCode: 200, body: 'Hello from Lambda!' }

  it.each([
    ['a store that errors', async () => Promise.reject(new Error('AccessDenied'))],
    [
      'a throttling store',
      async () =>
        Promise.reject(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' })),
    ],
    ['a value that is not JSON', async () => 'definitely { not json'],
    ['an invalid document', async () => ({ version: 1, faults: [{ type: 'mark', rate: 7 }] })],
    ['an empty value', async () => undefined],
  ])('answers untouched with %s, and warns once per window', async (_, answer) => {
    const provider = countingProvider(answer)
    const handler = middy(helloWorld)
      .use(createFaultMiddleware(markFault, { provider, parameterName: '/chaos', maxAge: 60 }))
      .use(createFaultMiddleware(markFault, { provider, parameterName: '/chaos', maxAge: 60 }))
    for (let i = 0; i < 50; i++) expect(await handler({}, makeContext())).toEqual(hello)
    expect(provider.calls).toBe(1)
    expect(logs.byLevel('warn')).toHaveLength(1)
    expect(logs.injected()).toHaveLength(0)
  })

  it('does not hold an invocation for a store that never answers, and gives the request up at its bound', async () => {
    const provider = countingProvider(() => new Promise(() => {}))
    const handler = middy(helloWorld).use(
      createFaultMiddleware(markFault, {
        provider,
        parameterName: '/chaos',
        fetchTimeout: 300,
        requestTimeout: 500,
      }),
    )
    const started = performance.now()
    expect(await handler({}, makeContext())).toEqual(hello)
    expect(performance.now() - started).toBeGreaterThanOrEqual(290)
    // The fetch started when the middleware was created: the wait ends 300 ms after that
    const [notReady] = logs.byLevel('warn')
    expect(notReady).toMatchObject({
      message: expect.stringMatching(/not ready in time/),
      requestTimeoutMs: 500,
    })
    expect(notReady?.waitedMs).toBeGreaterThan(0)
    expect(notReady?.waitedMs).toBeLessThanOrEqual(300)
    await vi.waitFor(
      () => expect(logs.byLevel('warn')[1]?.error).toMatch(/did not answer within 500 ms/),
      { timeout: 5000 },
    )
    expect(provider.calls).toBe(1)
  })

  it('never waits for the store past the Lambda deadline', async () => {
    const provider = countingProvider(() => new Promise(() => {}))
    const handler = middy(helloWorld).use(
      createFaultMiddleware(markFault, { provider, parameterName: '/chaos' }),
    )
    expect(await handler({}, makeContext({ timeoutMs: 350 }))).toEqual(hello)
    // 350 ms left, 100 ms margin: the invocation goes on without faults after ~250 ms, not 1 s
    const warning = logs.byLevel('warn').find((line) => /not ready in time/.test(line.message))
    expect(warning?.waitedMs).toBeGreaterThan(0)
    expect(warning?.waitedMs).toBeLessThanOrEqual(250)
  })

  it('asks a failing store again after the window, and never more than once a second', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    const provider = countingProvider(async () => Promise.reject(new Error('AccessDenied')))
    const handler = middy(helloWorld).use(
      createFaultMiddleware(markFault, { provider, parameterName: '/chaos', maxAge: 0 }),
    )
    for (let i = 0; i < 20; i++) await handler({}, makeContext())
    expect(provider.calls).toBe(1)
    vi.advanceTimersByTime(1_000)
    await handler({}, makeContext())
    expect(provider.calls).toBe(2)
    vi.useRealTimers()
  })

  it('by default an invocation waits about a second, and the request is given up on after 5 s', async () => {
    const source = new ConfigSource({
      description: 'hanging',
      load: () => new Promise(() => {}),
      maxAgeSeconds: 5,
    })
    const started = performance.now()
    const waited = Promise.resolve(source.snapshotFor({ context: makeContext() } as never)).then(
      () => performance.now() - started,
    )
    const snapshot = await source.refresh()
    const elapsed = performance.now() - started
    expect(snapshot.document.faults).toEqual([])
    expect(await waited).toBeGreaterThanOrEqual(990)
    expect(elapsed).toBeGreaterThanOrEqual(4990)
    // What the source did: it stopped waiting at 1 s, and ended the request at 5 s
    expect(logs.byLevel('warn').filter((line) => line.chaosSource === 'hanging')).toMatchObject([
      {
        message: expect.stringMatching(/not ready in time/),
        waitedMs: 1000,
        requestTimeoutMs: 5000,
      },
      {
        message: expect.stringMatching(/could not be loaded/),
        error: expect.stringMatching(/did not answer within 5000 ms/),
      },
    ])
  }, 10_000)

  it('warns once when no parameter is configured, and injects nothing', async () => {
    vi.stubEnv('CHAOS_PARAM', '')
    const handler = middy(helloWorld).use(createFaultMiddleware(markFault, {}))
    for (let i = 0; i < 10; i++) expect(await handler({}, makeContext())).toEqual(hello)
    expect(logs.byLevel('warn')).toHaveLength(1)
    expect(logs.byLevel('warn')[0]?.error).toMatch(/set the CHAOS_PARAM environment variable/)
    vi.unstubAllEnvs()
  })
})

describe('maxAge: 0', () => {
  it('never serves an invocation with a fetch that started before it: a write just before it is seen', async () => {
    // Prepare: a store read in 100 ms, whose value is read when the request starts
    let value = '{"version":1,"enabled":false,"faults":[]}'
    const source = new ConfigSource({
      description: 'every-invocation',
      load: () => {
        const read = value
        return new Promise((resolve) => setTimeout(() => resolve(read), 100))
      },
      maxAgeSeconds: 0,
    })
    await source.refresh()

    // Act: A starts a fetch; the value changes; B arrives while A's fetch is in flight
    const a = source.snapshotFor({ context: makeContext() } as never)
    await new Promise((resolve) => setTimeout(resolve, 20))
    value = '{"version":1,"enabled":true,"faults":[]}'
    const b = source.snapshotFor({ context: makeContext() } as never)

    // Assess
    expect((await a).document.enabled).toBe(false)
    expect((await b).document.enabled).toBe(true)
    expect(source.fetchCount).toBe(3)
  })
})
