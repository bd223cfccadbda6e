/**
 * Rate modes, targeting and failure-lambda configs as the middlewares run them:
 * the modules have their own property tests; these show the wiring.
 */
import middy from '@middy/core'
import {
  type ChaosConfig,
  type ChaosConfigInput,
  type ConfigProvider,
  type FailureLambdaV0Config,
  resetConfigSources,
} from '@middy-chaos/core'
import { chaosException } from '@middy-chaos/exception'
import { chaosLatency } from '@middy-chaos/latency'
import { chaosStatusCode, type StatusCodeEntry } from '@middy-chaos/status-code'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { V0_SSM_PARAMETER, V1_CONFIGURATION } from '../formats/failure-lambda.fixtures.js'
import {
  helloWorld,
  httpApiEvent,
  makeContext,
  onFakeClock,
  restApiEvent,
  useCapturedLogs,
} from '../helpers/index.js'

const hello = { statusCode: 200, body: 'Hello from Lambda!' }
const status = (extra: Omit<StatusCodeEntry, 'type' | 'statusCode'>): ChaosConfig => ({
  version: 1,
  faults: [{ type: 'status_code', statusCode: 503, ...extra }],
})

/** Statuses of `n` invocations of a status-code chain. */
const statuses = async (config: ChaosConfigInput, n: number, event: object = restApiEvent()) => {
  const handler = middy(helloWorld).use(chaosStatusCode({ config }))
  const out: number[] = []
  for (let i = 0; i < n; i++)
    out.push(((await handler(event, makeContext())) as { statusCode: number }).statusCode)
  return out
}

describe('rate modes through the middleware', () => {
  const logs = useCapturedLogs()
  afterEach(() => {
    vi.useRealTimers()
    resetConfigSources()
  })

  it('every: fires on the 3rd, 6th, 9th invocation', async () => {
    const out = await statuses(status({ every: 3 }), 9)
    expect(out).toEqual([200, 200, 503, 200, 200, 503, 200, 200, 503])
  })

  it('budget: at most max injections per window, then again in the next window', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    const handler = middy(helloWorld).use(
      chaosStatusCode({ config: status({ budget: { max: 2, windowMs: 60_000 } }) }),
    )
    const call = async () =>
      ((await handler(restApiEvent(), makeContext())) as { statusCode: number }).statusCode
    expect([await call(), await call(), await call(), await call()]).toEqual([503, 503, 200, 200])
    vi.advanceTimersByTime(60_000)
    expect([await call(), await call(), await call()]).toEqual([503, 503, 200])
  })

  it('seed: the same seed gives the same sequence of injections', async () => {
    const a = await statuses(status({ rate: 0.3, seed: 1234 }), 200)
    const b = await statuses(status({ rate: 0.3, seed: 1234 }), 200)
    const c = await statuses(status({ rate: 0.3, seed: 99 }), 200)
    expect(a).toEqual(b)
    expect(a).not.toEqual(c)
    const injected = a.filter((s) => s === 503).length
    expect(injected).toBeGreaterThan(60 - 3 * Math.sqrt(200 * 0.3 * 0.7))
    expect(injected).toBeLessThan(60 + 3 * Math.sqrt(200 * 0.3 * 0.7))
  })

  it('keeps the every-Nth count across config refreshes of an unchanged entry', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    const provider: ConfigProvider = { get: async () => JSON.stringify(status({ every: 2 })) }
    const handler = middy(helloWorld).use(
      chaosStatusCode({ provider, parameterName: '/p', maxAge: 1 }),
    )
    const out: number[] = []
    for (let i = 0; i < 6; i++) {
      out.push(
        ((await handler(restApiEvent(), makeContext())) as { statusCode: number }).statusCode,
      )
      vi.advanceTimersByTime(1_500) // every call sees a new snapshot
    }
    expect(out).toEqual([200, 503, 200, 503, 200, 503])
  })

  it('names the field and the bound of an invalid rate mode', async () => {
    expect(await statuses(status({ every: 0 }), 1)).toEqual([200])
    expect(logs.byLevel('warn')[0]?.issues).toEqual([
      'faults[0].every: must be an integer of at least 1 (got 0)',
    ])
  })
})

describe('targeting through the middleware', () => {
  const logs = useCapturedLogs()

  it('applies a fault only to events matching every condition', async () => {
    const config = status({
      match: [
        { path: 'requestContext.http.method', oneOf: ['POST', 'PUT'] },
        { path: 'rawPath', prefix: '/orders' },
        { path: 'headers.x-chaos', exists: true },
      ],
    })
    const event = (method: string, rawPath: string, headers: object) =>
      httpApiEvent({ rawPath, headers, requestContext: { http: { method, path: rawPath } } })
    expect(await statuses(config, 1, event('POST', '/orders/1', { 'x-chaos': '1' }))).toEqual([503])
    expect(await statuses(config, 1, event('GET', '/orders/1', { 'x-chaos': '1' }))).toEqual([200])
    expect(await statuses(config, 1, event('POST', '/users/1', { 'x-chaos': '1' }))).toEqual([200])
    expect(await statuses(config, 1, event('POST', '/orders/1', {}))).toEqual([200])
  })

  it('applies a fault only to the listed functions and aliases', async () => {
    const handler = (functions: string[]) =>
      middy(helloWorld).use(chaosStatusCode({ config: status({ functions }) }))
    const live = makeContext({
      functionName: 'orders',
      functionVersion: '7',
      invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:orders:live',
    })
    expect(await handler(['orders'])(restApiEvent(), live)).toMatchObject({ statusCode: 503 })
    expect(await handler(['orders:live'])(restApiEvent(), live)).toMatchObject({ statusCode: 503 })
    expect(await handler(['orders:7'])(restApiEvent(), live)).toMatchObject({ statusCode: 503 })
    expect(await handler(['orders:canary'])(restApiEvent(), live)).toEqual(hello)
    expect(await handler(['payments'])(restApiEvent(), live)).toEqual(hello)
  })

  it('refuses hostile paths and never applies a fault whose targeting is invalid', async () => {
    const config = status({ match: [{ path: '__proto__.polluted', exists: false }] })
    expect(await statuses(config, 1)).toEqual([200])
    expect(String(logs.byLevel('warn')[0]?.issues)).toMatch(/__proto__/)
  })
})

describe('failure-lambda configurations behave here as they do there', () => {
  const logs = useCapturedLogs()

  // failure-lambda's README parameters, with one mode switched on.
  const v0 = (failureMode: FailureLambdaV0Config['failureMode']): FailureLambdaV0Config => ({
    ...V0_SSM_PARAMETER,
    isEnabled: true,
    failureMode,
  })
  const v1 = (mode: 'latency' | 'exception' | 'statuscode') => {
    const config = structuredClone(V1_CONFIGURATION)
    config[mode].enabled = true
    return config
  }

  /**
   * One invocation of the workshop chain on a fake clock: `ranAt` is when the handler ran and
   * `ms` when the invocation ended, in ms of the waits the faults asked for.
   */
  const run = async (config: ChaosConfigInput) => {
    let ranAt: number | undefined
    const handler = (now: () => number) =>
      middy(async () => {
        ranAt = now()
        return helloWorld()
      })
        .use(chaosLatency({ config }))
        .use(chaosStatusCode({ config }))
        .use(chaosException({ config }))
    const {
      result: response,
      error,
      ms,
    } = await onFakeClock((now) => handler(now)(restApiEvent(), makeContext()))
    return { response, error, ran: ranAt !== undefined, ranAt, ms }
  }

  for (const [version, make] of [
    ['0.x', v0],
    ['1.x', v1],
  ] as const) {
    it(`${version} latency: waits 100–399 ms before the handler, which answers`, async () => {
      const { response, ranAt, ms } = await run(make('latency'))
      expect(response).toEqual(hello)
      const delay = (logs.injected().at(-1)?.chaos as { delay?: number } | undefined)?.delay
      expect(delay).toBeGreaterThanOrEqual(100)
      expect(delay).toBeLessThanOrEqual(399)
      expect(ranAt).toBe(delay)
      expect(ms).toBe(delay)
    })

    it(`${version} exception: throws the message before the handler`, async () => {
      const { error, ran } = await run(make('exception'))
      expect(ran).toBe(false)
      expect(error).toMatchObject({ message: 'Exception message!' })
    })

    it(`${version} statuscode: answers 404 without running the handler`, async () => {
      const { response, ran } = await run(make('statuscode'))
      expect(ran).toBe(false)
      expect(response).toMatchObject({ statusCode: 404 })
    })
  }

  it('0.x with isEnabled false injects nothing; 1.x percentage 0 injects nothing', async () => {
    expect((await run({ ...v0('exception'), isEnabled: false })).response).toEqual(hello)
    const off = v1('exception')
    off.exception.percentage = 0
    expect((await run(off)).response).toEqual(hello)
  })

  it('warns once about what no middleware of the function handles', async () => {
    const config = JSON.stringify({
      ...v1('latency'),
      diskspace: { enabled: true, disk_space: 100 },
    })
    await run(config)
    const notes = logs.lines.filter((l) => String(l.message).includes('failure-lambda-1 format'))
    expect(notes).toHaveLength(1)
    expect(notes[0]?.level).toBe('WARN')
    expect(String(notes[0]?.issues)).toMatch(/diskspace: dropped/)
  })

  it('warns, naming the field, about an invalid flag failure-lambda would skip', async () => {
    await run(JSON.stringify({ latency: { enabled: true, percentage: 150 } }))
    const warning = logs.byLevel('warn').find((l) => String(l.message).includes('parts ignored'))
    expect(String(warning?.issues)).toMatch(
      /latency: skipped, as failure-lambda skips an invalid flag: percentage must be an integer from 0 to 100 \(got 150\)/,
    )
  })
})
