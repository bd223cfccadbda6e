// For function authors: errors, switches, config checks, the local store.
// For fault authors: the factory, the definition types, field reading, helpers.
// For tools: the catalog of faults, the formats, durations, the file store.
export {
  ALTER_LIMITS,
  applyEdits,
  asksForChange,
  BODY_FIELDS,
  type BodyChange,
  type BodyOutcome,
  changeBody,
  describeChanges,
  type EditOutcome,
  editJsonBody,
  type PathEdit,
  readBodyChange,
  readPathEdits,
} from './alter.js'
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
export {
  ChaosConfigError,
  ChaosConfigTimeoutError,
  ChaosHttpError,
  type ChaosHttpErrorOptions,
  ChaosInjectedError,
  INJECTED,
  isInjectedError,
} from './errors.js'
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
export { isAlbEvent, isHttpApiEvent, isHttpEvent, statusLine } from './http.js'
export { getDefaultLogger } from './logger.js'
export {
  type FunctionFilter,
  MATCH_LIMITS,
  type MatchCondition,
  type MatchValue,
  matches,
  parsePathSpec,
  type Targeting,
} from './match.js'
export { createFaultMiddleware, DRY_RUN_ENV, KILL_SWITCH_ENV } from './middleware.js'
export {
  isNetworkErrorCode,
  NETWORK_ERROR_CODES,
  type NetworkErrorCode,
  networkError,
} from './net.js'
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
export {
  isEnvFlagOn,
  parseDuration,
  parseInstant,
  remainingTimeMs,
  withinDeadline,
} from './time.js'
export { type FaultTrace, type TracedCall, type TracerLike, UNTRACED } from './trace.js'
export type {
  AnyFaultDefinition,
  ChaosDocument,
  ChaosMiddlewareOptions,
  ChaosSourceOptions,
  ConfigIssue,
  ConfigProvider,
  FailureLambdaMapping,
  FaultAction,
  FaultCatalog,
  FaultDefinition,
  FaultFlag,
  FaultFormats,
  FaultSpec,
  MetricsLike,
  ParseResult,
  Phase,
  PlanContext,
  SetupContext,
} from './types.js'
export { PHASES } from './types.js'
export {
  describeValue,
  FORBIDDEN_SEGMENTS,
  isRecord,
  kindOf,
  MAX_TIMER_MS,
  sleep,
} from './util.js'
