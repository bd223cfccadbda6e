/**
 * The dead-man's expiry: every value the runner writes that turns a fault on
 * carries `expiresAt`, renewed while the runner lives. A runner killed by any
 * means stops injecting by itself: the middlewares honour `expiresAt` in every
 * format (chaos_lambda itself ignores the extra key, so the workshop's value
 * stays readable by it). The expiry is one lease TTL ahead, and never later
 * than the end the step under way was planned to have, plus a short grace
 * ({@link valueExpiry}).
 *
 * @module
 */
import { type FaultCatalog, isRecord, parseConfig, parseInstant } from '@middy-chaos/core'
import { FAULTS } from './faults.js'

/** The field the stamp goes in. */
export const EXPIRY_FIELD = 'expiresAt'

/**
 * How long after its step's planned end a value the runner wrote may still
 * inject: the time the runner's next write (the next step's, or the restore)
 * takes to land. A runner that dies during a step that waits stops injecting
 * at most this long after that step's planned end (and at most one lease TTL
 * after its last renewal).
 */
export const EXPIRY_GRACE_MS = 2_000

/**
 * When a value written at `now` expires: one lease TTL ahead, but never later
 * than `stepEndsAt` (the planned end of the step under way, when it waits)
 * plus `graceMs`. A step that waits for nothing has no end to cap it: the
 * next step's write follows at once, and it renews the value in force with
 * its own end.
 *
 * @example
 * ```ts
 * valueExpiry(0, 60_000, 8_000) // 10_000: the 8-s step's end plus the 2-s grace
 * valueExpiry(0, 60_000, undefined) // 60_000: one lease TTL
 * ```
 */
export const valueExpiry = (
  now: number,
  ttlMs: number,
  stepEndsAt: number | undefined,
  graceMs: number = EXPIRY_GRACE_MS,
): number => (stepEndsAt === undefined ? now + ttlMs : Math.min(now + ttlMs, stepEndsAt + graceMs))

/** Whether a config value turns at least one fault on. */
export const turnsFaultsOn = (text: string, faults: FaultCatalog = FAULTS): boolean => {
  const { document } = parseConfig(text, { faults })
  return document.enabled && document.faults.length > 0
}

/**
 * The value with `expiresAt` set to `expiresAt` (or kept, when the value's own
 * is sooner). A value that turns no fault on, or is not a JSON object, is
 * returned as it is. The other keys keep their order.
 *
 * @example
 * ```ts
 * stampExpiry('{"is_enabled":true,"fault_type":"latency","delay":400}', Date.parse('2026-12-01T12:00:00Z'))
 * // '{"is_enabled":true,"fault_type":"latency","delay":400,"expiresAt":"2026-12-01T12:00:00.000Z"}'
 * ```
 */
export const stampExpiry = (
  text: string,
  expiresAt: number,
  faults: FaultCatalog = FAULTS,
): string => {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return text
  }
  if (!isRecord(value) || !turnsFaultsOn(text, faults)) return text
  const own = parseInstant(value[EXPIRY_FIELD])
  const end = own === undefined ? expiresAt : Math.min(own, expiresAt)
  return JSON.stringify({ ...value, [EXPIRY_FIELD]: new Date(end).toISOString() })
}
