/**
 * Reads failure-lambda's configuration documents (gunnargrosch/failure-lambda)
 * and maps them to middy-chaos's version 1 document, so a team can move from
 * failure-lambda without rewriting its SSM parameter or AppConfig profile.
 *
 * Two formats exist:
 *
 * - **0.x** (until 0.4.4): one flat fault,
 *   `{"isEnabled": true, "failureMode": "latency", "rate": 1, "minLatency": 100, "maxLatency": 400,
 *   "exceptionMsg": "…", "statusCode": 404, "diskSpace": 100, "denylist": […]}`.
 * - **1.x** (from 1.0.0): one feature flag per mode,
 *   `{"latency": {"enabled": true, "percentage": 50, "min_latency": 100, "max_latency": 400,
 *   "match": [{"path": "requestContext.http.method", "value": "GET"}]}, …}`.
 *
 * Each failure-lambda mode maps onto the middy-chaos fault whose definition
 * declares it (`formats.failureLambda`): the fault package says how the mode's
 * own fields read (`min_latency` / `max_latency` → `delay`, see each package's
 * README). This module reads what all modes share:
 *
 * | failure-lambda | middy-chaos |
 * | --- | --- |
 * | `enabled` (1.x), `isEnabled` + `failureMode` (0.x) | an entry per enabled mode |
 * | `percentage` 0–100 (1.x), `rate` 0–1 (0.x) | `rate` 0–1 |
 * | `match` (1.x) | `match`, see below |
 * | a mode no fault of the catalog declares | dropped, with a note |
 *
 * 1.x `match` conditions compare the value at a dot path as a string
 * (`String(value)`, `null`/missing never matching). They map to:
 * `eq` → `equals` (or `oneOf` with the number or boolean the string spells,
 * `"200"` → `["200", 200]`, so a numeric event value still matches);
 * `exists` → `exists: true`; `startsWith` → `prefix` (middy-chaos compares
 * strings only: a number no longer matches a prefix); `regex` → translated
 * when it is an anchored literal (`^GET$` → `equals`, `^(GET|HEAD)$` →
 * `oneOf`, `^/api` → `prefix`), otherwise the flag is dropped with a note,
 * since middy-chaos never runs a regular expression from a config (dropping
 * errs towards injecting less, never more).
 *
 * Invalid flags are skipped with a note, as failure-lambda skips them
 * (`percentage: 150`, `enabled: "yes"`, `min_latency > max_latency`, …).
 * Several faults run in the order of the middlewares' `.use()`, where
 * failure-lambda runs latency, then status code, then exception.
 *
 * @module
 */
import { registeredFaults } from '../catalog.js'
import type { AnyFaultDefinition, FaultCatalog } from '../types.js'
import { describeValue, FORBIDDEN_SEGMENTS, isRecord } from '../util.js'
import {
  FAILURE_LAMBDA_MODES,
  type FailureLambdaConversion,
  hasFlags,
  hasOwn,
  isFailureLambdaConfig,
  isV0,
  own,
  provideFailureLambdaReader,
} from './failure-lambda-detect.js'

export {
  FAILURE_LAMBDA_MODES,
  type FailureLambdaConversion,
  type FailureLambdaFormat,
  isDroppedNote,
  isFailureLambdaConfig,
} from './failure-lambda-detect.js'

/** failure-lambda 0.x `failureMode` values. */
const V0_MODES: ReadonlySet<string> = new Set([
  'latency',
  'statuscode',
  'exception',
  'diskspace',
  'denylist',
  'blacklist',
])
/** middy-chaos keys a failure-lambda document may carry: failure-lambda ignores them. */
const TIMING_KEYS = ['expiresAt', 'duration', 'writtenAt'] as const
// ---------------------------------------------------------------------------
// Shared mapping helpers

const NUMBER_TEXT = (text: string): number | undefined => {
  if (text.trim() !== text || text === '') return undefined
  const value = Number(text)
  return Number.isFinite(value) && String(value) === text ? value : undefined
}

/**
 * A condition that holds where failure-lambda's `String(value) === text` does
 * for JSON primitives: the string itself, or the number or boolean it spells.
 */
const equalsCondition = (path: unknown, text: string): Record<string, unknown> => {
  const values: (string | number | boolean)[] = [text]
  const number = NUMBER_TEXT(text)
  if (number !== undefined) values.push(number)
  if (text === 'true') values.push(true)
  if (text === 'false') values.push(false)
  return values.length === 1 ? { path, equals: text } : { path, oneOf: values }
}

const REGEX_META = new Set(['\\', '^', '$', '.', '|', '?', '*', '+', '(', ')', '[', ']', '{', '}'])

const isWordChar = (char: string): boolean => /^[A-Za-z0-9_]$/.test(char)

/** Reads literal text up to one of `stops`; undefined on any regex construct. */
const readLiteral = (
  pattern: string,
  start: number,
  stops: ReadonlySet<string>,
): { text: string; end: number } | undefined => {
  let text = ''
  let i = start
  while (i < pattern.length) {
    const char = pattern[i] as string
    if (stops.has(char)) break
    if (char === '\\') {
      const next = pattern[i + 1]
      // `\.` `\/` `\-` are literal; `\d`, `\w`, `\b`, `\1`… are not.
      if (next === undefined || isWordChar(next)) return undefined
      text += next
      i += 2
      continue
    }
    if (REGEX_META.has(char)) return undefined
    text += char
    i += 1
  }
  return { text, end: i }
}

/**
 * Translates the regular expressions that are anchored literals, without
 * running or compiling them: `^text$`, `^(a|b)$`, `^(?:a|b)$`, `^text`.
 */
export const translateRegex = (
  path: unknown,
  pattern: string,
): Record<string, unknown> | undefined => {
  if (pattern.length > 1024 || !pattern.startsWith('^')) return undefined
  let i = 1
  const alternatives: string[] = []
  if (pattern[i] === '(') {
    i += pattern.startsWith('?:', i + 1) ? 3 : 1
    for (;;) {
      const literal = readLiteral(pattern, i, new Set(['|', ')']))
      if (literal === undefined) return undefined
      alternatives.push(literal.text)
      i = literal.end
      if (pattern[i] === '|') {
        i += 1
        continue
      }
      if (pattern[i] === ')') {
        i += 1
        break
      }
      return undefined
    }
  } else {
    const literal = readLiteral(pattern, i, new Set(['$']))
    if (literal === undefined) return undefined
    alternatives.push(literal.text)
    i = literal.end
  }
  const anchoredEnd = pattern[i] === '$'
  if (anchoredEnd) i += 1
  if (i !== pattern.length) return undefined
  if (!anchoredEnd) {
    if (alternatives.length !== 1) return undefined
    const prefix = alternatives[0] as string
    return prefix === '' ? { path, exists: true } : { path, prefix }
  }
  if (alternatives.length === 1) return equalsCondition(path, alternatives[0] as string)
  const values: (string | number | boolean)[] = []
  for (const text of alternatives) {
    const condition = equalsCondition(path, text)
    if ('oneOf' in condition) values.push(...(condition.oneOf as (string | number | boolean)[]))
    else values.push(text)
  }
  return { path, oneOf: [...new Set(values)] }
}

/** failure-lambda's dot path as a middy-chaos path: a string when it reads the same, else segments. */
const pathOf = (text: string): string | string[] | { forbidden: string } => {
  const segments = text.split('.')
  const forbidden = segments.find((segment) => FORBIDDEN_SEGMENTS.has(segment))
  if (forbidden !== undefined) return { forbidden }
  const plain = segments.every(
    (segment) => segment !== '' && !segment.includes('[') && !segment.includes(']'),
  )
  return plain ? text : segments
}

/**
 * Maps one flag's `match` array. Returns the conditions, or a reason to drop
 * the flag. Assumes failure-lambda's own validation passed.
 */
const mapMatch = (
  mode: string,
  raw: readonly unknown[],
): { conditions: Record<string, unknown>[] } | { drop: string } => {
  const conditions: Record<string, unknown>[] = []
  for (const [index, entry] of raw.entries()) {
    const condition = entry as Record<string, unknown>
    const at = `${mode}.match[${index}]`
    const path = pathOf(condition.path as string)
    if (typeof path === 'object' && !Array.isArray(path))
      return {
        drop: `${at}.path: the segment "${path.forbidden}" reads an inherited property in failure-lambda; middy-chaos reads own properties only`,
      }
    const operator = condition.operator ?? 'eq'
    const value = condition.value as string
    switch (operator) {
      case 'exists':
        conditions.push({ path, exists: true })
        break
      case 'startsWith':
        conditions.push(value === '' ? { path, exists: true } : { path, prefix: value })
        break
      case 'regex': {
        const translated = translateRegex(path, value)
        if (translated === undefined)
          return {
            drop: `${at}: the regex ${describeValue(value)} is not an anchored literal such as "^GET$", "^(GET|HEAD)$" or "^/api"; middy-chaos runs no regular expression from a config`,
          }
        conditions.push(translated)
        break
      }
      default:
        conditions.push(equalsCondition(path, value))
    }
  }
  return { conditions }
}

// ---------------------------------------------------------------------------
// 1.x

/** Mirrors failure-lambda 1.x `validateFlagValue`: shared fields, then the mode's own, then `match`. */
const validateFlag = (
  mapping: NonNullable<AnyFaultDefinition['formats']>['failureLambda'],
  flag: Record<string, unknown>,
): string[] => {
  const errors: string[] = []
  const get = (key: string) => own(flag, key)
  if (typeof get('enabled') !== 'boolean')
    errors.push(`enabled must be true or false (got ${describeValue(get('enabled'))})`)
  const percentage = get('percentage')
  if (
    percentage !== undefined &&
    !(
      typeof percentage === 'number' &&
      Number.isInteger(percentage) &&
      percentage >= 0 &&
      percentage <= 100
    )
  )
    errors.push(`percentage must be an integer from 0 to 100 (got ${describeValue(percentage)})`)
  errors.push(...(mapping?.check?.(flag) ?? []))
  const match = get('match')
  if (match !== undefined) {
    if (!Array.isArray(match)) {
      errors.push(`match must be an array of conditions (got ${describeValue(match)})`)
    } else {
      for (const [index, entry] of match.entries()) {
        const at = `match[${index}]`
        if (!isRecord(entry)) {
          errors.push(`${at} must be an object with a string path (got ${describeValue(entry)})`)
          continue
        }
        if (typeof own(entry, 'path') !== 'string')
          errors.push(`${at}.path must be a string (got ${describeValue(own(entry, 'path'))})`)
        const operator = own(entry, 'operator') ?? 'eq'
        if (!['eq', 'exists', 'startsWith', 'regex'].includes(operator as string))
          errors.push(
            `${at}.operator must be one of "eq", "exists", "startsWith", "regex" (got ${describeValue(operator)})`,
          )
        else if (operator !== 'exists' && typeof own(entry, 'value') !== 'string')
          errors.push(`${at}.value must be a string (got ${describeValue(own(entry, 'value'))})`)
      }
    }
  }
  return errors
}

const rateOfFlag = (mode: string, flag: Record<string, unknown>, notes: string[]): number => {
  const percentage = own(flag, 'percentage')
  if (typeof percentage === 'number') return percentage / 100
  const rate = own(flag, 'rate')
  if (typeof rate === 'number' && rate >= 0 && rate <= 1) {
    notes.push(
      `${mode}: "rate" (a 1.0 pre-release spelling) read as the probability ${rate}; failure-lambda 1.0 reads only "percentage" and would inject every time`,
    )
    return rate
  }
  return 1
}

/** The fault of a catalog that declares a failure-lambda mode. */
const mappingFor = (catalog: FaultCatalog, mode: string) => {
  for (const definition of catalog) {
    const mapping = definition.formats?.failureLambda
    if (mapping?.mode === mode) return { definition, mapping }
  }
  return undefined
}

const fromV1 = (
  raw: Record<string, unknown>,
  notes: string[],
  catalog: FaultCatalog,
): Record<string, unknown> => {
  if (isV0(raw))
    notes.push(
      'isEnabled/failureMode (0.x) ignored: the document also has 1.x flags, which failure-lambda 1.x reads',
    )
  const faults: Record<string, unknown>[] = []
  for (const mode of FAILURE_LAMBDA_MODES) {
    if (!hasOwn(raw, mode)) continue
    const flag = raw[mode]
    if (!isRecord(flag)) {
      notes.push(
        `${mode}: skipped, as failure-lambda does: must be an object (got ${describeValue(flag)})`,
      )
      continue
    }
    if (own(flag, 'enabled') === false) continue
    const found = mappingFor(catalog, mode)
    if (found === undefined) {
      if (own(flag, 'enabled') === true)
        notes.push(`${mode}: dropped: no middleware of this function handles it`)
      continue
    }
    const errors = validateFlag(found.mapping, flag)
    if (errors.length > 0) {
      notes.push(`${mode}: skipped, as failure-lambda skips an invalid flag: ${errors.join('; ')}`)
      continue
    }
    const fault: Record<string, unknown> = {
      type: found.definition.type,
      rate: rateOfFlag(mode, flag, notes),
      ...found.mapping.fields(flag, { version: 1, note: (text) => notes.push(text) }),
    }
    const match = own(flag, 'match')
    if (Array.isArray(match) && match.length > 0) {
      const mapped = mapMatch(mode, match)
      if ('drop' in mapped) {
        notes.push(`${mode}: dropped: ${mapped.drop}`)
        continue
      }
      fault.match = mapped.conditions
    }
    faults.push(fault)
  }
  return { version: 1, enabled: true, faults }
}

// ---------------------------------------------------------------------------
// 0.x

/** 0.x fires when `Math.random() < config.rate`: JavaScript's comparison, coercion included. */
const rateOfV0 = (raw: unknown, notes: string[]): number => {
  if (typeof raw === 'number' && raw >= 0 && raw <= 1) return raw
  let coerced = Number.NaN
  if (
    typeof raw === 'number' ||
    typeof raw === 'string' ||
    typeof raw === 'boolean' ||
    raw === null
  )
    coerced = Number(raw)
  const rate = Number.isNaN(coerced) ? 0 : Math.min(1, Math.max(0, coerced))
  notes.push(
    raw === undefined
      ? 'rate: missing, so failure-lambda 0.x never injects (Math.random() < undefined is false); mapped to rate 0'
      : `rate: ${describeValue(raw)} is not a number from 0 to 1; failure-lambda 0.x compares Math.random() with it, which gives rate ${rate}`,
  )
  return rate
}

const fromV0 = (
  raw: Record<string, unknown>,
  notes: string[],
  catalog: FaultCatalog,
): Record<string, unknown> => {
  const isEnabled = own(raw, 'isEnabled')
  if (isEnabled !== true) {
    if (isEnabled !== false && isEnabled !== undefined)
      notes.push(
        `isEnabled: ${describeValue(isEnabled)} is not true, so failure-lambda 0.x injects nothing`,
      )
    return { version: 1, enabled: false, faults: [] }
  }
  const mode = own(raw, 'failureMode')
  // 0.2–0.3 called denylist `blacklist` (field `blacklist`); the denylist mapping reads both.
  // Only the modes 0.x had: `timeout` or `corruption` came with 1.x, and 0.x injects nothing for them.
  const found =
    typeof mode === 'string' && V0_MODES.has(mode)
      ? mappingFor(catalog, mode === 'blacklist' ? 'denylist' : mode)
      : undefined
  if (found === undefined || typeof mode !== 'string') {
    notes.push(
      typeof mode === 'string' && V0_MODES.has(mode)
        ? `failureMode: dropped: no middleware of this function handles ${mode}`
        : `failureMode: ${describeValue(mode)} is not a failure-lambda mode, so it injects nothing`,
    )
    return { version: 1, enabled: true, faults: [] }
  }
  const rate = rateOfV0(own(raw, 'rate'), notes)
  const fields = found.mapping.fields(raw, { version: 0, note: (text) => notes.push(text) })
  return {
    version: 1,
    enabled: true,
    faults: [{ type: found.definition.type, rate, ...fields }],
  }
}

/**
 * Maps a failure-lambda configuration (0.x or 1.x, see
 * {@link isFailureLambdaConfig}) to a middy-chaos version 1 document, to be
 * read by `parseConfig` like any other. Each mode maps onto the fault of
 * `catalog` that declares it (default: the faults registered in this process,
 * that is the chaos middlewares the function uses). Never throws: anything
 * that cannot map is left out, with a note saying why. A document that is not
 * a failure-lambda configuration gives a disabled document and a note.
 * middy-chaos's timing keys (`expiresAt`, `duration`, `writtenAt`), which
 * failure-lambda ignores, are kept.
 *
 * @example
 * ```ts
 * const { document, notes, format } = fromFailureLambda(
 *   {
 *     latency: { enabled: true, percentage: 50, min_latency: 100, max_latency: 400 },
 *     diskspace: { enabled: true, disk_space: 100 },
 *   },
 *   [latencyFault],
 * )
 * // format: 'failure-lambda-1'
 * // document: { version: 1, enabled: true, faults: [
 * //   { type: 'latency', rate: 0.5, phase: 'before', delay: { min: 100, max: 399 } } ] }
 * // notes: ['diskspace: dropped: no middleware of this function handles it']
 * ```
 */
export const fromFailureLambda = (
  raw: Record<string, unknown>,
  catalog: FaultCatalog = registeredFaults(),
): FailureLambdaConversion => {
  const notes: string[] = []
  try {
    if (!isFailureLambdaConfig(raw)) {
      notes.push(`not a failure-lambda configuration (got ${describeValue(raw)})`)
      return {
        document: { version: 1, enabled: false, faults: [] },
        notes,
        format: 'failure-lambda-1',
      }
    }
    const v0 = !hasFlags(raw) && isV0(raw)
    const document = v0 ? fromV0(raw, notes, catalog) : fromV1(raw, notes, catalog)
    for (const key of TIMING_KEYS) if (hasOwn(raw, key)) document[key] = raw[key]
    return { document, notes, format: v0 ? 'failure-lambda-0' : 'failure-lambda-1' }
  } catch (error) {
    notes.push(`could not be read: ${error instanceof Error ? error.message : 'unknown error'}`)
    return {
      document: { version: 1, enabled: false, faults: [] },
      notes,
      format: 'failure-lambda-1',
    }
  }
}

provideFailureLambdaReader(fromFailureLambda)

/**
 * Makes a bundled function read failure-lambda configurations: call it once,
 * at the top of the function's module. A function loaded from `node_modules`
 * reads them without it; one bundled without it (esbuild, CDK's
 * `NodejsFunction`, SAM's esbuild build) leaves the reader out of its bundle,
 * and a failure-lambda configuration then injects nothing, with a warning
 * naming this call.
 *
 * @example
 * ```ts
 * import { useFailureLambdaFormat } from '@middy-chaos/core/failure-lambda'
 * useFailureLambdaFormat()
 * ```
 */
export const useFailureLambdaFormat = (): void => provideFailureLambdaReader(fromFailureLambda)
