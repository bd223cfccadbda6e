/**
 * What every function needs of failure-lambda's format, however it was
 * bundled: recognising a failure-lambda document, and the slot its reader
 * (`failure-lambda.ts`, 6 KB minified) fills when it is loaded. A function
 * loaded from `node_modules` loads the reader with `@middy-chaos/core`, or,
 * through `@middy-chaos/core/fault`, when its store first gives it a
 * failure-lambda document ({@link loadFailureLambdaReader}); a bundled one
 * that reads failure-lambda configurations calls `useFailureLambdaFormat()`
 * from `@middy-chaos/core/failure-lambda`, so that functions that do not ship
 * without it.
 *
 * @module
 */
import type { FaultCatalog } from '../types.js'
import { isRecord } from '../util.js'

/** Which failure-lambda format a document was written in. */
export type FailureLambdaFormat = 'failure-lambda-0' | 'failure-lambda-1'

/** What the failure-lambda reader (`fromFailureLambda`) returns. */
export interface FailureLambdaConversion {
  /** A middy-chaos version 1 document: `{ version: 1, enabled, faults: [...] }`. */
  document: Record<string, unknown>
  /** What was dropped, skipped or approximated, one sentence each. Informational, not errors. */
  notes: string[]
  format: FailureLambdaFormat
}

/** The failure-lambda reader. */
export type FailureLambdaReader = (
  raw: Record<string, unknown>,
  catalog?: FaultCatalog,
) => FailureLambdaConversion

let reader: FailureLambdaReader | undefined

/** Called by the reader's module when it loads. */
export const provideFailureLambdaReader = (read: FailureLambdaReader): void => {
  reader = read
}

/** The failure-lambda reader, if this process has loaded it. */
export const failureLambdaReader = (): FailureLambdaReader | undefined => reader

/**
 * The reader's entry point, by the package's own name (the built package is
 * chunked: no relative path holds from here); a specifier bundlers do not follow.
 */
const READER_MODULE = ['@middy-chaos', 'core', 'failure-lambda'].join('/')

/**
 * Loads the reader if it is not loaded yet, and says whether it is there.
 * From `node_modules` it is; a bundle does not hold it (its bundler does not
 * follow this import), and then only `useFailureLambdaFormat()` in the
 * function provides it. Never rejects.
 */
export const loadFailureLambdaReader = async (): Promise<boolean> => {
  if (reader !== undefined) return true
  try {
    await import(READER_MODULE)
  } catch {
    // Bundled without it: parseConfig then says which call is missing.
  }
  return reader !== undefined
}

/** failure-lambda 1.x modes, in the order it injects them. */
export const FAILURE_LAMBDA_MODES = [
  'latency',
  'timeout',
  'diskspace',
  'denylist',
  'statuscode',
  'exception',
  'corruption',
] as const

/** Keys that mark another format: middy-chaos (`faults`, `version`) or chaos_lambda. */
const FOREIGN_KEYS = ['faults', 'version', 'is_enabled', 'fault_type'] as const

export const hasOwn = (record: object, key: string): boolean => Object.hasOwn(record, key)

export const own = (record: Record<string, unknown>, key: string): unknown =>
  hasOwn(record, key) ? record[key] : undefined

export const hasFlags = (raw: Record<string, unknown>): boolean =>
  FAILURE_LAMBDA_MODES.some((mode) => isRecord(own(raw, mode)))

export const isV0 = (raw: Record<string, unknown>): boolean =>
  hasOwn(raw, 'isEnabled') || hasOwn(raw, 'failureMode')

/**
 * Whether a parsed document is a failure-lambda configuration: 1.x when a
 * mode key (`latency`, `exception`, …) holds an object, 0.x when it has
 * `isEnabled` or `failureMode`. Documents with `faults` or `version`
 * (middy-chaos) or `is_enabled` or `fault_type` (chaos_lambda) never are.
 * Never throws.
 *
 * @example
 * ```ts
 * isFailureLambdaConfig({ latency: { enabled: true, min_latency: 100, max_latency: 400 } }) // true
 * isFailureLambdaConfig({ isEnabled: true, failureMode: 'latency', rate: 1 }) // true
 * isFailureLambdaConfig({ is_enabled: true, fault_type: 'latency', delay: 400 }) // false
 * ```
 */
export const isFailureLambdaConfig = (raw: Record<string, unknown>): boolean => {
  try {
    if (!isRecord(raw)) return false
    if (FOREIGN_KEYS.some((key) => hasOwn(raw, key))) return false
    return hasFlags(raw) || isV0(raw)
  } catch {
    return false
  }
}

/**
 * Whether a note says that part of the configuration was dropped or skipped
 * (an invalid flag, a mode no fault declares, an untranslatable pattern): such
 * notes are logged as warnings; the others (approximations) as information.
 */
export const isDroppedNote = (note: string): boolean =>
  /^[\w.[\]]+: (dropped|skipped)\b/.test(note) || note.startsWith('could not be read')
