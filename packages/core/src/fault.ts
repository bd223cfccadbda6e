/**
 * What a fault package needs at run time, and only that: the factory, the
 * errors a fault throws, and the helpers the built-in faults use. A fault
 * package imports its values from here (`@middy-chaos/core/fault`) rather
 * than from `@middy-chaos/core`, whose entry point also holds what tools and
 * other faults use (the file store, the formats, targeting, edits, scopes):
 * from `node_modules`, a function whose faults are off then loads only what
 * fetches and reads its config. Types can come from either.
 *
 * @example
 * ```ts
 * import { createFaultMiddleware, type FaultDefinition } from '@middy-chaos/core/fault'
 * ```
 *
 * @module
 */
// The types of a fault's entry in a typed config (types only: nothing is loaded for them).
export type {
  ChaosBodyFields,
  ChaosEditFields,
  ChaosEntryFields,
  ChaosFaultEntries,
  ChaosJsonValue,
  ChaosPath,
  ChaosSetEdit,
} from './config-types.js'
export {
  ChaosHttpError,
  type ChaosHttpErrorOptions,
  ChaosInjectedError,
  INJECTED,
  isInjectedError,
} from './errors.js'
export { isAlbEvent, isHttpApiEvent, isHttpEvent, statusLine } from './http.js'
export { createFaultMiddleware, DRY_RUN_ENV, KILL_SWITCH_ENV } from './middleware.js'
export { remainingTimeMs, withinDeadline } from './time.js'
export type {
  ChaosMiddlewareOptions,
  FailureLambdaMapping,
  FaultAction,
  FaultDefinition,
  FaultFlag,
  FaultFormats,
  Phase,
  PlanContext,
  SetupContext,
} from './types.js'
export { describeValue, isRecord, sleep } from './util.js'
