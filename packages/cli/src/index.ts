// The command line, and what it is made of that other tools use: experiments
// with their restore, the stores, the local API Gateway, the probe and the
// reports; and, re-exported as before, the experiment model of
// @middy-chaos/experiment and the FIS player and lease of @middy-chaos/fis/local.

export {
  adjustWaits,
  CliError,
  type ConfigCheck,
  checkConfig,
  checkDurations,
  describeConfig,
  EXPECTATION_FAILED_EXIT_CODE,
  EXPIRY_FIELD,
  EXPIRY_GRACE_MS,
  type Expectation,
  type ExpectationSpec,
  type Experiment,
  type ExperimentStep,
  FAULTS,
  InputError,
  type JudgedScope,
  judge,
  judgedSamples,
  MAX_EXPERIMENT_MS,
  type ProbeSample,
  type ProbeThreshold,
  ProbeWatch,
  parseExpectation,
  parseExperiment,
  parseProbeThreshold,
  parseThreshold,
  type StopConditionSpec,
  stampExpiry,
  toFisExperiment,
  totalWait,
  turnsFaultsOn,
  UsageError,
  type Verdict,
  validateConfig,
  valueExpiry,
} from '@middy-chaos/experiment'
export {
  type AutomationDocument,
  acquireLease,
  type ConfigStore,
  describeLease,
  type FisEvent,
  type FisPlan,
  type FisTemplate,
  type HistoryEntry,
  LEASE_SUFFIX,
  Lease,
  LeaseHeldError,
  type LeaseRecord,
  loadAutomationDocument,
  loadFisTemplate,
  type PlayOptions,
  type PlayResult,
  parseAutomationDocument,
  parseFisTemplate,
  parseLease,
  planFisExperiment,
  playFisExperiment,
  StoreConflictError,
  type StoredValue,
  staleReason,
  type WriteOptions,
} from '@middy-chaos/fis/local'
export { EXPORT_TARGETS } from './commands/export.js'
export { globalHelp, type MainOptions, main, VERSION } from './main.js'
export {
  type JunitCase,
  type JunitResult,
  junitCases,
  junitReport,
  writeJunit,
} from './report/junit.js'
export type { RunOutcome, RunRecord, SessionResult } from './report/record.js'
export { type ReportFormat, resultLines, writeReport, writeResults } from './report/report.js'
export { renderHtmlReport } from './report/report-html.js'
export {
  appendStepSummary,
  STEP_SUMMARY_ENV,
  stepSummaryMarkdown,
} from './report/step-summary.js'
export { loadExperiment } from './runner/experiment-file.js'
export { Probe, type ProbeOptions, type SummaryRow, summarise } from './runner/probe.js'
export {
  DEFAULT_LEASE_TTL_MS,
  type RestoreReport,
  type RunEvent,
  type RunOptions,
  type RunResult,
  runExperiment,
} from './runner/run.js'
export { AlarmWatch } from './runner/watch.js'
export {
  type LambdaHandler,
  loadHandler,
  type RunningServer,
  type ServeOptions,
  startServer,
} from './serve/index.js'
export { runSession, type SessionOptions, sessionExitCode } from './session/index.js'
export {
  createStore,
  DEFAULT_FILE_PARAMETER,
  FileStore,
  SsmStore,
  type SsmStoreOptions,
  type StoreSelection,
} from './stores/index.js'
export { Terminal, type TerminalStream } from './terminal.js'
