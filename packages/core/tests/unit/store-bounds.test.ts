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

describe('a slow store', () => {
  useCapturedLogs()
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
})

describe('a store that hangs', () => {
  let sockets: Socket[] = []
  afterEach(() => {
    for (const socket of sockets) socket.destroy()
    sockets = []
  })

  it('leaves nothing behind: the process exits by itself right after its work', async () => {
    // Prepare: an "SSM endpoint" that accepts connections and never answers
    const server = createServer((socket) => sockets.push(socket))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as { port: number }

    // Act: a process whose chain asks it five times (fetchTimeout 300 ms, maxAge 0)
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

    // Assess
    expect(out).toMatch(/invocations done in \d+ ms/)
    expect(code).toBe(0)
    expect(exitedAfter).toBeLessThan(1000)
  }, 20_000)
})
