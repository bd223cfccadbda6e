/**
 * Injected faults in OpenTelemetry: an SDK registered as the ADOT and
 * OpenTelemetry Lambda layers register theirs (a tracer provider and an
 * AsyncLocalStorage context manager, through `@opentelemetry/api`), spans
 * kept by an in-memory exporter. The chaos middlewares find the SDK through
 * the API's global registry and import nothing.
 */
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb'
import middy from '@middy/core'
import { chaosAwsSdk } from '@middy-chaos/aws-sdk'
import { chaosLatency } from '@middy-chaos/latency'
import { chaosPoint, chaosPoints } from '@middy-chaos/point'
import { chaosStatusCode } from '@middy-chaos/status-code'
import { context, type Span, trace } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base'
import { afterAll, afterEach, beforeAll, describe, expect, inject, it, vi } from 'vitest'
import { makeContext, restApiEvent } from '../helpers/index.js'

const exporter = new InMemorySpanExporter()
const register = () => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
  trace.setGlobalTracerProvider(
    new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }),
  )
}
const unregister = () => {
  trace.disable()
  context.disable()
}

beforeAll(() => {
  register()
  // Chaos writes one log line per injected fault: keep test output quiet.
  vi.spyOn(console, 'info').mockImplementation(() => undefined)
})
afterEach(() => exporter.reset())
afterAll(unregister)

const hello = async () => ({ statusCode: 200, body: 'Hello from Lambda!' })
/** A Middy handler, whatever its types. */
type Handler = (...args: never[]) => Promise<unknown>

/** One invocation inside an active span, as the Lambda layers' instrumentation runs it. */
const invoke = async (chain: Handler) => {
  const handler = chain as unknown as (event: unknown, context: unknown) => Promise<unknown>
  let response: unknown
  let error: unknown
  await trace.getTracer('lambda').startActiveSpan('invocation', async (span: Span) => {
    try {
      response = await handler(restApiEvent(), makeContext())
    } catch (thrown) {
      error = thrown
    } finally {
      span.end()
    }
  })
  const spans = exporter.getFinishedSpans()
  const invocation = spans.find((span) => span.name === 'invocation') as ReadableSpan
  const children = spans.filter(
    (span) => span.parentSpanContext?.spanId === invocation.spanContext().spanId,
  )
  return { response, error, spans, invocation, children }
}

const ms = (span: ReadableSpan) => span.duration[0] * 1000 + span.duration[1] / 1e6
const chaosKeys = (attributes: object) =>
  Object.keys(attributes).filter((key) => key.startsWith('chaos.'))

describe('OpenTelemetry: an injected delay', () => {
  it('sets the facts on the active span, adds an event and a child span covering the wait', async () => {
    const handler = middy(hello).use(
      chaosLatency({ config: { version: 1, faults: [{ type: 'latency', delay: 40 }] } }),
    )

    const { response, invocation, children } = await invoke(handler)

    expect(response).toEqual(await hello())
    const facts = {
      'chaos.fault.type': 'latency',
      'chaos.fault.phase': 'before',
      'chaos.fault.rate': 1,
      'chaos.fault.delay': 40,
      'chaos.fault.min_delay': 40,
      'chaos.fault.max_delay': 40,
    }
    expect(invocation.attributes).toEqual({ ...facts, 'chaos.fault.injected': true })
    expect(invocation.events.map((event) => [event.name, event.attributes])).toEqual([
      ['chaos.fault.injected', { ...facts, 'chaos.fault.injected': true }],
    ])
    const [wait, ...others] = children
    expect(others).toEqual([])
    expect(wait?.name).toBe('chaos latency')
    expect(wait?.instrumentationScope.name).toBe('middy-chaos')
    expect(wait?.attributes).toMatchObject({
      'chaos.fault.injected': true,
      'chaos.fault.type': 'latency',
      'chaos.fault.delay': 40,
    })
    // It covers the wait: the delay (to the ms a timer may fire early), inside the invocation.
    expect(ms(wait as ReadableSpan)).toBeGreaterThanOrEqual(40 - 2)
    expect(ms(wait as ReadableSpan)).toBeLessThanOrEqual(ms(invocation))
    // Attribute names as OpenTelemetry writes them: lower case, dot-separated, snake_case.
    for (const span of [invocation, wait as ReadableSpan])
      for (const key of chaosKeys(span.attributes)) expect(key).toMatch(/^chaos\.fault\.[a-z_]+$/)
  })
})

describe('OpenTelemetry: an injected error', () => {
  it('marks the span that records the error as injected, with the error name', async () => {
    const handler = middy(hello).use(
      chaosStatusCode({
        config: { version: 1, faults: [{ type: 'status_code', statusCode: 503 }] },
      }),
    )

    const { response, invocation, children } = await invoke(handler)

    expect(response).toMatchObject({ statusCode: 503 })
    expect(invocation.attributes).toMatchObject({
      'chaos.fault.injected': true,
      'chaos.fault.type': 'status_code',
      'chaos.fault.status_code': 503,
      'chaos.fault.original_status_code': 200,
      'chaos.fault.error_name': 'ServiceUnavailableError',
      'chaos.fault.error_message': '{"message":"Injected fault"}',
    })
    expect(children).toEqual([])
  })
})

describe('OpenTelemetry: faults off, dry runs, no span, no SDK', () => {
  it('with faults off, adds nothing to the span and starts none', async () => {
    const off = { is_enabled: false, fault_type: 'latency', delay: 400, rate: 1 }
    const handler = middy(hello)
      .use(chaosLatency({ config: off }))
      .use(chaosStatusCode({ config: off }))

    const { spans, invocation } = await invoke(handler)

    expect(spans).toEqual([invocation])
    expect(chaosKeys(invocation.attributes)).toEqual([])
    expect(invocation.events).toEqual([])
  })

  it('a dry run says what would have fired, and starts no span', async () => {
    const handler = middy(hello).use(
      chaosLatency({
        dryRun: true,
        config: { version: 1, faults: [{ type: 'latency', delay: 400 }] },
      }),
    )

    const { spans, invocation } = await invoke(handler)

    expect(spans).toEqual([invocation])
    expect(invocation.attributes).toMatchObject({
      'chaos.fault.dry_run': true,
      'chaos.fault.dry_run_type': 'latency',
    })
    expect(invocation.attributes['chaos.fault.injected']).toBeUndefined()
    expect(invocation.events.map((event) => event.name)).toEqual(['chaos.fault.dry_run'])
  })

  it('with no active span, starts none and the fault still fires', async () => {
    const handler = middy(hello).use(
      chaosLatency({ config: { version: 1, faults: [{ type: 'latency', delay: 20 }] } }),
    )
    const started = performance.now()

    expect(await handler(restApiEvent(), makeContext())).toEqual(await hello())
    expect(performance.now() - started).toBeGreaterThanOrEqual(20 - 2)
    expect(exporter.getFinishedSpans()).toEqual([])
  })

  it('with no SDK registered, does nothing but inject', async () => {
    unregister()
    try {
      const handler = middy(hello).use(
        chaosStatusCode({
          config: { version: 1, faults: [{ type: 'status_code', statusCode: 503 }] },
        }),
      )

      const { response, spans } = await invoke(handler)

      expect(response).toMatchObject({ statusCode: 503 })
      expect(spans).toEqual([])
    } finally {
      register()
    }
  })
})

describe('OpenTelemetry: faults on the calls an invocation makes', () => {
  it('an AWS SDK fault adds an event per affected attempt and a span for its delay', async () => {
    const client = new DynamoDBClient({ endpoint: inject('dynamoEndpoint'), region: 'us-east-1' })
    const handler = middy(async () => {
      await client.send(new ListTablesCommand({}))
      return { statusCode: 200, body: 'listed' }
    }).use(
      chaosAwsSdk({
        clients: [client],
        config: {
          version: 1,
          faults: [{ type: 'aws_sdk', error: 'ServiceUnavailable', attempts: 2, delay: 15 }],
        },
      }),
    )

    const { response, invocation, children } = await invoke(handler)

    expect(response).toEqual({ statusCode: 200, body: 'listed' })
    const calls = invocation.events.filter(
      (event) => event.attributes?.['chaos.fault.operation'] === 'ListTables',
    )
    expect(calls.map((event) => [event.name, event.attributes?.['chaos.fault.attempt']])).toEqual([
      ['chaos.fault.injected', 1],
      ['chaos.fault.injected', 2],
    ])
    expect(calls[0]?.attributes).toMatchObject({
      'chaos.fault.type': 'aws_sdk',
      'chaos.fault.service': 'DynamoDB',
      'chaos.fault.error': 'ServiceUnavailable',
    })
    expect(children.map((span) => span.name)).toEqual(['chaos aws_sdk', 'chaos aws_sdk'])
    for (const span of children) expect(ms(span)).toBeGreaterThanOrEqual(15 - 2)
  })
})

describe('OpenTelemetry: a failure point in the handler', () => {
  it('marks the point it affected with an event, and its delay is a span of its own', async () => {
    const handler = middy(async () => {
      await chaosPoint('orders.charge', { labels: { provider: 'stripe' } })
      await chaosPoint('orders.save')
      return { statusCode: 201, body: 'saved' }
    }).use(
      chaosPoints({
        config: { version: 1, faults: [{ type: 'point', name: 'orders.charge', delay: 15 }] },
      }),
    )

    const { response, invocation, children } = await invoke(handler)

    expect(response).toEqual({ statusCode: 201, body: 'saved' })
    const points = invocation.events.filter((event) => event.attributes?.['chaos.fault.point'])
    expect(points.map((event) => [event.name, event.attributes?.['chaos.fault.point']])).toEqual([
      ['chaos.fault.injected', 'orders.charge'],
    ])
    expect(children.map((span) => span.name)).toEqual(['chaos point'])
    expect(ms(children[0] as ReadableSpan)).toBeGreaterThanOrEqual(15 - 2)
  })
})
