/**
 * Powertools Logger, Metrics and Tracer around chaos, in both orders: the
 * fault line carries the invocation's Lambda context whatever the order, and
 * a chaos middleware outside `logMetrics` that throws after the handler says
 * once how to fix the order (issue 13, cases 4 and 5).
 */
import { Logger } from '@aws-lambda-powertools/logger'
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware'
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics'
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware'
import { Tracer } from '@aws-lambda-powertools/tracer'
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware'
import middy, { type MiddlewareObj } from '@middy/core'
import type { ChaosConfig } from '@middy-chaos/core'
import { chaosException } from '@middy-chaos/exception'
import { chaosLatency } from '@middy-chaos/latency'
import { chaosStatusCode } from '@middy-chaos/status-code'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { helloWorld, makeContext, restApiEvent } from '../helpers/index.js'
import { captureConsole } from './helpers.js'

let output: ReturnType<typeof captureConsole>
beforeEach(() => {
  output = captureConsole()
})
afterEach(() => output.restore())

describe('case 4: the fault line carries the invocation’s Lambda context, in any order', () => {
  // One Logger for the file, as a function has one; its first context is this process's cold start.
  let logger: Logger
  beforeAll(() => {
    vi.stubEnv('AWS_LAMBDA_INITIALIZATION_TYPE', 'on-demand')
    logger = new Logger({ serviceName: 'orders' })
  })
  afterAll(() => vi.unstubAllEnvs())

  const config: ChaosConfig = {
    version: 1,
    faults: [
      { type: 'latency', delay: 0 },
      { type: 'status_code', statusCode: 503 },
    ],
  }
  const chain = (order: 'chaos before injectLambdaContext' | 'chaos after injectLambdaContext') => {
    const handler = middy(async () => {
      logger.info('order handled')
      return helloWorld()
    })
    const chaos = [chaosLatency({ config, logger }), chaosStatusCode({ config, logger })]
    if (order === 'chaos before injectLambdaContext')
      handler.use(chaos).use(injectLambdaContext(logger))
    else handler.use(injectLambdaContext(logger)).use(chaos)
    return handler
  }
  const context = (awsRequestId: string) =>
    ({
      function_request_id: awsRequestId,
      function_name: 'hello-world',
      function_arn: 'arn:aws:lambda:us-east-1:123456789012:function:hello-world',
      function_memory_size: '128',
    }) as const

  // In this order: the first test's first invocation is the cold start.
  it.each([
    ['chaos before injectLambdaContext', 'req-1', 'req-2'],
    ['chaos after injectLambdaContext', 'req-3', 'req-4'],
  ] as const)('%s', async (order, first, second) => {
    // Prepare
    const handler = chain(order)
    const cold = first === 'req-1'

    // Act
    for (const awsRequestId of [first, second]) {
      expect(await handler(restApiEvent(), makeContext({ awsRequestId }))).toMatchObject({
        statusCode: 503,
      })
    }

    // Assess: every line of an invocation, chaos or not, names that invocation and no other
    const lines = output.lines()
    for (const [index, id] of [first, second].entries()) {
      const mine = lines.filter((line) => line.function_request_id === id)
      expect(mine.map((line) => line.message)).toEqual([
        'Chaos fault injected',
        'order handled',
        'Chaos fault injected',
      ])
      for (const line of mine) {
        expect(line).toMatchObject({ ...context(id), cold_start: cold && index === 0 })
        if (line.message === 'Chaos fault injected') expect(line.awsRequestId).toBe(id)
      }
    }
    expect(lines).toHaveLength(6)
  })
})

describe('case 5: Powertools Metrics flushes once per invocation', () => {
  beforeAll(() => vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false')) // POWERTOOLS_DEV would turn them off
  afterAll(() => vi.unstubAllEnvs())

  const afterHandler = (type: 'exception' | 'status_code'): ChaosConfig => ({
    version: 1,
    faults: [
      type === 'exception'
        ? { type, phase: 'after', message: 'answer lost' }
        : { type, statusCode: 503 },
    ],
  })
  const chain = (
    order: 'chaos inside logMetrics' | 'chaos outside logMetrics',
    chaos: MiddlewareObj,
  ) => {
    const metrics = new Metrics({ namespace: 'orders', serviceName: 'orders' })
    const handler = middy(async () => {
      metrics.addMetric('OrderCreated', MetricUnit.Count, 1)
      return helloWorld()
    })
    if (order === 'chaos inside logMetrics') handler.use(logMetrics(metrics)).use(chaos)
    else handler.use(chaos).use(logMetrics(metrics))
    return handler
  }
  const invokeTwice = async (handler: ReturnType<typeof chain>) => {
    for (let i = 0; i < 2; i++) await handler(restApiEvent(), makeContext()).catch(() => undefined)
  }
  const empty = 'No application metrics to publish'
  const orderWarnings = () =>
    output.lines().filter((line) => String(line.message).includes('makes Metrics flush twice'))

  it.each([
    ['exception', chaosException({ config: afterHandler('exception') })],
    ['status_code', chaosStatusCode({ config: afterHandler('status_code') })],
  ] as const)(
    'chaos inside logMetrics, %s after the handler: one flush, nothing to fix',
    async (_, chaos) => {
      await invokeTwice(chain('chaos inside logMetrics', chaos))

      expect(output.emf().filter((blob) => 'OrderCreated' in blob)).toHaveLength(2)
      expect(output.containing(empty)).toHaveLength(0)
      expect(orderWarnings()).toHaveLength(0)
    },
  )

  it('chaos outside logMetrics, exception after the handler: Metrics flushes twice, and the order is reported once with the fix', async () => {
    await invokeTwice(
      chain('chaos outside logMetrics', chaosException({ config: afterHandler('exception') })),
    )

    // Powertools' own behaviour when an outer middleware throws after its flush
    expect(output.emf().filter((blob) => 'OrderCreated' in blob)).toHaveLength(2)
    expect(output.containing(empty)).toHaveLength(2)
    // The order is detected on the first invocation and reported once
    expect(orderWarnings()).toEqual([
      expect.objectContaining({
        level: 'WARN',
        chaos: { faultType: 'exception' },
        fix: '.use(chaosException(…)) after .use(logMetrics(…)), so that chaos is inside it',
      }),
    ])
  })
})

describe('Powertools Tracer, tracing disabled (POWERTOOLS_TRACE_ENABLED=false)', () => {
  beforeAll(() => vi.stubEnv('POWERTOOLS_TRACE_ENABLED', 'false'))
  afterAll(() => vi.unstubAllEnvs())

  it.each(['chaos inside captureLambdaHandler', 'chaos outside captureLambdaHandler'] as const)(
    '%s: the injected answer and error come through unchanged',
    async (order) => {
      const tracer = new Tracer({ serviceName: 'orders' })
      const build = (chaos: MiddlewareObj) => {
        const handler = middy(helloWorld)
        return order === 'chaos inside captureLambdaHandler'
          ? handler.use(captureLambdaHandler(tracer)).use(chaos)
          : handler.use(chaos).use(captureLambdaHandler(tracer))
      }
      const shortCircuit = build(
        chaosStatusCode({
          config: {
            version: 1,
            faults: [{ type: 'status_code', statusCode: 503, preventExecution: true }],
          },
        }),
      )
      const failing = build(
        chaosException({
          config: { version: 1, faults: [{ type: 'exception', phase: 'after', message: 'x' }] },
        }),
      )

      expect(tracer.isTracingEnabled()).toBe(false)
      expect(await shortCircuit(restApiEvent(), makeContext())).toMatchObject({ statusCode: 503 })
      await expect(failing(restApiEvent(), makeContext())).rejects.toThrow('x')
    },
  )
})
