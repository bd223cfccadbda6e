/**
 * Reads a chaos config in any accepted format into one normalised
 * {@link ChaosDocument}. Each format has its module under `formats/`:
 * middy-chaos's own (`formats/middy-chaos.ts`), chaos_lambda's
 * (`formats/chaos-lambda.ts`) and failure-lambda's (`formats/failure-lambda.ts`);
 * what they share is in `formats/common.ts`.
 *
 * @module
 */
import { registeredFaults } from './catalog.js'
import type { ChaosConfigArgument } from './config-types.js'
import { ChaosConfigError } from './errors.js'
import { isChaosLambdaDocument, parseChaosLambda } from './formats/chaos-lambda.js'
import { EMPTY_DOCUMENT } from './formats/common.js'
import {
  failureLambdaReader,
  isDroppedNote,
  isFailureLambdaConfig,
} from './formats/failure-lambda-detect.js'
import { isMiddyChaosDocument, parseMiddyChaos } from './formats/middy-chaos.js'
import type { ChaosDocument, ConfigIssue, FaultCatalog, ParseResult } from './types.js'
import { isRecord, kindOf } from './util.js'

export { normaliseFaultType } from './catalog.js'
export { EMPTY_DOCUMENT, MAX_DURATION_MS } from './formats/common.js'
export { CONFIG_VERSION } from './formats/middy-chaos.js'

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
    // V8's message quotes the start of the value: a secret must never reach a log line.
    const position = /at position (\d+)/.exec((error as Error).message)?.[1]
    return {
      issue: {
        path: '(document)',
        message: `is not valid JSON (${text.length} characters${position === undefined ? '' : `, error at position ${position}`}; the value is not quoted)`,
      },
    }
  }
}

/** Options of {@link parseConfig}. */
export interface ParseOptions {
  /**
   * The faults to read the document with: how chaos_lambda and failure-lambda
   * spell their fields, and the canonical names of aliases. Defaults to the
   * faults registered in this process (the chaos middlewares created so far).
   */
  faults?: FaultCatalog
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
 *   the faults that declare them; what has no equivalent is listed in `notes`.
 *
 * A document written in code is typed ({@link ChaosConfigArgument}): a
 * misspelled field of an entry of a fault package the program imports is a
 * compile error. A value whose type says nothing of its fields (`unknown`,
 * what a store returned) and text are checked at run time only.
 *
 * @example
 * ```ts
 * const { document, issues } = parseConfig('{"is_enabled":true,"fault_type":"latency","delay":400}')
 * const typed = parseConfig({ version: 1, faults: [{ type: 'latency', delay: 400 }] })
 * ```
 */
export const parseConfig = <T>(
  input: ChaosConfigArgument<T>,
  options: ParseOptions = {},
): ParseResult => {
  const catalog = options.faults ?? registeredFaults()
  const issues: ConfigIssue[] = []
  const decoded = decodeConfigValue(input)
  if (decoded.issue) return { document: EMPTY_DOCUMENT, issues: [decoded.issue] }
  const raw = decoded.value
  if (!isRecord(raw)) {
    return {
      document: EMPTY_DOCUMENT,
      issues: [{ path: '(document)', message: `must be a JSON object (got ${kindOf(raw)})` }],
    }
  }
  if (!isMiddyChaosDocument(raw) && isFailureLambdaConfig(raw)) {
    const read = failureLambdaReader()
    if (read === undefined)
      return {
        document: EMPTY_DOCUMENT,
        issues: [
          {
            path: '(document)',
            message:
              "a failure-lambda configuration, and this function was bundled without its reader: call useFailureLambdaFormat() from '@middy-chaos/core/failure-lambda' in the function",
          },
        ],
      }
    const converted = read(raw, catalog)
    const document = parseMiddyChaos(converted.document, issues, catalog)
    const warnings = converted.notes.filter(isDroppedNote)
    return {
      document: { ...document, format: converted.format },
      issues,
      notes: converted.notes,
      ...(warnings.length > 0 ? { warnings } : {}),
    }
  }
  const document = isChaosLambdaDocument(raw)
    ? parseChaosLambda(raw, issues, catalog)
    : parseMiddyChaos(raw, issues, catalog)
  return { document, issues }
}

/** Like {@link parseConfig} but throws a {@link ChaosConfigError} listing every issue. */
export const parseConfigOrThrow = <T>(
  input: ChaosConfigArgument<T>,
  options: ParseOptions = {},
): ChaosDocument => {
  const { document, issues } = parseConfig(input, options)
  if (issues.length > 0) throw new ChaosConfigError(issues)
  return document
}
