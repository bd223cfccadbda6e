// AWS CDK constructs for middy-chaos: the chaos config parameter with
// least-privilege read access, and the experiment on AWS FIS (SSM Automation
// runbook with lease, expiry and restore; FIS template; roles; log), generated
// by @middy-chaos/fis as the CloudFormation export is.
export {
  ChaosExperiment,
  type ChaosExperimentProps,
  type ChaosExperimentSource,
} from './experiment.js'
export {
  ChaosConfigParameter,
  type ChaosConfigParameterAttributes,
  type ChaosConfigParameterProps,
  ChaosConstructError,
  type IChaosConfigParameter,
  WORKSHOP_FAULTS_OFF,
} from './parameter.js'
