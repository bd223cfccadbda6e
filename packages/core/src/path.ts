/**
 * Paths into an event or a response, as a config names them: dot-separated
 * keys with optional array indexes (`Records.0.eventSource`,
 * `Records[0].eventSource`), or, for keys holding `.`, `[` or `]`, an array of
 * segments (`["headers", "x.custom"]`). Read by targeting (`match`) and by the
 * faults that edit what passes through a handler (`alter.ts`). Bounded, and
 * the segments `__proto__`, `constructor` and `prototype` are refused.
 *
 * @module
 */
import { describeValue, FORBIDDEN_SEGMENTS } from './util.js'

/** Bounds on a path a config names. */
export const PATH_LIMITS = Object.freeze({
  /** Characters of a path written as a string. */
  pathLength: 256,
  /** Segments of a path. */
  pathDepth: 16,
  /** Characters of one segment of a path written as an array. */
  segmentLength: 1024,
})

const isDigit = (code: number): boolean => code >= 48 && code <= 57

/** Splits `a.b[0].c` into `['a', 'b', '0', 'c']`, or returns the reason it cannot. */
export const parsePath = (text: string): { segments: string[] } | { error: string } => {
  if (text.length === 0) return { error: 'must not be empty' }
  if (text.length > PATH_LIMITS.pathLength)
    return {
      error: `must be at most ${PATH_LIMITS.pathLength} characters (got ${text.length})`,
    }
  const segments: string[] = []
  let i = 0
  // Expecting a key at the start and after a dot; a bracket may follow any segment.
  let expectKey = text.charCodeAt(0) !== 91 // '['
  while (i < text.length) {
    if (expectKey) {
      let end = i
      while (end < text.length) {
        const code = text.charCodeAt(end)
        if (code === 46 || code === 91 || code === 93) break // . [ ]
        end += 1
      }
      if (end === i) return { error: `has an empty key at character ${i + 1}` }
      if (text.charCodeAt(end) === 93)
        return { error: `has an unmatched "]" at character ${end + 1}` }
      segments.push(text.slice(i, end))
      i = end
      expectKey = false
      continue
    }
    const code = text.charCodeAt(i)
    if (code === 46) {
      // '.'
      i += 1
      expectKey = true
      if (i === text.length) return { error: 'must not end with "."' }
      continue
    }
    if (code === 91) {
      // '[' digits ']'
      let end = i + 1
      while (end < text.length && isDigit(text.charCodeAt(end))) end += 1
      if (end === i + 1 || text.charCodeAt(end) !== 93)
        return { error: `has a bracket at character ${i + 1} that is not an index like [0]` }
      segments.push(text.slice(i + 1, end))
      i = end + 1
      continue
    }
    return { error: `has an unexpected "${text[i]}" at character ${i + 1}` }
  }
  return { segments }
}

/**
 * Reads a path as a config writes it: a string (`Records[0].body`, read by
 * {@link parsePath}) or an array of segments (`["headers", "x.forwarded"]`,
 * keys or array indexes). Bounded like every targeting path (256 characters,
 * 16 segments, segments of 1024 characters); `__proto__`, `constructor` and
 * `prototype` are refused. Returns the segments, or the reason it cannot
 * (with the index of the offending element of an array). Never throws.
 *
 * @example
 * ```ts
 * parsePathSpec('items[0].price') // { segments: ['items', '0', 'price'] }
 * parsePathSpec(['headers', 'x.forwarded']) // { segments: ['headers', 'x.forwarded'] }
 * parsePathSpec('a.__proto__') // { error: 'must not use the segment "__proto__"' }
 * ```
 */
export const parsePathSpec = (
  raw: unknown,
): { segments: string[] } | { error: string; index?: number } => {
  let segments: string[]
  if (typeof raw === 'string') {
    const parsed = parsePath(raw)
    if ('error' in parsed) return { error: `${parsed.error} (got ${describeValue(raw)})` }
    segments = parsed.segments
  } else if (Array.isArray(raw)) {
    if (raw.length === 0) return { error: 'must name at least one segment (got an empty array)' }
    segments = []
    for (const [index, segment] of raw.entries()) {
      if (typeof segment === 'number' && Number.isSafeInteger(segment) && segment >= 0) {
        segments.push(String(segment))
      } else if (typeof segment === 'string' && segment.length <= PATH_LIMITS.segmentLength) {
        segments.push(segment)
      } else {
        return {
          index,
          error: `must be a key of at most ${PATH_LIMITS.segmentLength} characters or an array index (got ${describeValue(segment)})`,
        }
      }
      if (segments.length > PATH_LIMITS.pathDepth) break
    }
  } else {
    return {
      error: `is required: a path such as "requestContext.http.method" (got ${describeValue(raw)})`,
    }
  }
  if (segments.length > PATH_LIMITS.pathDepth) {
    return {
      error: `must have at most ${PATH_LIMITS.pathDepth} segments (got ${Array.isArray(raw) ? raw.length : segments.length})`,
    }
  }
  const forbidden = segments.find((segment) => FORBIDDEN_SEGMENTS.has(segment))
  if (forbidden !== undefined) return { error: `must not use the segment "${forbidden}"` }
  return { segments }
}
