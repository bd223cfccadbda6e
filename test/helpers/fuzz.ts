/**
 * A fuzz test of a fault's field reader (its `parse`), as Middy keeps an
 * `index.fuzz.js` beside each middleware: for any JSON entry, `parse` never
 * throws, and the entry is either accepted with in-bound values or reported
 * (an issue naming a field). Never accepted out of bounds, never dropped
 * without a word.
 */
import { type AnyFaultDefinition, type ConfigIssue, FieldReader } from '@middy-chaos/core'
import fc from 'fast-check'
import { expect } from 'vitest'

/** JSON values that sit on and around the bounds fault fields use. */
const edgy = fc.oneof(
  fc.constantFrom(0, 1, -1, 0.5, 1.5, 7, 42, 99, 100, 101, 399, 400, 599, 600, 10_000, 10_001),
  fc.constantFrom(900_000, 900_001, -0.0001, 2 ** 31, Number.MAX_SAFE_INTEGER, 1e300, -1e300),
  fc.constantFrom('', '1', '400', 'true', 'GET', 'not a name!', 'x'.repeat(5000)),
  fc.constantFrom(true, false, null, [], {}, { min: 1, max: 2 }, { min: 5, max: 1 }),
  fc.record({ min: fc.jsonValue(), max: fc.jsonValue() }, { requiredKeys: [] }),
  fc.integer({ min: -1_000_000, max: 2_000_000 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.string({ maxLength: 80 }),
  fc.jsonValue({ maxDepth: 3 }),
)

/** Options of {@link fuzzFieldReader}. */
export interface FuzzOptions<P> {
  /** The fault's field names (the reader also gets other keys). */
  fields: readonly string[]
  /**
   * Whether accepted parameters are within the bounds the fault documents, and
   * say what each field of the entry says (no field given and then ignored).
   */
  inBounds: (params: P, entry: Readonly<Record<string, unknown>>) => boolean
  /**
   * Fields every entry starts from, under the drawn ones (which may replace
   * them): a field the fault requires, so that most entries reach its other checks.
   */
  base?: Readonly<Record<string, unknown>>
  /** Middleware options passed to `parse` (default: the definition's defaults). */
  options?: object
  numRuns?: number
}

/** Checks a fault's `parse` against arbitrary entries. */
export const fuzzFieldReader = <P>(definition: AnyFaultDefinition, fuzz: FuzzOptions<P>): void => {
  const entry = fc.dictionary(
    fc.oneof(fc.constantFrom(...fuzz.fields), fc.string({ maxLength: 12 })),
    edgy,
    { maxKeys: fuzz.fields.length + 2 },
  )
  fc.assert(
    fc.property(entry, (drawn) => {
      const fields = { ...fuzz.base, ...drawn }
      const issues: ConfigIssue[] = []
      let params: P | undefined
      expect(() => {
        params = definition.parse(
          new FieldReader(fields, 'faults[0]', issues),
          fuzz.options ?? definition.defaults ?? {},
        ) as P | undefined
      }).not.toThrow()
      if (issues.length > 0) {
        for (const issue of issues) {
          expect(issue.path).toMatch(/^faults\[0\]\.\S+/)
          // A message quotes at most a short prefix of a value.
          expect(issue.message.length).toBeLessThan(400)
        }
        return
      }
      // Accepted: with parameters, and every one of them in bounds.
      expect(params).toBeDefined()
      expect(fuzz.inBounds(params as P, fields)).toBe(true)
    }),
    { numRuns: fuzz.numRuns ?? 3000 },
  )
}
