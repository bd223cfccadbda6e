import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  MATCH_LIMITS,
  matches,
  NEVER_MATCHES,
  parseTargeting,
  type Targeting,
} from '../../src/match.js'
import { parsePath } from '../../src/path.js'
import type { ConfigIssue } from '../../src/types.js'

const parse = (fields: Record<string, unknown>, path = 'faults[0]') => {
  const issues: ConfigIssue[] = []
  const targeting = parseTargeting(fields, path, issues)
  return { targeting, issues }
}

const compile = (fields: Record<string, unknown>): Targeting => {
  const { targeting, issues } = parse(fields)
  expect(issues).toEqual([])
  return targeting as Targeting
}

const context = (overrides: Record<string, unknown> = {}) => ({
  functionName: 'orders-api',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:orders-api',
  awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e812345678',
  getRemainingTimeInMillis: () => 3000,
  ...overrides,
})

const httpEvent = {
  version: '2.0',
  rawPath: '/api/orders',
  headers: { 'x-debug': '1', 'x.dotted': 'yes' },
  requestContext: { http: { method: 'GET', path: '/api/orders' }, stage: 'prod' },
  queryStringParameters: null,
  isBase64Encoded: false,
  Records: [{ eventSource: 'aws:sqs', attempt: 2 }],
}

describe('parsePath', () => {
  it('reads dots and bracket indexes alike', () => {
    expect(parsePath('Records.0.eventSource')).toEqual({
      segments: ['Records', '0', 'eventSource'],
    })
    expect(parsePath('Records[0].eventSource')).toEqual({
      segments: ['Records', '0', 'eventSource'],
    })
    expect(parsePath('[1][2].a')).toEqual({ segments: ['1', '2', 'a'] })
    expect(parsePath('headers.x-debug')).toEqual({ segments: ['headers', 'x-debug'] })
  })

  it('refuses malformed paths with the reason', () => {
    expect(parsePath('')).toEqual({ error: 'must not be empty' })
    expect(parsePath('a..b')).toEqual({ error: 'has an empty key at character 3' })
    expect(parsePath('a.')).toEqual({ error: 'must not end with "."' })
    expect(parsePath('a[x]')).toEqual({
      error: 'has a bracket at character 2 that is not an index like [0]',
    })
    expect(parsePath('a]')).toEqual({ error: 'has an unmatched "]" at character 2' })
    expect(parsePath('a[0]b')).toEqual({ error: 'has an unexpected "b" at character 5' })
  })
})

describe('matches: conditions on the event', () => {
  it('applies everywhere without targeting', () => {
    expect(parse({ type: 'latency' }).targeting).toBeUndefined()
    expect(matches(undefined, undefined, undefined)).toBe(true)
  })

  it('compares JSON primitives with equals, without coercion', () => {
    const get = compile({ match: [{ path: 'requestContext.http.method', equals: 'GET' }] })
    const attempt = compile({ match: [{ path: 'Records[0].attempt', equals: 2 }] })
    const attemptText = compile({ match: [{ path: 'Records[0].attempt', equals: '2' }] })
    const base64 = compile({ match: [{ path: 'isBase64Encoded', equals: false }] })
    const nullQuery = compile({ match: [{ path: 'queryStringParameters', equals: null }] })
    expect(matches(get, httpEvent, context())).toBe(true)
    expect(matches(attempt, httpEvent, context())).toBe(true)
    expect(matches(attemptText, httpEvent, context())).toBe(false)
    expect(matches(base64, httpEvent, context())).toBe(true)
    expect(matches(nullQuery, httpEvent, context())).toBe(true)
    expect(matches(get, { requestContext: { http: { method: 'POST' } } }, context())).toBe(false)
  })

  it('matches one of several values', () => {
    const read = compile({
      match: [{ path: 'requestContext.http.method', oneOf: ['GET', 'HEAD'] }],
    })
    expect(matches(read, httpEvent, context())).toBe(true)
    expect(matches(read, { requestContext: { http: { method: 'PUT' } } }, context())).toBe(false)
    expect(matches(read, { requestContext: { http: { method: ['GET'] } } }, context())).toBe(false)
  })

  it('matches a string prefix, and only strings', () => {
    const api = compile({ match: [{ path: 'rawPath', prefix: '/api/' }] })
    expect(matches(api, httpEvent, context())).toBe(true)
    expect(matches(api, { rawPath: '/health' }, context())).toBe(false)
    expect(matches(api, { rawPath: 1 }, context())).toBe(false)
  })

  it('treats null as absent for exists', () => {
    const debug = compile({ match: [{ path: 'headers.x-debug', exists: true }] })
    const noQuery = compile({ match: [{ path: 'queryStringParameters', exists: false }] })
    const query = compile({ match: [{ path: 'queryStringParameters', exists: true }] })
    expect(matches(debug, httpEvent, context())).toBe(true)
    expect(matches(debug, { headers: {} }, context())).toBe(false)
    expect(matches(noQuery, httpEvent, context())).toBe(true)
    expect(matches(query, httpEvent, context())).toBe(false)
    expect(matches(debug, { headers: { 'x-debug': '' } }, context())).toBe(true)
  })

  it('requires every condition (AND)', () => {
    const both = compile({
      match: [
        { path: 'requestContext.http.method', equals: 'GET' },
        { path: 'requestContext.stage', equals: 'prod' },
      ],
    })
    expect(matches(both, httpEvent, context())).toBe(true)
    expect(
      matches(both, { requestContext: { http: { method: 'GET' }, stage: 'dev' } }, context()),
    ).toBe(false)
  })

  it('reads keys holding dots through the array form of a path', () => {
    const dotted = compile({ match: [{ path: ['headers', 'x.dotted'], equals: 'yes' }] })
    const indexed = compile({ match: [{ path: ['Records', 0, 'eventSource'], equals: 'aws:sqs' }] })
    expect(matches(dotted, httpEvent, context())).toBe(true)
    expect(matches(indexed, httpEvent, context())).toBe(true)
  })

  it('indexes arrays by canonical index only', () => {
    const first = compile({ match: [{ path: 'list.0', exists: true }] })
    const length = compile({ match: [{ path: ['list', 'length'], exists: true }] })
    const padded = compile({ match: [{ path: ['list', '00'], exists: true }] })
    expect(matches(first, { list: ['a'] }, context())).toBe(true)
    expect(matches(first, { list: [] }, context())).toBe(false)
    expect(matches(length, { list: ['a'] }, context())).toBe(false)
    expect(matches(padded, { list: ['a'] }, context())).toBe(false)
    expect(matches(first, { list: { 0: 'object key' } }, context())).toBe(true)
  })

  it('reads a top-level array event', () => {
    const targeting = compile({ match: [{ path: '[1].id', equals: 7 }] })
    expect(matches(targeting, [{ id: 1 }, { id: 7 }], context())).toBe(true)
  })
})

describe('matches: hostile events and configs', () => {
  it('refuses __proto__, constructor and prototype segments', () => {
    for (const path of ['__proto__.polluted', 'a.constructor.name', ['x', 'prototype']]) {
      const { targeting, issues } = parse({ match: [{ path, exists: true }] })
      expect(targeting).toBe(NEVER_MATCHES)
      expect(issues[0]?.message).toMatch(
        /^must not use the segment "(__proto__|constructor|prototype)"$/,
      )
    }
  })

  it('reads only own properties, never inherited ones', () => {
    const inheritedMethod = compile({ match: [{ path: 'toString', exists: true }] })
    const hasOwn = compile({ match: [{ path: 'a.hasOwnProperty', exists: true }] })
    expect(matches(inheritedMethod, {}, context())).toBe(false)
    expect(matches(hasOwn, { a: {} }, context())).toBe(false)
    const inheriting = Object.create({ secret: 'inherited' }) as Record<string, unknown>
    expect(
      matches(compile({ match: [{ path: 'secret', exists: true }] }), inheriting, context()),
    ).toBe(false)
  })

  it('reads an own __proto__ key of a parsed event as data, without walking the prototype', () => {
    const event = JSON.parse('{"__proto__": {"admin": true}, "a": 1}') as unknown
    const admin = compile({ match: [{ path: 'admin', exists: true }] })
    expect(matches(admin, event, context())).toBe(false)
    expect(({} as Record<string, unknown>).admin).toBeUndefined()
  })

  it('does not call getters, and survives throwing proxies', () => {
    let called = false
    const event = {
      get method() {
        called = true
        return 'GET'
      },
    }
    const method = compile({ match: [{ path: 'method', equals: 'GET' }] })
    expect(matches(method, event, context())).toBe(false)
    expect(called).toBe(false)
    const hostile = new Proxy(
      {},
      {
        getOwnPropertyDescriptor() {
          throw new Error('trap')
        },
        has() {
          throw new Error('trap')
        },
      },
    )
    expect(matches(method, hostile, context())).toBe(false)
    expect(matches(method, { method: 'GET' }, hostile)).toBe(true)
    const fns = compile({ functions: ['orders-api'] })
    expect(matches(fns, {}, hostile)).toBe(false)
  })

  it('compares very long strings without trouble, and refuses over-long config strings', () => {
    const long = 'a'.repeat(1_000_000)
    const prefix = compile({ match: [{ path: 'body', prefix: 'a'.repeat(1024) }] })
    expect(matches(prefix, { body: long }, context())).toBe(true)
    expect(matches(prefix, { body: `b${long}` }, context())).toBe(false)
    const { issues } = parse({ match: [{ path: 'body', equals: 'x'.repeat(1025) }] })
    expect(issues).toEqual([
      {
        path: 'faults[0].match[0].equals',
        message: `must be at most ${MATCH_LIMITS.stringLength} characters (got 1025)`,
      },
    ])
  })

  it('reads O(path depth) properties whatever the size of the event', () => {
    // Prepare: a wide, deep event behind a proxy that counts property reads.
    let reads = 0
    const count = (target: object): object =>
      new Proxy(target, {
        getOwnPropertyDescriptor(t, key) {
          reads += 1
          const descriptor = Reflect.getOwnPropertyDescriptor(t, key)
          if (descriptor && typeof descriptor.value === 'object' && descriptor.value !== null)
            descriptor.value = count(descriptor.value as object)
          return descriptor
        },
      })
    const wide: Record<string, unknown> = {}
    for (let i = 0; i < 50_000; i++) wide[`k${i}`] = { v: i }
    let deep: Record<string, unknown> = { leaf: 'x' }
    for (let i = 0; i < 1000; i++) deep = { n: deep }
    const event = count({ wide, deep })
    const targeting = compile({
      match: [
        { path: 'wide.k49999.v', equals: 49_999 },
        { path: 'deep.n.n.n.n.n.n.n.n.n.n.n.n.n.n.n', exists: true },
      ],
    })
    // Act
    const result = matches(targeting, event, context())
    // Assess: one descriptor read per segment (3 + 16), nothing proportional to the event.
    expect(result).toBe(true)
    expect(reads).toBe(19)
  })

  it('bounds conditions, path length and depth', () => {
    const many = Array.from({ length: MATCH_LIMITS.conditions + 1 }, () => ({
      path: 'a',
      exists: true,
    }))
    expect(parse({ match: many }).issues).toEqual([
      {
        path: 'faults[0].match',
        message: `must hold at most ${MATCH_LIMITS.conditions} conditions (got ${MATCH_LIMITS.conditions + 1})`,
      },
    ])
    const deep = Array.from({ length: MATCH_LIMITS.pathDepth + 1 }, () => 'a').join('.')
    expect(parse({ match: [{ path: deep, exists: true }] }).issues[0]?.message).toBe(
      `must have at most ${MATCH_LIMITS.pathDepth} segments (got ${MATCH_LIMITS.pathDepth + 1})`,
    )
    const long = 'a'.repeat(MATCH_LIMITS.pathLength + 1)
    expect(parse({ match: [{ path: long, exists: true }] }).issues[0]?.message).toMatch(
      /^must be at most 256 characters \(got 257\)/,
    )
  })

  it('never throws, for arbitrary conditions, events and contexts', () => {
    const pathArb = fc.oneof(
      fc.string({ maxLength: 30 }),
      fc.constantFrom('a', 'a.b', 'a[0]', '__proto__', 'constructor.name', 'toString'),
      fc.array(fc.oneof(fc.string({ maxLength: 5 }), fc.nat(5)), { maxLength: 5 }),
      fc.anything(),
    )
    const conditionArb = fc.oneof(
      fc.record(
        {
          path: pathArb,
          equals: fc.anything(),
          oneOf: fc.oneof(fc.array(fc.anything(), { maxLength: 5 }), fc.anything()),
          prefix: fc.oneof(fc.string({ maxLength: 10 }), fc.anything()),
          exists: fc.oneof(fc.boolean(), fc.anything()),
          extra: fc.anything(),
        },
        { requiredKeys: ['path'] },
      ),
      fc.anything(),
    )
    const fieldsArb = fc.record(
      {
        match: fc.oneof(fc.array(conditionArb, { maxLength: 4 }), fc.anything()),
        functions: fc.oneof(
          fc.array(
            fc.oneof(
              fc.constantFrom('orders-api', 'orders-api:live', 'orders-api:$LATEST', 'arn:aws:x'),
              fc.string({ maxLength: 20 }),
              fc.anything(),
            ),
            { maxLength: 4 },
          ),
          fc.anything(),
        ),
      },
      { requiredKeys: [] },
    )
    const eventArb = fc.oneof(
      fc.anything({ withNullPrototype: true, withObjectString: true, withSparseArray: true }),
      fc.constant(httpEvent),
      fc.jsonValue().map((value) => ({ a: value, b: [value], Records: [value] })),
    )
    const contextArb = fc.oneof(
      fc.constant(context()),
      fc.anything(),
      fc.record({
        functionName: fc.anything(),
        functionVersion: fc.anything(),
        invokedFunctionArn: fc.oneof(fc.string(), fc.anything()),
      }),
    )
    fc.assert(
      fc.property(fieldsArb, eventArb, contextArb, (fields, event, ctx) => {
        const issues: ConfigIssue[] = []
        const targeting = parseTargeting(fields, 'faults[0]', issues)
        const result = matches(targeting, event, ctx)
        if (issues.length > 0 && result) return false // broken targeting never matches
        return typeof result === 'boolean'
      }),
      { numRuns: 2000 },
    )
  })
})

describe('matches: functions', () => {
  const arn = (qualifier?: string) =>
    `arn:aws:lambda:eu-west-1:123456789012:function:orders-api${qualifier ? `:${qualifier}` : ''}`

  it('matches a bare name whatever the alias or version', () => {
    const targeting = compile({ functions: ['orders-api'] })
    expect(matches(targeting, {}, context())).toBe(true)
    expect(matches(targeting, {}, context({ invokedFunctionArn: arn('live') }))).toBe(true)
    expect(matches(targeting, {}, context({ functionName: 'billing' }))).toBe(false)
  })

  it('matches name:alias on the qualifier of the invoked ARN', () => {
    const targeting = compile({ functions: ['orders-api:live'] })
    expect(
      matches(targeting, {}, context({ invokedFunctionArn: arn('live'), functionVersion: '7' })),
    ).toBe(true)
    expect(matches(targeting, {}, context({ invokedFunctionArn: arn('canary') }))).toBe(false)
    expect(matches(targeting, {}, context())).toBe(false)
  })

  it('matches name:version on the version that runs, directly or through an alias', () => {
    const targeting = compile({ functions: ['orders-api:7'] })
    expect(
      matches(targeting, {}, context({ invokedFunctionArn: arn('live'), functionVersion: '7' })),
    ).toBe(true)
    expect(
      matches(targeting, {}, context({ invokedFunctionArn: arn('7'), functionVersion: '7' })),
    ).toBe(true)
    expect(
      matches(targeting, {}, context({ invokedFunctionArn: arn('live'), functionVersion: '8' })),
    ).toBe(false)
  })

  it('matches name:$LATEST on unqualified invocations', () => {
    const targeting = compile({ functions: ['orders-api:$LATEST'] })
    expect(matches(targeting, {}, context())).toBe(true)
    expect(
      matches(targeting, {}, context({ invokedFunctionArn: arn('live'), functionVersion: '3' })),
    ).toBe(false)
  })

  it('never reads a bare string as an alias', () => {
    const targeting = compile({ functions: ['live'] })
    expect(matches(targeting, {}, context({ invokedFunctionArn: arn('live') }))).toBe(false)
  })

  it('falls back to the name in the ARN, and matches nothing without a name', () => {
    const targeting = compile({ functions: ['orders-api'] })
    expect(matches(targeting, {}, { invokedFunctionArn: arn('live') })).toBe(true)
    expect(matches(targeting, {}, {})).toBe(false)
    expect(matches(targeting, {}, undefined)).toBe(false)
  })

  it('combines functions and conditions', () => {
    const targeting = compile({
      functions: ['orders-api'],
      match: [{ path: 'rawPath', prefix: '/api' }],
    })
    expect(matches(targeting, httpEvent, context())).toBe(true)
    expect(matches(targeting, { rawPath: '/x' }, context())).toBe(false)
    expect(matches(targeting, httpEvent, context({ functionName: 'other' }))).toBe(false)
  })

  it('refuses ARNs, wildcards and malformed entries', () => {
    const { targeting, issues } = parse({
      functions: [arn(), 'orders-*', 'orders-api:', 'orders-api:a:b', 3],
    })
    expect(targeting).toBe(NEVER_MATCHES)
    expect(issues.map((issue) => issue.path)).toEqual([
      'faults[0].functions[0]',
      'faults[0].functions[1]',
      'faults[0].functions[2]',
      'faults[0].functions[3]',
      'faults[0].functions[4]',
    ])
    expect(issues[0]?.message).toMatch(/not an ARN/)
    expect(parse({ functions: [] }).issues[0]?.message).toBe(
      `must be an array of 1 to ${MATCH_LIMITS.functions} function names such as "my-fn" or "my-fn:live" (got 0 entries)`,
    )
  })
})

describe('parseTargeting: messages', () => {
  it('names the condition field and the reason', () => {
    expect(parse({ match: 'GET' }).issues).toEqual([
      {
        path: 'faults[0].match',
        message:
          'must be an array of conditions such as { "path": "rawPath", "prefix": "/api" } (got "GET")',
      },
    ])
    expect(parse({ match: [{ path: 'a' }] }).issues).toEqual([
      {
        path: 'faults[0].match[0]',
        message: 'must have exactly one of "equals", "oneOf", "prefix", "exists" (got none)',
      },
    ])
    expect(parse({ match: [{ path: 'a', equals: 1, prefix: 'x' }] }).issues[0]?.message).toBe(
      'must have exactly one of "equals", "oneOf", "prefix", "exists" (got "equals", "prefix")',
    )
    expect(parse({ match: [{ path: 'a', equals: { x: 1 } }] }).issues).toEqual([
      {
        path: 'faults[0].match[0].equals',
        message: 'must be a string, a finite number, true, false or null (got an object)',
      },
    ])
    expect(parse({ match: [{ path: 'a', oneOf: [] }] }).issues[0]?.message).toBe(
      'must be an array of 1 to 100 values (got 0 values)',
    )
    expect(parse({ match: [{ path: 'a', exists: 'yes' }] }).issues[0]?.message).toBe(
      'must be true or false (got "yes")',
    )
    expect(parse({ match: [{ path: 'a', value: 'GET' }] }).issues[0]).toEqual({
      path: 'faults[0].match[0].value',
      message:
        'is not a condition field (expected "path" and one of "equals", "oneOf", "prefix", "exists")',
    })
    expect(parse({ match: [{ equals: 'GET' }] }).issues[0]).toEqual({
      path: 'faults[0].match[0].path',
      message: 'is required: a path such as "requestContext.http.method" (got undefined)',
    })
    expect(parse({ match: [{ path: 'a..b', exists: true }] }).issues[0]).toEqual({
      path: 'faults[0].match[0].path',
      message: 'has an empty key at character 3 (got "a..b")',
    })
  })

  it('uses bare field names for a top-level entry', () => {
    expect(parse({ match: 1 }, '').issues[0]?.path).toBe('match')
  })
})
