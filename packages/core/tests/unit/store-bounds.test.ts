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
import { createFaultMiddleware, type FaultDefinition, resetConfigSources } from '../../src/index.js'

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
    const handler = middy(helloWorld).use(
      createFaultMiddleware(noop, {
        provider,
        parameterName: '/slow',
        maxAge: 1,
        fetchTimeout: 5000,
        requestTimeout: 5000,
      }),
    )

    // Act: the cold start, then 8 s of traffic
    const cold = performance.now()
    await handler({}, makeContext())
    const coldMs = performance.now() - cold
    const waits: number[] = []
    const end = Date.now() + 8000
    while (Date.now() < end) {
      const started = performance.now()
      await handler({}, makeContext())
      waits.push(performance.now() - started)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }

    // Assess
    expect(coldMs).toBeGreaterThan(2500)
    expect(Math.max(...waits)).toBeLessThan(20)
    expect(reads).toBeGreaterThanOrEqual(3) // refreshed in the background, one at a time
    expect(reads).toBeLessThanOrEqual(5)
  }, 20_000)

  it('with the default bounds: the cold start waits 1 s, and the 3 s answer is in force for the next invocations', async () => {
    // Prepare: a store that answers in 3 s with a live fault; default fetchTimeout and requestTimeout
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
    const handler = middy(helloWorld).use(
      createFaultMiddleware(fault, { provider, parameterName: '/slow-default', maxAge: 1 }),
    )

    // Act: the cold start, then 6 s of traffic
    const cold = performance.now()
    await handler({}, makeContext())
    const coldMs = performance.now() - cold
    const firedAtCold = fired()
    const waits: number[] = []
    const end = Date.now() + 6000
    while (Date.now() < end) {
      const started = performance.now()
      await handler({}, makeContext())
      waits.push(performance.now() - started)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }

    // Assess: no faults on the cold start (it stopped waiting), the document in force after
    expect(coldMs).toBeGreaterThan(900)
    expect(coldMs).toBeLessThan(1500)
    expect(firedAtCold).toBe(0)
    expect(fired()).toBeGreaterThan(waits.length / 2)
    expect(Math.max(...waits)).toBeLessThan(20)
    expect(reads).toBeLessThanOrEqual(4)
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
    const handler = middy(helloWorld)
      .use(createFaultMiddleware(noop, options))
      .use(createFaultMiddleware(counting().fault, options))

    // Act: the cold start, then 2 s of traffic
    await handler({}, makeContext())
    const waits: number[] = []
    const end = Date.now() + 2000
    while (Date.now() < end) {
      const started = performance.now()
      await handler({}, makeContext())
      waits.push(performance.now() - started)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }

    // Assess
    expect(Math.max(...waits)).toBeLessThan(20)
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
      expect(code).toBe(0)
      expect(exitedAfter).toBeLessThan(1000)
    },
    20_000,
  )
})
