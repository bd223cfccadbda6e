// @middy-chaos/fis/local: the local player of what this package generates. It
// plays an AWS FIS experiment template (the JSON of `aws fis
// get-experiment-template`) with its SSM Automation documents against a config
// store: an Automation interpreter, and the runbook's Python handlers played by
// their TypeScript twins (a runbook whose script differs from the one
// `buildRunbook` writes is refused). Also here: the experiment's lease, taken
// the same way by the CLI's runner, this player and the runbook, and the store
// interface the three write through. An entry point of its own: importing
// `@middy-chaos/fis` does not load any of it.
export {
  type AutomationEvent,
  type AutomationResult,
  type AutomationStatus,
  CANCEL_WORKFLOW_MS,
  playedWait,
  resolveParameters,
  runAutomation,
  type StepState as AutomationStepState,
  type Timing,
} from './automation.js'
export {
  type AutomationDocument,
  type AutomationStep,
  loadAutomationDocument,
  parseAutomationDocument,
} from './document.js'
export {
  type AcquireOptions,
  acquireLease,
  describeLease,
  LEASE_SUFFIX,
  Lease,
  LeaseHeldError,
  type LeaseRecord,
  leaseRefusal,
  parseLease,
  RECOVER_HINT,
  staleReason,
} from './lease.js'
export {
  type ActionState,
  type FisEvent,
  type FisPlan,
  type PlannedAutomation,
  type PlayOptions,
  type PlayResult,
  planFisExperiment,
  playedMaxDuration,
  playFisExperiment,
} from './player.js'
export {
  type ConfigStore,
  type HistoryEntry,
  StoreConflictError,
  type StoredValue,
  type WriteOptions,
} from './store.js'
export {
  type FisTemplate,
  loadFisTemplate,
  parseFisTemplate,
} from './template.js'
