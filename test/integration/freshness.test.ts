/**
 * A fault never outlives its off switch inside the function: no invocation
 * fires a fault from a document read more than `maxAge` before it arrived,
 * whatever the traffic. Each case runs against moto's SSM (through Powertools
 * SSMProvider) and against an in-memory provider.
 *
 * Time is the faked `Date` (the source's clock), moved by the test; requests
 * to the stores and the source's bounded waits run in real time. Whether an
 * invocation waited for the store is read from what the source did (it handed
 * the chain a promise), never from a stopwatch.
 */
import { randomUUID } from 'node:crypto'
import { connect, createServer, type Server, type Socket } from 'node:net'
import { SSMProvider } from '@aws-lambda-powertools/parameters/ssm'
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm'
import middy from '@middy/core'
import {
  type ChaosMiddlewareOptions,
  type ConfigProvider,
  type ConfigSource,
  getConfigSource,
  resetConfigSources,
} from '@middy-chaos/core'
import { chaosStatusCode } from '@middy-chaos/status-code'
import { afterEach, beforeEach, describe, expect, inject, it, vi } from 'vitest'
import { helloWorld, makeContext, restApiEvent, useCapturedLogs } from '../helpers/index.js'

const ON = JSON.stringify({ version: 1, faults: [{ type: 'status_code', statusCode: 503 }] })
const OFF = JSON.stringify({ version: 1, enabled: false, faults: [] })
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' }

/** A store the test writes to, and the provider a function reads it with. */
interface Store {
  write(value: string): Promise<void>
  provider: ConfigProvider
  parameterName: string
}

const stores: Record<string, () => Promise<Store>> = {
  "moto's SSM": async () => {
    const clientConfig = { endpoint: inject('motoEndpoint'), region: 'us-east-1', credentials }
    const client = new SSMClient(clientConfig)
    const name = `/freshness/${randomUUID()}`
    const write = async (value: string) => {
      await client.send(
        new PutParameterCommand({ Name: name, Value: value, Type: 'String', Overwrite: true }),
      )
    }
    return { write, provider: new SSMProvider({ clientConfig }), parameterName: name }
  },
  'an in-memory provider': async () => {
    let value = OFF
    return {
      write: async (next) => {
        value = next
      },
      provider: {
        get: async () => {
          await new Promise((resolve) => setTimeout(resolve, 2))
          return value
        },
      },
      parameterName: 'chaos',
    }
  },
}

/** The function, and what its source did: how many invocations waited for the store. */
const deploy = (options: ChaosMiddlewareOptions) => {
  const source: ConfigSource = getConfigSource(options)
  const seen = new WeakSet<object>()
  let waited = 0
  const snapshotFor = source.snapshotFor.bind(source)
  source.snapshotFor = (request) => {
    const snapshot = snapshotFor(request)
    if (!seen.has(request)) {
      seen.add(request)
      if (snapshot instanceof Promise) waited++
    }
    return snapshot
  }
  const handler = middy(helloWorld).use(chaosStatusCode(options))
  return {
    source,
    invoke: async () => (await handler(restApiEvent(), makeContext())).statusCode,
    waited: () => waited,
  }
}

describe.each(Object.keys(stores))('freshness on %s', (storeName) => {
  useCapturedLogs()
  let store: Store
  beforeEach(async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    store = await (stores[storeName] as () => Promise<Store>)()
  })
  afterEach(() => {
    vi.useRealTimers()
    resetConfigSources()
  })

  it.each([
    ['the default window (5 s), idle 30 s', undefined, 30_000],
    ['a 1 s window, idle 1.5 s', 1, 1_500],
    ['a 2 s window, idle 9 s', 2, 9_000],
  ])(
    'a fault turned off while the environment is idle fires on no later invocation: %s',
    async (_, maxAge, idleMs) => {
      // Prepare: faults on, fetched at init and in force
      await store.write(ON)
      const fn = deploy({ provider: store.provider, parameterName: store.parameterName, maxAge })
      expect(await fn.invoke()).toBe(503)

      // Act: turned off 100 ms later; the environment idles, then two invocations back to back
      vi.advanceTimersByTime(100)
      await store.write(OFF)
      vi.advanceTimersByTime(idleMs)
      const next = await fn.invoke()
      const backToBack = await fn.invoke()

      // Assess: both clean; the first waited for the refresh (the stale document had faults)
      expect([next, backToBack]).toEqual([200, 200])
      expect(fn.waited()).toBe(2) // the cold start, and the first invocation after the idle time
    },
  )

  it('with steady traffic and faults on, no invocation waits after the cold start, and the store is asked about once per window', async () => {
    // Prepare
    await store.write(ON)
    const fn = deploy({ provider: store.provider, parameterName: store.parameterName, maxAge: 1 })

    // Act: an invocation every 50 ms for 6 s; each background refresh lands before the next one
    const statuses: number[] = []
    for (let i = 0; i < 120; i++) {
      statuses.push(await fn.invoke())
      await fn.source.whenSettled()
      vi.advanceTimersByTime(50)
    }

    // Assess: the fault fired every time, from a fresh document; one fetch per 0.8 s or so
    expect(new Set(statuses)).toEqual(new Set([503]))
    expect(fn.waited()).toBe(1)
    expect(fn.source.fetchCount).toBeGreaterThanOrEqual(6)
    expect(fn.source.fetchCount).toBeLessThanOrEqual(9)
  })

  it('with faults off, no invocation waits after the cold start, idle or not', async () => {
    // Prepare
    await store.write(OFF)
    const fn = deploy({ provider: store.provider, parameterName: store.parameterName, maxAge: 1 })

    // Act: traffic, long idle times, traffic
    const statuses: number[] = []
    for (const gap of [50, 50, 5_000, 50, 60_000, 10, 10, 3_000]) {
      statuses.push(await fn.invoke())
      vi.advanceTimersByTime(gap)
    }
    await fn.source.whenSettled()

    // Assess
    expect(new Set(statuses)).toEqual(new Set([200]))
    expect(fn.waited()).toBe(1)
  })

  it('a fault turned on is seen by the first invocation after the window, idle or not', async () => {
    // Prepare
    await store.write(OFF)
    const fn = deploy({ provider: store.provider, parameterName: store.parameterName, maxAge: 1 })
    expect(await fn.invoke()).toBe(200)

    // Act: turned on; the window passes; the next invocation is served a stale "off" at once
    // and starts the refresh, which the one after it finds
    await store.write(ON)
    vi.advanceTimersByTime(1_001)
    const first = await fn.invoke()
    await fn.source.whenSettled()
    const second = await fn.invoke()

    // Assess
    expect([first, second]).toEqual([200, 503])
    expect(fn.waited()).toBe(1)
  })

  it('maxAge: 0 serves the very first invocation with a fetch that started after it arrived', async () => {
    // Prepare: the handler is created and its fetch reads the store; the config then changes
    // while that fetch is still in flight (its answer held until the invocation has arrived)
    await store.write(OFF)
    let read: () => void = () => undefined
    const firstRead = new Promise<void>((resolve) => {
      read = resolve
    })
    let release: () => void = () => undefined
    const held = new Promise<void>((resolve) => {
      release = resolve
    })
    let calls = 0
    const provider: ConfigProvider = {
      get: async (name, options) => {
        const value = await store.provider.get(name, options)
        if (++calls === 1) {
          read()
          await held
        }
        return value
      },
    }
    const fn = deploy({ provider, parameterName: store.parameterName, maxAge: 0 })
    await firstRead
    await store.write(ON)

    // Act: invoked while the first fetch is in flight; then after another change
    const first = fn.invoke()
    release()
    const statuses = [await first]
    await store.write(OFF)
    statuses.push(await fn.invoke())

    // Assess
    expect(statuses).toEqual([503, 200])
  })
})

describe('a store that hangs while the only document is stale', () => {
  const logs = useCapturedLogs()
  let server: Server | undefined
  let sockets: Socket[] = []
  afterEach(() => {
    vi.useRealTimers()
    resetConfigSources()
    for (const socket of sockets) socket.destroy()
    sockets = []
    server?.close()
    server = undefined
  })

  /** moto's SSM behind a proxy that, once `hang()` is called, holds every connection unanswered. */
  const hangingSsm = async () => {
    const moto = new URL(inject('motoEndpoint'))
    const name = `/freshness/${randomUUID()}`
    const clientConfig = { endpoint: inject('motoEndpoint'), region: 'us-east-1', credentials }
    await new SSMClient(clientConfig).send(
      new PutParameterCommand({ Name: name, Value: ON, Type: 'String', Overwrite: true }),
    )
    let hanging = false
    const proxy = createServer((socket) => {
      sockets.push(socket)
      if (hanging) return
      const upstream = connect(Number(moto.port), moto.hostname)
      sockets.push(upstream)
      socket.pipe(upstream).pipe(socket)
      socket.on('error', () => upstream.destroy())
      upstream.on('error', () => socket.destroy())
    })
    server = proxy
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
    const { port } = proxy.address() as { port: number }
    const provider = new SSMProvider({
      clientConfig: { endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', credentials },
    })
    return {
      provider,
      parameterName: name,
      hang: () => {
        hanging = true
        // Kept-alive connections go too: the next request opens a new one, which is held.
        for (const socket of sockets.splice(0)) socket.destroy()
      },
    }
  }

  const hangingMemory = async () => {
    let hanging = false
    return {
      provider: { get: async () => (hanging ? new Promise(() => undefined) : ON) },
      parameterName: 'chaos',
      hang: () => {
        hanging = true
      },
    }
  }

  it.each([
    ["moto's SSM behind a proxy that stops answering", hangingSsm],
    ['an in-memory provider that stops answering', hangingMemory],
  ])(
    'bounds the wait and runs clean: %s',
    async (_, make) => {
      // Prepare: faults on and in force; then the store stops answering
      vi.useFakeTimers({ toFake: ['Date'] })
      const store = await make()
      const fn = deploy({
        provider: store.provider,
        parameterName: store.parameterName,
        maxAge: 1,
        fetchTimeout: 200,
        requestTimeout: 400,
      })
      expect(await fn.invoke()).toBe(503)

      // Act: the document goes stale; three invocations in a row
      store.hang()
      vi.advanceTimersByTime(1_500)
      const statuses = [await fn.invoke(), await fn.invoke(), await fn.invoke()]

      // Assess: all clean, after a wait bounded by fetchTimeout; none fired from the stale document
      expect(statuses).toEqual([200, 200, 200])
      expect(logs.injected()).toHaveLength(1) // the cold start's, before the store hung
      expect(logs.byLevel('warn').map((line) => line.message)).toContain(
        'Chaos config not ready in time: this invocation runs with no faults; the request goes on for the next ones',
      )
    },
    20_000,
  )
})
