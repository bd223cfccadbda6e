// The AWS side of a middy-chaos experiment: the SSM Automation runbook (lease, dead-man's
// expiry, restore on completion, cancel and failure), the AWS FIS experiment template that
// runs it, least-privilege IAM, as plain objects and as a CloudFormation template.
export {
  buildCloudFormation,
  type CloudFormationOptions,
  type CloudFormationTemplate,
  checkLogKmsKeyArn,
  cloudFormationContent,
  LOG_GROUP_DEFAULT_KEY,
  LOGICAL_IDS,
} from './cloudformation.js'
export {
  jacksonIndentedJson,
  MAX_DOCUMENT_BYTES,
  MAX_RUNBOOK_BYTES,
  RUNBOOK_FORMATS,
  RUNTIME_PARAMETERS_BYTES,
  type RunbookDelivery,
  type RunbookFormat,
  runbookBytes,
  runbookContent,
} from './content.js'
export {
  checkFisExperiment,
  type FisExperiment,
  FisExperimentError,
  type FisExperimentStep,
  holdSeconds,
  isoMinutes,
  MAX_ACTION_PARAMETER_LENGTH,
  MAX_EXPERIMENT_SECONDS,
  stepName,
  totalSeconds,
} from './experiment.js'
export {
  buildFisJson,
  type FisExperimentTemplateInput,
  type FisJsonRefs,
  fisLogGroupArn,
} from './fis-json.js'
export {
  AUTOMATION_HOST,
  EXPIRY_GRACE_SECONDS,
  RUNBOOK_HANDLER_NAMES,
  RUNBOOK_HANDLERS,
  RUNBOOK_MARKER,
  type RunbookHandler,
} from './handlers.js'
export {
  type AutomationRoleResources,
  type AwsEnvironment,
  automationRoleStatements,
  automationTrustPolicy,
  type FisRoleResources,
  fisRoleStatements,
  fisTrustPolicy,
  functionReadStatements,
  type KmsKeyForm,
  type KmsKeyGrant,
  kmsKeyForm,
  kmsKeyGrant,
  leaseParameterName,
  type PolicyDocument,
  type PolicyStatement,
  ssmParameterArn,
  type TemplateValue,
} from './iam.js'
export {
  checkLeaseFits,
  LEASE_TIERS,
  type LeaseFit,
  type LeaseFitOptions,
  type LeaseTier,
  leaseBytes,
  leaseFit,
  PARAMETER_VALUE_BYTES,
  pythonJsonBytes,
} from './lease.js'
export {
  buildRunbook,
  CANCEL_WINDOW_SECONDS,
  checkKmsKeyId,
  checkLeaseTtl,
  DEFAULT_LEASE_TTL_SECONDS,
  LEASE_TTL_SECONDS_BOUNDS,
  MAX_HOLD_CHUNK_SECONDS,
  MAX_LOOP_ITERATIONS,
  RESTORE_MAX_ATTEMPTS,
  RESTORE_STEP,
  RESTORE_TIMEOUT_SECONDS,
  RUNBOOK_RUNTIME,
  type RunbookDocument,
  type RunbookLoop,
  type RunbookOptions,
  type RunbookParameter,
  type RunbookStep,
  runbookScript,
  scriptSteps,
} from './runbook.js'
export {
  buildExperimentTemplate,
  type ExperimentTemplateAction,
  type ExperimentTemplateOptions,
  type ExperimentTemplateProperties,
  type ExperimentTemplateRefs,
  jsonString,
  MAX_DURATION_MARGIN_SECONDS,
  RUN_ACTION,
  type TimelineWait,
  timelineNote,
  timelineWaits,
} from './template.js'
export { VERSION } from './version.js'
