/**
 * Least-privilege IAM for an experiment, as plain policy objects (the same
 * statements in the CloudFormation export and in the CDK construct):
 *
 * - the automation role reads and writes the one parameter and its lease,
 *   nothing else (and uses the KMS key of a SecureString, named by its key
 *   ARN, or by its alias through `kms:ResourceAliases`: {@link kmsKeyGrant});
 * - the FIS role starts that one runbook, watches and stops its executions,
 *   passes the automation role to SSM only, and sets up experiment logging;
 * - the function reads the one parameter (and decrypts it with that key).
 *
 * @module
 */
import { FisExperimentError } from './experiment.js'

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

/** The forms of a KMS key SSM's `KeyId` takes (and so the runbook's `KmsKeyId`). */
export type KmsKeyForm = 'key ARN' | 'key id' | 'alias name' | 'alias ARN'

const KMS_KEY_ARN = /^arn:[^:]+:kms:[^:]+:[^:]+:key\/[^:/]+$/
const KMS_ALIAS_ARN = /^(arn:[^:]+:kms:[^:]+:[^:]+):(alias\/[a-zA-Z0-9/_-]+)$/
const KMS_ALIAS_NAME = /^alias\/[a-zA-Z0-9/_-]+$/
const KMS_KEY_ID =
  /^(mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i
/** A CDK token in a string (`${Token[…]}`): resolved by CloudFormation, not here. */
const CDK_TOKEN = '${Token['

/**
 * Which form a KMS key is written in: `arn:…:kms:<region>:<account>:key/<id>`,
 * a key id (`1234abcd-12ab-34cd-56ef-1234567890ab`, `mrk-…`), an alias name
 * (`alias/<name>`) or an alias ARN (`arn:…:kms:<region>:<account>:alias/<name>`);
 * `undefined` for anything else.
 */
export const kmsKeyForm = (key: string): KmsKeyForm | undefined =>
  KMS_KEY_ARN.test(key)
    ? 'key ARN'
    : KMS_ALIAS_ARN.test(key)
      ? 'alias ARN'
      : KMS_ALIAS_NAME.test(key)
        ? 'alias name'
        : KMS_KEY_ID.test(key)
          ? 'key id'
          : undefined

/**
 * What a policy statement on a KMS key grants on. IAM takes a key only by its
 * key ARN in `Resource`: an alias there names the alias, not its key, and a
 * key id is no ARN. So a key named by an alias is granted as AWS documents it,
 * every key of the alias's account and region on condition that the key has
 * that alias (`ForAnyValue:StringEquals` on `kms:ResourceAliases`).
 */
export interface KmsKeyGrant {
  /** The statement's `Resource`: the key's ARN, or with {@link alias} `arn:…:kms:<region>:<account>:key/*`. */
  readonly keyArn: TemplateValue
  /** `alias/<name>`: the grant holds only for the key that has this alias. */
  readonly alias?: string
}

/**
 * How a statement grants on `key`, the KMS key as the runbook's `KmsKeyId`
 * takes it: a key ARN as it is; a key id as the ARN `arnHere('key/<id>')`
 * gives; an alias name as `arnHere('key/*')` with the alias as condition;
 * an alias ARN as `key/*` of its own account and region (an alias and its
 * key are always in one account and region), with its name as condition. A
 * string with a CDK token is taken for a key ARN, unless it reads as an alias
 * ARN (`kms.Alias`'s `keyArn`). `arnHere` writes an ARN of the stack's
 * partition, region and account: `Fn::Sub` in a template, `Stack.formatArn` in
 * the CDK.
 *
 * @example
 * ```ts
 * kmsKeyGrant('alias/chaos', (resource) => `arn:aws:kms:eu-west-1:123456789012:${resource}`)
 * // { keyArn: 'arn:aws:kms:eu-west-1:123456789012:key/*', alias: 'alias/chaos' }
 * ```
 */
export const kmsKeyGrant = (
  key: string,
  arnHere: (resource: string) => TemplateValue,
): KmsKeyGrant => {
  const alias = KMS_ALIAS_ARN.exec(key)
  if (alias) return { keyArn: `${alias[1]}:key/*`, alias: alias[2] ?? '' }
  switch (kmsKeyForm(key)) {
    case 'alias name':
      return { keyArn: arnHere('key/*'), alias: key }
    case 'key id':
      return { keyArn: arnHere(`key/${key}`) }
    case 'key ARN':
      return { keyArn: key }
    default:
      if (key.includes(CDK_TOKEN)) return { keyArn: key }
      throw new FisExperimentError(
        `KMS key "${key.slice(0, 80)}": a key ARN, key id, alias name (alias/<name>) or alias ARN`,
      )
  }
}

/** A statement on a KMS key: on its ARN, or on the keys that have its alias. */
const kmsStatement = (Sid: string, Action: string[], key: KmsKeyGrant): PolicyStatement => ({
  Sid,
  Effect: 'Allow',
  Action,
  Resource: [key.keyArn],
  ...(key.alias === undefined
    ? {}
    : { Condition: { 'ForAnyValue:StringEquals': { 'kms:ResourceAliases': key.alias } } }),
})

/** What {@link automationRoleStatements} grants on. */
export interface AutomationRoleResources {
  /** ARN of the chaos config parameter. */
  readonly parameterArn: TemplateValue
  /** ARN of its lease, `<parameter>.lease`. */
  readonly leaseArn: TemplateValue
  /** The KMS key of a SecureString parameter encrypted with a key of yours ({@link kmsKeyGrant}). */
  readonly kmsKey?: KmsKeyGrant
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
  ...(resources.kmsKey === undefined
    ? []
    : [
        kmsStatement(
          'SecureStringKey',
          ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'],
          resources.kmsKey,
        ),
      ]),
]

/** What {@link fisRoleStatements} grants on. */
export interface FisRoleResources {
  /** `arn:…:ssm:<region>:<account>:document/<runbook>`. */
  readonly documentArn: TemplateValue
  /** `arn:…:ssm:<region>:<account>:automation-definition/<runbook>:*`. */
  readonly automationDefinitionArn: TemplateValue
  /**
   * `arn:…:ssm:<region>:<account>:automation-execution/*`: ids are not known in
   * advance. FIS starts (`StartAutomationExecution`), watches and stops executions there.
   */
  readonly automationExecutionArn: TemplateValue
  /** The automation role, which FIS passes to SSM. */
  readonly automationRoleArn: TemplateValue
}

/**
 * The FIS experiment role's policy: start that runbook, watch and stop its
 * executions (stopping the experiment cancels the automation), pass the
 * automation role to SSM only, and deliver the experiment log (those logs
 * APIs take no resource). `ssm:StartAutomationExecution` is granted on the
 * runbook, its versions and `automation-execution/*`, as AWS's managed policy
 * for this FIS action (`AWSFaultInjectionSimulatorSSMAccess`) grants it.
 */
export const fisRoleStatements = (resources: FisRoleResources): PolicyStatement[] => [
  {
    Sid: 'StartTheRunbook',
    Effect: 'Allow',
    Action: ['ssm:StartAutomationExecution'],
    // As AWS's AWSFaultInjectionSimulatorSSMAccess (v4, 2025-06-25) grants it: the runbook, its
    // versions, and the execution it starts (of this account and region; its id is not known).
    Resource: [
      resources.documentArn,
      resources.automationDefinitionArn,
      resources.automationExecutionArn,
    ],
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
  /** The KMS key of a SecureString parameter ({@link kmsKeyGrant}). */
  readonly kmsKey?: KmsKeyGrant
}): PolicyStatement[] => [
  {
    Sid: 'ReadTheChaosParameter',
    Effect: 'Allow',
    Action: ['ssm:GetParameter'],
    Resource: [resources.parameterArn],
  },
  ...(resources.kmsKey === undefined
    ? []
    : [kmsStatement('DecryptTheChaosParameter', ['kms:Decrypt'], resources.kmsKey)]),
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
