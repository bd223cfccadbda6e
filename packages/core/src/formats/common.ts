/**
 * What every format shares once translated: the fields every fault entry has
 * (`rate` and the rate modes, `phase`, `dryRun`, targeting) and the document's
 * timing (`expiresAt`, `duration`, `writtenAt`).
 *
 * @module
 */
import { parseTargeting } from '../match.js'
import { parseRateFields } from '../rate.js'
import { parseDuration, parseInstant } from '../time.js'
import type { ChaosDocument, ConfigIssue, FaultSpec, Phase } from '../types.js'
import { PHASES } from '../types.js'
import { describeValue, joinPath } from '../util.js'

/** A document with no faults, disabled: what an invalid document reads as. */
export const EMPTY_DOCUMENT: ChaosDocument = Object.freeze({
  format: 'middy-chaos',
  enabled: false,
  faults: Object.freeze([]),
}) as ChaosDocument

/** Longest `duration` a document may ask for: 7 days. */
export const MAX_DURATION_MS = 7 * 86_400_000

/**
 * Reads the fields every fault entry shares. `raw` holds the entry with its
 * fields under middy-chaos names; `aliases` says how the source format spelt
 * them, for messages (`statusCode` → `error_code`).
 */
export const readCommon = (
  raw: Record<string, unknown>,
  type: string,
  path: string,
  issues: ConfigIssue[],
  aliases?: Record<string, string>,
): FaultSpec | undefined => {
  const at = (field: string) => joinPath(path, aliases?.[field] ?? field)
  const before = issues.length
  let rate = 1
  if (raw.rate !== undefined) {
    if (typeof raw.rate === 'number' && raw.rate >= 0 && raw.rate <= 1) rate = raw.rate
    else
      issues.push({
        path: at('rate'),
        message: `must be a number from 0 to 1 (got ${describeValue(raw.rate)})`,
      })
  }
  let phase: Phase | undefined
  if (raw.phase !== undefined) {
    if (typeof raw.phase === 'string' && (PHASES as readonly string[]).includes(raw.phase))
      phase = raw.phase as Phase
    else
      issues.push({
        path: at('phase'),
        message: `must be one of "before", "after", "onError" (got ${describeValue(raw.phase)})`,
      })
  }
  if (raw.dryRun !== undefined && typeof raw.dryRun !== 'boolean') {
    issues.push({
      path: at('dryRun'),
      message: `must be true or false (got ${describeValue(raw.dryRun)})`,
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

/**
 * Auto-expiry: `expiresAt` (ISO 8601 or epoch ms), or `duration` (`"15m"`, ms)
 * counted from `writtenAt` when the writer stamped it, else from when this
 * execution environment first saw the document. An expiry that cannot be read
 * rejects the whole document: someone meant the faults to stop.
 */
export const readTiming = (
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
        message: `must be ${expected} (got ${describeValue(raw[field])})`,
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
