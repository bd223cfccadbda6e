// biome-ignore-all lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub placeholders
/**
 * The whole experiment on AWS as one plain CloudFormation template: the
 * runbook, the FIS experiment template, the two roles and the experiment's
 * log group. For teams without CDK; a SAM template can include it.
 *
 * @module
 */
import { type RunbookFormat, runbookContent } from './content.js'
import { type FisExperiment, FisExperimentError } from './experiment.js'
import {
  automationRoleStatements,
  automationTrustPolicy,
  fisRoleStatements,
  fisTrustPolicy,
  kmsKeyForm,
  kmsKeyGrant,
  type TemplateValue,
} from './iam.js'
import type { LeaseTier } from './lease.js'
import { buildRunbook, DEFAULT_LEASE_TTL_SECONDS, type RunbookDocument } from './runbook.js'
import { buildExperimentTemplate } from './template.js'

/** Options of {@link buildCloudFormation}. */
export interface CloudFormationOptions {
  /**
   * The chaos parameter's name: the default of the template's `ParameterName`.
   * Whether it starts with `/` fixes how its ARN is written, so the template
   * only takes names of the same form. Without it, a name starting with `/`.
   */
  readonly parameterName?: string
  /** The runbook's `LeaseTtlSeconds` (default 60). */
  readonly leaseTtlSeconds?: number
  /** Retention of the experiment log, days (default 30). */
  readonly logRetentionDays?: number
  /**
   * The KMS key of a SecureString chaos parameter encrypted with a key of
   * yours, as SSM's `KeyId` takes it: key ARN, key id, alias name
   * (`alias/<name>`) or alias ARN. The runbook writes the parameter and its
   * lease with it, and the automation role may use that key (and nothing else
   * of KMS): on its ARN (a key id's, in the stack's account and region), or
   * for an alias on the keys that have that alias ({@link kmsKeyGrant}).
   */
  readonly kmsKeyId?: string
  /**
   * The KMS key the experiment log is encrypted with, by its key ARN
   * (`arn:…:kms:<region>:<account>:key/<id>`: CloudWatch Logs takes no alias
   * and no key id). The key's policy must let CloudWatch Logs of the stack's
   * region use it (the principal `logs.<region>.amazonaws.com`). Without it,
   * CloudWatch Logs encrypts the log with a key it manages, as it does every
   * log group, and the template says so to checkov ({@link LOG_GROUP_DEFAULT_KEY}).
   */
  readonly logKmsKeyArn?: string
  /**
   * The runbook's `DocumentFormat` (default `JSON`, the content as an object;
   * `YAML`: the content as YAML text).
   */
  readonly format?: RunbookFormat
  /** The SSM tier of the lease (default `Standard`; `Advanced`: 8 KB, charged by AWS). */
  readonly leaseTier?: LeaseTier
}

/**
 * The runbook as the `Content` of an `AWS::SSM::Document`: JSON as an object
 * (CloudFormation sends it as indented JSON), YAML as its text in an
 * `Fn::Join` of that one string. CloudFormation sends the joined text to SSM
 * as it is; the `Fn::Join` is for cfn-lint, which checks a runbook's
 * structure (E3051) in an object or a resolved `Fn::Join`, but fails to parse
 * a literal string `Content` (1.51 to 1.58: its C YAML loader takes no
 * `str` subclass).
 *
 * @example
 * ```ts
 * new CfnDocument(this, 'Runbook', {
 *   documentType: 'Automation', documentFormat: 'YAML',
 *   content: cloudFormationContent(buildRunbook(experiment, { format: 'YAML' }), 'YAML'),
 * })
 * ```
 */
export const cloudFormationContent = (
  runbook: RunbookDocument,
  format: RunbookFormat,
): RunbookDocument | { readonly 'Fn::Join': readonly [string, readonly [string]] } =>
  format === 'YAML' ? { 'Fn::Join': ['', [runbookContent(runbook, 'YAML')]] } : runbook

/** A CloudFormation template. */
export interface CloudFormationTemplate {
  readonly AWSTemplateFormatVersion: '2010-09-09'
  readonly Description: string
  readonly Parameters: Readonly<Record<string, Readonly<Record<string, unknown>>>>
  readonly Resources: Readonly<
    Record<
      string,
      { readonly Type: string; readonly Properties: object; readonly Metadata?: object }
    >
  >
  readonly Outputs: Readonly<
    Record<string, { readonly Description: string; readonly Value: TemplateValue }>
  >
}

/**
 * What the experiment log group without a key of yours says to checkov
 * (`Metadata.checkov.skip`), which asks every log group for a KMS key
 * (`CKV_AWS_158`), and why it need not have one. The CDK construct writes the
 * same.
 */
export const LOG_GROUP_DEFAULT_KEY = {
  id: 'CKV_AWS_158',
  comment:
    'CloudWatch Logs encrypts every log group at rest with a key it manages; the experiment log holds FIS events, no secret. A key of yours is an option: logKmsKeyArn (--log-kms-key), logEncryptionKey in the CDK',
} as const

/**
 * A log group's `KmsKeyId`: a key ARN, as CloudWatch Logs takes it (a CDK
 * token is let through); a {@link FisExperimentError} for an alias or a key id.
 */
export const checkLogKmsKeyArn = (key: string): string => {
  if (kmsKeyForm(key) === 'key ARN' || key.includes('${Token[')) return key
  throw new FisExperimentError(
    `log KMS key "${key.slice(0, 80)}": CloudWatch Logs takes a key ARN (arn:<partition>:kms:<region>:<account>:key/<id>), not an alias or a key id`,
  )
}

/** Logical ids of the template's resources. */
export const LOGICAL_IDS = {
  automationRole: 'AutomationRole',
  fisRole: 'FisRole',
  runbook: 'Runbook',
  logGroup: 'LogGroup',
  experimentTemplate: 'ExperimentTemplate',
} as const

const sub = (text: string) => ({ 'Fn::Sub': text })
const ref = (name: string) => ({ Ref: name })
const arnOf = (logicalId: string) => ({ 'Fn::GetAtt': [logicalId, 'Arn'] })
const HERE = 'arn:${AWS::Partition}:%s:${AWS::Region}:${AWS::AccountId}:'
const arn = (service: string, resource: string) => sub(HERE.replace('%s', service) + resource)

/**
 * The experiment as a CloudFormation template. Parameters: `ParameterName`
 * (the chaos parameter, which must exist or not as the experiment expects:
 * the template does not create it). Resources: `AutomationRole`, `FisRole`,
 * `Runbook` (`AWS::SSM::Document`), `LogGroup`, `ExperimentTemplate`. The
 * experiment's stop-condition alarms are named in it and must exist in the
 * stack's account and region.
 *
 * @example
 * ```ts
 * const template = buildCloudFormation(experiment, { parameterName: '/chaos/hello-world' })
 * writeFileSync('experiment.json', JSON.stringify(template, null, 2))
 * // aws cloudformation deploy --template-file experiment.json --stack-name chaos --capabilities CAPABILITY_IAM \
 * //   --s3-bucket <bucket>   (needed past 51,200 bytes: the workshop's template is about 49 KB)
 * ```
 */
export const buildCloudFormation = (
  experiment: FisExperiment,
  options: CloudFormationOptions = {},
): CloudFormationTemplate => {
  const ttl = options.leaseTtlSeconds ?? DEFAULT_LEASE_TTL_SECONDS
  const format = options.format ?? 'JSON'
  const logKmsKeyArn =
    options.logKmsKeyArn === undefined ? undefined : checkLogKmsKeyArn(options.logKmsKeyArn)
  const runbook = buildRunbook(experiment, {
    leaseTtlSeconds: ttl,
    format,
    delivery: 'CloudFormation',
    ...(options.kmsKeyId === undefined ? {} : { kmsKeyId: options.kmsKeyId }),
    ...(options.leaseTier === undefined ? {} : { leaseTier: options.leaseTier }),
  })
  const slash = options.parameterName === undefined || options.parameterName.startsWith('/')
  const pattern = slash ? '^/[a-zA-Z0-9_.\\-/]+$' : '^[a-zA-Z0-9_.\\-]+$'
  if (options.parameterName !== undefined && !new RegExp(pattern).test(options.parameterName))
    throw new FisExperimentError(
      `parameter name "${options.parameterName}": SSM parameter names are letters, digits, _ . - and / (a / only as the first character and between levels)`,
    )
  // parameter/<name without its leading slash>: a name starting with / is appended as it is.
  const parameterArn = arn(
    'ssm',
    slash ? 'parameter${ParameterName}' : 'parameter/${ParameterName}',
  )
  const leaseArn = arn(
    'ssm',
    slash ? 'parameter${ParameterName}.lease' : 'parameter/${ParameterName}.lease',
  )
  const { automationRole, fisRole, runbook: runbookId, logGroup, experimentTemplate } = LOGICAL_IDS
  const alarmArns = (experiment.alarms ?? []).map((name) =>
    arn('cloudwatch', `alarm:${name.replaceAll('${', '${!')}`),
  )
  return {
    AWSTemplateFormatVersion: '2010-09-09',
    Description:
      `middy-chaos experiment ${experiment.name} on AWS FIS: an SSM Automation runbook with a lease, expiring values and the restore on completion, cancel and failure; the FIS experiment template; least-privilege roles; the experiment log`.slice(
        0,
        1024,
      ),
    Parameters: {
      ParameterName: {
        Type: 'String',
        Description: `The chaos config parameter the functions read (CHAOS_PARAM)${slash ? ', starting with /' : ', without a leading /'}`,
        ...(options.parameterName === undefined ? {} : { Default: options.parameterName }),
        AllowedPattern: pattern,
        // FIS takes at most 1024 characters of documentParameters, the role ARN included.
        MaxLength: 600,
      },
    },
    Resources: {
      [automationRole]: {
        Type: 'AWS::IAM::Role',
        Properties: {
          Description: `SSM Automation of middy-chaos experiment ${experiment.name}: the chaos parameter and its lease, nothing else`,
          AssumeRolePolicyDocument: automationTrustPolicy(
            ref('AWS::AccountId'),
            arn('ssm', 'automation-execution/*'),
          ),
          Policies: [
            {
              PolicyName: 'ChaosParameterAndItsLease',
              PolicyDocument: {
                Version: '2012-10-17',
                Statement: automationRoleStatements({
                  parameterArn,
                  leaseArn,
                  ...(options.kmsKeyId === undefined
                    ? {}
                    : {
                        kmsKey: kmsKeyGrant(options.kmsKeyId, (resource) => arn('kms', resource)),
                      }),
                }),
              },
            },
          ],
        },
      },
      [fisRole]: {
        Type: 'AWS::IAM::Role',
        Properties: {
          Description: `AWS FIS, middy-chaos experiment ${experiment.name}: starts and stops its runbook`,
          AssumeRolePolicyDocument: fisTrustPolicy(
            ref('AWS::AccountId'),
            arn('fis', 'experiment/*'),
          ),
          Policies: [
            {
              PolicyName: 'RunTheRunbook',
              PolicyDocument: {
                Version: '2012-10-17',
                Statement: fisRoleStatements({
                  documentArn: arn('ssm', `document/\${${runbookId}}`),
                  automationDefinitionArn: arn('ssm', `automation-definition/\${${runbookId}}:*`),
                  automationExecutionArn: arn('ssm', 'automation-execution/*'),
                  automationRoleArn: arnOf(automationRole),
                }),
              },
            },
          ],
        },
      },
      [runbookId]: {
        Type: 'AWS::SSM::Document',
        Properties: {
          // No Name: a changed runbook is a new document, and the template gets its new ARN.
          DocumentType: 'Automation',
          DocumentFormat: format,
          Content: cloudFormationContent(runbook, format),
        },
      },
      [logGroup]: {
        Type: 'AWS::Logs::LogGroup',
        Properties: {
          RetentionInDays: options.logRetentionDays ?? 30,
          ...(logKmsKeyArn === undefined ? {} : { KmsKeyId: logKmsKeyArn }),
        },
        ...(logKmsKeyArn === undefined
          ? { Metadata: { checkov: { skip: [LOG_GROUP_DEFAULT_KEY] } } }
          : {}),
      },
      [experimentTemplate]: {
        Type: 'AWS::FIS::ExperimentTemplate',
        Properties: buildExperimentTemplate(
          experiment,
          {
            documentArn: arn('ssm', `document/\${${runbookId}}`),
            automationRoleArn: arnOf(automationRole),
            fisRoleArn: arnOf(fisRole),
            parameterName: ref('ParameterName'),
            alarmArns,
            logGroupArn: arnOf(logGroup),
          },
          { leaseTtlSeconds: ttl },
        ),
      },
    },
    Outputs: {
      ExperimentTemplateId: {
        Description: 'The FIS experiment template',
        Value: ref(experimentTemplate),
      },
      StartExperiment: {
        Description: 'Starts the experiment; stop it with aws fis stop-experiment --id <id>',
        Value: sub(`aws fis start-experiment --experiment-template-id \${${experimentTemplate}}`),
      },
      RunbookName: { Description: 'The SSM Automation runbook', Value: ref(runbookId) },
      LeaseParameterName: {
        Description: 'The lease of a running experiment (middy-chaos status --store ssm shows it)',
        Value: sub('${ParameterName}.lease'),
      },
      AutomationRoleArn: {
        Description: 'The role the runbook runs with',
        Value: arnOf(automationRole),
      },
      FisRoleArn: { Description: 'The role FIS runs the experiment with', Value: arnOf(fisRole) },
      LogGroupName: { Description: 'The experiment log', Value: ref(logGroup) },
    },
  }
}
