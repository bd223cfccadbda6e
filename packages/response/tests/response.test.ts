import middy from '@middy/core'
import { type ChaosConfig, type ConfigIssue, FieldReader } from '@middy-chaos/core'
import { describe, expect, it } from 'vitest'
import { V1_CONFIGURATION } from '../../../test/formats/failure-lambda.fixtures.js'
import {
  albEvent,
  helloWorld,
  httpApiEvent,
  makeContext,
  restApiEvent,
  untypedConfig,
  useCapturedLogs,
} from '../../../test/helpers/index.js'
import type { ResponseEntry } from '../src/index.js'
import { chaosResponse, responseFault } from '../src/index.js'

/** A middy-chaos config with one response entry. */
const one = (entry: Omit<ResponseEntry, 'type'>): ChaosConfig => ({
  version: 1,
  faults: [{ type: 'response', ...entry }],
})

/** A handler answering `response` through a chain with the response fault. */
const chain = (response: unknown, entry: Omit<ResponseEntry, 'type'>, options = {}) =>
  middy(async () => response).use(chaosResponse({ config: one(entry), ...options }))

const ORDER = { id: 'o-1', user: { name: 'Ada', email: 'ada@example.com' }, items: [{ price: 3 }] }

/** Deep-freezes a value, as a cached response may be. */
const deepFreeze = <T>(value: T): T => {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child)
    Object.freeze(value)
  }
  return value
}

describe('chaosResponse: the body', () => {
  const logs = useCapturedLogs()

  it('truncates the body of a REST API response and logs lengths, not content', async () => {
    // Act
    const response = await chain(helloWorld(), { truncate: 5 })(restApiEvent(), makeContext())

    // Assess
    expect(response).toEqual({ statusCode: 200, body: 'Hello' })
    expect(logs.injected()[0]).toMatchObject({
      chaos: {
        faultType: 'response',
        phase: 'after',
        body: 'truncate',
        responseShape: 'http',
        originalBodyLength: 18,
        bodyLength: 5,
        lengthUnit: 'characters',
      },
    })
    expect(JSON.stringify(logs.lines)).not.toContain('Hello')
  })

  it('replaces the body, keeping status and headers', async () => {
    const original = { statusCode: 200, headers: { 'content-type': 'text/plain' }, body: 'ok' }
    expect(
      await chain(original, { body: { error: 'corrupted' } })(httpApiEvent(), makeContext()),
    ).toEqual({
      statusCode: 200,
      headers: { 'content-type': 'text/plain' },
      body: '{"error":"corrupted"}',
    })
  })

  it('makes a JSON body invalid', async () => {
    const original = { statusCode: 200, body: JSON.stringify(ORDER) }
    const response = (await chain(original, { invalidJson: true })(
      restApiEvent(),
      makeContext(),
    )) as { body: string }
    expect(() => JSON.parse(response.body)).toThrow()
    expect(response.body).toBe(JSON.stringify(ORDER).slice(0, -1))
  })

  it('leaves a body that is not JSON alone when asked for invalid JSON, with a warning', async () => {
    const original = { statusCode: 200, body: '<html></html>' }
    expect(await chain(original, { invalidJson: true })(restApiEvent(), makeContext())).toBe(
      original,
    )
    expect(logs.injected()).toHaveLength(0)
    expect(logs.byLevel('warn')[0]?.message).toBe(
      'Response fault skipped: body: the body is not JSON',
    )
  })

  it('mangles the body as failure-lambda does', async () => {
    const body = 'x'.repeat(100)
    const response = (await chain({ statusCode: 200, body }, { mangle: true })(
      restApiEvent(),
      makeContext(),
    )) as { body: string }
    expect(response.body).toMatch(/^x{30,79}\uFFFD{3}$/)
  })
})

describe('chaosResponse: base64 bodies', () => {
  useCapturedLogs()
  const image = Buffer.from('0123456789').toString('base64')

  it('truncates the decoded bytes and encodes them back', async () => {
    const original = { statusCode: 200, isBase64Encoded: true, body: image }
    const response = (await chain(original, { truncate: 4 })(restApiEvent(), makeContext())) as {
      body: string
      isBase64Encoded: boolean
    }
    expect(response.isBase64Encoded).toBe(true)
    expect(Buffer.from(response.body, 'base64').toString()).toBe('0123')
  })

  it('sends a replacement as plain text: isBase64Encoded becomes false', async () => {
    const original = { statusCode: 200, isBase64Encoded: true, body: image }
    expect(await chain(original, { body: 'oops' })(albEvent(), makeContext())).toEqual({
      statusCode: 200,
      isBase64Encoded: false,
      body: 'oops',
    })
  })

  it('edits fields of a base64 JSON body and keeps it base64', async () => {
    const original = {
      statusCode: 200,
      isBase64Encoded: true,
      body: Buffer.from(JSON.stringify(ORDER)).toString('base64'),
    }
    const response = (await chain(original, { remove: ['user.email'] })(
      httpApiEvent(),
      makeContext(),
    )) as { body: string }
    expect(JSON.parse(Buffer.from(response.body, 'base64').toString())).toEqual({
      id: 'o-1',
      user: { name: 'Ada' },
      items: [{ price: 3 }],
    })
  })
})

describe('chaosResponse: fields by path', () => {
  const logs = useCapturedLogs()

  it('drops and changes fields inside a JSON body, logging the paths only', async () => {
    // Prepare
    const original = { statusCode: 200, body: JSON.stringify(ORDER) }
    const handler = chain(original, {
      remove: ['user.email'],
      set: [{ path: 'items[0].price', value: 'free' }],
    })

    // Act
    const response = (await handler(restApiEvent(), makeContext())) as { body: string }

    // Assess
    expect(JSON.parse(response.body)).toEqual({
      id: 'o-1',
      user: { name: 'Ada' },
      items: [{ price: 'free' }],
    })
    const line = logs.injected()[0]
    expect(line).toMatchObject({
      chaos: {
        faultType: 'response',
        edits: ['set items[0].price', 'remove user.email'],
        edited: ['items[0].price', 'user.email'],
      },
    })
    expect(JSON.stringify(line)).not.toMatch(/free|ada@example|Ada/)
  })

  it('edits the value a direct invoke returns, as plain JSON', async () => {
    const response = await chain(ORDER, { remove: ['user'], set: [{ path: 'total', value: -1 }] })(
      {},
      makeContext(),
    )
    expect(response).toEqual({ id: 'o-1', items: [{ price: 3 }], total: -1 })
    expect(logs.injected()[0]).toMatchObject({ chaos: { responseShape: 'plain' } })
  })

  it('skips, and says so, what does not apply to a plain response', async () => {
    const response = await chain(ORDER, { remove: ['user.email'], statusCode: 500 })(
      {},
      makeContext(),
    )
    expect(response).toEqual({ ...ORDER, user: { name: 'Ada' } })
    expect(logs.injected()[0]).toMatchObject({
      chaos: { skipped: ['statusCode: not an HTTP response'] },
    })
  })

  it('leaves a response alone when nothing applies, with a warning', async () => {
    const original = { batchItemFailures: [] }
    expect(await chain(original, { statusCode: 500 })({ Records: [] }, makeContext())).toBe(
      original,
    )
    expect(logs.injected()).toHaveLength(0)
    expect(logs.byLevel('warn')[0]?.message).toBe(
      'Response fault skipped: statusCode: not an HTTP response',
    )
  })
})

describe('chaosResponse: headers and status', () => {
  useCapturedLogs()

  it('adds, changes and removes headers, whatever their case', async () => {
    const original = {
      statusCode: 200,
      headers: { 'Content-Type': 'application/json', ETag: '"abc"', 'x-keep': '1' },
      body: '{}',
    }
    expect(
      await chain(original, {
        headers: { 'content-type': 'text/html', 'x-chaos': 'on' },
        removeHeaders: ['etag'],
      })(restApiEvent(), makeContext()),
    ).toEqual({
      statusCode: 200,
      headers: { 'x-keep': '1', 'content-type': 'text/html', 'x-chaos': 'on' },
      body: '{}',
    })
  })

  it('writes multi-value headers where an ALB with multi-value headers reads them', async () => {
    const original = {
      statusCode: 200,
      multiValueHeaders: { 'Set-Cookie': ['a=1', 'b=2'], 'x-keep': ['1'] },
      body: 'ok',
    }
    expect(
      await chain(original, { headers: { 'x-chaos': 'on' }, removeHeaders: 'set-cookie' })(
        albEvent(),
        makeContext(),
      ),
    ).toEqual({
      statusCode: 200,
      multiValueHeaders: { 'x-keep': ['1'], 'x-chaos': ['on'] },
      body: 'ok',
    })
  })

  it('takes a header it sets out of multiValueHeaders, which API Gateway would merge in', async () => {
    const original = {
      statusCode: 200,
      headers: { a: '1' },
      multiValueHeaders: { 'X-Chaos': ['old'], b: ['2'] },
      body: 'ok',
    }
    expect(
      await chain(original, { headers: { 'x-chaos': 'new' } })(restApiEvent(), makeContext()),
    ).toEqual({
      statusCode: 200,
      headers: { a: '1', 'x-chaos': 'new' },
      multiValueHeaders: { b: ['2'] },
      body: 'ok',
    })
  })

  it('changes the status, and an ALB status description with it', async () => {
    expect(await chain(helloWorld(), { statusCode: 503 })(albEvent(), makeContext())).toEqual({
      statusCode: 503,
      statusDescription: '503 Service Unavailable',
      body: 'Hello from Lambda!',
    })
  })

  it('makes a bare HTTP API / function URL answer a response before altering it', async () => {
    expect(
      await chain('Hello from Lambda!', { truncate: 5, headers: { 'x-chaos': 'on' } })(
        httpApiEvent(),
        makeContext(),
      ),
    ).toEqual({
      statusCode: 200,
      headers: { 'content-type': 'text/plain', 'x-chaos': 'on' },
      body: 'Hello',
    })
    expect(
      await chain({ hello: 'world', n: 1 }, { remove: 'n' })(httpApiEvent(), makeContext()),
    ).toEqual({
      statusCode: 200,
      headers: { 'content-type': 'application/json' },
      body: '{"hello":"world"}',
    })
  })
})

describe('chaosResponse: nothing leaks', () => {
  const logs = useCapturedLogs()

  it('never mutates the object the handler returns: a cached response stays clean', async () => {
    // Prepare: a handler that returns the same (deep-frozen) object every time
    const CACHED = deepFreeze({
      statusCode: 200,
      headers: { etag: '"1"' },
      multiValueHeaders: { 'x-m': ['1'] },
      body: JSON.stringify(ORDER),
    })
    const snapshot = structuredClone(CACHED)
    const entry = {
      remove: ['user'],
      headers: { 'x-chaos': 'on', 'x-m': 'changed' },
      removeHeaders: ['etag'],
      statusCode: 500,
    }
    const on = middy(async () => CACHED).use(chaosResponse({ config: one(entry) }))
    const off = middy(async () => CACHED).use(
      chaosResponse({ config: { ...one(entry), enabled: false } }),
    )

    // Act
    const altered = await on(restApiEvent(), makeContext())
    const again = await on(restApiEvent(), makeContext())
    const clean = await off(restApiEvent(), makeContext())

    // Assess
    expect(altered).toMatchObject({ statusCode: 500, headers: { 'x-chaos': 'on' } })
    expect(again).toEqual(altered)
    expect(clean).toBe(CACHED)
    expect(CACHED).toEqual(snapshot)
  })

  it('gives a fresh set value each time: a handler that changes it changes no later answer', async () => {
    const handler = chain(
      { statusCode: 200, body: '{}' },
      {
        set: [{ path: 'tags', value: ['a'] }],
      },
    )
    const first = (await handler(restApiEvent(), makeContext())) as { body: string }
    const second = (await handler(restApiEvent(), makeContext())) as { body: string }
    expect(JSON.parse(first.body)).toEqual({ tags: ['a'] })
    expect(JSON.parse(second.body)).toEqual({ tags: ['a'] })
  })

  it('lets a handler error through untouched, and the next invocation is clean', async () => {
    // Prepare
    let fail = true
    const CACHED = Object.freeze({ statusCode: 200, body: 'ok' })
    const handler = middy(async () => {
      if (fail) throw new Error('handler failed')
      return CACHED
    }).use(chaosResponse({ config: one({ body: 'x' }) }))

    // Act
    const failed = handler(restApiEvent(), makeContext())

    // Assess
    await expect(failed).rejects.toThrow('handler failed')
    expect(logs.injected()).toHaveLength(0)
    fail = false
    expect(await handler(restApiEvent(), makeContext())).toEqual({ statusCode: 200, body: 'x' })
    expect(CACHED).toEqual({ statusCode: 200, body: 'ok' })
  })

  it.each([
    ['the document is disabled', { ...one({ body: 'x' }), enabled: false }],
    ['the entry is disabled', one({ body: 'x', enabled: false })],
    ['the rate is 0', one({ body: 'x', rate: 0 })],
    ['chaos_lambda is_enabled is false', { is_enabled: false, fault_type: 'response' }],
  ])('changes nothing when %s: the very object the handler returned', async (_, config) => {
    const original = { statusCode: 200, body: 'ok' }
    const handler = middy(async () => original).use(chaosResponse({ config }))
    expect(await handler(restApiEvent(), makeContext())).toBe(original)
    expect(logs.lines.filter((line) => line.level !== 'DEBUG')).toEqual([])
  })

  it('only logs in a dry run: the response is the handler’s own', async () => {
    const original = { statusCode: 200, body: 'ok' }
    const handler = chain(original, { body: 'x', statusCode: 500 }, { dryRun: true })
    expect(await handler(restApiEvent(), makeContext())).toBe(original)
    expect(logs.injected()).toHaveLength(0)
    expect(
      logs.lines.find((line) => line.message === 'Chaos fault dry run: not injected'),
    ).toMatchObject({
      chaos: {
        faultType: 'response',
        dryRun: true,
        body: 'replace',
        statusCode: 500,
        originalStatusCode: 200,
      },
    })
  })
})

describe('chaosResponse: the config', () => {
  const logs = useCapturedLogs()

  it.each([
    [{ body: 'x', truncate: 3 }, 'faults[0].truncate: conflicts with "body"'],
    [{ mangle: true, invalidJson: true }, 'faults[0].invalidJson: conflicts with "mangle"'],
    [{ set: [{ path: 'a', value: 1 }], remove: ['a'] }, 'faults[0].remove: says two things'],
    [{ truncate: 3, remove: ['a'] }, 'faults[0].remove: conflicts with the body change'],
    [
      { headers: { 'x-a': '1' }, removeHeaders: ['X-A'] },
      'faults[0].removeHeaders: conflicts with headers.x-a',
    ],
    [
      { headers: { 'x-a': '1', 'X-A': '2' } },
      'faults[0].headers.X-A: names the same header as "x-a"',
    ],
    [{ headers: { 'bad name': '1' } }, 'faults[0].headers.bad name: must be a header name'],
    [
      { headers: { 'x-a': 'a\r\nb' } },
      'faults[0].headers.x-a: must be at most 8192 characters without line breaks',
    ],
    [{ statusCode: 99 }, 'faults[0].statusCode: must be an integer from 100 to 599 (got 99)'],
    [{ truncate: 1.5 }, 'faults[0].truncate: must be an integer'],
    [{ remove: ['a.__proto__'] }, 'faults[0].remove[0]: must not use the segment "__proto__"'],
    [{}, 'faults[0].body: is required, or one of "truncate"'],
    [{ mangle: false }, 'faults[0].body: is required'],
  ])('reports %j and leaves the response alone', async (entry, message) => {
    const original = { statusCode: 200, body: '{"a":1}' }
    expect(await chain(original, entry)(restApiEvent(), makeContext())).toBe(original)
    const warning = logs.byLevel('warn')[0]
    expect(warning?.message).toBe('Invalid response fault ignored')
    expect(String((warning?.issues as string[] | undefined)?.[0])).toContain(message)
  })
})

describe("failure-lambda's corruption mode", () => {
  const logs = useCapturedLogs()
  const corruption = V1_CONFIGURATION.corruption

  it('replaces the body with its body field, after the handler (README "Configuration")', async () => {
    // Prepare: the README's flag, enabled, every invocation
    const config = { corruption: { ...corruption, enabled: true, percentage: 100 } }
    let ran = false
    const handler = middy(async () => {
      ran = true
      return { statusCode: 200, headers: { a: 'b' }, body: 'fine' }
    }).use(chaosResponse({ config }))

    // Act
    const response = await handler(restApiEvent(), makeContext())

    // Assess
    expect(ran).toBe(true)
    expect(response).toEqual({
      statusCode: 200,
      headers: { a: 'b' },
      body: '{"error": "corrupted"}',
    })
    expect(logs.injected()[0]).toMatchObject({
      chaos: { faultType: 'response', phase: 'after', rate: 1, body: 'replace' },
    })
  })

  it('replaces the body field of any object that has one, as failure-lambda does', async () => {
    const config = { corruption: { enabled: true, body: 'corrupted' } }
    const handler = middy(async () => ({ body: { a: 1 }, meta: 'm' })).use(
      chaosResponse({ config }),
    )
    expect(await handler({}, makeContext())).toEqual({ body: 'corrupted', meta: 'm' })
  })

  it('mangles the body without a body field', async () => {
    const config = { corruption: { enabled: true } }
    const handler = middy(async () => ({ statusCode: 200, body: 'y'.repeat(40) })).use(
      chaosResponse({ config }),
    )
    const response = (await handler(restApiEvent(), makeContext())) as { body: string }
    expect(response.body).toMatch(/^y{12,31}\uFFFD{3}$/)
  })

  it('reads percentage as the rate (README: 30)', async () => {
    const config = { corruption: { ...corruption, enabled: true, percentage: 30 } }
    const handler = middy(async () => ({ statusCode: 200, body: 'fine' })).use(
      chaosResponse({ config }),
    )
    let corrupted = 0
    for (let i = 0; i < 400; i++) {
      const response = (await handler(restApiEvent(), makeContext())) as { body: string }
      if (response.body !== 'fine') corrupted++
    }
    expect(corrupted).toBeGreaterThan(80)
    expect(corrupted).toBeLessThan(160)
  })

  it('corrupts only GET requests to the prod stage (README "Event-Based Targeting")', async () => {
    const config = {
      corruption: {
        enabled: true,
        percentage: 100,
        body: '{"error": "corrupted"}',
        match: [
          { path: 'requestContext.http.method', value: 'GET' },
          { path: 'requestContext.stage', value: 'prod' },
        ],
      },
    }
    const handler = middy(async () => ({ statusCode: 200, body: 'fine' })).use(
      chaosResponse({ config }),
    )
    const get = httpApiEvent({ requestContext: { http: { method: 'GET' }, stage: 'prod' } })
    const post = httpApiEvent({ requestContext: { http: { method: 'POST' }, stage: 'prod' } })
    expect(await handler(get, makeContext())).toEqual({
      statusCode: 200,
      body: '{"error": "corrupted"}',
    })
    expect(await handler(post, makeContext())).toEqual({ statusCode: 200, body: 'fine' })
  })

  it('does nothing with the README configuration as written: every flag is off', async () => {
    const original = { statusCode: 200, body: 'fine' }
    const handler = middy(async () => original).use(chaosResponse({ config: V1_CONFIGURATION }))
    expect(await handler(restApiEvent(), makeContext())).toBe(original)
    expect(logs.injected()).toHaveLength(0)
  })

  it('does nothing with a 0.x document naming corruption, a mode 0.x never had', async () => {
    const config = untypedConfig({ isEnabled: true, failureMode: 'corruption', rate: 1, body: 'x' })
    const original = { statusCode: 200, body: 'fine' }
    const handler = middy(async () => original).use(chaosResponse({ config }))
    expect(await handler(restApiEvent(), makeContext())).toBe(original)
    expect(logs.injected()).toHaveLength(0)
  })

  it('skips a flag whose body is not a string, as failure-lambda does, with a warning', async () => {
    const config = untypedConfig({ corruption: { enabled: true, body: { error: 1 } } })
    const original = { statusCode: 200, body: 'fine' }
    const handler = middy(async () => original).use(chaosResponse({ config }))
    expect(await handler(restApiEvent(), makeContext())).toBe(original)
    expect(JSON.stringify(logs.byLevel('warn'))).toContain('body must be a string')
  })
})

describe('responseFault.describe', () => {
  it.each([
    [
      { mangle: true, headers: { 'x-chaos': '1' }, removeHeaders: ['etag'], statusCode: 500 },
      'response: body mangled, headers x-chaos -etag, status 500',
    ],
    [{ remove: ['x'], statusCode: 502 }, 'response: remove x, status 502'],
  ] as const)('%o reads as %s in chaos status', (entry, expected) => {
    const issues: ConfigIssue[] = []
    const params = responseFault.parse(new FieldReader(entry, 'faults[0]', issues), {})
    expect(issues).toEqual([])
    expect(params).toBeDefined()
    expect(responseFault.describe?.(params as NonNullable<typeof params>)).toBe(expected)
  })
})
