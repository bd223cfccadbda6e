/**
 * middy-chaos's own format, version 1: several faults in one document.
 *
 * ```json
 * { "version": 1, "enabled": true, "expiresAt": "2026-12-01T12:00:00Z",
 *   "faults": [{ "type": "latency", "delay": 400, "rate": 0.5 }, { "type": "status_code", "statusCode": 503 }] }
 * ```
 *
 * @module
 */
import { findFault, normaliseFaultType } from '../catalog.js'
import type { ChaosDocument, ConfigIssue, FaultCatalog, FaultSpec } from '../types.js'
import { describeValue, isRecord, kindOf } from '../util.js'
import { EMPTY_DOCUMENT, readCommon, readTiming } from './common.js'

/** The only version of the middy-chaos document format. */
export const CONFIG_VERSION = 1

/** Most entries one document may hold. */
export const MAX_FAULTS = 50

/** A middy-chaos document: it has `faults` or `version`. */
export const isMiddyChaosDocument = (raw: Record<string, unknown>): boolean =>
  raw.faults !== undefined || raw.version !== undefined

/**
 * Reads a middy-chaos document. Entry types are written as their fault's
 * canonical type when the catalog knows them (`"delay"` → `latency`).
 */
export const parseMiddyChaos = (
  raw: Record<string, unknown>,
  issues: ConfigIssue[],
  catalog: FaultCatalog,
): ChaosDocument => {
  if (raw.version !== undefined && raw.version !== CONFIG_VERSION) {
    issues.push({
      path: 'version',
      message: `unsupported version ${describeValue(raw.version)} (this library reads version ${CONFIG_VERSION})`,
    })
    return EMPTY_DOCUMENT
  }
  if (raw.enabled !== undefined && typeof raw.enabled !== 'boolean') {
    issues.push({
      path: 'enabled',
      message: `must be true or false (got ${describeValue(raw.enabled)})`,
    })
    return EMPTY_DOCUMENT
  }
  if (!Array.isArray(raw.faults)) {
    issues.push({
      path: 'faults',
      message: `must be an array of fault entries (got ${kindOf(raw.faults)})`,
    })
    return EMPTY_DOCUMENT
  }
  if (raw.faults.length > MAX_FAULTS) {
    issues.push({
      path: 'faults',
      message: `must hold at most ${MAX_FAULTS} entries (got ${raw.faults.length})`,
    })
    return EMPTY_DOCUMENT
  }
  const timing = readTiming(raw, issues)
  if (timing === undefined) return EMPTY_DOCUMENT
  if (raw.dryRun !== undefined && typeof raw.dryRun !== 'boolean') {
    issues.push({
      path: 'dryRun',
      message: `must be true or false (got ${describeValue(raw.dryRun)})`,
    })
    return EMPTY_DOCUMENT
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
        message: `must be a fault type such as "latency" (got ${entry.type === undefined ? 'nothing' : describeValue(entry.type)})`,
      })
      return
    }
    if (entry.enabled !== undefined && typeof entry.enabled !== 'boolean') {
      issues.push({
        path: `${path}.enabled`,
        message: `must be true or false (got ${describeValue(entry.enabled)})`,
      })
      return
    }
    if (entry.enabled === false) return
    const type = findFault(catalog, entry.type)?.type ?? normaliseFaultType(entry.type)
    const spec = readCommon(entry, type, path, issues)
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
