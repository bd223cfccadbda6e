/**
 * A REST API as teams write it with Middy's HTTP middlewares (http-router,
 * header normalizer, JSON body parser, CORS with a reflected origin and
 * credentials, response serializer, error logger, error handler) with chaos
 * in it: an injected answer or error is shaped by the chain as a real failure
 * of the same kind (issue 13, cases 3 and 6).
 */

import middy from '@middy/core'
import errorLogger from '@middy/error-logger'
import httpCors from '@middy/http-cors'
import httpErrorHandler from '@middy/http-error-handler'
import httpHeaderNormalizer from '@middy/http-header-normalizer'
import httpJsonBodyParser from '@middy/http-json-body-parser'
import httpResponseSerializer from '@middy/http-response-serializer'
import httpRouterHandler from '@middy/http-router'
import {
  type ChaosConfig,
  ChaosHttpError,
  ChaosInjectedError,
  isInjectedError,
} from '@middy-chaos/core'
import { chaosException } from '@middy-chaos/exception'
import { chaosStatusCode, type StatusCodeEntry } from '@middy-chaos/status-code'
import type { APIGatewayProxyEvent } from 'aws-lambda'
import { describe, expect, it } from 'vitest'
import { makeContext, restApiEvent, useCapturedLogs } from '../helpers/index.js'

const ORIGIN = 'https://shop.example.com'
/** What CORS adds for a credentialed request from an allowed origin: nothing the config's `headers` can say. */
const CORS = {
  'Access-Control-Allow-Origin': ORIGIN,
  'Access-Control-Allow-Credentials': 'true',
  Vary: 'Origin',
}

const shortCircuit = (extra: Omit<StatusCodeEntry, 'type' | 'statusCode'> = {}): ChaosConfig => ({
  version: 1,
  faults: [
    {
      type: 'status_code',
      statusCode: 503,
      preventExecution: true,
      headers: { 'retry-after': '5' },
      ...extra,
    },
  ],
})

type Placement =
  | 'no error handler'
  | 'chaos before http-error-handler'
  | 'chaos after http-error-handler'

/** The API: its routes count their runs; the chain's order of chaos and error handler is chosen. */
const api = (placement: Placement, chaos: ReturnType<typeof chaosStatusCode>[]) => {
  const runs: string[] = []
  const errors: unknown[] = []
  const routes = [
    {
      method: 'GET' as const,
      path: '/orders/{id}',
      handler: async (event: APIGatewayProxyEvent) => {
        runs.push('getOrder')
        return { statusCode: 200, body: { id: event.pathParameters?.id } }
      },
    },
    {
      method: 'POST' as const,
      path: '/orders',
      handler: async (event: APIGatewayProxyEvent) => {
        runs.push('createOrder')
        return { statusCode: 201, body: event.body }
      },
    },
    {
      method: 'GET' as const,
      path: '/health',
      handler: async () => {
        runs.push('health')
        return { statusCode: 200, body: { ok: true } }
      },
    },
  ]
  // Routes answer objects, written out by the response serializer (the router types want strings).
  const handler = middy(httpRouterHandler(routes as never))
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
    .use(errorLogger({ logger: (request: { error: unknown }) => errors.push(request.error) }))
  if (placement === 'chaos after http-error-handler')
    handler.use(httpErrorHandler({ logger: false }))
  for (const middleware of chaos) handler.use(middleware)
  if (placement === 'chaos before http-error-handler')
    handler.use(httpErrorHandler({ logger: false }))
  const call = (method: string, path: string, body?: object) =>
    handler(
      restApiEvent({
        httpMethod: method,
        path,
        resource: path,
        headers: {
          Origin: ORIGIN,
          ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      }) as never,
      makeContext(),
    ) as Promise<{ statusCode: number; headers?: Record<string, string>; body?: string }>
  return { call, runs, errors }
}

describe('case 3: an answer given instead of the handler is shaped by the chain', () => {
  useCapturedLogs()

  it('without an error handler: the configured status, body and headers, with CORS', async () => {
    const { call, runs, errors } = api('no error handler', [
      chaosStatusCode({ config: shortCircuit() }),
    ])

    const response = await call('GET', '/orders/42')

    expect(response).toEqual({
      statusCode: 503,
      headers: { 'content-type': 'application/json', 'retry-after': '5', ...CORS },
      body: '{"message":"Injected fault"}',
    })
    expect(runs).toEqual([])
    // The error logger sees the failure, as it would see a real one.
    expect(errors).toHaveLength(1)
    expect(isInjectedError(errors[0])).toBe(true)
  })

  it.each(['chaos before http-error-handler', 'chaos after http-error-handler'] as const)(
    '%s: the status, with the error handler or the chaos answer, and CORS',
    async (placement) => {
      const { call, runs } = api(placement, [chaosStatusCode({ config: shortCircuit() })])

      const response = await call('POST', '/orders', { sku: 'tea' })

      expect(response).toMatchObject({
        statusCode: 503,
        headers: { 'retry-after': '5', ...CORS },
        body: '{"message":"Injected fault"}',
      })
      expect(runs).toEqual([])
    },
  )

  it('http-error-handler answers the injected error as it answers createError(503, message, { expose: true })', async () => {
    const { call } = api('chaos before http-error-handler', [
      chaosStatusCode({ config: shortCircuit() }),
    ])
    const real = middy(async () => {
      const error = Object.assign(new Error('{"message":"Injected fault"}'), {
        statusCode: 503,
        expose: true,
        headers: { 'retry-after': '5' },
      })
      throw error
    })
      .use(httpCors({ origins: [ORIGIN], credentials: true }))
      .use(httpErrorHandler({ logger: false }))

    const injected = await call('GET', '/orders/42')
    const genuine = await real(restApiEvent({ headers: { Origin: ORIGIN } }), makeContext())

    expect(injected).toEqual(genuine)
  })

  it('targets one route: the others and the router’s own 404 are untouched', async () => {
    const config = shortCircuit({ match: [{ path: 'path', prefix: '/orders' }] })
    const { call, runs } = api('chaos before http-error-handler', [chaosStatusCode({ config })])

    const orders = await call('GET', '/orders/42')
    const health = await call('GET', '/health')
    const missing = await call('GET', '/nope')

    expect(orders.statusCode).toBe(503)
    expect(health).toEqual({
      statusCode: 200,
      headers: { 'Content-Type': 'application/json', ...CORS },
      body: '{"ok":true}',
    })
    expect(missing).toMatchObject({ statusCode: 404, body: 'Route does not exist', headers: CORS })
    expect(runs).toEqual(['health'])
  })
})

describe('case 3, the other order: chaos .use()d before http-cors', () => {
  useCapturedLogs()
  const handler = async () => ({ statusCode: 200, body: 'ok' })
  const call = (chain: middy.MiddyfiedHandler) =>
    chain(restApiEvent({ headers: { Origin: ORIGIN } }) as never, makeContext()) as Promise<{
      statusCode: number
      headers?: Record<string, string>
    }>

  it('with no error handler: the configured answer, without CORS headers (README: put chaos after http-cors)', async () => {
    // Prepare: chaos outermost, so its onError answers last, after CORS's onError found no response
    const chain = middy(handler)
      .use(chaosStatusCode({ config: shortCircuit() }))
      .use(httpCors({ origins: [ORIGIN], credentials: true }))

    // Act
    const response = await call(chain)

    // Assess
    expect(response.statusCode).toBe(503)
    expect(response.headers).toEqual({ 'content-type': 'application/json', 'retry-after': '5' })
  })

  it('with http-error-handler after http-cors: the error handler answers first, and CORS shapes it', async () => {
    // Prepare
    const chain = middy(handler)
      .use(chaosStatusCode({ config: shortCircuit() }))
      .use(httpCors({ origins: [ORIGIN], credentials: true }))
      .use(httpErrorHandler({ logger: false }))

    // Act
    const response = await call(chain)

    // Assess
    expect(response).toMatchObject({ statusCode: 503, headers: { 'retry-after': '5', ...CORS } })
  })
})

describe('a status replaced after the handler travels as an HTTP error', () => {
  useCapturedLogs()
  const afterHandler: ChaosConfig = {
    version: 1,
    faults: [{ type: 'status_code', statusCode: 503 }],
  }

  it('without an error handler: the handler’s answer with the status, serialized, with CORS', async () => {
    const { call, runs } = api('no error handler', [chaosStatusCode({ config: afterHandler })])

    expect(await call('GET', '/orders/42')).toEqual({
      statusCode: 503,
      headers: { 'Content-Type': 'application/json', ...CORS },
      body: '{"id":"42"}',
    })
    expect(runs).toEqual(['getOrder'])
  })

  it('with http-error-handler: the error handler’s answer, with CORS', async () => {
    const { call, runs, errors } = api('chaos before http-error-handler', [
      chaosStatusCode({ config: afterHandler }),
    ])

    expect(await call('GET', '/orders/42')).toEqual({
      statusCode: 503,
      headers: { 'Content-Type': 'application/json', ...CORS },
      body: '{"message":"Injected fault"}',
    })
    expect(runs).toEqual(['getOrder'])
    expect(errors[0]).toBeInstanceOf(ChaosHttpError)
    expect(errors[0]).toMatchObject({
      name: 'ServiceUnavailableError',
      statusCode: 503,
      expose: true,
    })
  })
})

describe('case 6: what a client sees of an injected exception', () => {
  useCapturedLogs()
  const exception = (phase: 'before' | 'after'): ChaosConfig => ({
    version: 1,
    faults: [{ type: 'exception', phase, message: 'downstream timeout' }],
  })

  it.each(['before', 'after'] as const)(
    'with http-error-handler, thrown %s the handler: 500, with CORS',
    async (phase) => {
      const { call } = api('chaos before http-error-handler', [
        chaosException({ config: exception(phase) }),
      ])

      // No body: http-error-handler exposes nothing of an error that is not an HTTP error.
      const response = await call('GET', '/orders/42')
      expect(response).toMatchObject({ statusCode: 500, headers: CORS })
      expect(response.body).toBeUndefined()
    },
  )

  it('without an error handler: the invocation fails (API Gateway answers 502)', async () => {
    const { call, errors } = api('no error handler', [
      chaosException({ config: exception('before') }),
    ])

    await expect(call('GET', '/orders/42')).rejects.toBeInstanceOf(ChaosInjectedError)
    expect(errors).toHaveLength(1)
  })
})
