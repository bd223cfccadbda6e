/**
 * What the tooling says about a config value, with the registry of faults:
 * every problem the middlewares would find (`checkConfig`), and a short phrase
 * for what it does (`describeConfig`).
 *
 * @module
 */
import {
  type ConfigIssue,
  type FaultCatalog,
  FieldReader,
  faultTypeNames,
  findFault,
  parseConfig,
} from '@middy-chaos/core'
import { FAULTS } from './faults.js'

/** What {@link checkConfig} finds. */
export interface ConfigCheck {
  /** Problems: a middleware would ignore the entry (or the document). */
  issues: ConfigIssue[]
  /** What a translated format (failure-lambda) had that does not map: informational. */
  notes: string[]
}

/**
 * Every problem of a chaos config value, as the middlewares would see it: the
 * document (core's `parseConfig`), then each entry with its own fault
 * package's rules (`delay: -1`, `error_code: 999`). An entry whose type no
 * fault of the registry has is a problem too, naming the known types.
 *
 * @example
 * ```ts
 * checkConfig('{"version":1,"faults":[{"type":"latncy"}]}').issues
 * // [{ path: 'faults[0].type', message: 'unknown fault type "latncy" (known: latency, status_code, …)' }]
 * ```
 */
export const checkConfig = (value: unknown, faults: FaultCatalog = FAULTS): ConfigCheck => {
  const { document, issues, notes } = parseConfig(value, { faults })
  const all = [...issues]
  for (const spec of document.faults) {
    const definition = findFault(faults, spec.type)
    if (definition === undefined) {
      all.push({
        path: spec.path ? `${spec.path}.type` : 'fault_type',
        message: `unknown fault type "${spec.type}" (known: ${faultTypeNames(faults)})`,
      })
      continue
    }
    try {
      definition.parse(
        new FieldReader(spec.fields, spec.path, all, spec.aliases),
        definition.defaults ?? {},
      )
    } catch (error) {
      all.push({ path: spec.path || spec.type, message: (error as Error).message })
    }
    if (spec.phase !== undefined && !definition.phases.includes(spec.phase)) {
      all.push({
        path: spec.path ? `${spec.path}.phase` : 'phase',
        message: `a ${definition.type} fault runs in ${definition.phases.map((p) => `"${p}"`).join(' or ')}, not "${spec.phase}"`,
      })
    }
  }
  return { issues: all, notes: [...(notes ?? [])] }
}

/** Every problem of a config value (see {@link checkConfig}). */
export const validateConfig = (value: unknown, faults: FaultCatalog = FAULTS): ConfigIssue[] =>
  checkConfig(value, faults).issues

/** One entry in people's words: the fault's own `describe`, or its type. */
const describeEntry = (
  faults: FaultCatalog,
  type: string,
  fields: Readonly<Record<string, unknown>>,
  path: string,
  aliases: Readonly<Record<string, string>> | undefined,
): string => {
  const definition = findFault(faults, type)
  if (definition?.describe) {
    try {
      const params = definition.parse(
        new FieldReader(fields, path, [], aliases),
        definition.defaults ?? {},
      )
      if (params !== undefined) return definition.describe(params)
    } catch {
      // Described by its type below.
    }
  }
  return type.replace(/_/g, ' ')
}

/**
 * One short phrase for what a config value does: `latency 400ms`,
 * `status code 404`, `exception`, `faults off`, `invalid (fault_type: ...)`.
 */
export const describeConfig = (value: unknown, faults: FaultCatalog = FAULTS): string => {
  if (value === undefined) return 'no value (faults off)'
  const { document, issues } = parseConfig(value, { faults })
  if (!document.enabled || document.faults.length === 0) {
    return issues.length > 0 ? `invalid (${issues[0]?.path}: ${issues[0]?.message})` : 'faults off'
  }
  return document.faults
    .map((fault) => {
      const text = describeEntry(faults, fault.type, fault.fields, fault.path, fault.aliases)
      return fault.rate < 1 ? `${text} (rate ${fault.rate})` : text
    })
    .join(' + ')
}
