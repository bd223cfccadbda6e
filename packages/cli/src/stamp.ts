/**
 * The dead-man's expiry: every value the runner writes that turns a fault on
 * carries `expiresAt`, renewed while the runner lives. A runner killed by any
 * means stops injecting by itself: the middlewares honour `expiresAt` in every
 * format (chaos_lambda itself ignores the extra key, so the workshop's value
 * stays readable by it).
 *
 * @module
 */
import { type FaultCatalog, isRecord, parseConfig, parseInstant } from '@middy-chaos/core'
import { FAULTS } from './faults.js'

/** The field the stamp goes in. */
export const EXPIRY_FIELD = 'expiresAt'

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
