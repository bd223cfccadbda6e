/**
 * chaos_lambda's flat, single-fault format, as the AWS FIS workshop writes it
 * to its SSM parameter:
 *
 * ```json
 * {"is_enabled":true,"fault_type":"latency","delay":400,"error_code":404,"exception_msg":"…","rate":1}
 * ```
 *
 * `fault_type` names the fault; each fault's definition says which of the flat
 * keys hold its fields (`formats.chaosLambda`: status code reads `error_code`).
 * Keys chaos_lambda does not know are read as middy-chaos reads them in its own
 * format: `expiresAt`, `duration`, `writtenAt` (chaos_lambda ignores them).
 *
 * @module
 */
import { findFault, normaliseFaultType } from '../catalog.js'
import type { ChaosDocument, ConfigIssue, FaultCatalog } from '../types.js'
import { describeValue } from '../util.js'
import { EMPTY_DOCUMENT, readCommon, readTiming } from './common.js'

/** A chaos_lambda document: `is_enabled` or `fault_type`, and no `faults`. */
export const isChaosLambdaDocument = (raw: Record<string, unknown>): boolean =>
  raw.faults === undefined && ('is_enabled' in raw || 'fault_type' in raw)

/** Reads a chaos_lambda document. chaos_lambda injects only when `is_enabled` is `true`. */
export const parseChaosLambda = (
  raw: Record<string, unknown>,
  issues: ConfigIssue[],
  catalog: FaultCatalog,
): ChaosDocument => {
  if (raw.is_enabled !== undefined && typeof raw.is_enabled !== 'boolean') {
    issues.push({
      path: 'is_enabled',
      message: `must be true or false (got ${describeValue(raw.is_enabled)})`,
    })
    return EMPTY_DOCUMENT
  }
  if (raw.is_enabled !== true) return { format: 'chaos_lambda', enabled: false, faults: [] }
  if (typeof raw.fault_type !== 'string') {
    const known = catalog.filter((fault) => fault.formats?.chaosLambda).map((f) => `"${f.type}"`)
    issues.push({
      path: 'fault_type',
      message: `must be a fault type${known.length > 0 ? ` such as ${known.join(', ')}` : ''} (got ${raw.fault_type === undefined ? 'nothing' : describeValue(raw.fault_type)})`,
    })
    return EMPTY_DOCUMENT
  }
  const timing = readTiming(raw, issues)
  if (timing === undefined) return EMPTY_DOCUMENT
  const definition = findFault(catalog, raw.fault_type)
  const type = definition?.type ?? normaliseFaultType(raw.fault_type)
  const fields: Record<string, unknown> = { rate: raw.rate }
  const aliases: Record<string, string> = {}
  for (const [field, key] of Object.entries(definition?.formats?.chaosLambda ?? {})) {
    if (raw[key] !== undefined) fields[field] = raw[key]
    aliases[field] = key
  }
  const spec = readCommon(fields, type, '', issues, aliases)
  return { format: 'chaos_lambda', enabled: true, faults: spec ? [spec] : [], ...timing }
}
