/**
 * Injected faults in AWS X-Ray, through Powertools Tracer with tracing on, as
 * in Lambda: the X-Ray SDK in its Lambda mode (`LAMBDA_TASK_ROOT`, the trace
 * header in `_X_AMZN_TRACE_ID`), sending to a local UDP listener that reads
 * the daemon protocol. Each test reads what was sent: annotations, metadata,
 * subsegments and their times.
 */
import http from 'node:http'
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb'
import middy, { type MiddlewareObj } from '@middy/core'
import { chaosAwsSdk } from '@middy-chaos/aws-sdk'
import type { TracerLike } from '@middy-chaos/core'
import { chaosException } from '@middy-chaos/exception'
import { chaosHttp } from '@middy-chaos/http'
import { chaosLatency } from '@middy-chaos/latency'
import { chaosStatusCode } from '@middy-chaos/status-code'
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest'
import { makeContext, restApiEvent } from '../helpers/index.js'
import {
  lambdaTraceHeader,
  newTraceId,
  startXrayDaemon,
  type XrayDaemon,
  type XrayDocument,
} from '../helpers/xray-daemon.js'

type Tracer = import('@aws-lambda-powertools/tracer').Tracer
type CaptureLambdaHandler =
  typeof import('@aws-lambda-powertools/tracer/middleware').captureLambdaHandler

const HANDLER = '## index.handler'
let daemon: XrayDaemon
let tracer: Tracer
let captureLambdaHandler: CaptureLambdaHandler

beforeAll(async () => {
  daemon = await startXrayDaemon()
  // What Lambda sets, and what makes Powertools Tracer trace outside Lambda.
  vi.stubEnv('AWS_XRAY_DAEMON_ADDRESS', daemon.address)
  vi.stubEnv('LAMBDA_TASK_ROOT', '/var/task')
  vi.stubEnv('AWS_EXECUTION_ENV', 'AWS_Lambda_nodejs24.x')
  vi.stubEnv('_HANDLER', 'index.handler')
  vi.stubEnv('_X_AMZN_TRACE_ID', lambdaTraceHeader(newTraceId()))
  vi.stubEnv('POWERTOOLS_TRACE_ENABLED', 'true')
  vi.stubEnv('AWS_XRAY_CONTEXT_MISSING', 'IGNORE_ERROR')
  // The X-Ray SDK reads the environment when it loads: after the lines above.
  const { Tracer } = await import('@aws-lambda-powertools/tracer')
  ;({ captureLambdaHandler } = await import('@aws-lambda-powertools/tracer/middleware'))
  tracer = new Tracer({ serviceName: 'orders' })
  // Chaos writes one log line per injected fault: keep test output quiet.
  vi.spyOn(console, 'info').mockImplementation(() => undefined)
})

afterAll(async () => {
  vi.unstubAllEnvs()
  await daemon?.close()
})

const hello = async () => ({ statusCode: 200, body: 'Hello from Lambda!' })

/** The user's tracer, counting the calls the chaos middlewares make to it. */
const counting = () => {
  const calls: string[] = []
  const counted: TracerLike = {
    isTracingEnabled: () => {
      calls.push('isTracingEnabled')
      return tracer.isTracingEnabled()
    },
    getSegment: () => {
      calls.push('getSegment')
      return tracer.getSegment()
    },
  }
  return { calls, tracer: counted }
}

/** One invocation in a trace of its own; its documents once the handler's subsegment has come. */
/** A Middy handler, whatever its types. */
type Handler = (...args: never[]) => Promise<unknown>

const invoke = async (chain: Handler, last = HANDLER) => {
  const handler = chain as unknown as (event: unknown, context: unknown) => Promise<unknown>
  const traceId = newTraceId()
  vi.stubEnv('_X_AMZN_TRACE_ID', lambdaTraceHeader(traceId))
  const started = performance.now()
  let error: unknown
  let response: unknown
  try {
    response = await handler(restApiEvent(), makeContext())
  } catch (thrown) {
    error = thrown
  }
  const elapsedMs = performance.now() - started
  const documents = await daemon.trace(traceId, (docs) =>
    docs.some((document) => document.name === last),
  )
  const named = (name: string) => documents.filter((document) => document.name === name)
  return { response, error, elapsedMs, documents, named, handler: named(HANDLER)[0] }
}

const durationMs = (document: XrayDocument) =>
  ((document.end_time ?? Number.NaN) - document.start_time) * 1000

const chaosDocuments = (documents: XrayDocument[]) =>
  documents.filter(
    (document) =>
      document.name.startsWith('## chaos') ||
      Object.keys(document.annotations ?? {}).some((key) => key.startsWith('Chaos')) ||
      document.metadata?.chaos !== undefined,
  )

describe('Powertools Tracer: an injected delay', () => {
  it('annotates the handler subsegment and is a subsegment of its own covering the wait', async () => {
    const chaos = counting()
    const handler = middy(hello)
      .use(captureLambdaHandler(tracer))
      .use(
        chaosLatency({
          tracer: chaos.tracer,
          config: { version: 1, faults: [{ type: 'latency', delay: 40 }] },
        }),
      )

    const { handler: own, named, elapsedMs, response } = await invoke(handler)

    expect(response).toEqual({ statusCode: 200, body: 'Hello from Lambda!' })
    expect(own?.annotations).toMatchObject({ ChaosInjected: true, ChaosFault: 'latency' })
    expect(own?.metadata?.chaos?.latency).toMatchObject({
      faultType: 'latency',
      phase: 'before',
      rate: 1,
      delay: 40,
    })
    const [wait, ...others] = named('## chaos latency')
    expect(others).toEqual([])
    expect(wait?.parent_id).toBe(own?.id)
    expect(wait?.annotations).toEqual({ ChaosInjected: true, ChaosFault: 'latency' })
    expect(wait?.metadata?.chaos?.latency).toMatchObject({ faultType: 'latency', delay: 40 })
    // The subsegment covers the wait: the delay (to the clock's ms, which a timer may
    // reach 1 ms early), within the handler's subsegment and what the invocation measured.
    const waited = durationMs(wait as XrayDocument)
    expect(waited).toBeGreaterThanOrEqual(40 - 2)
    expect(waited).toBeLessThanOrEqual(elapsedMs + 2)
    expect(wait?.start_time).toBeGreaterThanOrEqual(own?.start_time ?? Number.NaN)
    expect(wait?.end_time).toBeLessThanOrEqual(own?.end_time ?? Number.NaN)
    expect(chaos.calls.length).toBeGreaterThan(0)
    expect(daemon.malformed).toEqual([])
  })

  it('is in a subsegment under Lambda segment when chaos is outside captureLambdaHandler', async () => {
    const handler = middy(hello)
      .use(
        chaosLatency({ tracer, config: { version: 1, faults: [{ type: 'latency', delay: 25 }] } }),
      )
      .use(captureLambdaHandler(tracer))

    const { handler: own, named } = await invoke(handler)

    // Lambda's own segment cannot be annotated: the delay's subsegment carries the facts.
    expect(own?.annotations?.ChaosInjected).toBeUndefined()
    const [wait] = named('## chaos latency')
    expect(wait?.annotations).toEqual({ ChaosInjected: true, ChaosFault: 'latency' })
    expect(wait?.metadata?.chaos?.latency).toMatchObject({ delay: 25 })
    expect(wait?.end_time).toBeLessThanOrEqual(own?.start_time ?? Number.NaN)
    expect(durationMs(wait as XrayDocument)).toBeGreaterThanOrEqual(25 - 2)
  })
})

describe('Powertools Tracer: an injected error', () => {
  it('an injected 503 is marked as injected on the subsegment that records it', async () => {
    const handler = middy(hello)
      .use(captureLambdaHandler(tracer))
      .use(
        chaosStatusCode({
          tracer,
          config: {
            version: 1,
            faults: [{ type: 'status_code', statusCode: 503 }],
            expiresAt: '2099-01-01T00:00:00.000Z',
          },
        }),
      )

    const { handler: own, response, named } = await invoke(handler)

    expect(response).toMatchObject({ statusCode: 503 })
    // Tracer records the error on the handler subsegment; chaos marks it there.
    expect(own?.fault).toBe(true)
    expect(own?.cause?.exceptions?.[0]?.type).toBe('ServiceUnavailableError')
    expect(own?.annotations).toMatchObject({
      ChaosInjected: true,
      ChaosFault: 'status_code',
      ChaosError: 'ServiceUnavailableError',
    })
    expect(own?.metadata?.chaos?.status_code).toMatchObject({
      faultType: 'status_code',
      phase: 'after',
      statusCode: 503,
      originalStatusCode: 200,
      errorName: 'ServiceUnavailableError',
      expiresAt: '2099-01-01T00:00:00.000Z',
    })
    expect(named('## chaos status_code')).toEqual([])
  })

  it('outside captureLambdaHandler, the error is recorded on a subsegment of the fault', async () => {
    const handler = middy(hello)
      .use(
        chaosException({
          tracer,
          config: { version: 1, faults: [{ type: 'exception', message: 'boom' }] },
        }),
      )
      .use(captureLambdaHandler(tracer))

    const { error, named } = await invoke(handler, '## chaos exception')

    expect(error).toMatchObject({ name: 'ChaosInjectedError', message: 'boom' })
    const [marker] = named('## chaos exception')
    expect(marker?.fault).toBe(true)
    expect(marker?.cause?.exceptions?.[0]).toMatchObject({
      type: 'ChaosInjectedError',
      message: 'boom',
    })
    expect(marker?.annotations).toEqual({
      ChaosInjected: true,
      ChaosFault: 'exception',
      ChaosError: 'ChaosInjectedError',
    })
  })
})

describe('Powertools Tracer: faults off, and dry runs', () => {
  it('with faults off, sends nothing of chaos and makes no call to the tracer', async () => {
    const chaos = counting()
    const off = {
      is_enabled: false,
      fault_type: 'latency',
      delay: 400,
      error_code: 404,
      exception_msg: 'x',
      rate: 1,
    }
    const handler = middy(hello)
      .use(captureLambdaHandler(tracer))
      .use(chaosLatency({ tracer: chaos.tracer, config: off }))
      .use(chaosStatusCode({ tracer: chaos.tracer, config: off }))
      .use(chaosException({ tracer: chaos.tracer, config: off }))

    const { documents, handler: own } = await invoke(handler)

    expect(own).toBeDefined()
    expect(chaosDocuments(documents)).toEqual([])
    expect(chaos.calls).toEqual([])
  })

  it('a dry run annotates what would have fired, and opens no subsegment', async () => {
    const handler = middy(hello)
      .use(captureLambdaHandler(tracer))
      .use(
        chaosLatency({
          tracer,
          dryRun: true,
          config: { version: 1, faults: [{ type: 'latency', delay: 400 }] },
        }),
      )

    const { documents, handler: own } = await invoke(handler)

    expect(own?.annotations).toMatchObject({ ChaosDryRun: true, ChaosDryRunFault: 'latency' })
    expect(own?.annotations?.ChaosInjected).toBeUndefined()
    expect(own?.annotations?.ChaosFault).toBeUndefined()
    expect(own?.metadata?.chaos?.latency).toMatchObject({ dryRun: true, delay: 400 })
    expect(chaosDocuments(documents)).toEqual([own])
  })
})

describe('Powertools Tracer: faults on the calls an invocation makes', () => {
  it('an AWS SDK fault annotates the subsegment of the call, its delay a subsegment under it', async () => {
    const client = tracer.captureAWSv3Client(
      new DynamoDBClient({ endpoint: inject('dynamoEndpoint'), region: 'us-east-1' }),
    )
    const handler = middy(async () => {
      await client.send(new ListTablesCommand({}))
      return { statusCode: 200, body: 'listed' }
    })
      .use(captureLambdaHandler(tracer))
      .use(
        chaosAwsSdk({
          tracer,
          clients: [client],
          config: {
            version: 1,
            faults: [
              {
                type: 'aws_sdk',
                service: 'DynamoDB',
                error: 'ServiceUnavailable',
                attempts: 1,
                delay: 30,
              },
            ],
          },
        }),
      )

    const { response, named, handler: own } = await invoke(handler)

    // The first attempt fails, the client's retry reaches dynalite.
    expect(response).toEqual({ statusCode: 200, body: 'listed' })
    expect(own?.annotations).toMatchObject({ ChaosInjected: true, ChaosFault: 'aws_sdk' })
    const [call] = named('DynamoDB')
    expect(call?.parent_id).toBe(own?.id)
    expect(call?.annotations).toEqual({ ChaosInjected: true, ChaosFault: 'aws_sdk' })
    expect(call?.metadata?.chaos?.aws_sdk).toMatchObject({
      faultType: 'aws_sdk',
      service: 'DynamoDB',
      operation: 'ListTables',
      attempt: 1,
      error: 'ServiceUnavailable',
      delay: 30,
    })
    const [wait, ...more] = named('## chaos aws_sdk')
    expect(more).toEqual([])
    expect(wait?.parent_id).toBe(call?.id)
    expect(durationMs(wait as XrayDocument)).toBeGreaterThanOrEqual(30 - 2)
    expect(wait?.end_time).toBeLessThanOrEqual(call?.end_time ?? Number.NaN)
  })

  it('an outbound HTTP fault annotates the subsegment of the request, its delay under it', async () => {
    const handler = middy(async () => {
      const status = await new Promise<number | undefined>((resolve, reject) => {
        // Through the module object, which the X-Ray SDK patches (a named import is a copy).
        http
          .get({ host: '127.0.0.1', port: 9, path: '/orders' }, (response) => {
            response.resume()
            response.on('end', () => resolve(response.statusCode))
          })
          .on('error', reject)
      })
      return { statusCode: 200, body: String(status) }
    })
      .use(captureLambdaHandler(tracer))
      .use(
        chaosHttp({
          tracer,
          config: {
            version: 1,
            faults: [
              { type: 'http', hosts: ['127.0.0.1'], fault: 'status', statusCode: 503, delay: 30 },
            ],
          },
        }),
      )

    const { response, named, handler: own } = await invoke(handler)

    expect(response).toEqual({ statusCode: 200, body: '503' })
    const [request] = named('127.0.0.1')
    expect(request?.parent_id).toBe(own?.id)
    expect(request?.annotations).toEqual({ ChaosInjected: true, ChaosFault: 'http' })
    expect(request?.metadata?.chaos?.http).toMatchObject({
      faultType: 'http',
      host: '127.0.0.1',
      fault: 'status',
      statusCode: 503,
    })
    const [wait] = named('## chaos http')
    expect(wait?.parent_id).toBe(request?.id)
    expect(durationMs(wait as XrayDocument)).toBeGreaterThanOrEqual(30 - 2)
  })
})

describe('Powertools Tracer that throws', () => {
  it('leaves the invocation untouched', async () => {
    const broken: TracerLike = {
      isTracingEnabled: () => true,
      getSegment: () => {
        throw new Error('tracer down')
      },
    }
    const chain = (chaos: MiddlewareObj) => middy(hello).use(chaos)
    const delayed = chain(
      chaosLatency({
        tracer: broken,
        config: { version: 1, faults: [{ type: 'latency', delay: 5 }] },
      }),
    )
    const failing = chain(
      chaosStatusCode({
        tracer: broken,
        config: { version: 1, faults: [{ type: 'status_code', statusCode: 503 }] },
      }),
    )

    expect(await delayed(restApiEvent(), makeContext())).toEqual(await hello())
    expect(await failing(restApiEvent(), makeContext())).toMatchObject({ statusCode: 503 })
  })
})
