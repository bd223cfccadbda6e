import { ChaosConfigError } from './errors.js'
import { fromFailureLambda, isFailureLambdaConfig } from './formats/failure-lambda.js'
import { parseTargeting } from './match.js'
import { parseRateFields } from './rate.js'
import { parseDuration, parseInstant } from './time.js'
import type { ChaosDocument, ConfigIssue, FaultSpec, ParseResult, Phase } from './types.js'
import { PHASES } from './types.js'

/** The only version of the middy-chaos document format. */
export const CONFIG_VERSION = 1

const MAX_FAULTS = 50

const EMPTY: ChaosDocument = Object.freeze({
  format: 'middy-chaos',
  enabled: false,
  faults: Object.freeze([]),
}) as ChaosDocument

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

const kindOf = (value: unknown): string =>
  value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value

/** Canonical fault type: lower case, `-` and spaces read as `_`. */
export const normaliseFaultType = (type: string): string =>
  type
    .trim()
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .replace(/[-\s]/g, '_')
    .toLowerCase()

/** Decodes what a store returned (JSON text, bytes, or an already parsed object). */
export const decodeConfigValue = (value: unknown): { value?: unknown; issue?: ConfigIssue } => {
  if (value === undefined || value === null) {
    return { issue: { path: '(document)', message: 'the store holds no value' } }
  }
  let text: string | undefined
  if (typeof value === 'string') text = value
  else if (value instanceof Uint8Array) text = new TextDecoder().decode(value)
  if (text === undefined) return { value }
  if (text.trim() === '') return { issue: { path: '(document)', message: 'the value is empty' } }
  try {
    return { value: JSON.parse(text) }
  } catch (error) {
    return {
      issue: {
        path: '(document)',
        message: `is not valid JSON (${(error as Error).message})`,
      },
    }
  }
}

const readCommon = (
  raw: Record<string, unknown>,
  type: string,
  path: string,
  issues: ConfigIssue[],
  aliases?: Record<string, string>,
): FaultSpec | undefined => {
  const at = (field: string) =>
    path ? `${path}.${aliases?.[field] ?? field}` : (aliases?.[field] ?? field)
  const before = issues.length
  let rate = 1
  if (raw.rate !== undefined) {
    if (typeof raw.rate === 'number' && raw.rate >= 0 && raw.rate <= 1) rate = raw.rate
    else
      issues.push({
        path: at('rate'),
        message: `must be a number from 0 to 1 (got ${JSON.stringify(raw.rate) ?? String(raw.rate)})`,
      })
  }
  let phase: Phase | undefined
  if (raw.phase !== undefined) {
    if (typeof raw.phase === 'string' && (PHASES as readonly string[]).includes(raw.phase))
      phase = raw.phase as Phase
    else
      issues.push({
        path: at('phase'),
        message: `must be one of "before", "after", "onError" (got ${JSON.stringify(raw.phase) ?? String(raw.phase)})`,
      })
  }
  if (raw.dryRun !== undefined && typeof raw.dryRun !== 'boolean') {
    issues.push({
      path: at('dryRun'),
      message: `must be true or false (got ${JSON.stringify(raw.dryRun)})`,
    })
  }
  if (issues.length > before) return undefined
  const policy = parseRateFields(raw, rate, path, issues)
  const targeting = parseTargeting(raw, path, issues)
  if (policy === undefined || issues.length > before) return undefined
  return {
    type,
    rate,
    policy,
    ...(targeting === undefined ? {} : { targeting }),
    fields: raw,
    path,
    ...(raw.dryRun === true ? { dryRun: true } : {}),
    ...(phase === undefined ? {} : { phase }),
    ...(aliases === undefined ? {} : { aliases }),
  }
}

const CHAOS_LAMBDA_TYPES: Record<string, { field: string; as: string } | undefined> = {
  latency: { field: 'delay', as: 'delay' },
  status_code: { field: 'error_code', as: 'statusCode' },
  exception: { field: 'exception_msg', as: 'message' },
}

/** chaos_lambda's single-fault format, as written by the AWS FIS workshop. */
const parseChaosLambda = (raw: Record<string, unknown>, issues: ConfigIssue[]): ChaosDocument => {
  if (raw.is_enabled !== undefined && typeof raw.is_enabled !== 'boolean') {
    issues.push({
      path: 'is_enabled',
      message: `must be true or false (got ${JSON.stringify(raw.is_enabled)})`,
    })
    return EMPTY
  }
  // chaos_lambda injects only when is_enabled is true.
  if (raw.is_enabled !== true) return { format: 'chaos_lambda', enabled: false, faults: [] }
  if (typeof raw.fault_type !== 'string') {
    issues.push({
      path: 'fault_type',
      message: `must be "latency", "status_code" or "exception" (got ${JSON.stringify(raw.fault_type) ?? 'nothing'})`,
    })
    return EMPTY
  }
  const type = normaliseFaultType(raw.fault_type)
  const mapping = CHAOS_LAMBDA_TYPES[type]
  const fields: Record<string, unknown> = { rate: raw.rate }
  const aliases: Record<string, string> = {}
  if (mapping) {
    if (raw[mapping.field] !== undefined) fields[mapping.as] = raw[mapping.field]
    aliases[mapping.as] = mapping.field
  }
  const spec = readCommon(fields, type, '', issues, aliases)
  return { format: 'chaos_lambda', enabled: true, faults: spec ? [spec] : [] }
}

const parseMiddyChaos = (raw: Record<string, unknown>, issues: ConfigIssue[]): ChaosDocument => {
  if (raw.version !== undefined && raw.version !== CONFIG_VERSION) {
    issues.push({
      path: 'version',
      message: `unsupported version ${JSON.stringify(raw.version)} (this library reads version ${CONFIG_VERSION})`,
    })
    return EMPTY
  }
  if (raw.enabled !== undefined && typeof raw.enabled !== 'boolean') {
    issues.push({
      path: 'enabled',
      message: `must be true or false (got ${JSON.stringify(raw.enabled)})`,
    })
    return EMPTY
  }
  if (!Array.isArray(raw.faults)) {
    issues.push({
      path: 'faults',
      message: `must be an array of fault entries (got ${kindOf(raw.faults)})`,
    })
    return EMPTY
  }
  if (raw.faults.length > MAX_FAULTS) {
    issues.push({
      path: 'faults',
      message: `must hold at most ${MAX_FAULTS} entries (got ${raw.faults.length})`,
    })
    return EMPTY
  }
  const timing = readTiming(raw, issues)
  if (timing === undefined) return EMPTY
  if (raw.dryRun !== undefined && typeof raw.dryRun !== 'boolean') {
    issues.push({
      path: 'dryRun',
      message: `must be true or false (got ${JSON.stringify(raw.dryRun)})`,
    })
    return EMPTY
  }
  const faults: FaultSpec[] = []
  raw.faults.forEach((entry: unknown, index: number) => {
    const path = `faults[${index}]`
    if (!isRecord(entry)) {
      issues.push({ path, message: `must be an object (got ${kindOf(entry)})` })
      return
    }
    if (typeof entry.type !== 'string' || entry.type.trim() === '') {
      issues.push({
        path: `${path}.type`,
        message: `must be a fault type such as "latency" (got ${JSON.stringify(entry.type) ?? 'nothing'})`,
      })
      return
    }
    if (entry.enabled !== undefined && typeof entry.enabled !== 'boolean') {
      issues.push({
        path: `${path}.enabled`,
        message: `must be true or false (got ${JSON.stringify(entry.enabled)})`,
      })
      return
    }
    if (entry.enabled === false) return
    const spec = readCommon(entry, normaliseFaultType(entry.type), path, issues)
    if (spec) faults.push(spec)
  })
  return {
    format: 'middy-chaos',
    enabled: raw.enabled !== false,
    faults,
    ...(raw.dryRun === true ? { dryRun: true } : {}),
    ...timing,
  }
}

/** Longest `duration` a document may ask for: 7 days. */
export const MAX_DURATION_MS = 7 * 86_400_000

/**
 * Auto-expiry: `expiresAt` (ISO 8601 or epoch ms), or `duration` (`"15m"`, ms)
 * counted from `writtenAt` when the writer stamped it, else from when this
 * execution environment first saw the document. An expiry that cannot be read
 * rejects the whole document: someone meant the faults to stop.
 */
const readTiming = (
  raw: Record<string, unknown>,
  issues: ConfigIssue[],
): { expiresAt?: number; durationMs?: number } | undefined => {
  const before = issues.length
  const read = (field: string, parse: (value: unknown) => number | undefined, expected: string) => {
    if (raw[field] === undefined) return undefined
    const value = parse(raw[field])
    if (value === undefined) {
      issues.push({
        path: field,
        message: `must be ${expected} (got ${JSON.stringify(raw[field])})`,
      })
    }
    return value
  }
  const instant = 'an ISO 8601 time or epoch milliseconds (not seconds)'
  let expiresAt = read('expiresAt', parseInstant, instant)
  let durationMs = read(
    'duration',
    (value) => {
      const ms = parseDuration(value)
      return ms !== undefined && ms <= MAX_DURATION_MS ? ms : undefined
    },
    'a duration such as "15m", "30s", "2h" or milliseconds, at most 7 days',
  )
  const writtenAt = read('writtenAt', parseInstant, instant)
  if (issues.length > before) return undefined
  if (durationMs !== undefined && writtenAt !== undefined) {
    const end = writtenAt + durationMs
    expiresAt = expiresAt === undefined ? end : Math.min(expiresAt, end)
    durationMs = undefined
  }
  return {
    ...(expiresAt === undefined ? {} : { expiresAt }),
    ...(durationMs === undefined ? {} : { durationMs }),
  }
}

/**
 * Reads a chaos configuration in any accepted format and validates the fields
 * every fault shares. Never throws: an invalid document gives an empty one and
 * a list of issues, each naming the field and the reason. Fault-specific fields
 * are validated later by the fault package that knows them.
 *
 * Accepted formats:
 * - middy-chaos: `{ "version": 1, "faults": [{ "type": "latency", "delay": 400, "rate": 0.5 }] }`
 * - chaos_lambda: `{ "is_enabled": true, "fault_type": "latency", "delay": 400, "rate": 1 }`
 * - failure-lambda 0.x (`isEnabled`, `failureMode`, …) and 1.x (per-mode flags), mapped to
 *   the faults that exist; what has no equivalent is listed in `notes`.
 *
 * @example
 * ```ts
 * const { document, issues } = parseConfig('{"is_enabled":true,"fault_type":"latency","delay":400}')
 * ```
 */
export const parseConfig = (input: unknown): ParseResult => {
  const issues: ConfigIssue[] = []
  const decoded = decodeConfigValue(input)
  if (decoded.issue) return { document: EMPTY, issues: [decoded.issue] }
  const raw = decoded.value
  if (!isRecord(raw)) {
    return {
      document: EMPTY,
      issues: [{ path: '(document)', message: `must be a JSON object (got ${kindOf(raw)})` }],
    }
  }
  if (raw.faults === undefined && isFailureLambdaConfig(raw)) {
    const converted = fromFailureLambda(raw)
    const document = parseMiddyChaos(converted.document, issues)
    return { document: { ...document, format: converted.format }, issues, notes: converted.notes }
  }
  const isChaosLambda = raw.faults === undefined && ('is_enabled' in raw || 'fault_type' in raw)
  const document = isChaosLambda ? parseChaosLambda(raw, issues) : parseMiddyChaos(raw, issues)
  return { document, issues }
}

/** Like {@link parseConfig} but throws a {@link ChaosConfigError} listing every issue. */
export const parseConfigOrThrow = (input: unknown): ChaosDocument => {
  const { document, issues } = parseConfig(input)
  if (issues.length > 0) throw new ChaosConfigError(issues)
  return document
}

export const EMPTY_DOCUMENT = EMPTY
