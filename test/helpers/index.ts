import type { ChaosConfigInput } from '@middy-chaos/core'
import type { Context } from 'aws-lambda'
import { afterEach, beforeEach, vi } from 'vitest'

/**
 * A fixed Lambda context. `getRemainingTimeInMillis` counts down from
 * `timeoutMs` (default 30 s) from the moment the context is made.
 */
export const makeContext = (overrides: Partial<Context> & { timeoutMs?: number } = {}): Context => {
  const { timeoutMs = 30_000, ...rest } = overrides
  const deadline = Date.now() + timeoutMs
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: 'hello-world',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:hello-world',
    memoryLimitInMB: '128',
    awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e812345678',
    logGroupName: '/aws/lambda/hello-world',
    logStreamName: '2026/11/26/[$LATEST]abcdef',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
    ...rest,
  }
}

/** An API Gateway REST (v1 proxy) event for `GET /`. */
export const restApiEvent = (overrides: Record<string, unknown> = {}) => ({
  resource: '/',
  path: '/',
  httpMethod: 'GET',
  headers: { accept: '*/*' },
  multiValueHeaders: { accept: ['*/*'] },
  queryStringParameters: null,
  multiValueQueryStringParameters: null,
  pathParameters: null,
  stageVariables: null,
  requestContext: { requestId: 'req-1', stage: 'prod', httpMethod: 'GET', path: '/prod/' },
  body: null,
  isBase64Encoded: false,
  ...overrides,
})

/** An API Gateway HTTP API / function URL (payload 2.0) event. */
export const httpApiEvent = (overrides: Record<string, unknown> = {}) => ({
  version: '2.0',
  routeKey: '$default',
  rawPath: '/',
  rawQueryString: '',
  headers: { accept: '*/*' },
  requestContext: { http: { method: 'GET', path: '/' }, requestId: 'req-2' },
  isBase64Encoded: false,
  ...overrides,
})

/** An Application Load Balancer event. */
export const albEvent = (overrides: Record<string, unknown> = {}) => ({
  requestContext: {
    elb: { targetGroupArn: 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/tg/1' },
  },
  httpMethod: 'GET',
  path: '/',
  headers: { accept: '*/*' },
  body: '',
  isBase64Encoded: false,
  ...overrides,
})

/**
 * A config the types do not describe, on purpose: a field of the wrong type
 * or an unknown one, to test what the library does with it at run time, or
 * an entry of a fault that a test defines for itself. A typed config
 * (`ChaosConfig`) is what everything else writes.
 */
export const untypedConfig = (value: unknown): ChaosConfigInput => value as ChaosConfigInput

/** The workshop's function: `{statusCode: 200, body: 'Hello from Lambda!'}`. */
export const helloWorld = async () => ({ statusCode: 200, body: 'Hello from Lambda!' })

export type LogLine = Record<string, unknown> & { level: string; message: string }

/**
 * Captures Powertools Logger output. Tests run with POWERTOOLS_DEV=true, which
 * makes Logger write JSON to the global console.
 */
export const captureLogs = () => {
  const lines: LogLine[] = []
  const record = (...args: unknown[]) => {
    for (const arg of args) {
      if (typeof arg !== 'string') continue
      try {
        lines.push(JSON.parse(arg) as LogLine)
      } catch {
        // not a Logger line
      }
    }
  }
  const spies = (['debug', 'info', 'warn', 'error', 'log'] as const).map((method) =>
    vi.spyOn(console, method).mockImplementation(record),
  )
  return {
    lines,
    byLevel: (level: string) => lines.filter((line) => line.level === level.toUpperCase()),
    injected: () => lines.filter((line) => line.message === 'Chaos fault injected'),
    restore: () => {
      for (const spy of spies) spy.mockRestore()
    },
  }
}

/**
 * {@link captureLogs} around every test of the enclosing `describe`: capture
 * starts before each test and stops after it.
 */
export const useCapturedLogs = () => {
  let current = captureLogs()
  current.restore()
  beforeEach(() => {
    current = captureLogs()
  })
  afterEach(() => current.restore())
  return {
    get lines() {
      return current.lines
    },
    byLevel: (level: string) => current.byLevel(level),
    injected: () => current.injected(),
  }
}

/** What {@link onFakeClock} saw: how `act` settled, and when on the fake clock. */
export interface FakeClockRun<T> {
  result: T | undefined
  error: unknown
  /** ms of fake time from the start of `act` until it settled. */
  ms: number
}

/**
 * Runs `act` on a fake clock (`setTimeout`, `clearTimeout` and `Date` faked)
 * and says when it settled on that clock: how long the code under test asked
 * its timers to wait, exactly, however busy the machine is. Each timer fires
 * once everything before it has run; `now()` gives the fake ms since the start,
 * for recording when something happened. For code that waits on nothing but
 * those timers (a static config: no store, no I/O): it fails when `act` waits
 * on something else. Make the Lambda context inside `act`: its deadline reads
 * the fake `Date`.
 *
 * @example
 * ```ts
 * const { result, ms } = await onFakeClock(() => handler({}, makeContext()))
 * expect(ms).toBe(120) // the latency fault slept 120 ms, on any machine
 * ```
 */
/**
 * With no timer pending, the code under test may still be loading a module it
 * imports on demand (core loads its runner with the first fault): real time
 * passes, in turns of the event loop (`setImmediate`, not faked), until a
 * timer is set or `act` settles, for at most 5 s. `false` when neither came.
 */
const nextTimerOrSettled = async (settled: () => boolean): Promise<boolean> => {
  const giveUpAt = performance.now() + 5000
  while (performance.now() < giveUpAt) {
    await new Promise((resolve) => setImmediate(resolve))
    if (settled() || vi.getTimerCount() > 0) return true
  }
  return false
}

export const onFakeClock = async <T>(
  act: (now: () => number) => Promise<T>,
): Promise<FakeClockRun<T>> => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] })
  try {
    const start = Date.now()
    const now = () => Date.now() - start
    let settled = false
    const outcome = act(now).then(
      (result) => ({ result, error: undefined as unknown }),
      (error: unknown) => ({ result: undefined, error }),
    )
    void outcome.then(() => {
      settled = true
    })
    await vi.advanceTimersByTimeAsync(0)
    while (!settled) {
      if (vi.getTimerCount() === 0 && !(await nextTimerOrSettled(() => settled)))
        throw new Error('onFakeClock: the code under test waits on something other than a timer')
      await vi.advanceTimersToNextTimerAsync()
    }
    return { ...(await outcome), ms: now() }
  } finally {
    vi.useRealTimers()
  }
}
