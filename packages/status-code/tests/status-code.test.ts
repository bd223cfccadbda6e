import { Logger } from '@aws-lambda-powertools/logger'
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware'
import middy from '@middy/core'
import { type ChaosConfig, ChaosHttpError } from '@middy-chaos/core'
import { describe, expect, it } from 'vitest'
import {
  albEvent,
  helloWorld,
  httpApiEvent,
  makeContext,
  restApiEvent,
  untypedConfig,
  useCapturedLogs,
} from '../../../test/helpers/index.js'
import { chaosStatusCode } from '../src/index.js'

const workshop = { is_enabled: true, fault_type: 'status_code', error_code: 404, rate: 1 }

describe('chaosStatusCode', () => {
  const logs = useCapturedLogs()

  it('runs the handler and replaces the status, keeping the body (REST API)', async () => {
    let ran = false
    const handler = middy(async () => {
      ran = true
      return helloWorld()
    }).use(chaosStatusCode({ config: workshop }))
    expect(await handler(restApiEvent(), makeContext())).toEqual({
      statusCode: 404,
      body: 'Hello from Lambda!',
    })
    expect(ran).toBe(true)
    expect(logs.injected()[0]).toMatchObject({
      chaos: { faultType: 'status_code', phase: 'after', statusCode: 404, originalStatusCode: 200 },
    })
  })

  it('wraps a bare HTTP API / function URL answer into a response with the status', async () => {
    const handler = middy(async () => 'Hello from Lambda!').use(
      chaosStatusCode({ config: workshop }),
    )
    expect(await handler(httpApiEvent(), makeContext())).toEqual({
      statusCode: 404,
      headers: { 'content-type': 'text/plain' },
      body: 'Hello from Lambda!',
    })
    const objectHandler = middy(async () => ({ hello: 'world' })).use(
      chaosStatusCode({ config: workshop }),
    )
    expect(await objectHandler(httpApiEvent(), makeContext())).toMatchObject({
      statusCode: 404,
      body: '{"hello":"world"}',
    })
  })

  it('updates the status description of an ALB response', async () => {
    const handler = middy(async () => ({
      statusCode: 200,
      statusDescription: '200 OK',
      body: 'ok',
    })).use(chaosStatusCode({ config: workshop }))
    expect(await handler(albEvent(), makeContext())).toEqual({
      statusCode: 404,
      statusDescription: '404 Not Found',
      body: 'ok',
    })
  })

  it('answers before the handler without running it when preventExecution is set', async () => {
    let ran = false
    const config: ChaosConfig = {
      version: 1,
      faults: [
        {
          type: 'status_code',
          statusCode: 503,
          preventExecution: true,
          body: { message: 'down' },
          headers: { 'retry-after': '3' },
        },
      ],
    }
    const handler = middy(async () => {
      ran = true
      return helloWorld()
    }).use(chaosStatusCode({ config }))
    expect(await handler(restApiEvent(), makeContext())).toEqual({
      statusCode: 503,
      headers: { 'content-type': 'application/json', 'retry-after': '3' },
      body: '{"message":"down"}',
    })
    expect(ran).toBe(false)
    expect(logs.injected()[0]).toMatchObject({ chaos: { phase: 'before', preventExecution: true } })
  })

  it.each(['before', 'after'] as const)(
    'fails %s the handler with an HTTP error that travels through onError as a real one',
    async (phase) => {
      // Prepare: an outer middleware decorating answers to errors (as http-cors does)
      const errors: unknown[] = []
      const config: ChaosConfig = {
        version: 1,
        faults: [{ type: 'status_code', statusCode: 503, phase, headers: { 'retry-after': '3' } }],
      }
      const handler = middy(helloWorld)
        .use({
          onError: (request) => {
            errors.push(request.error)
            request.response = { ...request.response, decorated: true }
          },
        })
        .use(chaosStatusCode({ config }))

      // Act
      const response = await handler(restApiEvent(), makeContext())

      // Assess
      expect(response).toMatchObject({ statusCode: 503, decorated: true })
      expect(errors[0]).toBeInstanceOf(ChaosHttpError)
      expect(errors[0]).toMatchObject({
        name: 'ServiceUnavailableError',
        statusCode: 503,
        expose: true,
        message: '{"message":"Injected fault"}',
        headers: { 'retry-after': '3' },
      })
    },
  )

  it('reports an entry whose preventExecution and phase say two things, and injects nothing', async () => {
    const config: ChaosConfig = {
      version: 1,
      faults: [{ type: 'status_code', statusCode: 503, preventExecution: true, phase: 'after' }],
    }
    const handler = middy(helloWorld).use(chaosStatusCode({ config }))
    expect(await handler(restApiEvent(), makeContext())).toEqual(await helloWorld())
    expect(String(logs.byLevel('warn')[0]?.issues)).toMatch(
      /faults\[0\]\.preventExecution: conflicts with "phase": "after"/,
    )
  })

  it.each([
    [{ 'retry after': '5' }, /faults\[0\]\.headers\.retry after: must be a header name/],
    [
      { 'x-chaos': 'a\r\nset-cookie: b' },
      /faults\[0\]\.headers\.x-chaos: must be at most 8192 characters without line breaks/,
    ],
    [
      { 'X-Chaos': '1', 'x-chaos': '2' },
      /faults\[0\]\.headers\.x-chaos: names the same header as "X-Chaos"/,
    ],
  ])(
    'reports headers %j that no HTTP response can carry, and injects nothing',
    async (headers, message) => {
      // Prepare
      const config: ChaosConfig = {
        version: 1,
        faults: [{ type: 'status_code', statusCode: 503, headers }],
      }
      const handler = middy(helloWorld).use(chaosStatusCode({ config }))

      // Act
      const response = await handler(restApiEvent(), makeContext())

      // Assess
      expect(response).toEqual(await helloWorld())
      expect(String(logs.byLevel('warn')[0]?.issues)).toMatch(message)
    },
  )

  it('takes preventExecution from code when the config does not say', async () => {
    const handler = middy(helloWorld).use(
      chaosStatusCode({ config: workshop, preventExecution: true, body: 'nope' }),
    )
    expect(await handler(albEvent(), makeContext())).toEqual({
      statusCode: 404,
      statusDescription: '404 Not Found',
      headers: { 'content-type': 'application/json' },
      body: 'nope',
    })
  })

  it('never changes the object the handler returned: a cached response stays healthy once chaos is off', async () => {
    const CACHED = Object.freeze({ statusCode: 200, body: 'Hello from Lambda!' })
    const on = middy(async () => CACHED).use(chaosStatusCode({ config: workshop }))
    expect(await on(restApiEvent(), makeContext())).toEqual({
      statusCode: 404,
      body: 'Hello from Lambda!',
    })
    const off = middy(async () => CACHED).use(
      chaosStatusCode({ config: { ...workshop, is_enabled: false } }),
    )
    expect(await off(restApiEvent(), makeContext())).toEqual({
      statusCode: 200,
      body: 'Hello from Lambda!',
    })
    expect(CACHED.statusCode).toBe(200)
  })

  it('does not answer a non-HTTP event before the handler: an SQS batch is processed, with a warning', async () => {
    let ran = false
    const config: ChaosConfig = {
      version: 1,
      faults: [{ type: 'status_code', statusCode: 503, preventExecution: true }],
    }
    const handler = middy(async () => {
      ran = true
      return { batchItemFailures: [] }
    }).use(chaosStatusCode({ config }))
    const sqs = { Records: [{ messageId: 'm-1', eventSource: 'aws:sqs', body: '{}' }] }
    expect(await handler(sqs, makeContext())).toEqual({ batchItemFailures: [] })
    expect(ran).toBe(true)
    expect(logs.injected()).toHaveLength(0)
    expect(logs.byLevel('warn')[0]?.message).toBe(
      'Status-code fault skipped: the event is not an HTTP request',
    )
  })

  it('leaves a response that is not HTTP-shaped alone, with a warning', async () => {
    const handler = middy(async () => ({ batchItemFailures: [] })).use(
      chaosStatusCode({ config: workshop }),
    )
    expect(await handler({ Records: [] }, makeContext())).toEqual({ batchItemFailures: [] })
    expect(logs.injected()).toHaveLength(0)
    expect(logs.byLevel('warn')[0]).toMatchObject({
      message: 'Status-code fault skipped: the response is not an HTTP response',
    })
  })

  it.each([
    [{ error_code: 99 }, 'error_code: must be an integer from 100 to 599 (got 99)'],
    [{ error_code: 600 }, 'error_code: must be an integer from 100 to 599 (got 600)'],
    [{ error_code: 404.5 }, 'error_code: must be an integer from 100 to 599 (got 404.5)'],
    [{ error_code: undefined }, 'error_code: is required: an HTTP status from 100 to 599'],
  ])('rejects %j with a message naming the bound', async (fields, message) => {
    // Values the types reject, on purpose: what the library does with them at run time.
    const config = untypedConfig({ ...workshop, ...fields })
    expect(
      await middy(helloWorld).use(chaosStatusCode({ config }))(restApiEvent(), makeContext()),
    ).toEqual(await helloWorld())
    expect(logs.byLevel('warn')[0]?.issues).toEqual([message])
  })

  it("answering before the handler does not skip Powertools Logger's cleanup (its onError hook runs)", async () => {
    // Prepare: a logger with a persistent key that injectLambdaContext must reset after the invocation
    const logger = new Logger({ serviceName: 'hello' })
    const config: ChaosConfig = {
      version: 1,
      faults: [{ type: 'status_code', statusCode: 503, preventExecution: true }],
    }
    const handler = middy(helloWorld)
      .use(injectLambdaContext(logger, { resetKeys: true }))
      .use({
        before: () => {
          logger.appendKeys({ tenant: 'acme' })
        },
      })
      .use(chaosStatusCode({ config }))

    // Act
    const response = await handler(restApiEvent(), makeContext())
    logger.info('after the invocation')

    // Assess
    expect(response).toMatchObject({ statusCode: 503 })
    const last = logs.lines.at(-1)
    expect(last?.message).toBe('after the invocation')
    expect(last).not.toHaveProperty('tenant')
  })
})
