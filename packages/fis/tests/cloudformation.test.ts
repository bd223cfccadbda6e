// biome-ignore-all lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub placeholders
/**
 * The CloudFormation export: least-privilege IAM, the runbook's routes to
 * Restore, stop conditions and the experiment log; and cfn-lint (PyPI) on
 * the exports, zero findings.
 */
import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { parse as parseYaml } from 'yaml'
import {
  buildCloudFormation,
  buildRunbook,
  type CloudFormationTemplate,
  type FisExperiment,
  functionReadStatements,
  jacksonIndentedJson,
  kmsKeyGrant,
  MAX_RUNBOOK_BYTES,
  type PolicyStatement,
  type RunbookDocument,
  runbookBytes,
  runbookContent,
  scriptSteps,
} from '../src/index.js'
import { experiment, LATENCY, OFF, repeatSteps, runbookProblems, workshop } from './helpers.js'

const withAlarms: FisExperiment = experiment({
  name: 'LatencyUntilAlarm',
  description: 'Latency for 10 minutes, stopped by the API 5XX or p99 alarms',
  stopConditions: [{ alarm: 'HelloWorldApi5XX' }, { alarm: 'HelloWorldApiP99' }],
  steps: [
    { name: 'latency', set: LATENCY, wait: '10m' },
    { name: 'off', set: OFF },
  ],
})

type Resource = { Type: string; Properties: Record<string, unknown> }
const resource = (template: CloudFormationTemplate, id: string) =>
  template.Resources[id] as unknown as Resource
const statements = (template: CloudFormationTemplate, id: string): PolicyStatement[] =>
  (
    resource(template, id).Properties.Policies as {
      PolicyDocument: { Statement: PolicyStatement[] }
    }[]
  ).flatMap((policy) => policy.PolicyDocument.Statement)
const list = <T>(value: T | readonly T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? [...value] : [value as T]
const sub = (text: string) => ({ 'Fn::Sub': text })

const KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab'
/** A KMS key in each form SSM's KeyId (the runbook's KmsKeyId) takes. */
const KMS_KEYS = {
  'key ARN': `arn:aws:kms:eu-west-1:123456789012:key/${KEY_ID}`,
  'key id': KEY_ID,
  'alias name': 'alias/chaos',
  'alias ARN': 'arn:aws:kms:eu-west-1:123456789012:alias/chaos',
} as const
/** The condition of a grant on the keys that have the alias alias/chaos. */
const HAS_ALIAS = { 'ForAnyValue:StringEquals': { 'kms:ResourceAliases': 'alias/chaos' } }

describe('the CloudFormation export', () => {
  it('gives the automation role the one parameter and its lease, nothing else', async () => {
    // Act
    const template = buildCloudFormation(await workshop(), { parameterName: '/chaos/hello-world' })

    // Assess
    expect(statements(template, 'AutomationRole')).toEqual([
      {
        Sid: 'ChaosParameterAndItsLease',
        Effect: 'Allow',
        Action: ['ssm:GetParameter', 'ssm:PutParameter', 'ssm:DeleteParameter'],
        Resource: [
          sub(
            'arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${ParameterName}',
          ),
          sub(
            'arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${ParameterName}.lease',
          ),
        ],
      },
    ])
    expect(resource(template, 'AutomationRole').Properties.AssumeRolePolicyDocument).toMatchObject({
      Statement: [
        {
          Principal: { Service: 'ssm.amazonaws.com' },
          Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
        },
      ],
    })
  })

  it('writes the parameter ARN with one slash whatever the form of the name', async () => {
    // Act
    const template = buildCloudFormation(await workshop(), {
      parameterName: 'FisWorkshopLambdaFault',
    })

    // Assess
    expect(statements(template, 'AutomationRole')[0]?.Resource).toEqual([
      sub('arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/${ParameterName}'),
      sub(
        'arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/${ParameterName}.lease',
      ),
    ])
    expect(template.Parameters.ParameterName).toMatchObject({
      Default: 'FisWorkshopLambdaFault',
      AllowedPattern: '^[a-zA-Z0-9_.\\-]+$',
    })
  })

  it('has no * on any ssm: action but the execution ids FIS cannot know, and passes the role to SSM only', async () => {
    // Act
    const template = buildCloudFormation(await workshop())
    const all = [...statements(template, 'AutomationRole'), ...statements(template, 'FisRole')]

    // Assess
    const wildcards = all
      .filter((statement) => list(statement.Action).some((action) => action.startsWith('ssm:')))
      .flatMap((statement) => list(statement.Resource).map((r) => JSON.stringify(r)))
      .filter((text) => text.includes('*'))
    const executions = JSON.stringify(
      sub('arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:automation-execution/*'),
    )
    expect(wildcards).toEqual([
      JSON.stringify(
        sub(
          'arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:automation-definition/${Runbook}:*',
        ),
      ),
      executions,
      executions,
    ])
    const starred = all.filter((statement) => list(statement.Resource).includes('*'))
    expect(starred.flatMap((statement) => list(statement.Action))).toEqual([
      'logs:CreateLogDelivery',
      'logs:PutResourcePolicy',
      'logs:DescribeResourcePolicies',
      'logs:DescribeLogGroups',
    ])
    expect(all.find((statement) => list(statement.Action).includes('iam:PassRole'))).toEqual({
      Sid: 'PassTheAutomationRoleToSsm',
      Effect: 'Allow',
      Action: ['iam:PassRole'],
      Resource: [{ 'Fn::GetAtt': ['AutomationRole', 'Arn'] }],
      Condition: { StringEquals: { 'iam:PassedToService': 'ssm.amazonaws.com' } },
    })
  })

  it('lets FIS start the runbook as AWSFaultInjectionSimulatorSSMAccess does: on the document, its versions and automation-execution/* of this account and region', async () => {
    // Act
    const template = buildCloudFormation(await workshop())

    // Assess: AWS's managed policy (v4, 2025-06-25) grants it on document/*,
    // automation-definition/*:* and automation-execution/*; here on this one runbook.
    const here = 'arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}'
    expect(
      statements(template, 'FisRole').filter((statement) =>
        list(statement.Action).includes('ssm:StartAutomationExecution'),
      ),
    ).toEqual([
      {
        Sid: 'StartTheRunbook',
        Effect: 'Allow',
        Action: ['ssm:StartAutomationExecution'],
        Resource: [
          sub(`${here}:document/\${Runbook}`),
          sub(`${here}:automation-definition/\${Runbook}:*`),
          sub(`${here}:automation-execution/*`),
        ],
      },
    ])
  })

  it('writes the runbook as YAML text when asked, which reads back as the runbook', () => {
    // Act
    const template = buildCloudFormation(withAlarms, { format: 'YAML', leaseTier: 'Advanced' })

    // Assess: the exact text, which CloudFormation sends as it is (Fn::Join of one string)
    const { Properties } = resource(template, 'Runbook')
    expect(Properties).toMatchObject({ DocumentType: 'Automation', DocumentFormat: 'YAML' })
    const runbook = buildRunbook(withAlarms, { leaseTier: 'Advanced' })
    expect(Properties.Content).toEqual({ 'Fn::Join': ['', [runbookContent(runbook, 'YAML')]] })
    const text = (Properties.Content as { 'Fn::Join': [string, [string]] })['Fn::Join'][1][0]
    expect(parseYaml(text)).toEqual(runbook)
    expect(runbookProblems(runbook)).toEqual([])
    expect(runbook.mainSteps.map((step) => step.action)).toContain('aws:loop')
  })

  it('checks a JSON runbook at the size CloudFormation sends it: indented, as Jackson writes it', async () => {
    // Prepare: the workshop's steps repeated, as many as fit as compact JSON
    const fis = await workshop()
    const repeated = (count: number) => repeatSteps(fis, count)
    const fits = (steps: number) => {
      try {
        return buildRunbook(repeated(steps)) !== undefined
      } catch {
        return false
      }
    }
    let count = 1
    while (fits(count + 1)) count++

    // Act
    const compact = buildRunbook(repeated(count))
    const export_ = () => buildCloudFormation(repeated(count))

    // Assess: what fits as text is past the bound once CloudFormation indents it
    expect(runbookBytes(compact, 'JSON', 'CloudFormation')).toBeGreaterThan(MAX_RUNBOOK_BYTES)
    expect(export_).toThrow(/bytes as JSON \(indented, as CloudFormation sends it\), past 64512/)
    expect(jacksonIndentedJson({ a: [1, { b: 'x"y' }], c: {}, d: [] })).toBe(
      '{\n  "a" : [ 1, {\n    "b" : "x\\"y"\n  } ],\n  "c" : { },\n  "d" : [ ]\n}',
    )
    expect(runbookBytes(compact, 'JSON', 'CloudFormation')).toBe(
      Buffer.byteLength(jacksonIndentedJson(compact)),
    )
  })

  it('routes every step of the runbook to Restore on failure and on cancel', async () => {
    // Act
    const template = buildCloudFormation(await workshop())

    // Assess
    const runbook = resource(template, 'Runbook')
    expect(runbook.Properties).toMatchObject({ DocumentType: 'Automation', DocumentFormat: 'JSON' })
    const content = runbook.Properties.Content as RunbookDocument
    expect(runbookProblems(content)).toEqual([])
    expect(
      scriptSteps(content)
        .slice(0, -1)
        .every((step) => step.onCancel === 'step:Restore'),
    ).toBe(true)
  })

  it('runs the runbook from FIS with the alarms as stop conditions and the experiment log', () => {
    // Act
    const template = buildCloudFormation(withAlarms, { leaseTtlSeconds: 90 })

    // Assess
    const properties = resource(template, 'ExperimentTemplate').Properties
    expect(properties).toMatchObject({
      Targets: {},
      RoleArn: { 'Fn::GetAtt': ['FisRole', 'Arn'] },
      StopConditions: [
        {
          Source: 'aws:cloudwatch:alarm',
          Value: sub(
            'arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:HelloWorldApi5XX',
          ),
        },
        {
          Source: 'aws:cloudwatch:alarm',
          Value: sub(
            'arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:HelloWorldApiP99',
          ),
        },
      ],
      LogConfiguration: {
        CloudWatchLogsConfiguration: { LogGroupArn: { 'Fn::GetAtt': ['LogGroup', 'Arn'] } },
        LogSchemaVersion: 2,
      },
      ExperimentOptions: { AccountTargeting: 'single-account', EmptyTargetResolutionMode: 'fail' },
      Tags: { Name: 'LatencyUntilAlarm' },
    })
    expect(properties.Actions).toMatchObject({
      RunExperiment: {
        ActionId: 'aws:ssm:start-automation-execution',
        Parameters: {
          documentArn: sub(
            'arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:document/${Runbook}',
          ),
          documentParameters: {
            'Fn::Sub': [
              '{"AutomationAssumeRole":"${AutomationAssumeRole}","ParameterName":"${ParameterName}","LeaseTtlSeconds":"90"}',
              {
                AutomationAssumeRole: { 'Fn::GetAtt': ['AutomationRole', 'Arn'] },
                ParameterName: { Ref: 'ParameterName' },
              },
            ],
          },
          maxDuration: 'PT15M',
        },
      },
      S01_latency: { ActionId: 'aws:fis:wait', Parameters: { duration: 'PT10M' } },
    })
  })

  it('stops on nothing but a person when the experiment names no alarm', async () => {
    // Act
    const template = buildCloudFormation(await workshop())

    // Assess
    expect(resource(template, 'ExperimentTemplate').Properties.StopConditions).toEqual([
      { Source: 'none' },
    ])
  })

  it.each([
    ['key ARN', { Resource: [KMS_KEYS['key ARN']] }],
    [
      'key id',
      {
        Resource: [
          sub(`arn:\${AWS::Partition}:kms:\${AWS::Region}:\${AWS::AccountId}:key/${KEY_ID}`),
        ],
      },
    ],
    [
      'alias name',
      {
        Resource: [sub('arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/*')],
        Condition: HAS_ALIAS,
      },
    ],
    ['alias ARN', { Resource: ['arn:aws:kms:eu-west-1:123456789012:key/*'], Condition: HAS_ALIAS }],
  ] as const)(
    'grants the automation role the KMS key given as a %s as IAM takes a key, and gives the runbook the key as given',
    async (form, grant) => {
      // Act
      const template = buildCloudFormation(await workshop(), {
        parameterName: '/chaos/hello-world',
        kmsKeyId: KMS_KEYS[form],
      })

      // Assess
      expect(statements(template, 'AutomationRole').slice(1)).toEqual([
        {
          Sid: 'SecureStringKey',
          Effect: 'Allow',
          Action: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'],
          ...grant,
        },
      ])
      const content = resource(template, 'Runbook').Properties.Content as RunbookDocument
      expect(content.parameters.KmsKeyId.default).toBe(KMS_KEYS[form])
    },
  )

  it("lets a function decrypt with a key named by its alias only on the keys that have it, and with a key id on that key's ARN", () => {
    // Prepare
    const here = (resource: string) => `arn:aws:kms:eu-west-1:123456789012:${resource}`
    const parameterArn = 'arn:aws:ssm:eu-west-1:123456789012:parameter/chaos/secret'

    // Act
    const byAlias = functionReadStatements({
      parameterArn,
      kmsKey: kmsKeyGrant('alias/chaos', here),
    })
    const byId = functionReadStatements({ parameterArn, kmsKey: kmsKeyGrant(KEY_ID, here) })

    // Assess
    expect(byAlias[1]).toEqual({
      Sid: 'DecryptTheChaosParameter',
      Effect: 'Allow',
      Action: ['kms:Decrypt'],
      Resource: ['arn:aws:kms:eu-west-1:123456789012:key/*'],
      Condition: HAS_ALIAS,
    })
    expect(byId[1]?.Resource).toEqual([`arn:aws:kms:eu-west-1:123456789012:key/${KEY_ID}`])
    expect(byId[1]?.Condition).toBeUndefined()
  })

  it.each(['chaos', 'arn:aws:kms:eu-west-1:123456789012:chaos', 'arn:aws:s3:::bucket/key/x'])(
    'refuses %j as a KMS key: none of the forms SSM takes',
    async (key) => {
      // Prepare
      const fis = await workshop()

      // Act / Assess
      expect(() => buildCloudFormation(fis, { kmsKeyId: key })).toThrow(
        `KMS key "${key}": a key ARN, key id, alias name (alias/<name>) or alias ARN`,
      )
    },
  )

  it('refuses a parameter name SSM would refuse', async () => {
    // Prepare
    const fis = await workshop()

    // Act / Assess
    expect(() => buildCloudFormation(fis, { parameterName: '/chaos/hello world' })).toThrow(
      /parameter name "\/chaos\/hello world"/,
    )
  })
})

describe('cfn-lint', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'middy-chaos-cfn-lint-'))
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  /** Lints templates in one cfn-lint run (it starts slowly); its findings, `file:line:col:…:rule:message`. */
  const lint = async (templates: Record<string, unknown>): Promise<Record<string, string[]>> => {
    const files = Object.keys(templates).map((name) => join(dir, `${name}.json`))
    await Promise.all(
      Object.values(templates).map((template, index) =>
        writeFile(files[index] ?? '', `${JSON.stringify(template, null, 2)}\n`),
      ),
    )
    // No --ignore-checks: the exports have no warning to excuse.
    const output = await promisify(execFile)(inject('cfnLint'), [
      '--format',
      'parseable',
      '--',
      ...files,
    ]).then(
      ({ stdout }) => stdout,
      (error: { code?: number; stdout?: string }) => {
        // Exit code: bit flags, 2 errors, 4 warnings, 8 informational; 1 is cfn-lint failing.
        if (error.code === 1 || error.stdout === undefined) throw error
        return error.stdout
      },
    )
    const lines = output.split('\n').filter(Boolean)
    return Object.fromEntries(
      Object.keys(templates).map((name, index) => [
        name,
        lines
          .filter((line) => line.startsWith(`${files[index]}:`))
          .map((line) => line.slice(dir.length + 1)),
      ]),
    )
  }

  it('finds nothing in the exports of the workshop experiment, of one with alarms and of a SecureString with its key in each form', async () => {
    // Prepare
    const fis = await workshop()
    const workshopExport = buildCloudFormation(fis, { parameterName: '/chaos/hello-world' })
    const broken = structuredClone(workshopExport) as unknown as {
      Resources: Record<string, Resource>
    }
    const properties = broken.Resources.ExperimentTemplate?.Properties as Record<string, unknown>
    properties.StopConditions = [{ Sourc: 'none' }]

    // Act
    const findings = await lint({
      workshop: workshopExport,
      unnamed: buildCloudFormation(fis, { parameterName: 'FisWorkshopLambdaFault' }),
      alarms: buildCloudFormation(withAlarms, { leaseTtlSeconds: 120 }),
      yaml: buildCloudFormation(withAlarms, { format: 'YAML', leaseTier: 'Advanced' }),
      ...Object.fromEntries(
        Object.entries(KMS_KEYS).map(([form, key]) => [
          form.replace(' ', '-'),
          buildCloudFormation(fis, { parameterName: '/chaos/secret', kmsKeyId: key }),
        ]),
      ),
      broken,
    })

    // Assess
    expect(findings.workshop).toEqual([])
    expect(findings.unnamed).toEqual([])
    expect(findings.alarms).toEqual([])
    // The runbook as YAML text (a wait past 540 s: its loop), the lease in the Advanced tier.
    expect(findings.yaml).toEqual([])
    // A SecureString's key in each form SSM takes: IAM is given a key ARN (E3510 otherwise).
    for (const form of Object.keys(KMS_KEYS)) expect(findings[form.replace(' ', '-')]).toEqual([])
    // It does check these resources: a misspelt key is an error.
    expect(findings.broken?.join('\n')).toMatch(
      /E3002:Additional properties are not allowed \('Sourc' was unexpected/,
    )
  }, 60_000)
})
