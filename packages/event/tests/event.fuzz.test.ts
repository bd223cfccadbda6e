import { ALTER_LIMITS, type ConfigIssue, FieldReader } from '@middy-chaos/core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { fuzzFieldReader } from '../../../test/helpers/fuzz.js'
import { type EventParams, eventFault } from '../src/index.js'

const FIELDS = ['target', 'body', 'truncate', 'mangle', 'invalidJson', 'set', 'remove'] as const

/** Whether accepted parameters are in bounds and say what the entry says, and no more. */
const inBounds = (params: EventParams, entry: Readonly<Record<string, unknown>>): boolean => {
  const { target, body, edits } = params
  if (target !== (entry.target ?? 'event')) return false
  if (entry.target !== undefined && edits === undefined) return false
  const bodyFields = ['body', 'truncate', 'mangle', 'invalidJson'].filter(
    // A flag turned off asks for nothing; `"body": false` is a body.
    (name) => entry[name] !== undefined && (entry[name] !== false || name === 'body'),
  )
  if (bodyFields.length > 1 || (bodyFields.length === 1) !== (body !== undefined)) return false
  if (body?.kind === 'replace') {
    const expected = typeof entry.body === 'string' ? entry.body : JSON.stringify(entry.body)
    if (body.text !== expected || body.text.length > ALTER_LIMITS.bodyLength) return false
  }
  if (body?.kind === 'truncate' && (body.length !== entry.truncate || body.length < 0)) return false
  if ((entry.set !== undefined || entry.remove !== undefined) !== (edits !== undefined))
    return false
  for (const edit of edits ?? []) {
    if (edit.segments.length === 0 || edit.segments.length > 16) return false
    if (edit.segments.some((s) => ['__proto__', 'constructor', 'prototype'].includes(s)))
      return false
    // A body change and an edit of the body never come together.
    if (
      body !== undefined &&
      (target === 'body' || ['body', 'isBase64Encoded'].includes(edit.segments[0] ?? ''))
    )
      return false
  }
  if ((edits?.length ?? 0) > ALTER_LIMITS.edits) return false
  return body !== undefined || edits !== undefined
}

describe('event field reader (fuzz)', () => {
  it('accepts bounded changes that say one thing each, and reports the rest', () => {
    fuzzFieldReader<EventParams>(eventFault, { fields: FIELDS, inBounds })
  })

  it('accepts bounded edits, body changes and targets, and reports the rest', () => {
    const often = <T, U>(valid: fc.Arbitrary<T>, hostile: fc.Arbitrary<U>): fc.Arbitrary<T | U> =>
      fc.oneof({ arbitrary: valid, weight: 4 }, { arbitrary: hostile, weight: 1 })
    const key = often(
      fc.constantFrom('body', 'isBase64Encoded', 'headers', 'a', '0', 'x.y'),
      fc.oneof(
        fc.constantFrom('__proto__', 'constructor', 'prototype', ''),
        fc.string({ maxLength: 6 }),
      ),
    )
    const path = often(
      fc.array(key, { minLength: 1, maxLength: 3 }).map((keys) => keys.join('.')),
      fc.oneof(
        fc.array(key, { maxLength: 18 }),
        fc.constantFrom('a[0].b', 'a..b', 'x'.repeat(300)),
      ),
    )
    const list = <T>(item: fc.Arbitrary<T>) =>
      often(fc.constant(3), fc.constant(22)).chain((maxLength) => fc.array(item, { maxLength }))
    const entry = fc.record(
      {
        target: often(fc.constantFrom('event', 'body'), fc.jsonValue()),
        set: list(fc.record({ path, value: fc.jsonValue({ maxDepth: 2 }) })),
        remove: often(path, list(path)),
        truncate: often(fc.integer({ min: 0, max: 100 }), fc.oneof(fc.integer(), fc.double())),
        invalidJson: fc.boolean(),
      },
      { requiredKeys: [] },
    )
    let accepted = 0
    fc.assert(
      fc.property(entry, (fields) => {
        const issues: ConfigIssue[] = []
        let params: EventParams | undefined
        expect(() => {
          params = eventFault.parse(new FieldReader(fields, 'faults[0]', issues), {})
        }).not.toThrow()
        if (issues.length > 0) {
          for (const issue of issues) expect(issue.path).toMatch(/^faults\[0\]\.\S+/)
          return
        }
        expect(params).toBeDefined()
        expect(inBounds(params as EventParams, fields)).toBe(true)
        accepted++
      }),
      { numRuns: 2000 },
    )
    expect(accepted).toBeGreaterThan(50)
  })
})
