/**
 * A store that is slow or hangs costs the function only its cold start: after
 * the first invocation nothing waits for it, and a request given up on is ended,
 * leaving nothing that keeps the process alive.
 */
import { spawn } from 'node:child_process'
import { createServer, type Socket } from 'node:net'
import { fileURLToPath } from 'node:url'
import middy from '@middy/core'
import { afterEach, describe, expect, it } from 'vitest'
import { helloWorld, makeContext, useCapturedLogs } from '../../../../test/helpers/index.js'
import {
  type ChaosMiddlewareOptions,
  createFaultMiddleware,
  type FaultDefinition,
  getConfigSource,
  resetConfigSources,
} from '../../src/index.js'

const noop: FaultDefinition<object> = {
  type: 'noop',
  phases: ['before'],
  defaultPhase: 'before',
  parse: () => ({}),
  plan: () => undefined,
}

/** A fault that counts the invocations it fires on: a document in force is seen. */
const counting = (): { fault: FaultDefinition<object>; fired: () => number } => {
  let fired = 0
  return {
    fault: {
      type: 'counted',
      phases: ['before'],
      defaultPhase: 'before',
      parse: () => ({}),
      plan: () => {
        fired++
        return undefined
      },
    },
    fired: () => fired,
  }
}

/**
 * Counts the invocations that waited for the store: the source handed their
 * chain a promise instead of the snapshot in force. What the code did, not a
 * stopwatch, so a busy machine cannot fail it.
 */
const countWaits = (options: ChaosMiddlewareOptions): (() => number) => {
  const source = getConfigSource(options)
  const snapshotFor = source.snapshotFor.bind(source)
  const seen = new WeakSet<object>()
  let waits = 0
  source.snapshotFor = (request) => {
    const snapshot = snapshotFor(request)
    if (!seen.has(request)) {
      seen.add(request)
      if (snapshot instanceof Promise) waits++
    }
    return snapshot
  }
  return () => waits
}

describe('a slow store', () => {
  const logs = useCapturedLogs()
  afterEach(() => resetConfigSources())

  it('makes only the cold start wait: later invocations never wait more than a few ms', async () => {
    // Prepare: a store that answers in 3 s, a 1 s cache window
    let reads = 0
    const provider = {
      get: () => {
        reads++
        return new Promise((resolve) =>
          setTimeout(() => resolve('{"version":1,"faults":[]}'), 3000),
        )
      },
    }
    const options = {
      provider,
      parameterName: '/slow',
      maxAge: 1,
      fetchTimeout: 5000,
      requestTimeout: 5000,
    }
    const waits = countWaits(options)
    const handler = middy(helloWorld).use(createFaultMiddleware(noop, options))

    // Act: the cold start, then 8 s of traffic
    const cold = performance.now()
    await handler({}, makeContext())
    const coldMs = performance.now() - cold
    const end = Date.now() + 8000
    let invocations = 0
    while (Date.now() < end) {
      await handler({}, makeContext())
      invocations++
      await new Promise((resolve) => setTimeout(resolve, 50))
    }

    // Assess: only the cold start waited (its document turns no fault on, so the stale one
    // serves while each refresh runs)
    expect(coldMs).toBeGreaterThan(2500)
    expect(invocations).toBeGreaterThan(10)
    expect(waits()).toBe(1)
    expect(reads).toBeGreaterThanOrEqual(3) // refreshed in the background, one at a time
    expect(reads).toBeLessThanOrEqual(5)
  }, 20_000)

  it('with the default bounds: the cold start waits 1 s, and the 3 s answer is in force for the next invocations until its window ends', async () => {
    // Prepare: a store that answers in 3 s with a live fault; default maxAge, fetchTimeout and
    // requestTimeout
    let reads = 0
    const provider = {
      get: () => {
        reads++
        return new Promise((resolve) =>
          setTimeout(() => resolve('{"version":1,"faults":[{"type":"counted"}]}'), 3000),
        )
      },
    }
    const { fault, fired } = counting()
    const options = { provider, parameterName: '/slow-default' }
    const waits = countWaits(options)
    const handler = middy(helloWorld).use(createFaultMiddleware(fault, options))

    // Act: the cold start, then traffic until 6.5 s (the answer lands 3 s after the fetch
    // started, and is fresh until 5 s after it; the next one, started at 4 s, lands at 7 s)
    const started = Date.now()
    const cold = performance.now()
    await handler({}, makeContext())
    const coldMs = performance.now() - cold
    const firedAtCold = fired()
    const firedAt: number[] = []
    while (Date.now() < started + 6500) {
      const before = fired()
      const at = Date.now() - started
      await handler({}, makeContext())
      if (fired() > before) firedAt.push(at)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }

    // Assess: no faults on the cold start (it stopped waiting); the document in force once it
    // lands, and never from an invocation that arrived 5 s or more
    // after its fetch started
    expect(coldMs).toBeGreaterThan(900)
    expect(firedAtCold).toBe(0)
    // The cold start; and at most one invocation arriving after the window, while the next
    // fetch is in its first second: it waits out that second, and none after it waits
    expect(waits()).toBeGreaterThanOrEqual(1)
    expect(waits()).toBeLessThanOrEqual(2)
    expect(firedAt.length).toBeGreaterThan(0)
    expect(Math.min(...firedAt)).toBeGreaterThanOrEqual(2900)
    expect(Math.max(...firedAt)).toBeLessThan(5000)
    expect(reads).toBeLessThanOrEqual(2)
    expect(logs.byLevel('warn').map((line) => line.message)).toEqual([
      'Chaos config not ready in time: this invocation runs with no faults; the request goes on for the next ones',
    ])
  }, 20_000)
})

describe('a store that is down, read by a chain of several faults', () => {
  const logs = useCapturedLogs()
  afterEach(() => resetConfigSources())

  it('makes only the cold start wait, and is asked again no sooner than a second later', async () => {
    // Prepare: two faults registered one after the other (the catalog grows after the first
    // prefetch), a store that never answers
    const asked: number[] = []
    const provider = {
      get: () => {
        asked.push(Date.now())
        return new Promise(() => undefined)
      },
    }
    const options = {
      provider,
      parameterName: '/down',
      maxAge: 5,
      fetchTimeout: 300,
      requestTimeout: 400,
    }
    const waits = countWaits(options)
    const handler = middy(helloWorld)
      .use(createFaultMiddleware(noop, options))
      .use(createFaultMiddleware(counting().fault, options))

    // Act: the cold start, then 2 s of traffic
    await handler({}, makeContext())
    const end = Date.now() + 2000
    while (Date.now() < end) {
      await handler({}, makeContext())
      await new Promise((resolve) => setTimeout(resolve, 50))
    }

    // Assess
    expect(waits()).toBe(1)
    for (let i = 1; i < asked.length; i++)
      expect((asked[i] ?? 0) - (asked[i - 1] ?? 0)).toBeGreaterThanOrEqual(990)
    expect(logs.byLevel('warn').length).toBeGreaterThanOrEqual(1)
  }, 20_000)

  it('reads an option that no timer can hold as its default, with a warning', async () => {
    // Prepare: a store answering in 20 ms; requestTimeout Infinity would fire at once
    const provider = {
      get: () =>
        new Promise((resolve) => setTimeout(() => resolve('{"version":1,"faults":[]}'), 20)),
    }
    const handler = middy(helloWorld).use(
      createFaultMiddleware(noop, { provider, parameterName: '/inf', requestTimeout: Infinity }),
    )

    // Act
    await handler({}, makeContext())

    // Assess: the config loaded; the one warning names the option
    expect(logs.byLevel('warn')).toMatchObject([
      {
        message: 'Chaos option requestTimeout ignored; the default is used',
        problem: expect.stringMatching(
          /requestTimeout must be a number of ms from 0 to 2147483647/,
        ),
        default: 5000,
      },
    ])
  })
})

describe('a store that hangs', () => {
  let sockets: Socket[] = []
  afterEach(() => {
    for (const socket of sockets) socket.destroy()
    sockets = []
  })

  it.each([
    ['the built-in SSM client', '0'],
    ['a Powertools SSMProvider of your own, its client without timeouts', '1'],
  ])(
    'leaves nothing behind through %s: the process exits by itself right after its work',
    async (_, ownProvider) => {
      // Prepare: an "SSM endpoint" that accepts connections and never answers
      const server = createServer((socket) => sockets.push(socket))
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      const { port } = server.address() as { port: number }

      // Act: a process whose chain asks it five times (fetchTimeout 300 ms, requestTimeout 600 ms, maxAge 0)
      const child = spawn(
        process.execPath,
        [fileURLToPath(new URL('../fixtures/hanging-store.mjs', import.meta.url))],
        {
          env: {
            ...process.env,
            AWS_ENDPOINT_URL_SSM: `http://127.0.0.1:${port}`,
            AWS_REGION: 'us-east-1',
            AWS_ACCESS_KEY_ID: 'x',
            AWS_SECRET_ACCESS_KEY: 'x',
            POWERTOOLS_DEV: 'true',
            OWN_PROVIDER: ownProvider,
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      )
      let out = ''
      let doneAt = 0
      child.stdout.on('data', (chunk) => {
        out += chunk
        if (/invocations done/.test(out) && doneAt === 0) doneAt = Date.now()
      })
      const code = await new Promise<number | null>((resolve) => {
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000)
        child.on('exit', (exitCode) => {
          clearTimeout(timer)
          resolve(exitCode)
        })
      })
      const exitedAfter = Date.now() - doneAt
      server.close()

      // Assess: the last request ends at its bound, 600 ms at most after the last invocation
      expect(out).toMatch(/invocations done in \d+ ms/)
      // Exited by itself (not killed at 15 s), well before any socket timeout of the SDK
      expect(code).toBe(0)
      expect(exitedAfter).toBeLessThan(6000)
    },
    20_000,
  )
})
