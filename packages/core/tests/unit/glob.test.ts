import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { globMatches } from '../../src/glob.js'
import { withinDeadline } from '../../src/time.js'

/** What the glob means, written as a regular expression (here, in a test, never from a config). */
const reference = (pattern: string, text: string): boolean =>
  new RegExp(
    `^${[...pattern]
      .map((char) =>
        char === '*'
          ? '[\\s\\S]*'
          : char === '?'
            ? '[\\s\\S]'
            : char.replace(/[\\^$.|+()[\]{}]/g, '\\$&'),
      )
      .join('')}$`,
    'u',
  ).test(text)

describe('globMatches', () => {
  it.each([
    ['orders.charge', 'orders.charge', true],
    ['orders.charge', 'orders.charged', false],
    ['orders.charge', 'Orders.charge', false],
    ['orders.*', 'orders.charge', true],
    ['orders.*', 'orders.', true],
    ['orders.*', 'orders', false],
    ['*.save', 'orders.db.save', true],
    ['orders.?', 'orders.a', true],
    ['orders.?', 'orders.ab', false],
    ['*', '', true],
    ['', '', true],
    ['', 'a', false],
    ['a*b*c', 'aXbYc', true],
    ['a*b*c', 'aXbY', false],
  ])('%s matches %s: %s', (pattern, text, expected) => {
    expect(globMatches(pattern, text)).toBe(expected)
  })

  it('means what the same glob written as a regular expression means', () => {
    const alphabet = fc.constantFrom('a', 'b', '.', '*', '?')
    fc.assert(
      fc.property(
        fc.string({ unit: alphabet, maxLength: 12 }),
        fc.string({ unit: fc.constantFrom('a', 'b', '.'), maxLength: 16 }),
        (pattern, text) => {
          expect(globMatches(pattern, text)).toBe(reference(pattern, text))
        },
      ),
      { numRuns: 5000 },
    )
  })

  it('ends on patterns built to backtrack, at the bounds the faults use', () => {
    // 128-character pattern, 1024-character text: at most 128 × 1024 steps.
    expect(globMatches(`${'*a'.repeat(63)}b`, 'a'.repeat(1024))).toBe(false)
  })
})

describe('withinDeadline', () => {
  const context = (remaining: number) => ({ getRemainingTimeInMillis: () => remaining })

  it.each([
    [300, context(10_000), 100, 300],
    [300, context(350), 100, 250],
    [300, context(50), 100, 0],
    [300, undefined, 100, 300],
    [300, {}, 100, 300],
  ])(
    'cuts %i ms to end before the deadline less the margin',
    (requested, ctx, margin, expected) => {
      expect(withinDeadline(requested, ctx, margin)).toBe(expected)
    },
  )
})
