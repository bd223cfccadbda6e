/**
 * checkov (PyPI, offline) on what the constructs synthesize, as cdk-nag and
 * cfn-lint run on it: no failed check on their resources; the experiment log
 * group without a key of yours skips `CKV_AWS_158` with its reason (the
 * export's, `LOG_GROUP_DEFAULT_KEY`), and with `logEncryptionKey` meets it,
 * the key letting CloudWatch Logs of the region use it. One checkov run.
 */
import { LOG_GROUP_DEFAULT_KEY } from '@middy-chaos/fis'
import { Stack, Validations } from 'aws-cdk-lib'
import { Annotations, Template } from 'aws-cdk-lib/assertions'
import * as kms from 'aws-cdk-lib/aws-kms'
import { AwsSolutionsChecks } from 'cdk-nag'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type CheckovFindings, checkov } from '../../../test/helpers/checkov.js'
import { ChaosConfigParameter, ChaosExperiment } from '../src/index.js'
import { type CfnTemplate, ENV, newApp, removeApps, workshopFile } from './helpers.js'

/** The AwsCustomResource provider function of aws-cdk-lib, one per stack. */
const PROVIDER = 'AWS679f53fac002430cb0da5b7982bd22872D164C4C'

let findings: Record<string, CheckovFindings>
let keyed: CfnTemplate
let synthError: unknown
let keyedStack: Stack
let experiment: ChaosExperiment

beforeAll(async () => {
  const app = newApp()
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app))
  // The constructs as an app uses them: the workshop experiment, its log with AWS's key.
  const plain = new Stack(app, 'Plain', { env: ENV })
  const config = new ChaosConfigParameter(plain, 'Config', { parameterName: '/chaos/hello-world' })
  new ChaosExperiment(plain, 'Workshop', { parameter: config, experiment: workshopFile })
  // The same with a SecureString and the experiment log encrypted with a key of the stack.
  keyedStack = new Stack(app, 'Keyed', { env: ENV })
  const key = new kms.Key(keyedStack, 'Key', { enableKeyRotation: true })
  const secret = new ChaosConfigParameter(keyedStack, 'Secret', {
    parameterName: '/chaos/secret',
    encryptionKey: key,
  })
  experiment = new ChaosExperiment(keyedStack, 'Workshop', {
    parameter: secret,
    experiment: workshopFile,
    logEncryptionKey: key,
  })
  try {
    app.synth()
  } catch (error) {
    synthError = error
  }
  keyed = Template.fromStack(keyedStack).toJSON() as CfnTemplate
  findings = await checkov({
    plain: Template.fromStack(plain).toJSON(),
    keyed,
  })
}, 120_000)

afterAll(removeApps)

const idOf = (stack: Stack, construct: { node: { defaultChild?: unknown } }) =>
  stack.resolve((construct.node.defaultChild as { logicalId: string }).logicalId) as string

describe('checkov on ChaosConfigParameter and ChaosExperiment', () => {
  it('synthesizes with zero cdk-nag findings, a key of the stack on the log included', () => {
    expect(synthError === undefined ? '' : String((synthError as Error).message)).toBe('')
  })

  it('fails no check; the log group without a key of yours skips CKV_AWS_158 with its reason', () => {
    expect(findings.plain?.failed).toEqual([])
    expect(findings.plain?.skipped).toEqual([
      {
        id: 'CKV_AWS_158',
        resource: expect.stringMatching(/^AWS::Logs::LogGroup\.WorkshopLog[0-9A-F]{8}$/),
        comment: LOG_GROUP_DEFAULT_KEY.comment,
      },
    ])
    expect(findings.plain?.passed).toBeGreaterThan(10)
  })

  it('fails nothing with logEncryptionKey: the log group is encrypted with that key', () => {
    expect(findings.keyed?.failed).toEqual([])
    // What the SecureString's provider function (aws-cdk-lib's) skips, with reasons; nothing of the experiment.
    expect(findings.keyed?.skipped.map(({ id, resource }) => `${id} ${resource}`)).toEqual([
      `CKV_AWS_116 AWS::Lambda::Function.${PROVIDER}`,
      `CKV_AWS_117 AWS::Lambda::Function.${PROVIDER}`,
      `CKV_AWS_115 AWS::Lambda::Function.${PROVIDER}`,
    ])
    for (const { comment } of findings.keyed?.skipped ?? [])
      expect(comment?.length).toBeGreaterThan(40)
    const logGroup = keyed.Resources[idOf(keyedStack, experiment.logGroup)]
    expect(logGroup?.Properties?.KmsKeyId).toEqual({
      'Fn::GetAtt': [expect.stringMatching(/^Key[0-9A-F]{8}$/), 'Arn'],
    })
    expect((logGroup as { Metadata?: { checkov?: unknown } }).Metadata?.checkov).toBeUndefined()
  })

  it("lets CloudWatch Logs of the stack's region use the key, for the log groups of its account and region", () => {
    const [policyOwner] = Object.values(keyed.Resources).filter((r) => r.Type === 'AWS::KMS::Key')
    const statements = (
      (policyOwner?.Properties?.KeyPolicy ?? { Statement: [] }) as {
        Statement: { Sid?: string }[]
      }
    ).Statement.filter((statement) => statement.Sid === 'CloudWatchLogsEncryptsTheLogGroups')
    expect(statements).toEqual([
      {
        Sid: 'CloudWatchLogsEncryptsTheLogGroups',
        Effect: 'Allow',
        Principal: {
          Service: { 'Fn::Join': ['', [`logs.${ENV.region}.`, { Ref: 'AWS::URLSuffix' }]] },
        },
        Action: [
          'kms:Encrypt*',
          'kms:Decrypt*',
          'kms:ReEncrypt*',
          'kms:GenerateDataKey*',
          'kms:Describe*',
        ],
        Resource: '*',
        Condition: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': {
              'Fn::Join': [
                '',
                [
                  'arn:',
                  { Ref: 'AWS::Partition' },
                  `:logs:${ENV.region}:${ENV.account}:log-group:*`,
                ],
              ],
            },
          },
        },
      },
    ])
  })

  it("warns that an imported key's policy must let CloudWatch Logs use it", () => {
    // Prepare
    const stack = new Stack(newApp(), 'Imported', { env: ENV })
    const key = kms.Key.fromKeyArn(
      stack,
      'Key',
      `arn:aws:kms:${ENV.region}:${ENV.account}:key/1234abcd-12ab-34cd-56ef-1234567890ab`,
    )

    // Act
    new ChaosExperiment(stack, 'Workshop', {
      parameter: ChaosConfigParameter.fromParameterName(stack, 'Config', '/chaos/hello-world'),
      experiment: workshopFile,
      logEncryptionKey: key,
    })

    // Assess
    Annotations.fromStack(stack).hasWarning(
      '/Imported/Workshop',
      `the policy of the imported key arn:aws:kms:${ENV.region}:${ENV.account}:key/1234abcd-12ab-34cd-56ef-1234567890ab must let logs.<region>.amazonaws.com use it for the experiment log group [ack: @middy-chaos/cdk:logEncryptionKey]`,
    )
  })
})
