import { ALTER_LIMITS, type ConfigIssue, FieldReader } from '@middy-chaos/core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { fuzzFieldReader } from '../../../test/helpers/fuzz.js'
import { RESPONSE_LIMITS, type ResponseParams, responseFault } from '../src/index.js'

const FIELDS = [
  'body',
  'truncate',
  'mangle',
  'invalidJson',
  'set',
  'remove',
  'headers',
  'removeHeaders',
  'statusCode',
] as const

/** Whether accepted parameters are in bounds and say what the entry says, and no more. */
const inBounds = (params: ResponseParams, entry: Readonly<Record<string, unknown>>): boolean => {
  const { body, edits, headers, removeHeaders, statusCode } = params
  // At most one change of the body, and never one together with edits inside it.
  const bodyFields = ['body', 'truncate', 'mangle', 'invalidJson'].filter(
    // A flag turned off asks for nothing; `"body": false` is a body.
    (name) => entry[name] !== undefined && (entry[name] !== false || name === 'body'),
  )
  if (bodyFields.length > 1 || (body !== undefined && edits !== undefined)) return false
  if (bodyFields.length === 1 && body === undefined) return false
  if (body?.kind === 'replace') {
    const expected = typeof entry.body === 'string' ? entry.body : JSON.stringify(entry.body)
    if (body.text !== expected || body.text.length > ALTER_LIMITS.bodyLength) return false
  }
  if (body?.kind === 'truncate') {
    if (body.length !== entry.truncate || !Number.isInteger(body.length) || body.length < 0)
      return false
    if (body.length > ALTER_LIMITS.truncateLength) return false
  }
  if (body?.kind === 'mangle' && entry.mangle !== true) return false
  if (body?.kind === 'invalidJson' && entry.invalidJson !== true) return false
  // Edits: bounded, no forbidden segment, no path said twice.
  if ((entry.set !== undefined || entry.remove !== undefined) !== (edits !== undefined))
    return false
  if (edits !== undefined) {
    if (edits.length === 0 || edits.length > ALTER_LIMITS.edits) return false
    for (const edit of edits) {
      if (edit.segments.length === 0 || edit.segments.length > 16) return false
      if (edit.segments.some((s) => ['__proto__', 'constructor', 'prototype'].includes(s)))
        return false
      if (
        edit.op === 'set' &&
        (edit.json === undefined || edit.json.length > ALTER_LIMITS.valueLength)
      )
        return false
    }
  }
  // Headers: names and values bounded, never set and removed at once.
  if ((entry.headers !== undefined) !== (headers !== undefined)) return false
  if ((entry.removeHeaders !== undefined) !== (removeHeaders !== undefined)) return false
  const names = Object.keys(headers ?? {}).map((name) => name.toLowerCase())
  if (names.length > RESPONSE_LIMITS.headers || new Set(names).size !== names.length) return false
  for (const value of Object.values(headers ?? {}))
    if (typeof value !== 'string' || value.length > RESPONSE_LIMITS.headerValueLength) return false
  for (const name of removeHeaders ?? []) if (names.includes(name.toLowerCase())) return false
  if (statusCode !== entry.statusCode) return false
  if (
    statusCode !== undefined &&
    !(Number.isInteger(statusCode) && statusCode >= 100 && statusCode <= 599)
  )
    return false
  // Something to do.
  return Object.keys(params).length > 0
}

describe('response field reader (fuzz)', () => {
  it('accepts bounded changes that say one thing each, and reports the rest', () => {
    fuzzFieldReader<ResponseParams>(responseFault, { fields: FIELDS, inBounds })
  })

  it('accepts bounded edits and headers, and reports the rest', () => {
    // Entries whose set / remove / headers have the right shape, to reach their bounds.
    // Mostly valid shapes, sometimes hostile ones, so both sides of each bound are reached.
    const often = <T, U>(valid: fc.Arbitrary<T>, hostile: fc.Arbitrary<U>): fc.Arbitrary<T | U> =>
      fc.oneof({ arbitrary: valid, weight: 4 }, { arbitrary: hostile, weight: 1 })
    const key = often(
      fc.constantFrom('a', 'b', 'c', 'd', '0', '1', 'x.y'),
      fc.oneof(
        fc.constantFrom('__proto__', 'constructor', 'prototype', ''),
        fc.string({ maxLength: 6 }),
      ),
    )
    const path = often(
      fc.array(key, { minLength: 1, maxLength: 3 }).map((keys) => keys.join('.')),
      fc.oneof(
        fc.array(key, { maxLength: 18 }),
        fc.constantFrom('a[0].b', 'a..b', 'a.', `${'k.'.repeat(16)}k`, 'x'.repeat(300)),
      ),
    )
    const count = (max: number) => often(fc.constant(max), fc.constant(22))
    const list = <T>(item: fc.Arbitrary<T>) =>
      count(3).chain((maxLength) => fc.array(item, { maxLength }))
    const headerName = often(
      fc.constantFrom('x-a', 'X-A', 'etag', 'x-b', 'content-type'),
      fc.oneof(fc.constantFrom('bad name', 'x\n', 'x'.repeat(300)), fc.string({ maxLength: 8 })),
    )
    const headerValue = often(
      fc.string({ maxLength: 8 }),
      fc.constantFrom('a\r\nb', 'x'.repeat(9000)),
    )
    const value = often(fc.jsonValue({ maxDepth: 2 }), fc.constant('x'.repeat(70_000)))
    const entry = fc.oneof(
      fc.record({ set: list(fc.record({ path, value }, { requiredKeys: ['path'] })) }),
      fc.record({ remove: often(path, list(path)) }),
      fc.record(
        {
          set: list(fc.record({ path, value })),
          remove: list(path),
          statusCode: often(
            fc.integer({ min: 100, max: 599 }),
            fc.oneof(fc.integer(), fc.double()),
          ),
        },
        { requiredKeys: [] },
      ),
      fc.record(
        {
          headers: count(3).chain((maxKeys) => fc.dictionary(headerName, headerValue, { maxKeys })),
          removeHeaders: often(headerName, list(headerName)),
        },
        { requiredKeys: [] },
      ),
    )
    const accepted = { edits: 0, headers: 0 }
    fc.assert(
      fc.property(entry, (fields) => {
        const issues: ConfigIssue[] = []
        let params: ResponseParams | undefined
        expect(() => {
          params = responseFault.parse(new FieldReader(fields, 'faults[0]', issues), {})
        }).not.toThrow()
        if (issues.length > 0) {
          for (const issue of issues) expect(issue.path).toMatch(/^faults\[0\]\.\S+/)
          return
        }
        expect(params).toBeDefined()
        expect(inBounds(params as ResponseParams, fields)).toBe(true)
        if (params?.edits) accepted.edits++
        if (params?.headers || params?.removeHeaders) accepted.headers++
      }),
      { numRuns: 2000 },
    )
    // The generator reaches accepted entries too, not only reported ones.
    expect(accepted.edits).toBeGreaterThan(20)
    expect(accepted.headers).toBeGreaterThan(20)
  })
})
