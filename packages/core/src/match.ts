/**
 * Targeting: which invocations a fault applies to.
 *
 * Fields of a fault entry (both optional; when both are given, both must hold):
 *
 * `match`: an array of conditions on the event, all of which must hold (AND).
 * Each condition has a `path` and exactly one operator:
 *
 * | condition | holds when the value at `path` … |
 * | --- | --- |
 * | `{ "path": p, "equals": v }` | is `v` (a string, number, boolean or null; `===`, no type coercion) |
 * | `{ "path": p, "oneOf": [v1, v2] }` | is one of the values (JSON primitives, 1 to 100 of them) |
 * | `{ "path": p, "prefix": "/api" }` | is a string starting with the prefix (case-sensitive) |
 * | `{ "path": p, "exists": true }` | is present and not `null` (`false`: absent or `null`) |
 *
 * A path is dot-separated keys with optional array indexes, `Records.0.eventSource`
 * or `Records[0].eventSource`; or, for keys holding `.`, `[` or `]`, an array of
 * segments: `["headers", "x.custom"]`. Only own data properties of objects and
 * elements of arrays are read (never inherited properties, never getters);
 * the segments `__proto__`, `constructor` and `prototype` are refused. No
 * regular expression is ever built from a config.
 *
 * `functions`: an array of function names, each optionally with a qualifier:
 *
 * | entry | applies to |
 * | --- | --- |
 * | `"my-fn"` | every invocation of the function named `my-fn`, whatever the alias or version |
 * | `"my-fn:live"` | invocations of `my-fn` through the alias `live` (the qualifier of `invokedFunctionArn`) |
 * | `"my-fn:7"` | invocations of `my-fn` that run version 7 (`functionVersion`), directly or through an alias |
 * | `"my-fn:$LATEST"` | invocations of `my-fn` that run `$LATEST` (unqualified or `:$LATEST`) |
 *
 * A bare string is always a function name, never an alias; ARNs and wildcards
 * are refused. The name is `context.functionName` (or, without it, the name in
 * `context.invokedFunctionArn`); a context with neither matches no entry.
 *
 * ```json
 * { "type": "latency", "delay": 300,
 *   "match": [{ "path": "requestContext.http.method", "oneOf": ["GET", "HEAD"] },
 *             { "path": "rawPath", "prefix": "/api/" }],
 *   "functions": ["orders-api:live"] }
 * ```
 *
 * @module
 */

import type { ConfigIssue } from './issue.js'
import { PATH_LIMITS, parsePathSpec } from './path.js'
import { describeValue, isRecord, joinPath } from './util.js'

/** Bounds on what a config may ask of the matcher. */
export const MATCH_LIMITS = Object.freeze({
  /** Conditions per fault entry. */
  conditions: 20,
  /** Characters of a path written as a string. */
  pathLength: PATH_LIMITS.pathLength,
  /** Segments of a path. */
  pathDepth: PATH_LIMITS.pathDepth,
  /** Characters of a compared string (`equals`, `prefix`, `oneOf` items, array path segments). */
  stringLength: PATH_LIMITS.segmentLength,
  /** Values of a `oneOf`. */
  oneOf: 100,
  /** Entries of `functions`. */
  functions: 50,
})

/** A JSON primitive: what `equals` and `oneOf` compare. */
export type MatchValue = string | number | boolean | null

/** One compiled condition. */
export type MatchCondition =
  | { readonly segments: readonly string[]; readonly op: 'equals'; readonly value: MatchValue }
  | {
      readonly segments: readonly string[]
      readonly op: 'oneOf'
      readonly values: ReadonlySet<MatchValue>
    }
  | { readonly segments: readonly string[]; readonly op: 'prefix'; readonly prefix: string }
  | { readonly segments: readonly string[]; readonly op: 'exists'; readonly exists: boolean }

/** Compiled `functions` filter. */
export interface FunctionFilter {
  /** Entries without a qualifier. */
  readonly names: ReadonlySet<string>
  /** Entries with a qualifier: function name → qualifiers. */
  readonly qualified: ReadonlyMap<string, ReadonlySet<string>>
}

/** Compiled targeting of one fault entry; see {@link matches}. */
export interface Targeting {
  readonly conditions: readonly MatchCondition[]
  readonly functions?: FunctionFilter
  /** Set when the fields were invalid: matches nothing. */
  readonly never?: true
}

/** What {@link parseTargeting} returns for invalid fields: matches no invocation. */
export const NEVER_MATCHES: Targeting = Object.freeze({
  conditions: Object.freeze([]) as readonly MatchCondition[],
  never: true as const,
})

const OPERATORS = ['equals', 'oneOf', 'prefix', 'exists'] as const
const CONDITION_FIELDS: ReadonlySet<string> = new Set(['path', ...OPERATORS])

const isMatchValue = (value: unknown): value is MatchValue =>
  value === null ||
  typeof value === 'string' ||
  typeof value === 'boolean' ||
  (typeof value === 'number' && Number.isFinite(value))

const valueIssue = (value: unknown): string | undefined => {
  if (!isMatchValue(value))
    return `must be a string, a finite number, true, false or null (got ${describeValue(value)})`
  if (typeof value === 'string' && value.length > MATCH_LIMITS.stringLength)
    return `must be at most ${MATCH_LIMITS.stringLength} characters (got ${value.length})`
  return undefined
}

const compileSegments = (raw: unknown, at: string, issues: ConfigIssue[]): string[] | undefined => {
  const parsed = parsePathSpec(raw)
  if ('segments' in parsed) return parsed.segments
  issues.push({
    path: parsed.index === undefined ? at : `${at}[${parsed.index}]`,
    message: parsed.error,
  })
  return undefined
}

const compileCondition = (
  raw: unknown,
  at: string,
  issues: ConfigIssue[],
): MatchCondition | undefined => {
  if (!isRecord(raw)) {
    issues.push({
      path: at,
      message: `must be an object such as { "path": "rawPath", "prefix": "/api" } (got ${describeValue(raw)})`,
    })
    return undefined
  }
  const before = issues.length
  for (const key of Object.keys(raw)) {
    if (!CONDITION_FIELDS.has(key))
      issues.push({
        path: `${at}.${key.length > 40 ? `${key.slice(0, 40)}…` : key}`,
        message:
          'is not a condition field (expected "path" and one of "equals", "oneOf", "prefix", "exists")',
      })
  }
  const segments = compileSegments(raw.path, `${at}.path`, issues)
  const given = OPERATORS.filter((op) => raw[op] !== undefined)
  if (given.length !== 1) {
    issues.push({
      path: at,
      message: `must have exactly one of "equals", "oneOf", "prefix", "exists" (got ${
        given.length === 0 ? 'none' : given.map((op) => `"${op}"`).join(', ')
      })`,
    })
    return undefined
  }
  const op = given[0] as (typeof OPERATORS)[number]
  const operand = raw[op]
  const opAt = `${at}.${op}`
  let condition: MatchCondition | undefined
  switch (op) {
    case 'equals': {
      const problem = valueIssue(operand)
      if (problem) issues.push({ path: opAt, message: problem })
      else if (segments) condition = { segments, op, value: operand as MatchValue }
      break
    }
    case 'oneOf': {
      if (!Array.isArray(operand) || operand.length === 0 || operand.length > MATCH_LIMITS.oneOf) {
        issues.push({
          path: opAt,
          message: `must be an array of 1 to ${MATCH_LIMITS.oneOf} values (got ${
            Array.isArray(operand) ? `${operand.length} values` : describeValue(operand)
          })`,
        })
        break
      }
      const values = new Set<MatchValue>()
      for (const [index, item] of operand.entries()) {
        const problem = valueIssue(item)
        if (problem) {
          issues.push({ path: `${opAt}[${index}]`, message: problem })
          break
        }
        values.add(item as MatchValue)
      }
      if (segments && issues.length === before) condition = { segments, op, values }
      break
    }
    case 'prefix': {
      if (typeof operand !== 'string' || operand.length === 0) {
        issues.push({
          path: opAt,
          message: `must be a non-empty string (got ${describeValue(operand)})`,
        })
      } else if (operand.length > MATCH_LIMITS.stringLength) {
        issues.push({
          path: opAt,
          message: `must be at most ${MATCH_LIMITS.stringLength} characters (got ${operand.length})`,
        })
      } else if (segments) condition = { segments, op, prefix: operand }
      break
    }
    case 'exists': {
      if (typeof operand !== 'boolean')
        issues.push({
          path: opAt,
          message: `must be true or false (got ${describeValue(operand)})`,
        })
      else if (segments) condition = { segments, op, exists: operand }
      break
    }
  }
  return issues.length > before ? undefined : condition
}

const NAME_CHARS = /^[A-Za-z0-9_-]{1,64}$/
const QUALIFIER_CHARS = /^(?:\$LATEST|[A-Za-z0-9_-]{1,128})$/

const compileFunctions = (
  raw: unknown,
  at: string,
  issues: ConfigIssue[],
): FunctionFilter | undefined => {
  if (!Array.isArray(raw) || raw.length === 0 || raw.length > MATCH_LIMITS.functions) {
    issues.push({
      path: at,
      message: `must be an array of 1 to ${MATCH_LIMITS.functions} function names such as "my-fn" or "my-fn:live" (got ${
        Array.isArray(raw) ? `${raw.length} entries` : describeValue(raw)
      })`,
    })
    return undefined
  }
  const before = issues.length
  const names = new Set<string>()
  const qualified = new Map<string, Set<string>>()
  for (const [index, entry] of raw.entries()) {
    const entryAt = `${at}[${index}]`
    if (typeof entry !== 'string' || entry.length > 200) {
      issues.push({
        path: entryAt,
        message: `must be a function name, optionally with ":alias" or ":version" (got ${describeValue(entry)})`,
      })
      continue
    }
    if (entry.startsWith('arn:')) {
      issues.push({
        path: entryAt,
        message: `must be a function name such as "my-fn" or "my-fn:live", not an ARN (got ${describeValue(entry)})`,
      })
      continue
    }
    const colon = entry.indexOf(':')
    const name = colon === -1 ? entry : entry.slice(0, colon)
    const qualifier = colon === -1 ? undefined : entry.slice(colon + 1)
    if (!NAME_CHARS.test(name)) {
      issues.push({
        path: entryAt,
        message: `must start with a function name of 1 to 64 letters, digits, "-" or "_" (got ${describeValue(entry)})`,
      })
      continue
    }
    if (qualifier === undefined) {
      names.add(name)
      continue
    }
    if (!QUALIFIER_CHARS.test(qualifier)) {
      issues.push({
        path: entryAt,
        message: `must have an alias or version of 1 to 128 letters, digits, "-" or "_", or "$LATEST", after ":" (got ${describeValue(entry)})`,
      })
      continue
    }
    let set = qualified.get(name)
    if (set === undefined) {
      set = new Set()
      qualified.set(name, set)
    }
    set.add(qualifier)
  }
  return issues.length > before ? undefined : { names, qualified }
}

/**
 * Reads and compiles the `match` and `functions` fields of a fault entry,
 * once per config. Returns `undefined` when neither is given (the fault
 * applies to every invocation). Records every problem in `issues` and then
 * returns {@link NEVER_MATCHES}, so a fault whose targeting is broken never
 * fires even if the caller ignores the issues. Never throws.
 *
 * @param fields - the fault entry as written
 * @param path - prefix of the entry's fields in messages: `faults[0]`, or `` at top level
 * @param issues - where problems are recorded
 *
 * @example
 * ```ts
 * const issues: ConfigIssue[] = []
 * const targeting = parseTargeting(
 *   { match: [{ path: 'requestContext.http.method', equals: 'GET' }], functions: ['orders-api:live'] },
 *   'faults[0]',
 *   issues,
 * )
 * ```
 */
export const parseTargeting = (
  fields: Readonly<Record<string, unknown>>,
  path: string,
  issues: ConfigIssue[],
): Targeting | undefined => {
  if (!isRecord(fields)) return undefined
  const rawMatch = fields.match
  const rawFunctions = fields.functions
  if (rawMatch === undefined && rawFunctions === undefined) return undefined
  const before = issues.length
  const conditions: MatchCondition[] = []
  if (rawMatch !== undefined) {
    const at = joinPath(path, 'match')
    if (!Array.isArray(rawMatch)) {
      issues.push({
        path: at,
        message: `must be an array of conditions such as { "path": "rawPath", "prefix": "/api" } (got ${describeValue(rawMatch)})`,
      })
    } else if (rawMatch.length > MATCH_LIMITS.conditions) {
      issues.push({
        path: at,
        message: `must hold at most ${MATCH_LIMITS.conditions} conditions (got ${rawMatch.length})`,
      })
    } else {
      for (const [index, raw] of rawMatch.entries()) {
        const condition = compileCondition(raw, `${at}[${index}]`, issues)
        if (condition) conditions.push(condition)
      }
    }
  }
  const functions =
    rawFunctions === undefined
      ? undefined
      : compileFunctions(rawFunctions, joinPath(path, 'functions'), issues)
  if (issues.length > before) return NEVER_MATCHES
  return functions === undefined ? { conditions } : { conditions, functions }
}

/** Own data property `key` of `value`, or `undefined`. Arrays by canonical index only. */
const child = (value: unknown, key: string): unknown => {
  if (typeof value !== 'object' || value === null) return undefined
  if (Array.isArray(value)) {
    // Canonical index: "0", "17"; not "01", "-1", "1.0", "length".
    const index = Number(key)
    if (!Number.isSafeInteger(index) || index < 0 || String(index) !== key) return undefined
    if (index >= value.length) return undefined
  }
  const descriptor = Object.getOwnPropertyDescriptor(value, key)
  return descriptor !== undefined && 'value' in descriptor ? descriptor.value : undefined
}

const resolve = (event: unknown, segments: readonly string[]): unknown => {
  let current = event
  for (const segment of segments) {
    current = child(current, segment)
    if (current === undefined) return undefined
  }
  return current
}

const holds = (condition: MatchCondition, event: unknown): boolean => {
  const actual = resolve(event, condition.segments)
  switch (condition.op) {
    case 'equals':
      return actual === condition.value
    case 'oneOf':
      return isMatchValue(actual) && condition.values.has(actual)
    case 'prefix':
      return typeof actual === 'string' && actual.startsWith(condition.prefix)
    case 'exists':
      return (actual !== undefined && actual !== null) === condition.exists
  }
}

const ARN_FUNCTION = ':function:'

/** Name and qualifier from `arn:aws:lambda:region:account:function:name[:qualifier]`. */
const fromArn = (arn: unknown): { name?: string; qualifier?: string } => {
  if (typeof arn !== 'string') return {}
  const at = arn.indexOf(ARN_FUNCTION)
  if (at === -1) return {}
  const rest = arn.slice(at + ARN_FUNCTION.length)
  const colon = rest.indexOf(':')
  return colon === -1
    ? { name: rest }
    : { name: rest.slice(0, colon), qualifier: rest.slice(colon + 1) }
}

const functionMatches = (filter: FunctionFilter, context: unknown): boolean => {
  if (typeof context !== 'object' || context === null) return false
  // The Lambda context is the runtime's object, not user data: plain reads
  // (a throwing getter is caught by `matches`).
  const ctx = context as Record<string, unknown>
  const arn = fromArn(ctx.invokedFunctionArn)
  const ownName = ctx.functionName
  const name = typeof ownName === 'string' && ownName !== '' ? ownName : arn.name
  if (name === undefined) return false
  if (filter.names.has(name)) return true
  const qualifiers = filter.qualified.get(name)
  if (qualifiers === undefined) return false
  if (arn.qualifier !== undefined && qualifiers.has(arn.qualifier)) return true
  const version = ctx.functionVersion
  return typeof version === 'string' && qualifiers.has(version)
}

/**
 * Whether a fault with this targeting applies to an invocation: its function
 * passes `functions` (when given) and its event satisfies every `match`
 * condition. `undefined` targeting applies everywhere. Never throws: an event
 * or context that cannot be read (a throwing proxy, a getter) reads as "no
 * value", and any unexpected error means "does not apply".
 *
 * Cost: O(conditions × path depth) own-property reads, whatever the size of
 * the event.
 *
 * @example
 * ```ts
 * matches(targeting, { requestContext: { http: { method: 'GET' } } }, context) // true or false
 * ```
 */
export const matches = (
  targeting: Targeting | undefined,
  event: unknown,
  context: unknown,
): boolean => {
  if (targeting === undefined) return true
  try {
    if (targeting.never) return false
    if (targeting.functions !== undefined && !functionMatches(targeting.functions, context))
      return false
    for (const condition of targeting.conditions) {
      if (!holds(condition, event)) return false
    }
    return true
  } catch {
    return false
  }
}
