/**
 * What the constructs take and what they refuse, before anything is
 * synthesized: the three forms of an experiment, parameter names, values
 * with faults on, the lease TTL, and one CHAOS_PARAM per function.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { loadExperiment, parseExperiment } from '@middy-chaos/cli'
import { Duration, Lazy, Stack, Stage } from 'aws-cdk-lib'
import * as lambda from 'aws-cdk-lib/aws-lambda'
import { afterAll, describe, expect, it } from 'vitest'
import { ChaosConfigParameter, ChaosExperiment } from '../src/index.js'
import { ENV, fixture, newApp, removeApps, workshopFile } from './helpers.js'

const stack = () => new Stack(newApp(), 'Inputs', { env: ENV })
afterAll(removeApps)
const fn = (scope: Stack) =>
  new lambda.Function(scope, 'Fn', {
    runtime: lambda.Runtime.NODEJS_24_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({})'),
  })

describe('ChaosExperiment inputs', () => {
  it('reads the same experiment from a file path, a parsed experiment and typed steps', async () => {
    // Prepare
    const scope = stack()
    const parameter = ChaosConfigParameter.fromParameterName(scope, 'P', '/chaos/hello-world')

    // Act
    const fromFile = new ChaosExperiment(scope, 'File', { parameter, experiment: workshopFile })
    const fromParsed = new ChaosExperiment(scope, 'Parsed', {
      parameter,
      experiment: await loadExperiment(workshopFile),
    })
    const fromSteps = new ChaosExperiment(scope, 'Steps', {
      parameter,
      experiment: fromFile.experiment,
    })

    // Assess
    expect(fromParsed.experiment).toEqual(fromFile.experiment)
    expect(fromSteps.experiment).toBe(fromFile.experiment)
    expect(fromFile.experiment.steps[0]).toMatchObject({
      name: 'S01_EnableLatency',
      turnsFaultsOn: true,
    })
    expect(fromFile.experiment.steps[6]).toMatchObject({
      name: 'S07_DisableFaults',
      turnsFaultsOn: false,
    })
  })

  it('keeps the alarms of the file as stop conditions', () => {
    // Prepare
    const scope = stack()
    const parameter = ChaosConfigParameter.fromParameterName(scope, 'P', '/chaos/hello-world')

    // Act
    const experiment = new ChaosExperiment(scope, 'E', {
      parameter,
      experiment: parseExperiment({
        name: 'x',
        stopConditions: [{ alarm: 'A' }],
        steps: [{ name: 'off', set: { is_enabled: false } }],
      }),
      stopAlarms: ['A', 'B'],
    })

    // Assess: one stop condition per alarm, however often it is named
    expect(experiment.stopAlarmArns.map((arn) => scope.resolve(arn))).toHaveLength(2)
  })

  it('names the file it cannot read', () => {
    // Prepare
    const scope = stack()
    const parameter = ChaosConfigParameter.fromParameterName(scope, 'P', '/chaos/hello-world')

    // Act
    const create = () =>
      new ChaosExperiment(scope, 'E', { parameter, experiment: fixture('missing.json') })

    // Assess
    expect(create).toThrow(/experiment file .*missing\.json: ENOENT/)
  })

  it('refuses an experiment file the CLI would refuse, naming the field', () => {
    // Prepare
    const scope = stack()
    const parameter = ChaosConfigParameter.fromParameterName(scope, 'P', '/chaos/hello-world')
    // In the App's own folder: removed with it.
    const file = join(Stage.of(scope)?.outdir ?? '', 'bad.json')
    writeFileSync(file, JSON.stringify({ name: 'x', steps: [{ name: 'slow', wait: 'a while' }] }))

    // Act
    const create = () => new ChaosExperiment(scope, 'E', { parameter, experiment: file })

    // Assess
    expect(create).toThrow(
      /invalid experiment .*bad\.json: steps\[0\]\.wait: "a while" is not a duration/,
    )
  })

  it('refuses a lease TTL AWS cannot keep', () => {
    // Prepare
    const scope = stack()
    const parameter = ChaosConfigParameter.fromParameterName(scope, 'P', '/chaos/hello-world')

    // Act
    const create = () =>
      new ChaosExperiment(scope, 'E', {
        parameter,
        experiment: workshopFile,
        leaseTtl: Duration.seconds(10),
      })

    // Assess
    expect(create).toThrow(
      /lease TTL: 10 s; on AWS it must be a whole number of seconds from 30 to 3600/,
    )
  })

  it('refuses a parameter name too long for the runbook parameters FIS passes', () => {
    // Prepare
    const scope = stack()
    const parameter = ChaosConfigParameter.fromParameterName(
      scope,
      'P',
      `/chaos/${'x'.repeat(600)}`,
    )

    // Act
    const create = () => new ChaosExperiment(scope, 'E', { parameter, experiment: workshopFile })

    // Assess
    expect(create).toThrow(/parameter name of 607 characters; FIS takes at most 1024/)
  })

  it('refuses a 2 KB config the lease cannot keep in the Standard tier, and takes it in the Advanced tier', () => {
    // Prepare
    const scope = stack()
    const parameter = ChaosConfigParameter.fromParameterName(scope, 'P', '/chaos/hello-world')
    const experiment = parseExperiment({
      name: 'big',
      steps: [
        {
          name: 'exception',
          set: {
            is_enabled: true,
            fault_type: 'exception',
            exception_msg: 'x'.repeat(2000),
            rate: 1,
          },
          wait: '1m',
        },
      ],
    })

    // Act
    const standard = () => new ChaosExperiment(scope, 'Standard', { parameter, experiment })
    const advanced = new ChaosExperiment(scope, 'Advanced', {
      parameter,
      experiment,
      leaseTier: 'Advanced',
    })

    // Assess
    expect(standard).toThrow(
      /steps\[0\] \(S01_exception\) writes a config of 20\d\d bytes; .* in one Standard-tier SSM parameter: 4\d\d\d bytes, over its 4096\. Shorten the config, or write the lease in the Advanced tier \(8,192 bytes; AWS charges .*leaseTier: "Advanced"/,
    )
    const content = Stack.of(advanced).resolve(advanced.runbook.content) as {
      mainSteps: { inputs: { InputPayload: Record<string, string> } }[]
    }
    expect(content.mainSteps[0]?.inputs.InputPayload.LeaseTier).toBe('Advanced')
  })

  it('sizes the lease with the value this stack creates the parameter with', () => {
    // Prepare: a value before of about 3.7 KB, with faults off; the workshop's small values
    const scope = stack()
    const parameter = new ChaosConfigParameter(scope, 'P', {
      parameterName: '/chaos/hello-world',
      initialValue: { is_enabled: false, fault_type: 'exception', exception_msg: 'x'.repeat(3700) },
    })

    // Act
    const create = () => new ChaosExperiment(scope, 'E', { parameter, experiment: workshopFile })

    // Assess
    expect(create).toThrow(/the value before the experiment \(taken as 37\d\d bytes\)/)
  })
})

describe('ChaosConfigParameter inputs', () => {
  it('refuses a name that is a token: the policies are written from it', () => {
    // Act
    const create = () =>
      new ChaosConfigParameter(stack(), 'P', {
        parameterName: Lazy.string({ produce: () => '/chaos/x' }),
      })

    // Assess
    expect(create).toThrow(/give the literal name/)
  })

  it('refuses a name SSM would refuse', () => {
    for (const parameterName of ['/chaos//x', 'chaos x', '/aws/chaos', 'ssm-chaos']) {
      expect(() => new ChaosConfigParameter(stack(), 'P', { parameterName })).toThrow(
        /SSM parameter names/,
      )
    }
  })

  it('refuses to be created with a fault on', () => {
    // Act
    const create = () =>
      new ChaosConfigParameter(stack(), 'P', {
        parameterName: '/chaos/x',
        initialValue: { is_enabled: true, fault_type: 'latency', delay: 400 },
      })

    // Assess
    expect(create).toThrow(/initialValue must be a chaos config with faults off/)
  })

  it('takes another value with faults off, as text or an object', () => {
    // Act
    const parameter = new ChaosConfigParameter(stack(), 'P', {
      parameterName: 'chaos-x',
      initialValue: { is_enabled: false },
    })

    // Assess
    expect(parameter.initialValue).toBe('{"is_enabled":false}')
    expect(parameter.leaseName).toBe('chaos-x.lease')
  })

  it('refuses a second chaos parameter in the same variable of one function', () => {
    // Prepare
    const scope = stack()
    const reader = fn(scope)
    const first = new ChaosConfigParameter(scope, 'A', { parameterName: '/chaos/a' })
    const second = new ChaosConfigParameter(scope, 'B', { parameterName: '/chaos/b' })
    first.grantRead(reader)

    // Act
    const again = () => first.grantRead(reader)
    const clash = () => second.grantRead(reader)
    const elsewhere = () => second.grantRead(reader, 'CHAOS_PARAM_B')

    // Assess
    expect(again).not.toThrow()
    expect(clash).toThrow(/CHAOS_PARAM already names \/chaos\/a/)
    expect(elsewhere).not.toThrow()
  })
})
