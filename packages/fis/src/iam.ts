/**
 * Least-privilege IAM for an experiment, as plain policy objects (the same
 * statements in the CloudFormation export and in the CDK construct):
 *
 * - the automation role reads and writes the one parameter and its lease,
 *   nothing else;
 * - the FIS role starts that one runbook, watches and stops its executions,
 *   passes the automation role to SSM only, and sets up experiment logging;
 * - the function reads the one parameter.
 *
 * @module
 */

/**
 * A value in a template: a literal string, a CloudFormation intrinsic
 * (`{ Ref }`, `{ 'Fn::GetAtt' }`, `{ 'Fn::Sub' }` …), or a CDK token (a string).
 */
export type TemplateValue = string | { readonly [intrinsic: string]: unknown }

/** An IAM policy statement. */
export interface PolicyStatement {
  readonly Sid?: string
  readonly Effect: 'Allow'
  readonly Action: readonly string[] | string
  readonly Resource?: readonly TemplateValue[] | TemplateValue
  readonly Principal?: { readonly Service: string }
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, TemplateValue>>>>
}

/** An IAM policy document. */
export interface PolicyDocument {
  readonly Version: '2012-10-17'
  readonly Statement: readonly PolicyStatement[]
}

/** Where the resources live: partition, region and account (strings, intrinsics or tokens). */
export interface AwsEnvironment {
  readonly partition: TemplateValue
  readonly region: TemplateValue
  readonly account: TemplateValue
}

/**
 * The ARN of an SSM parameter from its literal name (`/chaos/hello` and
 * `chaos/hello` are both `parameter/chaos/hello`): never build it from a
 * name token, which gives `parameter//chaos/hello`.
 *
 * @example
 * ```ts
 * ssmParameterArn('/chaos/hello', { partition: 'aws', region: 'eu-west-1', account: '123456789012' })
 * // 'arn:aws:ssm:eu-west-1:123456789012:parameter/chaos/hello'
 * ```
 */
export const ssmParameterArn = (
  name: string,
  env: { partition: string; region: string; account: string },
): string =>
  `arn:${env.partition}:ssm:${env.region}:${env.account}:parameter/${name.replace(/^\//, '')}`

/** The name of a parameter's lease: `<name>.lease`, as the CLI's `LEASE_SUFFIX`. */
export const leaseParameterName = (name: string): string => `${name}.lease`

/** What {@link automationRoleStatements} grants on. */
export interface AutomationRoleResources {
  /** ARN of the chaos config parameter. */
  readonly parameterArn: TemplateValue
  /** ARN of its lease, `<parameter>.lease`. */
  readonly leaseArn: TemplateValue
  /** The KMS key of a SecureString parameter encrypted with a key of yours. */
  readonly kmsKeyArn?: TemplateValue
}

/**
 * The automation role's policy: `ssm:GetParameter`, `ssm:PutParameter`,
 * `ssm:DeleteParameter` on exactly the parameter and its lease (and the KMS
 * key of a SecureString).
 *
 * @example
 * ```ts
 * automationRoleStatements({ parameterArn, leaseArn: `${parameterArn}.lease` })
 * ```
 */
export const automationRoleStatements = (resources: AutomationRoleResources): PolicyStatement[] => [
  {
    Sid: 'ChaosParameterAndItsLease',
    Effect: 'Allow',
    Action: ['ssm:GetParameter', 'ssm:PutParameter', 'ssm:DeleteParameter'],
    Resource: [resources.parameterArn, resources.leaseArn],
  },
  ...(resources.kmsKeyArn === undefined
    ? []
    : [
        {
          Sid: 'SecureStringKey',
          Effect: 'Allow' as const,
          Action: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'],
          Resource: [resources.kmsKeyArn],
        },
      ]),
]

/** What {@link fisRoleStatements} grants on. */
export interface FisRoleResources {
  /** `arn:…:ssm:<region>:<account>:document/<runbook>`. */
  readonly documentArn: TemplateValue
  /** `arn:…:ssm:<region>:<account>:automation-definition/<runbook>:*`. */
  readonly automationDefinitionArn: TemplateValue
  /** `arn:…:ssm:<region>:<account>:automation-execution/*`: ids are not known in advance. */
  readonly automationExecutionArn: TemplateValue
  /** The automation role, which FIS passes to SSM. */
  readonly automationRoleArn: TemplateValue
}

/**
 * The FIS experiment role's policy: start that runbook, watch and stop its
 * executions (stopping the experiment cancels the automation), pass the
 * automation role to SSM only, and deliver the experiment log (those logs
 * APIs take no resource).
 */
export const fisRoleStatements = (resources: FisRoleResources): PolicyStatement[] => [
  {
    Sid: 'StartTheRunbook',
    Effect: 'Allow',
    Action: ['ssm:StartAutomationExecution'],
    Resource: [resources.documentArn, resources.automationDefinitionArn],
  },
  {
    Sid: 'WatchAndStopItsExecutions',
    Effect: 'Allow',
    Action: ['ssm:GetAutomationExecution', 'ssm:StopAutomationExecution'],
    Resource: [resources.automationExecutionArn],
  },
  {
    Sid: 'PassTheAutomationRoleToSsm',
    Effect: 'Allow',
    Action: ['iam:PassRole'],
    Resource: [resources.automationRoleArn],
    Condition: { StringEquals: { 'iam:PassedToService': 'ssm.amazonaws.com' } },
  },
  {
    Sid: 'ExperimentLogDelivery',
    Effect: 'Allow',
    Action: [
      'logs:CreateLogDelivery',
      'logs:PutResourcePolicy',
      'logs:DescribeResourcePolicies',
      'logs:DescribeLogGroups',
    ],
    Resource: ['*'],
  },
]

/** The function's policy: `ssm:GetParameter` on the one parameter (and decrypting it). */
export const functionReadStatements = (resources: {
  readonly parameterArn: TemplateValue
  readonly kmsKeyArn?: TemplateValue
}): PolicyStatement[] => [
  {
    Sid: 'ReadTheChaosParameter',
    Effect: 'Allow',
    Action: ['ssm:GetParameter'],
    Resource: [resources.parameterArn],
  },
  ...(resources.kmsKeyArn === undefined
    ? []
    : [
        {
          Sid: 'DecryptTheChaosParameter',
          Effect: 'Allow' as const,
          Action: ['kms:Decrypt'],
          Resource: [resources.kmsKeyArn],
        },
      ]),
]

const trustPolicy = (
  service: string,
  account: TemplateValue,
  sourceArn: TemplateValue | undefined,
): PolicyDocument => ({
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Principal: { Service: service },
      Action: 'sts:AssumeRole',
      Condition: {
        StringEquals: { 'aws:SourceAccount': account },
        ...(sourceArn === undefined ? {} : { ArnLike: { 'aws:SourceArn': sourceArn } }),
      },
    },
  ],
})

/**
 * Trust of the FIS role: `fis.amazonaws.com`, for experiments of this
 * account (`aws:SourceAccount`, and `aws:SourceArn` like
 * `arn:…:fis:<region>:<account>:experiment/*` when given).
 */
export const fisTrustPolicy = (
  account: TemplateValue,
  experimentArnPattern?: TemplateValue,
): PolicyDocument => trustPolicy('fis.amazonaws.com', account, experimentArnPattern)

/**
 * Trust of the automation role: `ssm.amazonaws.com`, for automations of this
 * account (`aws:SourceAccount`, and `aws:SourceArn` like
 * `arn:…:ssm:<region>:<account>:automation-execution/*` when given).
 */
export const automationTrustPolicy = (
  account: TemplateValue,
  executionArnPattern?: TemplateValue,
): PolicyDocument => trustPolicy('ssm.amazonaws.com', account, executionArnPattern)
