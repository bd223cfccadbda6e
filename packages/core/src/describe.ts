/**
 * Describes a config value for an issue message, the way `FieldReader` does:
 * strings quoted (cut at 40 characters), objects and arrays named, never
 * their contents. Never throws.
 *
 * @example
 * ```ts
 * describeValue('x'.repeat(100)) // '"xxxx…"' (40 characters and an ellipsis)
 * describeValue([1, 2]) // 'an array'
 * ```
 */
export const describeValue = (value: unknown): string => {
  if (typeof value === 'string')
    return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)
  if (typeof value === 'symbol') return 'a symbol'
  if (typeof value === 'function') return 'a function'
  if (value === null || typeof value !== 'object') return String(value)
  return Array.isArray(value) ? 'an array' : 'an object'
}

/** A plain JSON-like object (not null, not an array). */
export const isPlainRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/** `faults[0].budget` from prefix `faults[0]` and field `budget`; just `budget` for an empty prefix. */
export const joinPath = (prefix: string, field: string): string =>
  prefix ? `${prefix}.${field}` : field
