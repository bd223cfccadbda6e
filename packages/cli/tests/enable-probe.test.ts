/**
 * `enable` with a flag chaos_lambda cannot spell, bare `enable` on a
 * failure-lambda value turned off, and a probe that ends on time against a
 * server that never answers.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { writeFileValue } from '@middy-chaos/core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { assertCliBuilt, runMain, startCli } from './helpers.js'

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'middy-chaos-enable-probe-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

let count = 0
const freshParam = () => join(dir, `config-${++count}.json`)
const stored = async (param: string) => JSON.parse(await readFile(param, 'utf8'))

describe('enable with a flag chaos_lambda has no key for', () => {
  it("writes middy-chaos's format on an empty store, keeping --prevent-execution", async () => {
    // Prepare
    const param = freshParam()

    // Act
    const result = await runMain(['enable', 'status_code', '--prevent-execution', '--param', param])

    // Assess
    expect(result.code).toBe(0)
    expect(result.stderr).toBe(
      "note: chaos_lambda's format has no key for --prevent-execution: written in middy-chaos's format\n",
    )
    expect(result.stdout).toContain('status code 404 (handler skipped)')
    const { expiresAt, ...value } = await stored(param)
    expect(value).toEqual({
      version: 1,
      faults: [{ type: 'status_code', statusCode: 404, preventExecution: true }],
    })
    expect(Date.parse(expiresAt)).toBeGreaterThan(Date.now())
  })

  it("on a chaos_lambda store, keeps the fault's settings and rate in middy-chaos's format", async () => {
    // Prepare
    const param = freshParam()
    await runMain([
      'enable',
      'status_code',
      '--error-code',
      '503',
      '--rate',
      '0.5',
      '--param',
      param,
    ])
    expect(await stored(param)).toMatchObject({ is_enabled: true, error_code: 503, rate: 0.5 })

    // Act
    const result = await runMain(['enable', 'status_code', '--prevent-execution', '--param', param])

    // Assess
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('status code 503 (handler skipped) (rate 0.5)')
    expect((await stored(param)).faults).toEqual([
      { type: 'status_code', statusCode: 503, preventExecution: true, rate: 0.5 },
    ])
  })
})

describe('bare enable after disable of a failure-lambda value', () => {
  it('turns 0.x back on with isEnabled: true, stamped with --for', async () => {
    // Prepare
    const param = freshParam()
    await writeFileValue(
      param,
      '{"isEnabled":true,"failureMode":"latency","rate":1,"minLatency":100,"maxLatency":400}',
    )
    expect((await runMain(['disable', '--param', param])).code).toBe(0)

    // Act
    const before = Date.now()
    const result = await runMain(['enable', '--for', '5m', '--param', param])
    const after = Date.now()

    // Assess
    expect(result.code).toBe(0)
    const { expiresAt, ...value } = await stored(param)
    expect(value).toEqual({
      isEnabled: true,
      failureMode: 'latency',
      rate: 1,
      minLatency: 100,
      maxLatency: 400,
    })
    // Five minutes after the moment of the write, which lies within the command
    expect(Date.parse(expiresAt)).toBeGreaterThanOrEqual(before + 300_000)
    expect(Date.parse(expiresAt)).toBeLessThanOrEqual(after + 300_000)
  })

  it('turns every 1.x flag back on, says which, stamped with --for', async () => {
    // Prepare
    const param = freshParam()
    await writeFileValue(
      param,
      JSON.stringify({
        latency: { enabled: true, min_latency: 100, max_latency: 400 },
        exception: { enabled: false, exception_msg: 'boom' },
      }),
    )
    expect((await runMain(['disable', '--param', param])).code).toBe(0)

    // Act
    const before = Date.now()
    const result = await runMain(['enable', '--param', param])
    const after = Date.now()

    // Assess
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(
      /^Turned on every failure-lambda flag the value holds: latency, exception \(which were on before disable is not recorded\)\n/,
    )
    const { expiresAt, ...value } = await stored(param)
    expect(value).toEqual({
      latency: { enabled: true, min_latency: 100, max_latency: 400 },
      exception: { enabled: true, exception_msg: 'boom' },
    })
    // The default hour, after the moment of the write
    expect(Date.parse(expiresAt)).toBeGreaterThanOrEqual(before + 3_600_000)
    expect(Date.parse(expiresAt)).toBeLessThanOrEqual(after + 3_600_000)
    expect(result.stdout).toContain('is now version 3: latency 100-399ms + exception\n')
  })
})

describe('probe against a server that never answers', () => {
  let server: Server | undefined
  beforeAll(() => assertCliBuilt())
  afterEach(async () => {
    server?.closeAllConnections()
    await new Promise((resolve) => server?.close(resolve))
    server = undefined
  })

  /** A server that answers its first `answered` requests at once and never the others. */
  const hangingServer = async (answered = 0) => {
    const arrivals: number[] = []
    server = createServer((_req, res) => {
      arrivals.push(Date.now())
      if (arrivals.length <= answered) res.end('Hello from Lambda!')
    })
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as { port: number }
    return { url: `http://127.0.0.1:${port}/`, arrivals }
  }

  it('ends at --duration, the request in flight recorded as stopped', async () => {
    // Prepare
    const { url, arrivals } = await hangingServer()

    // Act
    const cli = startCli(['probe', url, '--duration', '1s', '--interval', '10ms'])
    const { code } = await cli.exited
    const exitedAt = Date.now()

    // Assess: the request in flight (it starts with the duration) cut when the second ended: its
    // time, as printed, nearer that second than the 3 s a stop with the probe's 2-s grace would
    // give it; then the exit, within the second and ten times the 500 ms a busy machine may add
    expect(code).toBe(0)
    expect(arrivals).toHaveLength(1)
    const stopped = Number(/^\(stopped\) - 000 - (\d+\.\d{6})\n/.exec(cli.stdout())?.[1])
    expect(stopped).toBeGreaterThanOrEqual(1)
    expect(stopped).toBeLessThan(2)
    expect(exitedAt - (arrivals[0] ?? 0)).toBeLessThan(1000 + 10 * 500)
    expect(cli.stdout()).toContain('Probe summary: 1 requests')
    expect(cli.stdout()).toMatch(/\(all\) +1 +000×1/)
  }, 20_000)

  it('ends at once on SIGINT, the request in flight recorded as stopped', async () => {
    // Prepare
    const { url, arrivals } = await hangingServer()
    const cli = startCli(['probe', url, '--interval', '10ms'])
    while (arrivals.length === 0) await new Promise((resolve) => setTimeout(resolve, 10))

    // Act
    const sentAt = Date.now()
    cli.child.kill('SIGINT')
    await cli.exited
    const exitedAt = Date.now()

    // Assess: the request in flight cut at the signal: its time, as printed, past the signal by
    // less than half the 2 s a stop with the probe's grace would add; then the exit, within ten
    // times the 500 ms a busy machine may take for it
    const stopped = Number(/^\(stopped\) - 000 - (\d+\.\d{6})\n/.exec(cli.stdout())?.[1])
    expect(stopped * 1000 - (sentAt - (arrivals[0] ?? 0))).toBeLessThan(2_000 / 2)
    expect(exitedAt - sentAt).toBeLessThan(10 * 500)
    expect(cli.stdout()).toContain('Probe summary: 1 requests')
    expect(cli.stdout()).toMatch(/\(all\) +1 +000×1/)
  }, 20_000)

  it('counts the stopped request in the summary but not in --expect', async () => {
    // Prepare: one answer, then a request that never gets one
    const { url } = await hangingServer(1)

    // Act
    const cli = startCli([
      'probe',
      url,
      '--duration',
      '1s',
      '--interval',
      '10ms',
      '--expect',
      'errors==0',
    ])
    const { code } = await cli.exited

    // Assess
    expect(code).toBe(0)
    expect(cli.stdout()).toContain('✔ expectations over all 1 requests')
    expect(cli.stdout()).toMatch(/\(all\) +2 +000×1 200×1/)
  }, 20_000)
})
