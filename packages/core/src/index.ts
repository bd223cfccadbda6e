// For function authors: errors, switches, config checks, the local store.
// For fault authors: the factory, the definition types, field reading, helpers.
// For tools: the catalog of faults, the formats, durations, the file store.
export {
  ALTER_LIMITS,
  asksForChange,
  BODY_FIELDS,
  type BodyChange,
  describeChanges,
  type PathEdit,
  readBodyChange,
  readPathEdits,
} from './alter.js'
export { type BodyOutcome, changeBody, editJsonBody } from './body.js'
export {
  faultTypeNames,
  findFault,
  normaliseFaultType,
  registeredFaults,
  registerFault,
} from './catalog.js'
export {
  CONFIG_VERSION,
  decodeConfigValue,
  MAX_DURATION_MS,
  type ParseOptions,
  parseConfig,
  parseConfigOrThrow,
} from './config.js'
export type {
  ChaosBodyFields,
  ChaosConfig,
  ChaosConfigArgument,
  ChaosConfigInput,
  ChaosEditFields,
  ChaosEntryFields,
  ChaosExpiry,
  ChaosFaultEntries,
  ChaosFaultEntry,
  ChaosJsonValue,
  ChaosLambdaConfig,
  ChaosMatchCondition,
  ChaosMatchValue,
  ChaosPath,
  ChaosSetEdit,
  FailureLambdaConfig,
  FailureLambdaFlag,
  FailureLambdaMatch,
  FailureLambdaV0Config,
  FailureLambdaV1Config,
} from './config-types.js'
export { applyEdits, type EditOutcome } from './edits.js'
export { ChaosConfigError, ChaosConfigTimeoutError } from './errors.js'
// What a fault package needs at run time: `@middy-chaos/core/fault` holds only that.
export * from './fault.js'
export { FieldReader, HEADER_LIMITS, HEADER_NAME, isHeaderName } from './fields.js'
export {
  FileStoreConflictError,
  type FileStoreVersion,
  OUTSIDE_REMOVAL_LABEL,
  OUTSIDE_WRITE_LABEL,
  type RemoveFileValueOptions,
  readFileHistory,
  readFileValue,
  removeFileValue,
  type WriteFileValueOptions,
  writeFileValue,
} from './file-store.js'
export {
  FAILURE_LAMBDA_MODES,
  type FailureLambdaConversion,
  type FailureLambdaFormat,
  fromFailureLambda,
  isFailureLambdaConfig,
  useFailureLambdaFormat,
} from './formats/failure-lambda.js'
export { globMatches } from './glob.js'
export { getDefaultLogger } from './logger.js'
export {
  type FunctionFilter,
  MATCH_LIMITS,
  type MatchCondition,
  type MatchValue,
  matches,
  type Targeting,
} from './match.js'
export {
  isNetworkErrorCode,
  NETWORK_ERROR_CODES,
  type NetworkErrorCode,
  networkError,
} from './net.js'
export { parsePathSpec } from './path.js'
export {
  activateInScope,
  currentScope,
  endScope,
  InvocationScope,
  scopeOf,
} from './scope.js'
export {
  type ConfigSnapshot,
  ConfigSource,
  DEFAULT_FETCH_TIMEOUT_MS,
  DEFAULT_MAX_AGE_SECONDS,
  DEFAULT_REQUEST_TIMEOUT_MS,
} from './source.js'
export {
  type ChaosStore,
  getConfigSource,
  PARAMETER_ENV,
  resetConfigSources,
  resolveMaxAgeSeconds,
  STORE_ENV,
} from './sources.js'
export { isEnvFlagOn, parseDuration, parseInstant } from './time.js'
export { type FaultTrace, type TracedCall, type TracerLike, UNTRACED } from './trace.js'
export type {
  AnyFaultDefinition,
  ChaosDocument,
  ChaosSourceOptions,
  ConfigIssue,
  ConfigProvider,
  FaultCatalog,
  FaultSpec,
  MetricsLike,
  ParseResult,
} from './types.js'
export { PHASES } from './types.js'
export { FORBIDDEN_SEGMENTS, kindOf, MAX_TIMER_MS } from './util.js'
