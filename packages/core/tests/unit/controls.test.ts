import { Metrics } from '@aws-lambda-powertools/metrics'
import middy from '@middy/core'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import {
  captureLogs,
  helloWorld,
  makeContext,
  onFakeClock,
  restApiEvent,
  useCapturedLogs,
} from '../../../../test/helpers/index.js'
import { chaosException } from '../../../exception/src/index.js'
import { chaosLatency } from '../../../latency/src/index.js'
import { chaosStatusCode, type StatusCodeEntry } from '../../../status-code/src/index.js'
import {
  type ChaosConfig,
  type ChaosConfigInput,
  type ChaosFaultEntry,
  type ConfigProvider,
  parseConfig,
  parseDuration,
  resetConfigSources,
} from '../../src/index.js'

const hello = { statusCode: 200, body: 'Hello from Lambda!' }
const statusFault: StatusCodeEntry = { type: 'status_code', statusCode: 503 }

/** A store holding one value; counts reads and writes. */
const store = (value: unknown) => {
  const state = { reads: 0, writes: 0 }
  const provider: ConfigProvider = {
    get: async () => {
      state.reads++
      return JSON.stringify(value)
    },
  }
  return { provider, state }
}

describe('auto-expiry', () => {
  let logs: ReturnType<typeof captureLogs>
  beforeEach(() => {
    logs = captureLogs()
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(new Date('2026-11-26T12:00:00Z'))
  })
  afterEach(() => {
    vi.useRealTimers()
    logs.restore()
    resetConfigSources()
  })

  it('fires before expiresAt and stops after it, with no store write in between', async () => {
    const { provider, state } = store({
      version: 1,
      expiresAt: '2026-11-26T12:10:00Z',
      faults: [statusFault],
    })
    const handler = middy(helloWorld).use(
      chaosStatusCode({ provider, parameterName: '/chaos', maxAge: 60 }),
    )
    expect(await handler(restApiEvent(), makeContext())).toMatchObject({ statusCode: 503 })
    vi.setSystemTime(new Date('2026-11-26T12:09:59Z'))
    expect(await handler(restApiEvent(), makeContext())).toMatchObject({ statusCode: 503 })
    vi.setSystemTime(new Date('2026-11-26T12:10:00Z'))
    expect(await handler(restApiEvent(), makeContext())).toEqual(hello)
    vi.setSystemTime(new Date('2026-11-26T13:00:00Z'))
    expect(await handler(restApiEvent(), makeContext())).toEqual(hello)
    expect(state.writes).toBe(0)
    expect(
      logs.byLevel('info').filter((l) => l.message.startsWith('Chaos config expired')),
    ).toHaveLength(1)
  })

  it('ends writtenAt + duration after the write', async () => {
    const { provider } = store({
      version: 1,
      writtenAt: '2026-11-26T11:55:00Z',
      duration: '10m',
      faults: [statusFault],
    })
    const handler = middy(helloWorld).use(
      chaosStatusCode({ provider, parameterName: '/chaos', maxAge: 1 }),
    )
    expect(await handler(restApiEvent(), makeContext())).toMatchObject({ statusCode: 503 })
    vi.setSystemTime(new Date('2026-11-26T12:05:00Z'))
    expect(await handler(restApiEvent(), makeContext())).toEqual(hello)
  })

  it('without writtenAt, ends a duration after this environment first saw the document, across refetches', async () => {
    const { provider, state } = store({ version: 1, duration: 90_000, faults: [statusFault] })
    const handler = middy(helloWorld).use(
      chaosStatusCode({ provider, parameterName: '/chaos', maxAge: 30 }),
    )
    expect(await handler(restApiEvent(), makeContext())).toMatchObject({ statusCode: 503 })
    vi.advanceTimersByTime(60_000) // refetched: same document, first seen 60 s ago
    expect(await handler(restApiEvent(), makeContext())).toMatchObject({ statusCode: 503 })
    vi.advanceTimersByTime(31_000)
    expect(await handler(restApiEvent(), makeContext())).toEqual(hello)
    // Refetched at 60 s (in the background: only a cold start waits), the same document.
    expect(state.reads).toBeGreaterThanOrEqual(2)
  })

  it('a document already expired never fires', async () => {
    const { provider } = store({
      version: 1,
      expiresAt: Date.parse('2026-11-26T11:00:00Z'),
      faults: [statusFault],
    })
    const handler = middy(helloWorld).use(chaosStatusCode({ provider, parameterName: '/chaos' }))
    expect(await handler(restApiEvent(), makeContext())).toEqual(hello)
  })

  it.each([
    [
      { expiresAt: 1_795_737_136 },
      'expiresAt: must be an ISO 8601 time or epoch milliseconds (not seconds) (got 1795737136)',
    ],
    [
      { expiresAt: 'next tuesday' },
      'expiresAt: must be an ISO 8601 time or epoch milliseconds (not seconds) (got "next tuesday")',
    ],
    [
      { duration: '10 minutes' },
      'duration: must be a duration such as "15m", "30s", "2h" or milliseconds, at most 7 days (got "10 minutes")',
    ],
    [
      { duration: '8d' },
      'duration: must be a duration such as "15m", "30s", "2h" or milliseconds, at most 7 days (got "8d")',
    ],
  ])('an expiry it cannot read rejects the whole document: %j', (timing, message) => {
    const { document, issues } = parseConfig({ version: 1, ...timing, faults: [statusFault] })
    expect(document.faults).toEqual([])
    expect(issues).toEqual([
      { path: message.split(':')[0], message: message.slice(message.indexOf(':') + 2) },
    ])
  })
})

describe('kill switch', () => {
  afterEach(() => {
    vi.unstubAllEnvs()
    resetConfigSources()
  })

  it('CHAOS_DISABLED=true: no fetch, no fault, one empty hook', async () => {
    vi.stubEnv('CHAOS_DISABLED', 'true')
    const { provider, state } = store({ version: 1, faults: [{ type: 'exception' }, statusFault] })
    const options = { provider, parameterName: '/chaos' }
    const middlewares = [chaosLatency(options), chaosStatusCode(options), chaosException(options)]
    for (const middleware of middlewares) {
      expect(Object.keys(middleware)).toEqual(['before'])
      expect(middleware.before?.({} as never)).toBeUndefined()
    }
    const handler = middy(helloWorld).use(middlewares)
    expect(await handler(restApiEvent(), makeContext())).toEqual(hello)
    expect(state.reads).toBe(0)
  })

  it.each(['1', 'yes', 'ON', 't', 'Y'])(
    'CHAOS_DISABLED=%s, as Powertools reads its flags: off too',
    async (value) => {
      vi.stubEnv('CHAOS_DISABLED', value)
      const { provider, state } = store({ version: 1, faults: [statusFault] })
      const handler = middy(helloWorld).use(chaosStatusCode({ provider, parameterName: '/chaos' }))
      expect(await handler(restApiEvent(), makeContext())).toEqual(hello)
      expect(state.reads).toBe(0)
    },
  )
})

describe('dry run', () => {
  const logs = useCapturedLogs()
  afterEach(() => {
    vi.unstubAllEnvs()
    resetConfigSources()
  })

  const everything: ChaosFaultEntry[] = [
    { type: 'latency', delay: 300 },
    { type: 'status_code', statusCode: 404 },
    { type: 'exception', message: 'boom' },
  ]
  const chain = (config: ChaosConfigInput, extra: object = {}) =>
    middy(helloWorld)
      .use(chaosLatency({ config, ...extra }))
      .use(chaosStatusCode({ config, ...extra }))
      .use(chaosException({ config, ...extra }))

  const assertUntouched = async (handler: ReturnType<typeof chain>) => {
    // On a fake clock: the latency fault's 300 ms would show as 300, whatever the load
    const { result: response, ms } = await onFakeClock(() => handler(restApiEvent(), makeContext()))
    expect(ms).toBe(0)
    expect(response).toEqual(hello)
    expect(logs.injected()).toEqual([])
    const dry = logs.lines.filter((l) => l.message === 'Chaos fault dry run: not injected')
    expect(dry.map((l) => (l.chaos as { faultType: string }).faultType).sort()).toEqual([
      'exception',
      'latency',
      'status_code',
    ])
    expect(dry.every((l) => (l.chaos as { dryRun: boolean }).dryRun)).toBe(true)
    expect(
      dry.find((l) => (l.chaos as { faultType: string }).faultType === 'latency')?.chaos,
    ).toMatchObject({
      delay: 300,
    })
  }

  it('in the document: response, timing and errors unchanged, the would-be faults logged', async () => {
    await assertUntouched(chain({ version: 1, dryRun: true, faults: everything }))
  })

  it('per fault entry', async () => {
    await assertUntouched(
      chain({ version: 1, faults: everything.map((f) => ({ ...f, dryRun: true })) }),
    )
  })

  it('by environment variable CHAOS_DRY_RUN=true', async () => {
    vi.stubEnv('CHAOS_DRY_RUN', 'true')
    await assertUntouched(chain({ version: 1, faults: everything }))
  })

  it('by option in code', async () => {
    await assertUntouched(chain({ version: 1, faults: everything }, { dryRun: true }))
  })
})

describe('metrics', () => {
  afterEach(() => {
    vi.unstubAllEnvs()
    resetConfigSources()
  })

  it('counts injected faults in EMF with the fault type as a dimension, off unless given', async () => {
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false') // POWERTOOLS_DEV would disable them
    const logs = captureLogs()
    const metrics = new Metrics({ namespace: 'chaos', serviceName: 'hello' })
    const config: ChaosConfig = { version: 1, faults: [statusFault] }
    const handler = middy(helloWorld).use(chaosStatusCode({ config, metrics }))
    await handler(restApiEvent(), makeContext())
    await handler(restApiEvent(), makeContext())
    await middy(helloWorld).use(chaosStatusCode({ config: { ...config } }))(
      restApiEvent(),
      makeContext(),
    )
    logs.restore()
    const emf = logs.lines.filter((line) => '_aws' in line)
    expect(emf).toHaveLength(2)
    expect(emf[0]).toMatchObject({
      faultType: 'status_code',
      ChaosFaultInjected: 1,
      service: 'hello',
    })
    expect(
      (emf[0] as unknown as { _aws: { CloudWatchMetrics: { Dimensions: string[][] }[] } })._aws
        .CloudWatchMetrics[0]?.Dimensions[0],
    ).toContain('faultType')
  })

  it("leaves the user's own metrics and dimensions untouched", async () => {
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false')
    const logs = captureLogs()
    const metrics = new Metrics({ namespace: 'orders', serviceName: 'orders' })
    const handler = middy(async () => {
      metrics.addDimension('tenant', 'acme')
      metrics.addMetric('OrdersPlaced', 'Count', 1)
      return helloWorld()
    }).use(
      chaosStatusCode({
        config: { version: 1, faults: [{ ...statusFault, phase: 'after' }] },
        metrics,
      }),
    )
    await handler(restApiEvent(), makeContext())
    metrics.publishStoredMetrics()
    logs.restore()
    const emf = logs.lines.filter((line) => '_aws' in line)
    const chaos = emf.find((line) => 'ChaosFaultInjected' in line)
    const own = emf.find((line) => 'OrdersPlaced' in line)
    expect(chaos).toMatchObject({ faultType: 'status_code' })
    expect(chaos).not.toHaveProperty('tenant')
    expect(chaos).not.toHaveProperty('OrdersPlaced')
    expect(own).toMatchObject({ tenant: 'acme', OrdersPlaced: 1 })
    expect(own).not.toHaveProperty('faultType')
    expect(own).not.toHaveProperty('ChaosFaultInjected')
  })
})

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['1.5s', 1500],
    ['15m', 900_000],
    ['1h30m', 5_400_000],
    ['12h0.5s', 43_200_500],
    ['1d 2h', 93_600_000],
    ['PT1M30S', 90_000],
    [250, 250],
  ])('reads %j as %i ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms)
  })

  it.each(['30m1h', '1m1m', '1h-30m', 'h', '', 'PT', '1 hour', -5, Number.NaN])(
    'reads %j as no duration',
    (text) => {
      expect(parseDuration(text)).toBeUndefined()
    },
  )
})
