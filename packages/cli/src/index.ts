// The command line, and what it is made of that other tools use: the registry
// of faults and config checks, experiments with their restore, the stores,
// the local API Gateway and the probe.

export { EXPORT_TARGETS, toFisExperiment } from './commands/export.js'
export { type ConfigCheck, checkConfig, describeConfig, validateConfig } from './config-check.js'
export { CliError, InputError, UsageError } from './errors.js'
export {
  EXPECTATION_FAILED_EXIT_CODE,
  type Expectation,
  type ExpectationSpec,
  type JudgedScope,
  judge,
  judgedSamples,
  parseExpectation,
  type Verdict,
} from './expect.js'
export {
  adjustWaits,
  checkDurations,
  type Experiment,
  type ExperimentStep,
  loadExperiment,
  MAX_EXPERIMENT_MS,
  parseExperiment,
  totalWait,
} from './experiment.js'
export { FAULTS } from './faults.js'
export {
  type AutomationDocument,
  loadAutomationDocument,
  parseAutomationDocument,
} from './fis/document.js'
export {
  type FisEvent,
  type FisPlan,
  type PlayOptions,
  type PlayResult,
  planFisExperiment,
  playFisExperiment,
} from './fis/player.js'
export { type FisTemplate, loadFisTemplate, parseFisTemplate } from './fis/template.js'
export {
  type JunitCase,
  type JunitResult,
  junitCases,
  junitReport,
  writeJunit,
} from './junit.js'
export {
  acquireLease,
  describeLease,
  LEASE_SUFFIX,
  Lease,
  LeaseHeldError,
  type LeaseRecord,
  parseLease,
  staleReason,
} from './lease.js'
export { globalHelp, type MainOptions, main, VERSION } from './main.js'
export { Probe, type ProbeOptions, type ProbeSample, type SummaryRow, summarise } from './probe.js'
export {
  type ReportFormat,
  type RunOutcome,
  type RunRecord,
  resultLines,
  writeReport,
  writeResults,
} from './report.js'
export { renderHtmlReport } from './report-html.js'
export {
  DEFAULT_LEASE_TTL_MS,
  type RestoreReport,
  type RunEvent,
  type RunOptions,
  type RunResult,
  runExperiment,
} from './run.js'
export {
  type LambdaHandler,
  loadHandler,
  type RunningServer,
  type ServeOptions,
  startServer,
} from './serve.js'
export { runSession, type SessionOptions, type SessionResult, sessionExitCode } from './session.js'
export {
  EXPIRY_FIELD,
  EXPIRY_GRACE_MS,
  stampExpiry,
  turnsFaultsOn,
  valueExpiry,
} from './stamp.js'
export { appendStepSummary, STEP_SUMMARY_ENV, stepSummaryMarkdown } from './step-summary.js'
export {
  AlarmWatch,
  type ProbeThreshold,
  ProbeWatch,
  parseProbeThreshold,
  parseThreshold,
  type StopConditionSpec,
} from './stop.js'
export {
  type ConfigStore,
  createStore,
  DEFAULT_FILE_PARAMETER,
  FileStore,
  type HistoryEntry,
  SsmStore,
  type SsmStoreOptions,
  StoreConflictError,
  type StoredValue,
  type StoreSelection,
  type WriteOptions,
} from './store.js'
export { Terminal, type TerminalStream } from './terminal.js'
