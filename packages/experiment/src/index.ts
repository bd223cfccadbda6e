// What a middy-chaos experiment is, with no I/O: the experiment file's model and
// validation, expectations and the stop-condition grammar, durations, the
// registry of faults, the checks of a chaos config and the dead-man's stamp,
// and the experiment as AWS FIS runs it. The CLI reads and runs experiments
// through it; @middy-chaos/fis and @middy-chaos/cdk turn them into AWS resources.

export {
  type ConfigCheck,
  checkConfig,
  describeConfig,
  validateConfig,
} from './config-check.js'
export {
  CliError,
  describeError,
  InputError,
  UsageError,
} from './errors.js'
export {
  EXPECTATION_FAILED_EXIT_CODE,
  type Expectation,
  type ExpectationSpec,
  failedCount,
  type JudgedScope,
  judge,
  judgedSamples,
  parseExpectation,
  parseExpectations,
  RUN_SCOPE,
  readExpectOption,
  type Verdict,
} from './expect.js'
export {
  adjustWaits,
  checkDurations,
  type Experiment,
  type ExperimentStep,
  MAX_EXPERIMENT_MS,
  parseExperiment,
  totalWait,
} from './experiment.js'
export { FAULTS } from './faults.js'
export {
  type FisExperiment,
  type FisExperimentStep,
  type FisLeftOut,
  toFisExperiment,
} from './fis-experiment.js'
export {
  type ProbeSample,
  percentile,
} from './samples.js'
export {
  EXPIRY_FIELD,
  EXPIRY_GRACE_MS,
  stampExpiry,
  turnsFaultsOn,
  valueExpiry,
} from './stamp.js'
export {
  compare,
  DEFAULT_STOP_WINDOW_MS,
  formatMeasure,
  isAnswerOf,
  MIN_STOP_SAMPLES,
  measure,
  type ProbeThreshold,
  ProbeWatch,
  parseProbeThreshold,
  parseThreshold,
  type StopConditionSpec,
  THRESHOLD_SYNTAX,
  type ThresholdUse,
} from './stop.js'
export {
  formatDuration,
  formatElapsed,
  formatExactDuration,
} from './time-format.js'
