/**
 * The faults a parser knows. Formats that spell faults their own way
 * (chaos_lambda's `error_code`, failure-lambda's `statuscode` flag) are read
 * with what each fault's definition says about itself, so the core knows no
 * fault by name.
 *
 * In a function, the catalog is the faults whose middlewares were created in
 * the process: {@link createFaultMiddleware} registers each. Tools pass the
 * catalog of every fault (the CLI's registry).
 *
 * @module
 */
import type { AnyFaultDefinition, FaultCatalog } from './types.js'

/** Canonical fault type: lower case, `-` and spaces read as `_`, `statusCode` as `status_code`. */
export const normaliseFaultType = (type: string): string =>
  type
    .trim()
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .replace(/[-\s]/g, '_')
    .toLowerCase()

/** The definition of a fault type (or one of its aliases) in a catalog. */
export const findFault = (catalog: FaultCatalog, type: string): AnyFaultDefinition | undefined => {
  const wanted = normaliseFaultType(type)
  for (const definition of catalog) {
    if (definition.type === wanted) return definition
  }
  for (const definition of catalog) {
    if (definition.aliases?.some((alias) => normaliseFaultType(alias) === wanted)) return definition
  }
  return undefined
}

/** `latency`, `status_code` (`statuscode`, `http_status`): a catalog's types, for messages. */
export const faultTypeNames = (catalog: FaultCatalog): string =>
  catalog.map((definition) => definition.type).join(', ')

const registered = new Map<string, AnyFaultDefinition>()
let registeredList: FaultCatalog = []
let generation = 0

/**
 * Adds a fault to the process-wide catalog that config sources parse with.
 * {@link createFaultMiddleware} calls it for every middleware; call it
 * yourself to make {@link parseConfig} read a fault's formats outside a middleware.
 * A definition registered again is ignored; another definition of a type
 * already registered replaces it.
 */
export const registerFault = (definition: AnyFaultDefinition): void => {
  if (registered.get(definition.type) === definition) return
  registered.set(definition.type, definition)
  registeredList = Object.freeze([...registered.values()])
  generation++
}

/** The process-wide catalog: every fault registered so far. */
export const registeredFaults = (): FaultCatalog => registeredList

/** Changes each time a fault is registered: a source re-reads its value when it changed. */
export const catalogGeneration = (): number => generation
