/**
 * The stack of issue 13 (http-router, header normalizer, JSON body parser,
 * CORS, response serializer, error logger, error handler, Powertools Logger,
 * Metrics, Tracer and Idempotency on dynalite) with the chaos middlewares and
 * faults off gives, byte for byte, what the same stack gives without them:
 * the answers, every line written, and what Idempotency stores.
 */
import { IdempotencyConfig } from '@aws-lambda-powertools/idempotency'
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb'
import { makeHandlerIdempotent } from '@aws-lambda-powertools/idempotency/middleware'
import { Logger } from '@aws-lambda-powertools/logger'
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware'
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics'
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware'
import { Tracer } from '@aws-lambda-powertools/tracer'
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware'
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb'
import middy from '@middy/core'
import errorLogger from '@middy/error-logger'
import httpCors from '@middy/http-cors'
import httpErrorHandler from '@middy/http-error-handler'
import httpHeaderNormalizer from '@middy/http-header-normalizer'
import httpJsonBodyParser from '@middy/http-json-body-parser'
import httpResponseSerializer from '@middy/http-response-serializer'
import httpRouterHandler from '@middy/http-router'
import { chaosAwsSdk } from '@middy-chaos/aws-sdk'
import { chaosException } from '@middy-chaos/exception'
import { chaosLatency } from '@middy-chaos/latency'
import { chaosStatusCode } from '@middy-chaos/status-code'
import type { APIGatewayProxyEvent } from 'aws-lambda'
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest'
import { makeContext, restApiEvent } from '../helpers/index.js'
import { captureConsole, idempotencyTable } from './helpers.js'

const ORIGIN = 'https://shop.example.com'

/** The stack, with or without chaos; every instance (Logger, Metrics, tables) its own. */
const stack = async (chaos: object | undefined) => {
  const table = await idempotencyTable(inject('dynamoEndpoint'))
  const dynamodb = new DynamoDBClient({ ...table.clientConfig, maxAttempts: 1 })
  const logger = new Logger({ serviceName: 'orders' })
  const metrics = new Metrics({ namespace: 'orders', serviceName: 'orders' })
  const tracer = new Tracer({ serviceName: 'orders' })
  const routes = [
    {
      method: 'GET' as const,
      path: '/orders/{id}',
      handler: async (event: APIGatewayProxyEvent) => {
        const { Item } = await dynamodb.send(
          new GetItemCommand({ TableName: table.tableName, Key: { id: { S: 'none' } } }),
        )
        logger.info('order read', { id: event.pathParameters?.id, found: Item !== undefined })
        metrics.addMetric('OrderRead', MetricUnit.Count, 1)
        return { statusCode: 200, body: { id: event.pathParameters?.id } }
      },
    },
    {
      method: 'POST' as const,
      path: '/orders',
      handler: async (event: APIGatewayProxyEvent) => {
        logger.info('order created')
        metrics.addMetric('OrderCreated', MetricUnit.Count, 1)
        return { statusCode: 201, body: event.body }
      },
    },
    {
      method: 'GET' as const,
      path: '/boom',
      handler: async () => {
        throw new Error('handler failed')
      },
    },
  ]
  // Routes answer objects, written out by the response serializer (the router types want strings).
  const handler = middy(httpRouterHandler(routes as never))
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics, { captureColdStartMetric: true }))
    .use(captureLambdaHandler(tracer))
    .use(httpHeaderNormalizer())
    .use(httpJsonBodyParser({ disableContentTypeError: true }))
    .use(httpCors({ origins: [ORIGIN], credentials: true }))
    .use(
      httpResponseSerializer({
        serializers: [
          { regex: /^application\/json$/, serializer: ({ body }) => JSON.stringify(body) },
        ],
        defaultContentType: 'application/json',
      }),
    )
    .use(
      errorLogger({
        logger: (request: { error: unknown }) =>
          logger.error('request failed', { reason: String(request.error) }),
      }),
    )
  if (chaos !== undefined) {
    const options = { config: chaos, logger, metrics }
    handler.use([
      chaosLatency(options),
      chaosStatusCode(options),
      chaosException(options),
      chaosAwsSdk({ clients: [dynamodb], ...options }),
    ])
  }
  handler
    .use(
      makeHandlerIdempotent({
        persistenceStore: new DynamoDBPersistenceLayer({
          tableName: table.tableName,
          clientConfig: table.clientConfig,
        }),
        config: new IdempotencyConfig({ eventKeyJmesPath: 'headers."idempotency-key"' }),
      }),
    )
    .use(httpErrorHandler({ logger: false }))
  return { handler, table }
}

const request = (method: string, path: string, headers: object = {}, body?: object) =>
  restApiEvent({
    httpMethod: method,
    path,
    resource: path,
    headers: {
      Origin: ORIGIN,
      ...headers,
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })

/** The same traffic through a stack: what it answered, wrote and stored, with times taken out. */
const play = async (chaos: object | undefined) => {
  const { handler, table } = await stack(chaos)
  const output = captureConsole()
  const answers: unknown[] = []
  try {
    const traffic = [
      request('GET', '/orders/42'),
      request('POST', '/orders', { 'Idempotency-Key': 'k-1' }, { sku: 'tea' }),
      request('POST', '/orders', { 'Idempotency-Key': 'k-1' }, { sku: 'tea' }),
      request('GET', '/boom'),
      request('GET', '/nope'),
      request('OPTIONS', '/orders'),
    ]
    for (const [index, event] of traffic.entries()) {
      answers.push(
        await handler(event as never, makeContext({ awsRequestId: `req-${index}` })).catch(
          (error: Error) => `threw ${error.name}: ${error.message}`,
        ),
      )
    }
  } finally {
    output.restore()
  }
  const written = output.texts.map(({ method, text }) => ({
    method,
    text: text
      .replace(/"timestamp":\s*"[^"]+"/g, '"timestamp":"…"')
      .replace(/"Timestamp":\s*\d+/g, '"Timestamp":0'),
  }))
  return { answers: JSON.stringify(answers), written, stored: await table.records() }
}

describe('chaos off is byte-identical to the chain without chaos', () => {
  beforeAll(() => {
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false')
    vi.stubEnv('POWERTOOLS_TRACE_ENABLED', 'false')
  })
  afterAll(() => vi.unstubAllEnvs())

  const every = [
    { type: 'latency', delay: 500 },
    { type: 'status_code', statusCode: 503, preventExecution: true },
    { type: 'exception' },
    { type: 'aws_sdk', service: 'DynamoDB', error: 'ThrottlingException' },
  ]
  it.each([
    ['the workshop’s is_enabled: false', { is_enabled: false, fault_type: 'exception', rate: 1 }],
    ['a document turned off', { version: 1, enabled: false, faults: every }],
    [
      'every entry for another function',
      { version: 1, faults: every.map((fault) => ({ ...fault, functions: ['payments'] })) },
    ],
    ['a document expired', { version: 1, expiresAt: '2020-01-01T00:00:00Z', faults: every }],
  ])('%s', async (_, config) => {
    const without = await play(undefined)
    const withChaos = await play(config)

    // An expired document says so once (INFO), by design; nothing else differs.
    const expired = withChaos.written.filter(({ text }) => text.includes('Chaos config expired'))
    expect(expired).toHaveLength('expiresAt' in config ? 1 : 0)
    expect(withChaos.answers).toBe(without.answers)
    expect(withChaos.written.filter((line) => !expired.includes(line))).toEqual(without.written)
    expect(withChaos.stored).toEqual(without.stored)
    // The traffic did go through every part of the stack
    expect(without.written.length).toBeGreaterThan(10)
    expect(without.stored).toEqual([
      { status: 'COMPLETED', data: { statusCode: 201, body: { sku: 'tea' } } },
    ])
  })
})
