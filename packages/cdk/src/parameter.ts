/**
 * The chaos config parameter: the SSM parameter the middlewares read
 * (`CHAOS_PARAM`) and an experiment writes, created with faults off; read
 * access for a function on that one parameter ARN.
 *
 * @module
 */
import { FAULTS, turnsFaultsOn, validateConfig } from '@middy-chaos/experiment'
import {
  functionReadStatements,
  type KmsKeyGrant,
  kmsKeyGrant,
  leaseParameterName,
} from '@middy-chaos/fis'
import { Stack, Token } from 'aws-cdk-lib'
import * as iam from 'aws-cdk-lib/aws-iam'
import type * as kms from 'aws-cdk-lib/aws-kms'
import type * as lambda from 'aws-cdk-lib/aws-lambda'
import * as ssm from 'aws-cdk-lib/aws-ssm'
import * as cr from 'aws-cdk-lib/custom-resources'
import { Construct } from 'constructs'
import { acknowledge, acknowledgeWildcardResource, skipCheckov } from './nag.js'

/**
 * Faults off, as the AWS FIS workshop creates its parameter (chaos_lambda's
 * format, `is_enabled: false`): the default value of a
 * {@link ChaosConfigParameter}.
 */
export const WORKSHOP_FAULTS_OFF =
  '{"is_enabled":false,"fault_type":"latency","delay":400,"error_code":404,"exception_msg":"Fault injected by chaos-lambda","rate":1}'

/** A construct could not be built as asked; the message names what is wrong. */
export class ChaosConstructError extends Error {
  public constructor(message: string) {
    super(message)
    this.name = 'ChaosConstructError'
  }
}

/** SSM parameter names: letters, digits, `_ . -`, and `/` as the first character and between levels. */
const NAME = /^\/?[a-zA-Z0-9_.-]+(\/[a-zA-Z0-9_.-]+)*$/

const checkName = (name: string): string => {
  if (Token.isUnresolved(name))
    throw new ChaosConstructError(
      'parameterName: give the literal name ("/chaos/hello-world"), not a token: the IAM policies are written from it',
    )
  if (!NAME.test(name) || /^\/?(aws|ssm)/i.test(name) || name.length > 1000)
    throw new ChaosConstructError(
      `parameterName "${name}": SSM parameter names are letters, digits, _ . - and / (first and between levels), at most 1000 characters here (its lease adds ".lease"), not starting with aws or ssm`,
    )
  return name
}

/**
 * A chaos config parameter, created by a {@link ChaosConfigParameter} or
 * named with {@link ChaosConfigParameter.fromParameterName}.
 */
export interface IChaosConfigParameter {
  /** The literal name, as the functions read it (`CHAOS_PARAM`). */
  readonly parameterName: string
  /** `arn:<partition>:ssm:<region>:<account>:parameter/<name without its leading />`. */
  readonly parameterArn: string
  /** The lease of a running experiment: `<name>.lease` (`middy-chaos status --store ssm` shows it). */
  readonly leaseName: string
  /** The ARN of {@link leaseName}. */
  readonly leaseArn: string
  /** The KMS key of a SecureString parameter; `undefined` for a String parameter. */
  readonly encryptionKey?: kms.IKey
  /**
   * Lets `fn` read the parameter: `ssm:GetParameter` on its ARN only (and
   * `kms:Decrypt` on its key), and sets `CHAOS_PARAM` (or
   * `environmentVariable`) to its name. Refused when that variable already
   * names another chaos parameter.
   *
   * @example
   * ```ts
   * config.grantRead(helloWorld) // CHAOS_PARAM=/chaos/hello-world
   * ```
   */
  grantRead(fn: lambda.Function, environmentVariable?: string): void
}

/** The name and key of a parameter this stack does not create. */
export interface ChaosConfigParameterAttributes {
  /** The key of a SecureString parameter encrypted with a key of yours. */
  readonly encryptionKey?: kms.IKey
}

abstract class ChaosConfigParameterBase extends Construct implements IChaosConfigParameter {
  public readonly parameterName: string
  public readonly parameterArn: string
  public readonly leaseName: string
  public readonly leaseArn: string
  public readonly encryptionKey?: kms.IKey

  protected constructor(scope: Construct, id: string, name: string, key: kms.IKey | undefined) {
    super(scope, id)
    this.parameterName = checkName(name)
    this.leaseName = leaseParameterName(name)
    // From the literal name: the ARN of a name starting with "/" has one slash after "parameter".
    const arn = (literal: string) =>
      Stack.of(this).formatArn({
        service: 'ssm',
        resource: 'parameter',
        resourceName: literal.replace(/^\//, ''),
      })
    this.parameterArn = arn(this.parameterName)
    this.leaseArn = arn(this.leaseName)
    if (key !== undefined) this.encryptionKey = key
  }

  public grantRead(fn: lambda.Function, environmentVariable = 'CHAOS_PARAM'): void {
    const granted = GRANTED.get(fn) ?? new Map<string, string>()
    const before = granted.get(environmentVariable)
    if (before !== undefined && before !== this.parameterName)
      throw new ChaosConstructError(
        `${fn.node.path}: ${environmentVariable} already names ${before}; give this parameter another variable (grantRead(fn, 'CHAOS_PARAM_2')) and the middleware its parameterName`,
      )
    granted.set(environmentVariable, this.parameterName)
    GRANTED.set(fn, granted)
    const kmsKey = this.encryptionKey === undefined ? undefined : keyGrant(this, this.encryptionKey)
    const statements = functionReadStatements({
      parameterArn: this.parameterArn,
      ...(kmsKey === undefined ? {} : { kmsKey }),
    })
    if (kmsKey?.alias !== undefined) acknowledgeAliasGrant(fn.role ?? fn, kmsKey)
    // Without their Sids: two parameters read by one function would repeat them in its policy.
    for (const { Sid: _sid, ...statement } of statements)
      fn.addToRolePolicy(iam.PolicyStatement.fromJson(statement))
    fn.addEnvironment(environmentVariable, this.parameterName)
  }
}

/**
 * How a statement grants on the parameter's key: its ARN, or for a `kms.Alias`
 * (whose `keyArn` is the alias ARN, which IAM does not take for a key) the
 * keys of its account and region that have the alias.
 */
const keyGrant = (scope: Construct, key: kms.IKey): KmsKeyGrant =>
  kmsKeyGrant(key.keyArn, (resource) => Stack.of(scope).formatArn({ service: 'kms', resource }))

/** Acknowledges cdk-nag's finding for the `key/*` of a key named by its alias, under `scope`. */
/** Why the AwsCustomResource provider function of aws-cdk-lib skips these checkov checks. */
const PROVIDER_CHECKOV_SKIPS = [
  {
    id: 'CKV_AWS_116',
    comment:
      'CloudFormation calls the custom resource provider synchronously during a deployment: a failure fails the deployment, there is no event for a dead-letter queue to keep',
  },
  {
    id: 'CKV_AWS_117',
    comment: 'The provider calls the SSM and KMS APIs only; aws-cdk-lib creates it outside any VPC',
  },
  {
    id: 'CKV_AWS_115',
    comment:
      "It runs only while the stack deploys, once per SecureString parameter: reserving the account's concurrency for it would take from the functions",
  },
] as const

const acknowledgeAliasGrant = (scope: Construct, grant: KmsKeyGrant): void =>
  acknowledgeWildcardResource(
    scope,
    grant.keyArn as string,
    `IAM takes a KMS key by its key ARN only: the key named by its alias ${grant.alias} is granted as AWS documents it, any key of the account and region on condition that it has that alias (kms:ResourceAliases)`,
  )

/** The chaos parameters each function was given, by environment variable. */
const GRANTED = new WeakMap<lambda.Function, Map<string, string>>()

/** Properties of a {@link ChaosConfigParameter}. */
export interface ChaosConfigParameterProps {
  /**
   * The parameter's name, a literal string (`/chaos/hello-world`): the
   * policies are written from it.
   */
  readonly parameterName: string
  /**
   * The value it is created with: a chaos config that turns no fault on
   * (refused otherwise), as JSON text or an object.
   *
   * @default WORKSHOP_FAULTS_OFF, the AWS FIS workshop's disabled value
   */
  readonly initialValue?: string | Readonly<Record<string, unknown>>
  /** @default 'middy-chaos config: written by chaos experiments, read by the chaos middlewares' */
  readonly description?: string
  /**
   * Makes it a SecureString encrypted with this key. CloudFormation cannot
   * create SecureString parameters: it is then created by a custom resource
   * (`PutParameter`), and deleted with the stack.
   *
   * @default a String parameter
   */
  readonly encryptionKey?: kms.IKey
}

/**
 * The SSM parameter holding the chaos config, created with faults off.
 * `grantRead(fn)` lets a function read it (`ssm:GetParameter` on this one
 * parameter) and sets `CHAOS_PARAM`; a {@link ChaosExperiment} writes it.
 *
 * With `encryptionKey`, a SecureString: CloudFormation cannot create one, so
 * an `AwsCustomResource` calls `PutParameter` (Type `SecureString`, your
 * `KeyId`) on create and update and `DeleteParameter` on delete. The
 * initial value is in the template, in clear: it is a config with faults
 * off. The function then reads it with decryption (Powertools'
 * `POWERTOOLS_PARAMETERS_SSM_DECRYPT=true`, or `providerOptions: { decrypt:
 * true }`).
 *
 * @example
 * ```ts
 * const config = new ChaosConfigParameter(this, 'ChaosConfig', { parameterName: '/chaos/hello-world' })
 * config.grantRead(helloWorld) // ssm:GetParameter on the parameter, CHAOS_PARAM=/chaos/hello-world
 * ```
 */
export class ChaosConfigParameter extends ChaosConfigParameterBase {
  /**
   * A parameter this stack does not create (another stack's, or one you made
   * by hand), for {@link ChaosExperiment} and `grantRead`.
   *
   * @example
   * ```ts
   * const config = ChaosConfigParameter.fromParameterName(this, 'Config', '/chaos/hello-world')
   * ```
   */
  public static fromParameterName(
    scope: Construct,
    id: string,
    parameterName: string,
    attributes: ChaosConfigParameterAttributes = {},
  ): IChaosConfigParameter {
    return new ImportedChaosConfigParameter(scope, id, parameterName, attributes.encryptionKey)
  }

  /** The text the parameter is created with. */
  public readonly initialValue: string

  public constructor(scope: Construct, id: string, props: ChaosConfigParameterProps) {
    super(scope, id, props.parameterName, props.encryptionKey)
    const value =
      typeof props.initialValue === 'string'
        ? props.initialValue
        : props.initialValue === undefined
          ? WORKSHOP_FAULTS_OFF
          : JSON.stringify(props.initialValue)
    const issues = validateConfig(value, FAULTS)
    if (issues.length > 0 || turnsFaultsOn(value, FAULTS))
      throw new ChaosConstructError(
        `${this.node.path}: initialValue must be a chaos config with faults off${issues.length > 0 ? ` (${issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ')})` : ''}`,
      )
    this.initialValue = value
    const description =
      props.description ??
      'middy-chaos config: written by chaos experiments, read by the chaos middlewares'
    const key = props.encryptionKey
    if (key === undefined) {
      new ssm.StringParameter(this, 'Resource', {
        parameterName: this.parameterName,
        stringValue: value,
        description,
      })
      return
    }
    const grant = keyGrant(this, key)
    if (grant.alias !== undefined) acknowledgeAliasGrant(this, grant)
    const put = (overwrite: boolean): cr.AwsSdkCall => ({
      service: 'SSM',
      action: 'PutParameter',
      parameters: {
        Name: this.parameterName,
        Value: value,
        Type: 'SecureString',
        KeyId: key.keyArn,
        Description: description,
        Overwrite: overwrite,
      },
      physicalResourceId: cr.PhysicalResourceId.of(this.parameterName),
      // The request carries the value: keep it out of the provider's log.
      logging: cr.Logging.withDataHidden(),
    })
    new cr.AwsCustomResource(this, 'Resource', {
      resourceType: 'Custom::ChaosSecureStringParameter',
      onCreate: put(false),
      onUpdate: put(true),
      onDelete: {
        service: 'SSM',
        action: 'DeleteParameter',
        parameters: { Name: this.parameterName },
        ignoreErrorCodesMatching: 'ParameterNotFound',
      },
      policy: cr.AwsCustomResourcePolicy.fromStatements([
        new iam.PolicyStatement({
          actions: ['ssm:PutParameter', 'ssm:DeleteParameter'],
          resources: [this.parameterArn],
        }),
        new iam.PolicyStatement({
          actions: ['kms:Encrypt', 'kms:GenerateDataKey'],
          resources: [grant.keyArn as string],
          ...(grant.alias === undefined
            ? {}
            : {
                conditions: { 'ForAnyValue:StringEquals': { 'kms:ResourceAliases': grant.alias } },
              }),
        }),
      ]),
      installLatestAwsSdk: false,
    })
    // The provider function is one per stack, shared by every AwsCustomResource in it.
    const provider = Stack.of(this).node.tryFindChild(
      `AWS${cr.AwsCustomResource.PROVIDER_FUNCTION_UUID.replace(/-/g, '')}`,
    )
    if (provider !== undefined) {
      acknowledge(
        provider,
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        "The AwsCustomResource provider function of aws-cdk-lib writes its own logs with AWS's basic execution policy; aws-cdk-lib gives it no other",
      )
      skipCheckov(provider, PROVIDER_CHECKOV_SKIPS)
    }
  }
}

class ImportedChaosConfigParameter extends ChaosConfigParameterBase {
  public constructor(scope: Construct, id: string, name: string, key: kms.IKey | undefined) {
    super(scope, id, name, key)
  }
}
