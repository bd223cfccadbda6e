/**
 * `ChaosConfigParameter` and `ChaosExperiment` in one stack, synthesized once
 * with cdk-nag's AwsSolutions checks: least-privilege IAM, the runbook's
 * routes to Restore, stop conditions and the experiment log; zero cdk-nag
 * findings; cfn-lint on the template; and the same FIS and SSM resources as
 * the CloudFormation export of the same experiment files.
 */
import { join } from 'node:path'
import { adjustWaits, loadExperiment, toFisExperiment } from '@middy-chaos/cli'
import {
  buildCloudFormation,
  type CloudFormationOptions,
  type FisExperiment,
  LOGICAL_IDS,
} from '@middy-chaos/fis'
import { type CfnResource, Duration, Stack, Validations } from 'aws-cdk-lib'
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions'
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch'
import * as kms from 'aws-cdk-lib/aws-kms'
import * as lambda from 'aws-cdk-lib/aws-lambda'
import * as logs from 'aws-cdk-lib/aws-logs'
import { AwsSolutionsChecks } from 'cdk-nag'
import type { IConstruct } from 'constructs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  ChaosConfigParameter,
  ChaosExperiment,
  type IChaosConfigParameter,
  WORKSHOP_FAULTS_OFF,
} from '../src/index.js'
import {
  CDK_LINT_IGNORES,
  type CfnTemplate,
  ENV,
  evaluate,
  everyStatement,
  fixture,
  lint,
  type Names,
  newApp,
  removeApps,
  repoRoot,
  statements,
  workshopFile,
} from './helpers.js'
import { YAML } from './sam.js'

const SECRET_STEPS: FisExperiment = {
  name: 'SecretLatency',
  steps: [
    {
      name: 'latency',
      set: '{"is_enabled":true,"fault_type":"latency","delay":200,"rate":1}',
      waitMs: 90_000,
      turnsFaultsOn: true,
    },
  ],
}

/** The key of the SecureString parameter named by its alias, and the ARN the experiments read it by. */
const ALIAS = 'alias/chaos'
const ALIAS_ARN = `arn:aws:kms:${ENV.region}:${ENV.account}:${ALIAS}`

/**
 * The stack every test reads: four parameters (two SecureStrings, one with a
 * key of ours, one with a key named by its alias), five experiments, two functions.
 */
const build = () => {
  const app = newApp()
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app))
  const stack = new Stack(app, 'Chaos', { env: ENV })
  const helloWorld = new lambda.Function(stack, 'HelloWorld', {
    runtime: lambda.Runtime.NODEJS_24_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({ statusCode: 200 })'),
  })
  const secretReader = new lambda.Function(stack, 'SecretReader', {
    runtime: lambda.Runtime.NODEJS_24_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({ statusCode: 200 })'),
  })
  for (const fn of [helloWorld, secretReader])
    Validations.of(fn).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason: "The test's own functions, not the constructs': their logs with AWS's basic policy",
    })

  // A String parameter and the workshop experiment file, as middy-chaos experiment run reads it.
  const config = new ChaosConfigParameter(stack, 'Config', { parameterName: '/chaos/hello-world' })
  config.grantRead(helloWorld)
  const workshop = new ChaosExperiment(stack, 'Workshop', {
    parameter: config,
    experiment: workshopFile,
  })

  // A parameter made elsewhere, named without a leading slash; alarms and a probe in the file.
  const elsewhere = ChaosConfigParameter.fromParameterName(stack, 'Elsewhere', 'chaos-alarm')
  const withAlarms = new ChaosExperiment(stack, 'WithAlarms', {
    parameter: elsewhere,
    experiment: fixture('latency-until-alarm.json'),
  })
  // The same, its runbook as YAML (a long wait: a loop), its lease in the Advanced tier.
  const yamlRunbook = new ChaosExperiment(stack, 'YamlRunbook', {
    parameter: elsewhere,
    experiment: fixture('latency-until-alarm.json'),
    runbookFormat: 'YAML',
    leaseTier: 'Advanced',
  })

  // A SecureString with a key of ours, typed steps, alarms given to the construct.
  const key = new kms.Key(stack, 'Key', { enableKeyRotation: true })
  const secret = new ChaosConfigParameter(stack, 'Secret', {
    parameterName: '/chaos/secret',
    encryptionKey: key,
  })
  secret.grantRead(secretReader)
  const errors = new cloudwatch.Alarm(stack, 'Errors', {
    metric: secretReader.metricErrors({ period: Duration.minutes(1) }),
    threshold: 1,
    evaluationPeriods: 1,
  })
  const secretive = new ChaosExperiment(stack, 'Secretive', {
    parameter: secret,
    experiment: SECRET_STEPS,
    stopAlarms: [errors, 'Throttles', `arn:aws:cloudwatch:${ENV.region}:${ENV.account}:alarm:P99`],
    leaseTtl: Duration.seconds(90),
    logRetention: logs.RetentionDays.ONE_WEEK,
  })

  // The workshop experiment file on each SecureString: the CloudFormation export must match them.
  const secretWorkshop = new ChaosExperiment(stack, 'SecretWorkshop', {
    parameter: secret,
    experiment: workshopFile,
  })
  const aliased = ChaosConfigParameter.fromParameterName(stack, 'Aliased', '/chaos/aliased', {
    encryptionKey: kms.Alias.fromAliasName(stack, 'ChaosAlias', ALIAS),
  })
  aliased.grantRead(secretReader, 'CHAOS_PARAM_ALIASED')
  const aliasedWorkshop = new ChaosExperiment(stack, 'AliasedWorkshop', {
    parameter: aliased,
    experiment: workshopFile,
  })
  return {
    app,
    stack,
    helloWorld,
    secretReader,
    secretWorkshop,
    aliased,
    aliasedWorkshop,
    errors,
    workshop,
    withAlarms,
    yamlRunbook,
    secretive,
    config,
    elsewhere,
    secret,
    key,
  }
}

const built = build()
const { app, stack } = built
let synthError: unknown
let template: Template
let json: CfnTemplate
let synthMs = 0

const id = (construct: IConstruct): string =>
  stack.resolve(stack.getLogicalId(construct as CfnResource)) as string
const idOf = (construct: IConstruct): string => id(construct.node.defaultChild as CfnResource)
const resourceOf = (logicalId: string) => {
  const resource = json.Resources[logicalId]
  return { ...resource, Properties: resource?.Properties ?? {} }
}

/** The logical ids of an experiment's resources, named as the CloudFormation export names them. */
const exportNames = (experiment: ChaosExperiment): Record<string, string> => ({
  [id(experiment.runbook)]: LOGICAL_IDS.runbook,
  [idOf(experiment.automationRole)]: LOGICAL_IDS.automationRole,
  [idOf(experiment.fisRole)]: LOGICAL_IDS.fisRole,
  [idOf(experiment.logGroup)]: LOGICAL_IDS.logGroup,
  [id(experiment.template)]: LOGICAL_IDS.experimentTemplate,
})

type Step = { name: string; onFailure?: string; onCancel?: string; isEnd?: boolean }
/** The runbook's script steps, those inside its loops (long waits) included. */
const runbookSteps = (experiment: ChaosExperiment): Step[] =>
  (
    resourceOf(id(experiment.runbook)).Properties.Content as {
      mainSteps: (Step & { action?: string; inputs?: { Steps?: Step[] } })[]
    }
  ).mainSteps.flatMap((step) => (step.action === 'aws:loop' ? (step.inputs?.Steps ?? []) : [step]))

afterAll(removeApps)

beforeAll(() => {
  const started = performance.now()
  try {
    app.synth()
  } catch (error) {
    synthError = error
  }
  synthMs = performance.now() - started
  template = Template.fromStack(stack)
  json = template.toJSON() as CfnTemplate
}, 120_000)

describe('cdk-nag AwsSolutions', () => {
  it('finds nothing: the synth with the plugin does not throw', () => {
    // Assess
    expect(synthError === undefined ? '' : String((synthError as Error).message)).toBe('')
    expect(synthMs).toBeGreaterThan(0)
  })

  it('acknowledges on the FIS role only the wildcards FIS needs, each with its reason', () => {
    // Act
    const acknowledged = built.workshop.fisRole.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) => Object.entries(entry.data as Record<string, string>))

    // Assess
    expect(acknowledged.map(([rule]) => rule.replace(/^annotation::/i, ''))).toEqual([
      'AwsSolutions-IAM5[Resource::*]',
      `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ssm:${ENV.region}:${ENV.account}:automation-execution/*]`,
      `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ssm:${ENV.region}:${ENV.account}:automation-definition/<${id(built.workshop.runbook)}>:*]`,
    ])
    for (const [, reason] of acknowledged) expect(reason.length).toBeGreaterThan(40)
  })
})

describe('ChaosConfigParameter', () => {
  it('is created with faults off, under its literal name', () => {
    // Assess
    template.hasResourceProperties('AWS::SSM::Parameter', {
      Name: '/chaos/hello-world',
      Type: 'String',
      Value: WORKSHOP_FAULTS_OFF,
    })
  })

  it('grantRead gives ssm:GetParameter on that one parameter ARN and sets CHAOS_PARAM', () => {
    // Act
    const granted = everyStatement(json).filter(
      (statement) =>
        statement.in === idOf(built.helloWorld.role?.node.findChild('DefaultPolicy') ?? stack),
    )

    // Assess
    expect(granted).toEqual([
      {
        Effect: 'Allow',
        Action: ['ssm:GetParameter'],
        Resource: [`arn:aws:ssm:${ENV.region}:${ENV.account}:parameter/chaos/hello-world`],
        in: expect.any(String),
      },
    ])
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: { CHAOS_PARAM: '/chaos/hello-world' } },
    })
  })

  it('writes every parameter ARN with one slash after "parameter"', () => {
    // Act
    const text = JSON.stringify(evaluate(json))

    // Assess
    expect(text).not.toContain('parameter//')
    expect(built.elsewhere.parameterArn).not.toContain('parameter//')
    expect(stack.resolve(built.elsewhere.leaseArn)).toEqual({
      'Fn::Join': [
        '',
        [
          'arn:',
          { Ref: 'AWS::Partition' },
          `:ssm:${ENV.region}:${ENV.account}:parameter/chaos-alarm.lease`,
        ],
      ],
    })
  })

  it('creates a SecureString with the key through PutParameter, and deletes it with the stack', () => {
    // Act
    const [custom] = Object.values(template.findResources('Custom::ChaosSecureStringParameter'))
    const properties = evaluate(custom?.Properties, {
      resources: { [idOf(built.key)]: 'Key' },
    }) as Record<string, string>

    // Assess
    expect(JSON.parse(properties.Create ?? '{}')).toMatchObject({
      service: 'SSM',
      action: 'PutParameter',
      parameters: {
        Name: '/chaos/secret',
        Type: 'SecureString',
        KeyId: '{Key.Arn}',
        Value: WORKSHOP_FAULTS_OFF,
        Overwrite: false,
      },
      physicalResourceId: { id: '/chaos/secret' },
    })
    expect(JSON.parse(properties.Update ?? '{}')).toMatchObject({
      parameters: { Overwrite: true, KeyId: '{Key.Arn}' },
    })
    expect(JSON.parse(properties.Delete ?? '{}')).toMatchObject({
      action: 'DeleteParameter',
      parameters: { Name: '/chaos/secret' },
      ignoreErrorCodesMatching: 'ParameterNotFound',
    })
  })

  it('lets the reader of a SecureString decrypt with its key, and the custom resource encrypt with it only', () => {
    // Act
    const all = everyStatement(json, { resources: { [idOf(built.key)]: 'Key' } })
    const kmsStatements = all.filter((statement) =>
      statement.Action.some((a) => a.startsWith('kms:')),
    )

    // Assess
    expect(kmsStatements.map((s) => [s.Action, s.Resource])).toEqual(
      expect.arrayContaining([
        [['kms:Decrypt'], ['{Key.Arn}']],
        [['kms:Encrypt', 'kms:GenerateDataKey'], ['{Key.Arn}']],
        [['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'], ['{Key.Arn}']],
      ]),
    )
    // Every other statement on KMS is on the keys that have the alias (the next test).
    for (const statement of kmsStatements.filter((s) => s.Condition === undefined))
      expect(statement.Resource).toEqual(['{Key.Arn}'])
  })

  it('grants a key named by its alias (kms.Alias) as IAM takes a key: the keys of the account and region that have the alias', () => {
    // Act
    const kmsStatements = everyStatement(json).filter((statement) =>
      statement.Action.some((a) => a.startsWith('kms:')),
    )
    const aliased = kmsStatements.filter((statement) => statement.Condition !== undefined)

    // Assess: the reader and the automation role; never the alias ARN as a Resource (E3510)
    const onTheAlias = {
      Effect: 'Allow',
      Resource: [`arn:aws:kms:${ENV.region}:${ENV.account}:key/*`],
      Condition: { 'ForAnyValue:StringEquals': { 'kms:ResourceAliases': ALIAS } },
    }
    expect(aliased).toHaveLength(2)
    expect(aliased).toEqual(
      expect.arrayContaining([
        {
          ...onTheAlias,
          Sid: 'SecureStringKey',
          Action: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'],
          in: idOf(built.aliasedWorkshop.automationRole),
        },
        { ...onTheAlias, Action: ['kms:Decrypt'], in: expect.stringMatching(/^SecretReader/) },
      ]),
    )
    expect(kmsStatements.flatMap((statement) => statement.Resource)).not.toContain(ALIAS_ARN)
  })
})

describe('ChaosExperiment', () => {
  it('writes ssm: actions with no * but the execution ids and the one runbook versions', () => {
    // Act
    const ssm = everyStatement(json).filter((statement) =>
      statement.Action.some((action) => action.startsWith('ssm:')),
    )

    // Assess
    const here = `arn:aws:ssm:${ENV.region}:${ENV.account}`
    for (const statement of ssm) {
      const wildcards = statement.Resource.filter((resource) => resource.includes('*'))
      if (statement.Action.includes('ssm:StartAutomationExecution'))
        expect(wildcards).toEqual([
          expect.stringMatching(
            new RegExp(`^${here}:automation-definition/\\{[A-Za-z0-9]+\\}:\\*$`),
          ),
          `${here}:automation-execution/*`,
        ])
      else if (statement.Action.includes('ssm:StopAutomationExecution'))
        expect([statement.Action, wildcards]).toEqual([
          ['ssm:GetAutomationExecution', 'ssm:StopAutomationExecution'],
          [`${here}:automation-execution/*`],
        ])
      else expect(wildcards).toEqual([])
    }
  })

  it('lets FIS start the runbook as AWSFaultInjectionSimulatorSSMAccess does: the document, its versions, the executions', () => {
    // Act
    const role = resourceOf(idOf(built.workshop.fisRole))
    const start = (role.Properties.Policies as { PolicyDocument: unknown }[])
      .flatMap((policy) => statements(policy.PolicyDocument))
      .filter((statement) => statement.Action.includes('ssm:StartAutomationExecution'))

    // Assess
    const here = `arn:aws:ssm:${ENV.region}:${ENV.account}`
    const runbook = `{${id(built.workshop.runbook)}}`
    expect(start).toEqual([
      {
        Sid: 'StartTheRunbook',
        Effect: 'Allow',
        Action: ['ssm:StartAutomationExecution'],
        Resource: [
          `${here}:document/${runbook}`,
          `${here}:automation-definition/${runbook}:*`,
          `${here}:automation-execution/*`,
        ],
      },
    ])
  })

  it('writes the runbook as YAML text when asked, the lease in the Advanced tier', () => {
    // Act
    const { Properties } = resourceOf(id(built.yamlRunbook.runbook))
    const text = (Properties.Content as { 'Fn::Join': [string, [string]] })['Fn::Join'][1][0]
    const runbook = YAML.parse(text) as {
      mainSteps: { name: string; action: string; inputs: { InputPayload?: object } }[]
    }

    // Assess
    expect(Properties.DocumentFormat).toBe('YAML')
    expect(runbook.mainSteps.map((step) => step.action)).toContain('aws:loop')
    expect(runbook.mainSteps[0]?.inputs.InputPayload).toMatchObject({ LeaseTier: 'Advanced' })
  })

  it('lets the automation role read and write the one parameter and its lease, nothing else', () => {
    // Act
    const role = resourceOf(idOf(built.workshop.automationRole))
    const granted = (role.Properties.Policies as { PolicyDocument: unknown }[]).flatMap((policy) =>
      statements(policy.PolicyDocument),
    )

    // Assess
    const parameter = `arn:aws:ssm:${ENV.region}:${ENV.account}:parameter/chaos/hello-world`
    expect(granted).toEqual([
      {
        Sid: 'ChaosParameterAndItsLease',
        Effect: 'Allow',
        Action: ['ssm:GetParameter', 'ssm:PutParameter', 'ssm:DeleteParameter'],
        Resource: [parameter, `${parameter}.lease`],
      },
    ])
    expect(evaluate(role.Properties.AssumeRolePolicyDocument)).toMatchObject({
      Statement: [
        {
          Principal: { Service: 'ssm.amazonaws.com' },
          Condition: {
            StringEquals: { 'aws:SourceAccount': ENV.account },
            ArnLike: {
              'aws:SourceArn': `arn:aws:ssm:${ENV.region}:${ENV.account}:automation-execution/*`,
            },
          },
        },
      ],
    })
  })

  it('lets FIS pass the automation role to SSM only', () => {
    // Act
    const passRole = everyStatement(json).filter((statement) =>
      statement.Action.includes('iam:PassRole'),
    )

    // Assess
    expect(passRole).toHaveLength(6)
    for (const statement of passRole) {
      expect(statement.Action).toEqual(['iam:PassRole'])
      expect(statement.Condition).toEqual({
        StringEquals: { 'iam:PassedToService': 'ssm.amazonaws.com' },
      })
      expect(statement.Resource).toEqual([
        expect.stringMatching(/^\{[A-Za-z0-9]+AutomationRole[A-Za-z0-9]+\.Arn\}$/),
      ])
    }
  })

  it('routes every step of the runbook but Restore to Restore, on failure and on cancel', () => {
    for (const experiment of [built.workshop, built.withAlarms, built.secretive]) {
      // Act
      const steps = runbookSteps(experiment)

      // Assess
      expect(steps.at(-1)).toMatchObject({ name: 'Restore', isEnd: true })
      for (const step of steps.slice(0, -1))
        expect(step).toMatchObject({ onFailure: 'step:Restore', onCancel: 'step:Restore' })
    }
    template.hasResourceProperties('AWS::SSM::Document', {
      DocumentType: 'Automation',
      DocumentFormat: 'JSON',
      Content: Match.objectLike({ schemaVersion: '0.3', assumeRole: '{{ AutomationAssumeRole }}' }),
    })
  })

  it('gives the runbook the key of a SecureString parameter, so it writes the value and the lease with it', () => {
    // Act
    const keyOf = (experiment: ChaosExperiment) =>
      (
        resourceOf(id(experiment.runbook)).Properties.Content as {
          parameters: { KmsKeyId: { default: unknown } }
        }
      ).parameters.KmsKeyId.default

    // Assess
    expect(keyOf(built.secretive)).toEqual({ 'Fn::GetAtt': [idOf(built.key), 'Arn'] })
    expect(keyOf(built.workshop)).toBe('')
  })

  it('stops on the alarms named in the file, given to the construct, or none', () => {
    // Act
    const stopConditions = (experiment: ChaosExperiment) =>
      evaluate(resourceOf(id(experiment.template)).Properties.StopConditions, {
        resources: { [idOf(built.errors)]: 'Errors' },
      })

    // Assess
    expect(stopConditions(built.workshop)).toEqual([{ Source: 'none' }])
    expect(stopConditions(built.withAlarms)).toEqual([
      {
        Source: 'aws:cloudwatch:alarm',
        Value: `arn:aws:cloudwatch:${ENV.region}:${ENV.account}:alarm:HelloWorldApi5XX`,
      },
    ])
    expect(stopConditions(built.secretive)).toEqual([
      { Source: 'aws:cloudwatch:alarm', Value: '{Errors.Arn}' },
      {
        Source: 'aws:cloudwatch:alarm',
        Value: `arn:aws:cloudwatch:${ENV.region}:${ENV.account}:alarm:Throttles`,
      },
      {
        Source: 'aws:cloudwatch:alarm',
        Value: `arn:aws:cloudwatch:${ENV.region}:${ENV.account}:alarm:P99`,
      },
    ])
  })

  it('leaves the probe stop conditions out, with a warning', () => {
    // Assess
    Annotations.fromStack(stack).hasWarning(
      '/Chaos/WithAlarms',
      Match.stringLikeRegexp('probe stop conditions are left out \\(errors>20%\\)'),
    )
  })

  it('logs the experiment to its own log group, schema v2, with a retention', () => {
    // Act
    const properties = resourceOf(id(built.secretive.template)).Properties

    // Assess
    expect(properties?.LogConfiguration).toEqual({
      CloudWatchLogsConfiguration: {
        LogGroupArn: { 'Fn::GetAtt': [idOf(built.secretive.logGroup), 'Arn'] },
      },
      LogSchemaVersion: 2,
    })
    expect(resourceOf(idOf(built.secretive.logGroup)).Properties).toEqual({ RetentionInDays: 7 })
    expect(resourceOf(idOf(built.workshop.logGroup)).Properties).toEqual({ RetentionInDays: 30 })
  })

  it('gives the runbook the lease TTL asked for', () => {
    // Act
    const run = evaluate(resourceOf(id(built.secretive.template)).Properties.Actions) as Record<
      string,
      { Parameters: Record<string, string> }
    >

    // Assess
    expect(JSON.parse(run.RunExperiment?.Parameters.documentParameters ?? '{}')).toEqual({
      AutomationAssumeRole: `{${idOf(built.secretive.automationRole)}.Arn}`,
      ParameterName: '/chaos/secret',
      LeaseTtlSeconds: '90',
    })
  })
})

describe('ChaosExperiment warnings, as the CLI export notes them', () => {
  /** One experiment per stack, whose warnings are read with Annotations.fromStack. */
  const warningsOf = (source: ConstructorParameters<typeof ChaosExperiment>[2]['experiment']) => {
    const app = newApp()
    const stack = new Stack(app, 'Warned', { env: ENV })
    const parameter = new ChaosConfigParameter(stack, 'Config', { parameterName: '/chaos/warned' })
    new ChaosExperiment(stack, 'Experiment', { parameter, experiment: source })
    return Annotations.fromStack(stack)
      .findWarning('*', Match.anyValue())
      .map((warning) => String(warning.entry.data))
  }

  it('says that the expectations are left out: FIS does not judge them', () => {
    // Act: the example whose hypothesis holds, with 5 expectations on its hold and 3 over all steps
    const warnings = warningsOf(join(repoRoot, 'examples/hello-world/experiments/latency-slo.json'))

    // Assess
    expect(warnings).toEqual([
      expect.stringMatching(
        /^expectations are left out \(7\): FIS does not judge them; middy-chaos experiment run --probe does/,
      ),
    ])
  })

  it('says that holds shorter than a minute are FIS waits of PT1M, and how long the FIS experiment lasts then', async () => {
    // Prepare: the workshop with its waits of 1 m shortened to 4 s, as for a first try
    const shortened = adjustWaits(await loadExperiment(workshopFile), { waitMs: 4000 })

    // Act
    const warnings = warningsOf(shortened)

    // Assess
    expect(warnings).toEqual([
      expect.stringMatching(
        /^FIS waits are whole minutes, at least PT1M: the holds of S02_Wait1 \(4 s, PT1M\), S04_Wait2 \(4 s, PT1M\), S06_Wait3 \(4 s, PT1M\) .* lasts at least 3 min while its automation holds 12 s/,
      ),
    ])
  })

  it('says nothing of an experiment FIS keeps whole: the workshop as written', () => {
    // Act / Assess
    expect(warningsOf(workshopFile)).toEqual([])
  })
})

describe('cfn-lint', () => {
  it('finds nothing in the synthesized template', async () => {
    // Act
    const assembly = app.synth()
    const result = await lint(join(assembly.directory, stack.templateFile), CDK_LINT_IGNORES)

    // Assess
    expect(result.output).toBe('')
    expect(result.code).toBe(0)
  })
})

describe('the CDK synth and the CloudFormation export of one experiment file', () => {
  /** `kms`: the export's `--kms-key`, and the values of the CDK template's `Fn::GetAtt` it stands for. */
  const compare = async (
    experiment: ChaosExperiment,
    file: string,
    parameter: IChaosConfigParameter,
    kms: { kmsKeyId: string; attributes?: Record<string, string> } | undefined = undefined,
    options: CloudFormationOptions = {},
  ) => {
    // Prepare: the export as `middy-chaos experiment export <file> --to cloudformation` makes it
    const exported = buildCloudFormation(toFisExperiment(await loadExperiment(file)).fis, {
      parameterName: parameter.parameterName,
      ...(kms === undefined ? {} : { kmsKeyId: kms.kmsKeyId }),
      ...options,
    }) as unknown as CfnTemplate
    const fromCdk: Names = {
      resources: exportNames(experiment),
      ...(kms?.attributes === undefined ? {} : { attributes: kms.attributes }),
    }
    const fromExport: Names = { parameters: { ParameterName: parameter.parameterName } }
    const cdk = (logicalId: string) => resourceOf(logicalId)
    const cfn = (logicalId: string) => exported.Resources[logicalId]

    // Assess: the runbook
    const runbook = cdk(id(experiment.runbook))
    expect(evaluate(runbook.Properties, fromCdk)).toEqual(
      evaluate(cfn(LOGICAL_IDS.runbook)?.Properties, fromExport),
    )
    // the FIS template: actions, stop conditions, log configuration, options, role, tags
    expect(evaluate(cdk(id(experiment.template)).Properties, fromCdk)).toEqual(
      evaluate(cfn(LOGICAL_IDS.experimentTemplate)?.Properties, fromExport),
    )
    // the roles: trust and statements
    for (const [role, logicalId] of [
      [experiment.automationRole, LOGICAL_IDS.automationRole],
      [experiment.fisRole, LOGICAL_IDS.fisRole],
    ] as const) {
      const mine = cdk(idOf(role)).Properties ?? {}
      const theirs = cfn(logicalId)?.Properties ?? {}
      expect(statements(mine.AssumeRolePolicyDocument, fromCdk)).toEqual(
        statements(theirs.AssumeRolePolicyDocument, fromExport),
      )
      const policies = (properties: Record<string, unknown>, names: Names) =>
        (properties.Policies as { PolicyName: string; PolicyDocument: unknown }[]).map(
          (policy) => ({
            name: policy.PolicyName,
            statements: statements(policy.PolicyDocument, names),
          }),
        )
      expect(policies(mine, fromCdk)).toEqual(policies(theirs, fromExport))
    }
    // the log group
    expect(cdk(idOf(experiment.logGroup)).Properties).toEqual(cfn(LOGICAL_IDS.logGroup)?.Properties)
  }

  it('give the same runbook, FIS template, roles and log for the workshop experiment', async () => {
    await compare(built.workshop, workshopFile, built.config)
  })

  it('give the same resources for an experiment with alarms, a long wait and a probe', async () => {
    await compare(built.withAlarms, fixture('latency-until-alarm.json'), built.elsewhere)
  })

  it('give the same resources with the runbook as YAML and the lease in the Advanced tier', async () => {
    await compare(
      built.yamlRunbook,
      fixture('latency-until-alarm.json'),
      built.elsewhere,
      undefined,
      { format: 'YAML', leaseTier: 'Advanced' },
    )
  })

  // The CDK names the key by a token (Fn::GetAtt of the key, a Fn::Join for an alias ARN), the
  // export by the ARN written out: compared once both are evaluated, the key's ARN given for its token.
  it('give the same resources for a SecureString with a key of ours, the export given its ARN', async () => {
    const keyArn = `arn:aws:kms:${ENV.region}:${ENV.account}:key/1234abcd-12ab-34cd-56ef-1234567890ab`
    await compare(built.secretWorkshop, workshopFile, built.secret, {
      kmsKeyId: keyArn,
      attributes: { [`${idOf(built.key)}.Arn`]: keyArn },
    })
  })

  it('give the same resources for a SecureString with a key named by its alias, the export given the alias ARN', async () => {
    await compare(built.aliasedWorkshop, workshopFile, built.aliased, { kmsKeyId: ALIAS_ARN })
  })
})
