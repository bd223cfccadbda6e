import { IDEMPOTENCY_KEY, METRICS_KEY } from '@aws-lambda-powertools/commons'
import { Logger } from '@aws-lambda-powertools/logger'
import middy, { type MiddlewareObj, type Request } from '@middy/core'
import { describe, expect, it, vi } from 'vitest'
import {
  helloWorld,
  makeContext,
  restApiEvent,
  untypedConfig,
  useCapturedLogs,
} from '../../../../test/helpers/index.js'
import { invocationLogger } from '../../src/chain.js'
import {
  ChaosHttpError,
  ChaosInjectedError,
  createFaultMiddleware,
  type FaultDefinition,
  isInjectedError,
} from '../../src/index.js'

/** A config with entries of the test's own faults, which the types do not know. */
const doc = (...faults: object[]) => untypedConfig({ version: 1, faults })

/** A fault throwing an HTTP error, answered in code by `answer`. */
const failing = (type: string): FaultDefinition<Record<string, never>> => ({
  type,
  phases: ['before', 'after'],
  defaultPhase: 'before',
  throwsHttpErrors: true,
  parse: () => ({}),
  plan: () => ({
    run: () => {
      throw new ChaosHttpError(503, '{"message":"down"}', {
        faultType: type,
        headers: { 'retry-after': '1' },
        response: { statusCode: 503, headers: { 'x-from': type }, body: type },
      })
    },
  }),
})

/** A fault answering early (returning from `run`), as a fault of one's own may. */
const answering: FaultDefinition<Record<string, never>> = {
  type: 'early_answer',
  phases: ['before'],
  defaultPhase: 'before',
  parse: () => ({}),
  plan: () => ({ run: () => ({ statusCode: 418, body: 'early' }) }),
}

const internal = (request: Request) => request.internal as Record<string, unknown>

/** Stands for Powertools Idempotency's middleware: what it leaves in `request.internal`. */
const idempotencyLike = () => {
  const calls: string[] = []
  const middleware: MiddlewareObj = {
    before: (request) => {
      internal(request)[`${IDEMPOTENCY_KEY}.idempotencyHandler`] = {
        handleMiddyOnError: async () => {
          calls.push('deleted')
        },
      }
    },
    after: (request) => {
      if (internal(request)[`${IDEMPOTENCY_KEY}.skip`] !== true) calls.push('stored')
    },
  }
  return { middleware, calls }
}

describe('ChaosHttpError', () => {
  it.each([
    [503, 'ServiceUnavailableError'],
    [404, 'NotFoundError'],
    [500, 'InternalServerError'],
    [599, 'UnknownError'],
  ])('is named as createError names a %i', (status, name) => {
    expect(new ChaosHttpError(status, 'm', { response: {} }).name).toBe(name)
  })

  it('has what an error handler reads, is marked as injected, and gives a new answer each time', () => {
    const error = new ChaosHttpError(503, 'busy', {
      headers: { 'retry-after': '1' },
      response: { statusCode: 503, headers: { a: 'b' } },
    })
    expect(error).toMatchObject({
      statusCode: 503,
      status: 503,
      expose: true,
      message: 'busy',
      headers: { 'retry-after': '1' },
    })
    expect(error).toBeInstanceOf(ChaosInjectedError)
    expect(isInjectedError(error)).toBe(true)
    const first = error.response
    ;(first.headers as Record<string, string>).a = 'changed'
    expect(error.response).toEqual({ statusCode: 503, headers: { a: 'b' } })
    // The answer stays out of what error loggers print of the error.
    expect(Object.keys(error)).not.toContain('response')
  })
})

describe('a middleware throwing HTTP errors', () => {
  useCapturedLogs()

  it('answers its own error when nothing answered before its onError hook', async () => {
    const handler = middy(helloWorld).use(
      createFaultMiddleware(failing('a'), { config: doc({ type: 'a' }) }),
    )
    expect(await handler(restApiEvent(), makeContext())).toEqual({
      statusCode: 503,
      headers: { 'x-from': 'a' },
      body: 'a',
    })
  })

  it('leaves an answer given before it, and lets later onError hooks see its own', async () => {
    const seen: unknown[] = []
    const handler = middy(helloWorld)
      .use({ onError: (request) => void seen.push(request.response) })
      .use(createFaultMiddleware(failing('a'), { config: doc({ type: 'a' }) }))
      .use({
        onError: (request) => {
          if (request.error instanceof ChaosHttpError && seen.length === 0)
            request.response = { statusCode: request.error.statusCode, body: 'from the handler' }
        },
      })
    expect(await handler(restApiEvent(), makeContext())).toEqual({
      statusCode: 503,
      body: 'from the handler',
    })
    expect(seen).toEqual([{ statusCode: 503, body: 'from the handler' }])
  })

  it('answers only the errors it threw', async () => {
    const config = doc({ type: 'b' })
    const other = createFaultMiddleware(failing('a'), { config: doc() })
    // The middleware that did not throw it runs its onError hook first, and leaves it.
    const handler = middy(helloWorld)
      .use(createFaultMiddleware(failing('b'), { config }))
      .use(other)
    expect(await handler(restApiEvent(), makeContext())).toMatchObject({ body: 'b' })
    const thrower = middy(async () => {
      throw new ChaosHttpError(500, 'not mine', { response: { statusCode: 500 } })
    }).use(createFaultMiddleware(failing('a'), { config: doc() }))
    await expect(thrower(restApiEvent(), makeContext())).rejects.toThrow('not mine')
  })
})

describe('Idempotency and chaos', () => {
  const logs = useCapturedLogs()

  it('an early answer releases the record and runs the Powertools cleanups', async () => {
    const idempotency = idempotencyLike()
    const cleanup = vi.fn()
    const handler = middy(helloWorld)
      .use({
        before: (request) => {
          internal(request)[METRICS_KEY] = cleanup
        },
      })
      .use(idempotency.middleware)
      .use(createFaultMiddleware(answering, { config: doc({ type: 'early_answer' }) }))
    expect(await handler(restApiEvent(), makeContext())).toEqual({ statusCode: 418, body: 'early' })
    expect(idempotency.calls).toEqual(['deleted'])
    expect(cleanup).toHaveBeenCalledOnce()
  })

  it('a release that fails is a warning, and the answer stands', async () => {
    const handler = middy(helloWorld)
      .use({
        before: (request) => {
          internal(request)[`${IDEMPOTENCY_KEY}.idempotencyHandler`] = {
            handleMiddyOnError: async () => {
              throw new Error('table gone')
            },
          }
        },
      })
      .use(createFaultMiddleware(answering, { config: doc({ type: 'early_answer' }) }))
    expect(await handler(restApiEvent(), makeContext())).toMatchObject({ statusCode: 418 })
    expect(logs.byLevel('warn')).toEqual([
      expect.objectContaining({
        message: 'Chaos could not release the Idempotency record',
        error: 'Error: table gone',
      }),
    ])
  })
})

describe('invocationLogger', () => {
  const request = (awsRequestId: string) =>
    ({ event: {}, context: makeContext({ awsRequestId }), internal: {} }) as unknown as Request

  it('gives one child per invocation, with its context, and leaves the logger alone', () => {
    const logger = new Logger({ serviceName: 'orders' })
    const first = request('r-1')
    const child = invocationLogger(logger, first)
    expect(child).not.toBe(logger)
    expect(invocationLogger(logger, first)).toBe(child)
    expect(invocationLogger(logger, request('r-2'))).not.toBe(child)
  })

  it('is the logger itself when it cannot make children, or there is no context', () => {
    const plain = { info: () => undefined } as unknown as Logger
    expect(invocationLogger(plain, request('r-1'))).toBe(plain)
    const logger = new Logger({ serviceName: 'orders' })
    expect(invocationLogger(logger, { context: {} } as unknown as Request)).toBe(logger)
  })
})
