export {
  CONFIG_VERSION,
  decodeConfigValue,
  MAX_DURATION_MS,
  normaliseFaultType,
  parseConfig,
  parseConfigOrThrow,
} from './config.js'
export {
  ChaosConfigError,
  ChaosConfigTimeoutError,
  ChaosInjectedError,
  INJECTED,
  isInjectedError,
} from './errors.js'
export { FieldReader } from './fields.js'
export {
  FileProvider,
  FileStoreConflictError,
  type FileStoreVersion,
  readFileHistory,
  readFileValue,
  writeFileValue,
} from './file-store.js'
export {
  type FailureLambdaConversion,
  type FailureLambdaFormat,
  fromFailureLambda,
  isFailureLambdaConfig,
} from './formats/failure-lambda.js'
export { getDefaultLogger } from './logger.js'
export {
  type FunctionFilter,
  MATCH_LIMITS,
  type MatchCondition,
  type MatchValue,
  matches,
  parsePath,
  parseTargeting,
  type Targeting,
} from './match.js'
export { createFaultMiddleware, DRY_RUN_ENV, KILL_SWITCH_ENV } from './middleware.js'
export {
  type ChaosStore,
  type ConfigSnapshot,
  ConfigSource,
  DEFAULT_FETCH_TIMEOUT_MS,
  DEFAULT_MAX_AGE_SECONDS,
  getConfigSource,
  PARAMETER_ENV,
  resetConfigSources,
  STORE_ENV,
} from './source.js'
export { isEnvFlagOn, parseDuration, parseInstant, remainingTimeMs, sleep } from './time.js'
export type {
  ChaosDocument,
  ChaosMiddlewareOptions,
  ChaosSourceOptions,
  ConfigIssue,
  ConfigProvider,
  FaultAction,
  FaultDefinition,
  FaultSpec,
  MetricsLike,
  ParseResult,
  Phase,
  PlanContext,
} from './types.js'
export { PHASES } from './types.js'
