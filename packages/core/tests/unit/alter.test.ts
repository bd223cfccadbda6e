import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  ALTER_LIMITS,
  describeChanges,
  type PathEdit,
  readBodyChange,
  readPathEdits,
} from '../../src/alter.js'
import { changeBody, editJsonBody } from '../../src/body.js'
import { applyEdits } from '../../src/edits.js'
import { FieldReader } from '../../src/fields.js'
import type { ConfigIssue } from '../../src/types.js'

const read = <T>(reader: (fields: FieldReader) => T, entry: Record<string, unknown>) => {
  const issues: ConfigIssue[] = []
  const value = reader(new FieldReader(entry, 'faults[0]', issues))
  return { value, issues: issues.map((issue) => `${issue.path}: ${issue.message}`) }
}

const set = (path: string, value: unknown): PathEdit => ({
  op: 'set',
  label: path,
  segments: path.split('.'),
  json: JSON.stringify(value),
})
const remove = (path: string): PathEdit => ({
  op: 'remove',
  label: path,
  segments: path.split('.'),
})

/** Deep-freezes a value, as a cached response or a caller's event may be. */
const deepFreeze = <T>(value: T): T => {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child)
    Object.freeze(value)
  }
  return value
}

describe('readPathEdits', () => {
  it('reads set edits and remove paths, string or array spelled', () => {
    const { value, issues } = read(readPathEdits, {
      set: [{ path: 'items[0].price', value: -1 }],
      remove: ['user.email', ['headers', 'x.forwarded']],
    })
    expect(issues).toEqual([])
    expect(value).toEqual([
      { op: 'set', label: 'items[0].price', segments: ['items', '0', 'price'], json: '-1' },
      { op: 'remove', label: 'user.email', segments: ['user', 'email'] },
      { op: 'remove', label: '["headers","x.forwarded"]', segments: ['headers', 'x.forwarded'] },
    ])
  })

  it('takes one remove path as a string', () => {
    expect(read(readPathEdits, { remove: 'a.b' }).value).toEqual([
      { op: 'remove', label: 'a.b', segments: ['a', 'b'] },
    ])
  })

  it.each([
    [{ set: [{ path: 'a', value: 1 }], remove: ['a'] }, 'faults[0].remove: says two things'],
    [{ set: [{ path: 'a', value: 1 }], remove: ['a.b'] }, 'faults[0].remove: says two things'],
    [
      {
        set: [
          { path: 'a.b', value: 1 },
          { path: 'a', value: 2 },
        ],
      },
      'faults[0].set: says two things',
    ],
    [{ remove: ['x', 'x'] }, 'faults[0].remove: says two things'],
  ])('reports an entry that says two things about a path: %j', (entry, message) => {
    const { value, issues } = read(readPathEdits, entry)
    expect(value).toBeUndefined()
    expect(issues[0]).toContain(message)
  })

  it.each<[Record<string, unknown>, string]>([
    [
      { set: [{ path: 'a.__proto__.x', value: 1 }] },
      'faults[0].set[0].path: must not use the segment "__proto__"',
    ],
    [{ remove: ['constructor'] }, 'faults[0].remove[0]: must not use the segment "constructor"'],
    [{ remove: [['a', 'prototype']] }, 'faults[0].remove[0]: must not use the segment "prototype"'],
    [{ set: [{ path: 'a' }] }, 'faults[0].set[0].value: is required'],
    [{ set: [{ path: 'a', value: 1, extra: true }] }, 'faults[0].set[0].extra: is not a field'],
    [{ set: [] }, 'faults[0].set: must be an array'],
    [{ remove: [] }, 'faults[0].remove: must be a path or an array of paths'],
    [{ remove: ['a..b'] }, 'faults[0].remove[0]: has an empty key'],
    [{ remove: ['x'.repeat(257)] }, 'faults[0].remove[0]: must be at most 256 characters'],
    [{ remove: [Array.from({ length: 17 }, () => 'k')] }, 'must have at most 16 segments'],
    [
      { set: [{ path: 'a', value: 'x'.repeat(ALTER_LIMITS.valueLength) }] },
      'faults[0].set[0].value: must be at most 65536 characters as JSON',
    ],
    [
      { remove: Array.from({ length: ALTER_LIMITS.edits + 1 }, (_, i) => `k${i}`) },
      'faults[0].remove: set and remove must hold at most 20 edits together (got 21)',
    ],
  ])('reports a path or a value out of bounds (case %#)', (entry, message) => {
    const { value, issues } = read(readPathEdits, entry)
    expect(value).toBeUndefined()
    expect(issues.join('\n')).toContain(message)
  })
})

describe('readBodyChange', () => {
  it.each([
    [{ body: 'oops' }, { kind: 'replace', text: 'oops' }],
    [{ body: { error: 1 } }, { kind: 'replace', text: '{"error":1}', json: '{"error":1}' }],
    [{ truncate: 10 }, { kind: 'truncate', length: 10 }],
    [{ mangle: true }, { kind: 'mangle' }],
    [{ invalidJson: true }, { kind: 'invalidJson' }],
    [{ invalidJson: false }, undefined],
  ])('reads %j', (entry, expected) => {
    expect(read(readBodyChange, entry)).toEqual({ value: expected, issues: [] })
  })

  it('reports an entry that changes the body two ways', () => {
    expect(read(readBodyChange, { body: 'x', truncate: 3 }).issues).toEqual([
      'faults[0].truncate: conflicts with "body": an entry changes the body one way (one of "body", "truncate", "mangle", "invalidJson")',
    ])
    expect(read(readBodyChange, { mangle: true, invalidJson: true }).value).toBeUndefined()
  })

  it('reports values out of bounds', () => {
    expect(read(readBodyChange, { truncate: -1 }).issues[0]).toContain(
      'must be an integer from 0 to 6291456 characters',
    )
    expect(
      read(readBodyChange, { body: 'x'.repeat(ALTER_LIMITS.bodyLength + 1) }).issues[0],
    ).toContain('must be at most 1048576 characters')
    expect(read(readBodyChange, { mangle: 'yes' }).issues[0]).toContain('must be true or false')
  })
})

describe('applyEdits', () => {
  it('changes a copy and shares what it did not touch', () => {
    // Prepare
    const original = deepFreeze({
      user: { name: 'Ada', email: 'ada@example.com' },
      items: [{ price: 3 }, { price: 4 }],
      untouched: { deep: [1, 2, 3] },
    })

    // Act
    const { value, applied, skipped } = applyEdits(original, [
      remove('user.email'),
      set('items.0.price', -1),
      set('user.role', 'admin'),
    ])

    // Assess
    expect(applied).toEqual(['user.email', 'items.0.price', 'user.role'])
    expect(skipped).toEqual([])
    expect(value).toEqual({
      user: { name: 'Ada', role: 'admin' },
      items: [{ price: -1 }, { price: 4 }],
      untouched: { deep: [1, 2, 3] },
    })
    const changed = value as typeof original
    expect(changed.untouched).toBe(original.untouched)
    expect(changed.items[1]).toBe(original.items[1])
    expect(original.user).toEqual({ name: 'Ada', email: 'ada@example.com' })
    expect(original.items[0]?.price).toBe(3)
  })

  it('creates missing objects for set, appends to arrays, and removes array elements', () => {
    const { value } = applyEdits({ list: [1, 2, 3] }, [
      set('a.b.c', true),
      set('list.3', 4),
      remove('list.0'),
    ])
    expect(value).toEqual({ a: { b: { c: true } }, list: [2, 3, 4] })
  })

  it('skips, with the reason, a path that does not hold', () => {
    const original = { s: 'text', n: null, list: [1], date: new Date(0) }
    const { value, applied, skipped } = applyEdits(original, [
      set('s.x', 1),
      set('n.x', 1),
      set('list.5', 1),
      set('date.x', 1),
      remove('missing.x'),
      remove('list.1'),
    ])
    expect(applied).toEqual([])
    expect(value).toBe(original)
    expect(skipped).toEqual([
      's.x: "s" is a string',
      'n.x: "n" is null',
      'list.5: no index 5 (length 1)',
      'date.x: "date" is not a plain object',
      'missing.x: not found',
      'list.1: not found',
    ])
  })

  it('never runs a getter nor writes through a setter', () => {
    let reads = 0
    const original = {
      get secret() {
        reads++
        return { x: 1 }
      },
    }
    const { skipped } = applyEdits(original, [set('secret.x', 2), remove('secret')])
    expect(skipped).toEqual(['secret.x: "secret" is a getter', 'secret: "secret" is a getter'])
    expect(reads).toBe(0)
  })

  it('gives a fresh value each time: what a handler does to it reaches nothing else', () => {
    const edits = [set('tags', ['a'])]
    const first = applyEdits({}, edits).value as { tags: string[] }
    first.tags.push('mutated')
    expect(applyEdits({}, edits).value).toEqual({ tags: ['a'] })
  })

  it('never mutates what it is given, whatever the edits (property)', () => {
    const key = fc.constantFrom('a', 'b', '0', '1', 'c')
    const edit = fc.oneof(
      fc
        .record({
          path: fc.array(key, { minLength: 1, maxLength: 4 }),
          value: fc.jsonValue({ maxDepth: 2 }),
        })
        .map(
          ({ path, value }): PathEdit => ({
            op: 'set',
            label: path.join('.'),
            segments: path,
            json: JSON.stringify(value),
          }),
        ),
      fc
        .array(key, { minLength: 1, maxLength: 4 })
        .map((path): PathEdit => ({ op: 'remove', label: path.join('.'), segments: path })),
    )
    fc.assert(
      fc.property(
        fc.jsonValue({ maxDepth: 4 }),
        fc.array(edit, { maxLength: 6 }),
        (root, edits) => {
          const before = JSON.stringify(root)
          const frozen = deepFreeze(structuredClone(root))
          const { applied, skipped } = applyEdits(frozen, edits)
          expect(JSON.stringify(frozen)).toBe(before)
          expect(applied.length + skipped.length).toBe(edits.length)
        },
      ),
      { numRuns: 2000 },
    )
  })
})

describe('changeBody and editJsonBody', () => {
  it('truncates characters, never in the middle of a surrogate pair', () => {
    expect(changeBody('hello', false, { kind: 'truncate', length: 3 })).toMatchObject({
      ok: true,
      body: 'hel',
      details: { originalBodyLength: 5, bodyLength: 3, lengthUnit: 'characters' },
    })
    expect(changeBody('a😀b', false, { kind: 'truncate', length: 2 })).toMatchObject({ body: 'a' })
  })

  it('truncates the bytes of a base64 body and encodes it back', () => {
    const body = Buffer.from('0123456789').toString('base64')
    const outcome = changeBody(body, true, { kind: 'truncate', length: 4 })
    expect(outcome).toMatchObject({ ok: true, base64: true, details: { lengthUnit: 'bytes' } })
    expect(outcome.ok && Buffer.from(outcome.body, 'base64').toString()).toBe('0123')
  })

  it('mangles as failure-lambda does: cut at 30 to 80 % and three U+FFFD', () => {
    const body = 'x'.repeat(1000)
    for (let i = 0; i < 50; i++) {
      const outcome = changeBody(body, false, { kind: 'mangle' })
      if (!outcome.ok) throw new Error('not mangled')
      expect(outcome.body.endsWith('\uFFFD\uFFFD\uFFFD')).toBe(true)
      const kept = outcome.body.length - 3
      expect(kept).toBeGreaterThanOrEqual(300)
      expect(kept).toBeLessThan(800)
    }
    expect(changeBody('', false, { kind: 'mangle' })).toEqual({
      ok: false,
      reason: 'the body is empty',
    })
  })

  it.each(['{"a":1}', '[1,2]', '"text"', 'true', 'null', '10', '-1.5e3', ' {"a":[1]} \n'])(
    'makes the JSON body %j invalid',
    (body) => {
      const outcome = changeBody(body, false, { kind: 'invalidJson' })
      if (!outcome.ok) throw new Error(outcome.reason)
      expect(() => JSON.parse(outcome.body)).toThrow()
    },
  )

  it('makes a base64 JSON body invalid, still base64', () => {
    const body = Buffer.from('{"a":1}').toString('base64')
    const outcome = changeBody(body, true, { kind: 'invalidJson' })
    expect(outcome.ok && Buffer.from(outcome.body, 'base64').toString()).toBe('{"a":1')
  })

  it('leaves a body that is not JSON to the caller, with the reason', () => {
    expect(changeBody('<html>', false, { kind: 'invalidJson' })).toEqual({
      ok: false,
      reason: 'the body is not JSON',
    })
    expect(editJsonBody('<html>', false, [remove('a')])).toEqual({
      ok: false,
      reason: 'the body is not JSON',
    })
  })

  it('replaces a body with plain text, even a base64 one', () => {
    expect(changeBody('AAAA', true, { kind: 'replace', text: 'oops' })).toMatchObject({
      ok: true,
      body: 'oops',
      base64: false,
      details: { bodyLength: 4, wasBase64: true },
    })
  })

  it('edits fields inside a JSON body, base64 or not', () => {
    expect(editJsonBody('{"a":1,"b":2}', false, [remove('a')])).toMatchObject({
      ok: true,
      body: '{"b":2}',
      details: { edited: ['a'] },
    })
    const base64 = Buffer.from('{"a":1}').toString('base64')
    const outcome = editJsonBody(base64, true, [set('a', 2)])
    expect(outcome.ok && Buffer.from(outcome.body, 'base64').toString()).toBe('{"a":2}')
    expect(editJsonBody('{"a":1}', false, [remove('z')])).toEqual({
      ok: false,
      reason: 'no edit applies (z: not found)',
    })
  })
})

describe('describeChanges', () => {
  it('names each body change in a few words, never its content', () => {
    expect(describeChanges({ kind: 'truncate', length: 10 })).toEqual(['body truncated to 10'])
    expect(describeChanges({ kind: 'replace', text: 'secret' })).toEqual(['body replaced'])
    expect(describeChanges({ kind: 'mangle' })).toEqual(['body mangled'])
    expect(describeChanges({ kind: 'invalidJson' })).toEqual(['body made invalid JSON'])
    expect(describeChanges(undefined)).toEqual([])
  })

  it('lists three edits with their prefix and counts the rest', () => {
    const edits = [set('a', 1), remove('b'), set('c.d', 2), remove('e'), remove('f')]
    expect(describeChanges(undefined, edits.slice(0, 2), 'body.')).toEqual([
      'set body.a',
      'remove body.b',
    ])
    expect(describeChanges({ kind: 'mangle' }, edits)).toEqual([
      'body mangled',
      'set a',
      'remove b',
      'set c.d',
      '2 more edits',
    ])
  })
})
