export { main, VERSION } from './cli.js'
export { describeConfig } from './describe.js'
export { formatDuration } from './duration.js'
export { CliError, UsageError } from './errors.js'
export {
  adjustWaits,
  type Experiment,
  type ExperimentStep,
  loadExperiment,
  parseExperiment,
  type RestoreReport,
  type RunEvent,
  type RunResult,
  runExperiment,
} from './experiment.js'
export {
  formatProbeLine,
  formatSummary,
  PhaseTracker,
  Probe,
  type ProbeSample,
  percentile,
  type SummaryRow,
  summarise,
} from './probe.js'
export {
  buildContext,
  buildProxyEvent,
  INTERNAL_SERVER_ERROR,
  type LambdaHandler,
  loadHandler,
  type RunningServer,
  readProxyResult,
  type ServeOptions,
  startServer,
} from './serve.js'
export { runSession } from './session.js'
export {
  type ConfigStore,
  createStore,
  DEFAULT_FILE_PARAMETER,
  FileStore,
  type HistoryEntry,
  SsmStore,
  StoreConflictError,
  type StoredValue,
} from './store.js'
export { Terminal } from './terminal.js'
export { validateConfig } from './validate.js'
