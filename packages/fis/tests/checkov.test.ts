/**
 * checkov (PyPI, offline) on the CloudFormation export, as it runs on
 * cfn-lint: no failed check; the one check the default export does not meet
 * (`CKV_AWS_158`, a log group without a KMS key of yours) skipped in the
 * template with its reason, and met when a key is given. One checkov run for
 * every template of this file.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import { type CheckovFindings, checkov } from '../../../test/helpers/checkov.js'
import {
  buildCloudFormation,
  type CloudFormationTemplate,
  checkLogKmsKeyArn,
  FisExperimentError,
  LOG_GROUP_DEFAULT_KEY,
} from '../src/index.js'
import { experiment, LATENCY, OFF, workshop } from './helpers.js'

const LOG_KEY = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab'

let templates: Record<string, CloudFormationTemplate>
let findings: Record<string, CheckovFindings>

beforeAll(async () => {
  const fis = await workshop()
  const withAlarms = experiment({
    name: 'LatencyUntilAlarm',
    stopConditions: [{ alarm: 'HelloWorldApi5XX' }],
    steps: [
      { name: 'latency', set: LATENCY, wait: '10m' },
      { name: 'off', set: OFF },
    ],
  })
  const workshopExport = buildCloudFormation(fis, { parameterName: '/chaos/hello-world' })
  // The default export without its skip: what checkov says of a log group with no key of yours.
  const unexplained = structuredClone(workshopExport) as {
    Resources: Record<string, { Metadata?: unknown }>
  }
  delete unexplained.Resources.LogGroup?.Metadata
  templates = {
    workshop: workshopExport,
    keyed: buildCloudFormation(fis, { parameterName: '/chaos/hello-world', logKmsKeyArn: LOG_KEY }),
    secure: buildCloudFormation(withAlarms, {
      format: 'YAML',
      kmsKeyId: 'alias/chaos',
      leaseTier: 'Advanced',
      logKmsKeyArn: LOG_KEY,
    }),
    unexplained: unexplained as unknown as CloudFormationTemplate,
  }
  findings = await checkov(templates)
}, 120_000)

describe('checkov on the CloudFormation export', () => {
  it('fails no check of the workshop export, and skips only the log group key, with its reason', () => {
    expect(findings.workshop?.failed).toEqual([])
    expect(findings.workshop?.skipped).toEqual([
      {
        id: 'CKV_AWS_158',
        resource: 'AWS::Logs::LogGroup.LogGroup',
        comment: LOG_GROUP_DEFAULT_KEY.comment,
      },
    ])
    // It did check the resources: the roles, the runbook, the template.
    expect(findings.workshop?.passed).toBeGreaterThan(10)
  })

  it('fails and skips nothing when the log group has a key of yours', () => {
    expect(findings.keyed?.failed).toEqual([])
    expect(findings.keyed?.skipped).toEqual([])
    expect(findings.secure?.failed).toEqual([])
    expect(findings.secure?.skipped).toEqual([])
    expect(templates.keyed?.Resources.LogGroup).toEqual({
      Type: 'AWS::Logs::LogGroup',
      Properties: { RetentionInDays: 30, KmsKeyId: LOG_KEY },
    })
  })

  it('finds the log group key missing once the reason is taken out: the skip is what makes it pass', () => {
    expect(findings.unexplained?.failed).toEqual([
      { id: 'CKV_AWS_158', resource: 'AWS::Logs::LogGroup.LogGroup' },
    ])
  })
})

describe('the log group key', () => {
  it('takes a key ARN only, as CloudWatch Logs does', () => {
    expect(checkLogKmsKeyArn(LOG_KEY)).toBe(LOG_KEY)
    for (const key of [
      'alias/chaos',
      '1234abcd-12ab-34cd-56ef-1234567890ab',
      'arn:aws:kms:eu-west-1:123456789012:alias/chaos',
    ])
      expect(() => buildCloudFormation({ name: 'x', steps: [] }, { logKmsKeyArn: key })).toThrow(
        new FisExperimentError(
          `log KMS key "${key}": CloudWatch Logs takes a key ARN (arn:<partition>:kms:<region>:<account>:key/<id>), not an alias or a key id`,
        ),
      )
  })
})
