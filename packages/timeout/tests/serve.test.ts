/**
 * A served function with the timeout fault, through the built CLI: `middy-chaos enable timeout`
 * writes the config, `middy-chaos serve --timeout 2s` answers as Lambda behind API Gateway does
 * when the function runs out of time.
 */
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { assertCliBuilt, type CliProcess, runCli, startCli } from '../../cli/tests/helpers.js'

const fixture = fileURLToPath(new URL('./fixtures/timeout-handler.mjs', import.meta.url))
const built = fileURLToPath(new URL('../lib/index.js', import.meta.url))
const source = fileURLToPath(new URL('../src/index.ts', import.meta.url))

const timed = async (url: string) => {
  const started = performance.now()
  const response = await fetch(url)
  const requestId = response.headers.get('x-amzn-requestid')
  if (requestId === null) throw new Error('the answer has no x-amzn-requestid')
  return {
    status: response.status,
    body: await response.text(),
    ms: performance.now() - started,
    requestId,
  }
}

/** The fault lines the served function logged, oldest first. */
const injected = (stdout: string) =>
  stdout
    .split('\n')
    .filter((line) => line.includes('"message":"Chaos fault injected"'))
    .map((line) => JSON.parse(line.slice(line.indexOf('{'))) as { chaos: Record<string, unknown> })

describe('middy-chaos serve --timeout 2s with a timeout fault', () => {
  const dir = mkdtempSync(join(tmpdir(), 'middy-chaos-timeout-'))
  const store = ['--store', 'file', '--param', join(dir, 'chaos.json')]
  let server: CliProcess
  let url = ''

  beforeAll(async () => {
    assertCliBuilt()
    if (!existsSync(built) || statSync(built).mtimeMs + 1000 < statSync(source).mtimeMs)
      throw new Error('packages/timeout/lib is missing or older than src: run "pnpm build" first')
    // The fault is on before the function starts (a missing store is asked again only after 1 s).
    expect((await runCli(['enable', 'timeout', ...store])).code).toBe(0)
    server = startCli([
      'serve',
      fixture,
      '--port',
      '0',
      '--timeout',
      '2s',
      '--max-age',
      '0',
      ...store,
    ])
    ;[, url = ''] = await server.waitFor(/Listening on (http:\/\/\S+)/)
  })

  afterAll(async () => {
    server?.child.kill('SIGTERM')
    await server?.exited
    rmSync(dir, { recursive: true, force: true })
  })

  it("answers with Lambda's timeout: Task timed out after 2.00 seconds, and a 502 through the local API", async () => {
    // Act: the fault `enable timeout` wrote (beforeAll)
    const answer = await timed(url)

    // Assess: the runner's own 2 s timeout ended this request (not the function's error), and
    // the fault held it until the deadline, no later: a hold of all the time it saw left
    expect(answer.status).toBe(502)
    expect(answer.body).toBe('{"message": "Internal server error"}')
    expect(answer.ms).toBeGreaterThanOrEqual(1_990)
    await server.waitFor(new RegExp(`${answer.requestId} Task timed out after 2\\.00 seconds`))
    expect(server.stdout()).toMatch(/"message":"Chaos fault injected".*"faultType":"timeout"/)
    expect(server.stdout()).not.toMatch(/Invoke Error/)
    const [fault] = injected(server.stdout())
    expect(fault?.chaos).toMatchObject({ mode: 'hold', buffer: 0, outcome: 'lambda timeout' })
    expect(fault?.chaos.remainingTimeMs).toBeLessThanOrEqual(2_000)
    expect(fault?.chaos.holdMs).toBe(fault?.chaos.remainingTimeMs)
  })

  it("throw mode: the function's error just before the deadline, not a timeout", async () => {
    // Act
    expect((await runCli(['enable', 'timeout', '--mode', 'throw', ...store])).code).toBe(0)
    const answer = await timed(url)

    // Assess: the function's TimeoutError answered this request, and the runner's timeout did
    // not: the error came first, thrown where the fault planned it, 100 ms before the deadline
    expect(answer.status).toBe(502)
    expect(answer.ms).toBeGreaterThanOrEqual(1_890)
    await server.waitFor(
      new RegExp(`${answer.requestId}\\tERROR\\tInvoke Error \\t\\{"errorType":"TimeoutError"`),
    )
    await server.waitFor(new RegExp(`END RequestId: ${answer.requestId}`))
    expect(server.stdout()).not.toMatch(new RegExp(`${answer.requestId} Task timed out`))
    const fault = injected(server.stdout()).at(-1)
    expect(fault?.chaos).toMatchObject({ mode: 'throw', buffer: 100, outcome: 'throw' })
    expect(fault?.chaos.remainingTimeMs).toBeLessThanOrEqual(2_000)
    expect(fault?.chaos.holdMs).toBe(Number(fault?.chaos.remainingTimeMs) - 100)
  })

  it('answers at once again when the fault is off', async () => {
    const faults = injected(server.stdout()).length
    expect((await runCli(['disable', ...store])).code).toBe(0)
    const answer = await timed(url)
    expect(answer).toMatchObject({ status: 200, body: 'Hello from Lambda!' })
    await server.waitFor(new RegExp(`END RequestId: ${answer.requestId}`))
    expect(injected(server.stdout())).toHaveLength(faults)
    // A request takes milliseconds: a hold left behind would take the 2 s timeout
    expect(answer.ms).toBeLessThan(1_000)
  })
})
