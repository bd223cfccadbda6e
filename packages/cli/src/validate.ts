import {
  type ConfigIssue,
  type FaultDefinition,
  FieldReader,
  normaliseFaultType,
  parseConfig,
} from '@middy-chaos/core'
import { exceptionFault } from '@middy-chaos/exception'
import { latencyFault } from '@middy-chaos/latency'
import { statusCodeFault } from '@middy-chaos/status-code'

const FAULTS = [latencyFault, statusCodeFault, exceptionFault] as FaultDefinition<unknown, object>[]

const definitionOf = (type: string): FaultDefinition<unknown, object> | undefined =>
  FAULTS.find(
    (fault) =>
      fault.type === type || fault.aliases?.some((alias) => normaliseFaultType(alias) === type),
  )

/**
 * Every problem of a chaos config value, as the middlewares would see it: the
 * document (core's `parseConfig`), then each latency, status code and
 * exception entry with the fault package's own rules (`delay: -1`,
 * `error_code: 999`). Entries of other fault types are left to their packages.
 */
export const validateConfig = (value: unknown): ConfigIssue[] => {
  const { document, issues } = parseConfig(value)
  const all = [...issues]
  for (const spec of document.faults) {
    const definition = definitionOf(spec.type)
    if (!definition) continue
    try {
      definition.parse(new FieldReader(spec.fields, spec.path, all, spec.aliases), {})
    } catch (error) {
      all.push({ path: spec.path || spec.type, message: (error as Error).message })
    }
  }
  return all
}
