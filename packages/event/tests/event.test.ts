import middy from '@middy/core'
import httpErrorHandler from '@middy/http-error-handler'
import httpJsonBodyParser from '@middy/http-json-body-parser'
import type { ChaosConfig } from '@middy-chaos/core'
import { type ConfigIssue, FieldReader } from '@middy-chaos/core'
import type { APIGatewayProxyEvent } from 'aws-lambda'
import { describe, expect, it } from 'vitest'
import {
  helloWorld,
  httpApiEvent,
  makeContext,
  restApiEvent,
  useCapturedLogs,
} from '../../../test/helpers/index.js'
import type { EventEntry } from '../src/index.js'
import { chaosEvent, eventFault } from '../src/index.js'

/** A middy-chaos config with one event entry. */
const one = (entry: Omit<EventEntry, 'type'>): ChaosConfig => ({
  version: 1,
  faults: [{ type: 'event', ...entry }],
})

/** A chain with the event fault whose handler records the event it receives. */
const chain = (entry: Omit<EventEntry, 'type'>, options = {}) => {
  const seen: unknown[] = []
  const handler = middy(async (event: unknown) => {
    seen.push(event)
    return helloWorld()
  }).use(chaosEvent({ config: one(entry), ...options }))
  return { handler, seen }
}

const ORDER = { id: 'o-1', email: 'ada@example.com', items: [{ sku: 'a', qty: 1 }] }

/** A POST with a JSON body, as API Gateway REST sends it. */
const post = (body: string = JSON.stringify(ORDER), overrides: Record<string, unknown> = {}) =>
  restApiEvent({
    httpMethod: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer t' },
    pathParameters: { id: 'o-1' },
    body,
    ...overrides,
  })

/** Deep-freezes a value, as a caller's event may be. */
const deepFreeze = <T>(value: T): T => {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child)
    Object.freeze(value)
  }
  return value
}

describe('chaosEvent: fields of the event', () => {
  const logs = useCapturedLogs()

  it('sets and removes fields by path; the handler sees them, the caller’s event is untouched', async () => {
    // Prepare: a frozen event, and a snapshot of it
    const event = deepFreeze(post())
    const snapshot = structuredClone(event)
    const { handler, seen } = chain({
      remove: ['headers.authorization'],
      set: [{ path: 'pathParameters.id', value: '../../etc/passwd' }],
    })

    // Act
    await handler(event, makeContext())

    // Assess: the handler got a copy with the edits, sharing what did not change
    const received = seen[0] as typeof event
    expect(received).not.toBe(event)
    expect(received.headers).toEqual({ 'content-type': 'application/json' })
    expect(received.pathParameters).toEqual({ id: '../../etc/passwd' })
    expect(received.requestContext).toBe(event.requestContext)
    expect(received.body).toBe(event.body)
    expect(event).toEqual(snapshot)
    expect(logs.injected()[0]).toMatchObject({
      chaos: {
        faultType: 'event',
        phase: 'before',
        target: 'event',
        edits: ['set pathParameters.id', 'remove headers.authorization'],
        edited: ['pathParameters.id', 'headers.authorization'],
      },
    })
    expect(JSON.stringify(logs.lines)).not.toMatch(/passwd|Bearer|ada@example/)
  })

  it('hands the altered event to the middlewares after it, as request.event', async () => {
    // Prepare: a validator-like middleware used after the chaos middleware
    const validated: unknown[] = []
    const event = post()
    const handler = middy(async (received: unknown) => {
      validated.push(received)
      return helloWorld()
    })
      .use(chaosEvent({ config: one({ remove: 'pathParameters' }) }))
      .before((request) => {
        validated.push(request.event)
      })

    // Act
    await handler(event, makeContext())

    // Assess
    expect(validated[0]).toBe(validated[1])
    expect(validated[0]).not.toHaveProperty('pathParameters')
    expect(event.pathParameters).toEqual({ id: 'o-1' })
  })

  it('edits fields of an SQS record', async () => {
    const event = { Records: [{ messageId: 'm-1', body: '{"a":1}' }, { messageId: 'm-2' }] }
    const { handler, seen } = chain({ set: [{ path: 'Records[0].body', value: 'not json' }] })
    await handler(event, makeContext())
    expect(seen[0]).toEqual({
      Records: [{ messageId: 'm-1', body: 'not json' }, { messageId: 'm-2' }],
    })
    expect((seen[0] as typeof event).Records[1]).toBe(event.Records[1])
    expect(event.Records[0]?.body).toBe('{"a":1}')
  })
})

describe('chaosEvent: the body', () => {
  const logs = useCapturedLogs()

  it('removes and changes fields inside a JSON body with target "body"', async () => {
    const { handler, seen } = chain({
      target: 'body',
      remove: ['email'],
      set: [{ path: 'items.0.qty', value: -5 }],
    })
    await handler(post(), makeContext())
    expect(JSON.parse((seen[0] as { body: string }).body)).toEqual({
      id: 'o-1',
      items: [{ sku: 'a', qty: -5 }],
    })
    expect(logs.injected()[0]).toMatchObject({
      chaos: { target: 'body', edited: ['items.0.qty', 'email'] },
    })
  })

  it('edits a base64 JSON body and keeps it base64', async () => {
    const event = post(Buffer.from(JSON.stringify(ORDER)).toString('base64'), {
      isBase64Encoded: true,
    })
    const { handler, seen } = chain({ target: 'body', remove: 'email' })
    await handler(event, makeContext())
    const received = seen[0] as { body: string; isBase64Encoded: boolean }
    expect(received.isBase64Encoded).toBe(true)
    expect(JSON.parse(Buffer.from(received.body, 'base64').toString())).not.toHaveProperty('email')
  })

  it('truncates the body, and the bytes of a base64 one', async () => {
    const text = chain({ truncate: 10 })
    await text.handler(post(), makeContext())
    expect((text.seen[0] as { body: string }).body).toBe(JSON.stringify(ORDER).slice(0, 10))
    expect(logs.injected()[0]).toMatchObject({
      chaos: {
        body: 'truncate',
        originalBodyLength: JSON.stringify(ORDER).length,
        bodyLength: 10,
        lengthUnit: 'characters',
      },
    })
    const binary = chain({ truncate: 2 })
    await binary.handler(
      httpApiEvent({ body: Buffer.from('abcdef').toString('base64'), isBase64Encoded: true }),
      makeContext(),
    )
    const received = binary.seen[0] as { body: string; isBase64Encoded: boolean }
    expect(received.isBase64Encoded).toBe(true)
    expect(Buffer.from(received.body, 'base64').toString()).toBe('ab')
  })

  it('makes a JSON body invalid', async () => {
    const { handler, seen } = chain({ invalidJson: true })
    await handler(post(), makeContext())
    expect(() => JSON.parse((seen[0] as { body: string }).body)).toThrow()
  })

  it('mangles the body as failure-lambda corrupts a response', async () => {
    const { handler, seen } = chain({ mangle: true })
    await handler(post('z'.repeat(100)), makeContext())
    expect((seen[0] as { body: string }).body).toMatch(/^z{30,79}\uFFFD{3}$/)
  })

  it('replaces the body with text, or a JSON value written out; base64 no more', async () => {
    const { handler, seen } = chain({ body: { id: 42 } })
    await handler(post('AAAA', { isBase64Encoded: true }), makeContext())
    expect(seen[0]).toMatchObject({ body: '{"id":42}', isBase64Encoded: false })
  })

  it('leaves an event without a string body alone when asked to truncate it, with a warning', async () => {
    const event = restApiEvent()
    const { handler, seen } = chain({ truncate: 3 })
    await handler(event, makeContext())
    expect(seen[0]).toBe(event)
    expect(logs.injected()).toHaveLength(0)
    expect(logs.byLevel('warn')[0]?.message).toBe(
      'Event fault skipped: body: the body is null, not a string',
    )
  })
})

describe('chaosEvent: nothing leaks', () => {
  const logs = useCapturedLogs()

  it('leaves nothing for the next invocation, also when the handler throws', async () => {
    // Prepare: a handler that mutates what it receives, then throws
    const config = { value: one({ set: [{ path: 'tags', value: ['chaos'] }] }) }
    const event = { tags: ['mine'], nested: { n: 1 } }
    const received: unknown[] = []
    const handler = middy(async (got: { tags: string[]; nested: { n: number } }) => {
      received.push(structuredClone(got))
      got.tags.push('handler was here')
      throw new Error('handler failed')
    }).use(chaosEvent({ config: config.value }))

    // Act
    await expect(handler(event, makeContext())).rejects.toThrow('handler failed')
    await expect(handler(event, makeContext())).rejects.toThrow('handler failed')

    // Assess: each invocation got a fresh value; the caller's event is as it was
    expect(received).toEqual([
      { tags: ['chaos'], nested: { n: 1 } },
      { tags: ['chaos'], nested: { n: 1 } },
    ])
    expect(event).toEqual({ tags: ['mine'], nested: { n: 1 } })
    expect(config.value.faults[0]).toEqual({
      type: 'event',
      set: [{ path: 'tags', value: ['chaos'] }],
    })
  })

  it.each([
    ['the document is disabled', { ...one({ truncate: 1 }), enabled: false }],
    ['the entry is disabled', one({ truncate: 1, enabled: false })],
    ['the rate is 0', one({ truncate: 1, rate: 0 })],
    ['chaos_lambda is_enabled is false', { is_enabled: false, fault_type: 'event' }],
  ])('changes nothing when %s: the handler gets the caller’s own event', async (_, config) => {
    const event = post()
    const seen: unknown[] = []
    const handler = middy(async (got: unknown) => {
      seen.push(got)
      return helloWorld()
    }).use(chaosEvent({ config }))
    await handler(event, makeContext())
    expect(seen[0]).toBe(event)
    expect(logs.lines.filter((line) => line.level !== 'DEBUG')).toEqual([])
  })

  it('only logs in a dry run: the handler gets the caller’s own event', async () => {
    const event = post()
    const { handler, seen } = chain({ remove: ['body'] }, { dryRun: true })
    await handler(event, makeContext())
    expect(seen[0]).toBe(event)
    expect(logs.injected()).toHaveLength(0)
    expect(
      logs.lines.find((line) => line.message === 'Chaos fault dry run: not injected'),
    ).toMatchObject({ chaos: { faultType: 'event', dryRun: true, edits: ['remove body'] } })
  })
})

describe('chaosEvent: the config', () => {
  const logs = useCapturedLogs()

  it.each([
    [{ body: 'x', truncate: 3 }, 'faults[0].truncate: conflicts with "body"'],
    [{ set: [{ path: 'a', value: 1 }], remove: ['a.b'] }, 'faults[0].remove: says two things'],
    [
      { truncate: 3, remove: ['body'] },
      'faults[0].remove: remove body conflicts with the body change',
    ],
    [
      { invalidJson: true, set: [{ path: 'isBase64Encoded', value: true }] },
      'faults[0].set: set isBase64Encoded conflicts with the body change',
    ],
    [{ target: 'body', truncate: 3, remove: ['a'] }, 'faults[0].remove: remove a conflicts'],
    [{ target: 'body', truncate: 3 }, 'faults[0].target: says where set and remove apply'],
    [{ target: 'headers', remove: ['a'] }, 'faults[0].target: must be one of "event", "body"'],
    [{ remove: ['a.constructor'] }, 'faults[0].remove[0]: must not use the segment "constructor"'],
    [{ truncate: -1 }, 'faults[0].truncate: must be an integer from 0'],
    [{}, 'faults[0].set: is required, or one of "body"'],
  ])('reports %j and leaves the event alone', async (entry, message) => {
    const event = post()
    // Values the types reject, on purpose: what the library does with them at run time.
    const { handler, seen } = chain(entry as Omit<EventEntry, 'type'>)
    await handler(event, makeContext())
    expect(seen[0]).toBe(event)
    const warning = logs.byLevel('warn')[0]
    expect(warning?.message).toBe('Invalid event fault ignored')
    expect(String((warning?.issues as string[] | undefined)?.[0])).toContain(message)
  })
})

describe("chaosEvent: with Middy's body parser, the input validation it tests", () => {
  useCapturedLogs()
  /** The fixture, typed as the parser expects (it reads only what the fixture has). */
  const request = () => post() as unknown as APIGatewayProxyEvent

  it('gets a 422 from the parser for a body made invalid, and the handler does not run', async () => {
    // Prepare: the usual HTTP chain, with the chaos middleware before the parser
    let ran = false
    const handler = middy(async (event: unknown) => {
      ran = true
      return { statusCode: 200, body: (event as { body: { id: string } }).body.id }
    })
      .use(httpErrorHandler({ logger: false }))
      .use(chaosEvent({ config: one({ invalidJson: true }) }))
      .use(httpJsonBodyParser())

    // Act
    const response = await handler(request(), makeContext())

    // Assess
    expect(response).toMatchObject({ statusCode: 422 })
    expect(ran).toBe(false)
  })

  it('hands the parser a body without the removed field', async () => {
    const handler = middy(async (event: unknown) => ({
      statusCode: 200,
      body: Object.keys((event as { body: object }).body).join(','),
    }))
      .use(chaosEvent({ config: one({ target: 'body', remove: ['email', 'items'] }) }))
      .use(httpJsonBodyParser())
    expect(await handler(request(), makeContext())).toEqual({ statusCode: 200, body: 'id' })
  })
})

describe('eventFault.describe', () => {
  it.each([
    [{ truncate: 5 }, 'event: body truncated to 5'],
    [
      { target: 'body', set: [{ path: 'a', value: 1 }], remove: ['b'] },
      'event: set body.a, remove body.b',
    ],
    [{ remove: ['a', 'b', 'c', 'd', 'e'] }, 'event: remove a, remove b, remove c, 2 more edits'],
  ] as const)('%o reads as %s in chaos status', (entry, expected) => {
    const issues: ConfigIssue[] = []
    const params = eventFault.parse(new FieldReader(entry, 'faults[0]', issues), {})
    expect(issues).toEqual([])
    expect(params).toBeDefined()
    expect(eventFault.describe?.(params as NonNullable<typeof params>)).toBe(expected)
  })
})

describe('what an entry asks for', () => {
  const read = (entry: Record<string, unknown>) => {
    const issues: ConfigIssue[] = []
    const params = eventFault.parse(new FieldReader(entry, 'faults[0]', issues), {})
    return { params, issues }
  }

  it.each([[{ body: false }], [{ body: false, remove: 'a' }]])(
    'reads "body": false in %j as the body false, alone or with edits',
    (entry) => {
      // Act
      const { params, issues } = read(entry)

      // Assess
      expect(issues).toEqual([])
      expect(params?.body).toMatchObject({ kind: 'replace', text: 'false' })
    },
  )

  it.each([[{ mangle: false }], [{ invalidJson: false }]])(
    'reports %j: a flag turned off asks for nothing',
    (entry) => {
      // Act
      const { params, issues } = read(entry)

      // Assess
      expect(params).toBeUndefined()
      expect(issues.map((issue) => issue.path)).toEqual(['faults[0].set'])
    },
  )
})
