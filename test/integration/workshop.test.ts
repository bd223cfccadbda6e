/**
 * The AWS FIS workshop's serverless experiment against a real SSM Parameter Store
 * protocol peer (moto_server): the workshop's four parameter values, in order,
 * read through Powertools SSMProvider by the three chaos middlewares.
 */
import { randomUUID } from 'node:crypto'
import { SSMProvider } from '@aws-lambda-powertools/parameters/ssm'
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm'
import middy from '@middy/core'
import { ChaosInjectedError, resetConfigSources } from '@middy-chaos/core'
import { chaosException } from '@middy-chaos/exception'
import { chaosLatency } from '@middy-chaos/latency'
import { chaosStatusCode } from '@middy-chaos/status-code'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { captureLogs, helloWorld, makeContext, restApiEvent } from '../helpers/index.js'

const clientConfig = () => ({
  endpoint: inject('motoEndpoint'),
  region: 'us-east-1',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
})

/** The workshop's FaultParameterValue, step by step. */
const workshopValue = (fault_type: string, is_enabled = true) =>
  JSON.stringify({
    is_enabled,
    fault_type,
    delay: 400,
    error_code: 404,
    exception_msg: 'Fault injected by chaos-lambda',
    rate: 1,
  })

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const timed = async (fn: () => Promise<unknown>) => {
  const started = performance.now()
  try {
    return { result: await fn(), elapsed: performance.now() - started }
  } catch (error) {
    return { error, elapsed: performance.now() - started }
  }
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0

describe('the FIS workshop experiment against SSM (moto_server)', () => {
  const ssm = new SSMClient(clientConfig())
  const parameterName = `/fis-workshop/chaos-${randomUUID()}`
  const maxAge = 1
  let logs: ReturnType<typeof captureLogs>
  let handler: (event: unknown, context: unknown) => Promise<unknown>

  const write = async (value: string) => {
    await ssm.send(
      new PutParameterCommand({
        Name: parameterName,
        Value: value,
        Type: 'String',
        Overwrite: true,
      }),
    )
    await sleep(maxAge * 1000 + 100) // let the cache window pass
    // The first invocation after the window: with the previous value's faults off, it runs with
    // that value and refreshes in the background; with them on, it waits for the new value (a
    // document older than the window never fires a fault). The next ones see the new value.
    await invoke()
    await sleep(100)
  }
  const invoke = () => timed(() => handler(restApiEvent(), makeContext()))

  beforeAll(async () => {
    logs = captureLogs()
    resetConfigSources()
    const provider = new SSMProvider({ clientConfig: clientConfig() })
    // A generous fetch bound: this test is about the workshop's steps, not a slow store.
    const options = { provider, parameterName, maxAge, fetchTimeout: 5000 }
    // The parameter exists before the function starts (its middlewares fetch when created).
    await ssm.send(
      new PutParameterCommand({
        Name: parameterName,
        Value: workshopValue('latency', false),
        Type: 'String',
      }),
    )
    handler = middy(helloWorld)
      .use(chaosLatency(options))
      .use(chaosStatusCode(options))
      .use(chaosException(options)) as never
    await write(workshopValue('latency', false))
  })
  afterAll(() => logs.restore())

  it('latency 400 → status code 404 → exception → off, as the workshop shows', async () => {
    // Baseline, faults off
    await invoke()
    const base = median(
      await Promise.all([invoke(), invoke(), invoke()]).then((r) => r.map((x) => x.elapsed)),
    )

    // S01_EnableLatency
    await write(workshopValue('latency'))
    for (let i = 0; i < 3; i++) {
      const { result, elapsed } = await invoke()
      expect(result).toEqual({ statusCode: 200, body: 'Hello from Lambda!' })
      // At least the delay (a loaded machine only adds); what was injected is in the log lines
      expect(elapsed - base).toBeGreaterThanOrEqual(400 - 30)
    }

    // S03_EnableStatusCode
    await write(workshopValue('status_code'))
    for (let i = 0; i < 3; i++) {
      const { result } = await invoke()
      expect(result).toEqual({ statusCode: 404, body: 'Hello from Lambda!' })
    }

    // S05_EnableException
    await write(workshopValue('exception'))
    for (let i = 0; i < 3; i++) {
      const { error } = await invoke()
      expect(error).toBeInstanceOf(ChaosInjectedError)
      expect(error).toMatchObject({ message: 'Fault injected by chaos-lambda' })
    }

    // S07_DisableFaults
    await write(workshopValue('exception', false))
    for (let i = 0; i < 3; i++) {
      const { result } = await invoke()
      expect(result).toEqual({ statusCode: 200, body: 'Hello from Lambda!' })
    }

    // One log line per injected fault, and no other (no delay, status or error from an earlier
    // step): 3 latencies; then 4 status codes and 4 exceptions, the first of each from the call
    // that waited for the step's value (the previous step's was older than the window).
    const faults = logs.injected().map((line) => (line.chaos as { faultType: string }).faultType)
    expect(faults).toEqual([
      ...Array(3).fill('latency'),
      ...Array(4).fill('status_code'),
      ...Array(4).fill('exception'),
    ])
    expect(
      logs
        .injected()
        .slice(0, 3)
        .map((line) => (line.chaos as { delay: number }).delay),
    ).toEqual([400, 400, 400])
    expect(logs.byLevel('warn').map((l) => [l.message, l.error, l.issues])).toEqual([])
  })
})

describe('fail-safety against SSM (moto_server)', () => {
  let logs: ReturnType<typeof captureLogs>
  beforeAll(() => {
    logs = captureLogs()
  })
  afterAll(() => logs.restore())

  /** Invokes every 20 ms for `ms`, asserting each answer is untouched; returns the count. */
  const invokeFor = async (handler: ReturnType<typeof chain>, ms: number) => {
    const started = Date.now()
    let calls = 0
    while (Date.now() - started < ms) {
      expect(await handler(restApiEvent(), makeContext())).toEqual({
        statusCode: 200,
        body: 'Hello from Lambda!',
      })
      calls++
      await sleep(20)
    }
    return calls
  }

  const chain = (options: object) =>
    middy(helloWorld)
      .use(chaosLatency(options))
      .use(chaosStatusCode(options))
      .use(chaosException(options))

  it('an unreachable store: every call answers 200, warnings bounded by the cache windows', async () => {
    resetConfigSources()
    const provider = new SSMProvider({
      clientConfig: { ...clientConfig(), endpoint: 'http://127.0.0.1:9', maxAttempts: 1 },
    })
    const handler = chain({ provider, parameterName: '/unreachable', maxAge: 1 })
    const before = logs.byLevel('warn').length
    const calls = await invokeFor(handler, 2_500)
    const warnings = logs.byLevel('warn').length - before
    expect(calls).toBeGreaterThan(20)
    expect(warnings).toBeGreaterThanOrEqual(1)
    expect(warnings).toBeLessThanOrEqual(3) // one per 1 s window over 2.5 s
    expect(logs.injected()).toEqual([])
  })

  it('a store returning garbage: every call answers 200, warnings bounded by the cache windows', async () => {
    resetConfigSources()
    const ssm = new SSMClient(clientConfig())
    const parameterName = `/garbage-${randomUUID()}`
    await ssm.send(
      new PutParameterCommand({ Name: parameterName, Value: '{"is_enabled": tru', Type: 'String' }),
    )
    const handler = chain({
      provider: new SSMProvider({ clientConfig: clientConfig() }),
      parameterName,
      maxAge: 1,
    })
    const before = logs.byLevel('warn').length
    const calls = await invokeFor(handler, 2_500)
    const warnings = logs.byLevel('warn').slice(before)
    expect(calls).toBeGreaterThan(20)
    expect(warnings.length).toBeGreaterThanOrEqual(1)
    expect(warnings.length).toBeLessThanOrEqual(3)
    expect(warnings[0]?.issues).toEqual([expect.stringMatching(/^\(document\): is not valid JSON/)])
  })

  it('a missing parameter: 200 and one warning naming the parameter', async () => {
    resetConfigSources()
    const handler = chain({
      provider: new SSMProvider({ clientConfig: clientConfig() }),
      parameterName: `/missing-${randomUUID()}`,
      maxAge: 60,
    })
    const before = logs.byLevel('warn').length
    for (let i = 0; i < 10; i++) {
      expect(await handler(restApiEvent(), makeContext())).toEqual({
        statusCode: 200,
        body: 'Hello from Lambda!',
      })
    }
    const warnings = logs.byLevel('warn').slice(before)
    expect(warnings).toHaveLength(1)
    expect(warnings[0]?.error).toMatch(/Parameter \/missing-.* not found/)
  })
})
