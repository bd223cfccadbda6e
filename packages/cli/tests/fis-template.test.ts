/**
 * `experiment run --fis-template`: an AWS FIS experiment template and its SSM
 * Automation documents played locally, against the file store and moto's SSM.
 *
 * - the AWS FIS workshop's own template and document (`FisWorkshopLambdaFailure`,
 *   `FisWorkshopPutParameterShim`): the values written in order; no rollback,
 *   so a stop mid-way leaves the fault on, as on FIS;
 * - the runbook and template `@middy-chaos/fis` generates (what `middy-chaos
 *   experiment export` writes): values in order with the stamp and its
 *   renewal, the lease while it runs, a second run refused, the exact value
 *   back on completion, on `maxDuration`, on a stop-condition alarm and on
 *   SIGINT;
 * - the Automation interpreter: outputs, `nextStep`, `onFailure`, `onCancel`,
 *   `isEnd`; `startAfter` ordering;
 * - what the player cannot play is refused by name before anything runs, an
 *   edited runbook script among it (the player plays only the script
 *   `@middy-chaos/fis` generates, by its TypeScript equivalent).
 */
import { existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { createServer } from 'node:http'
import { join } from 'node:path'
import {
  CloudWatchClient,
  PutMetricAlarmCommand,
  SetAlarmStateCommand,
} from '@aws-sdk/client-cloudwatch'
import { DeleteParameterCommand, GetParameterCommand } from '@aws-sdk/client-ssm'
import { EXPIRY_GRACE_SECONDS } from '@middy-chaos/fis'
import {
  type FisEvent,
  LEASE_SUFFIX,
  loadAutomationDocument,
  loadFisTemplate,
  type parseLease,
  planFisExperiment,
  playFisExperiment,
} from '@middy-chaos/fis/local'
import { beforeAll, describe, expect, it, vi } from 'vitest'
import { stampWindows } from '../../../test/helpers/stamps.js'
import {
  action,
  BEFORE,
  DOCUMENT_NAME,
  dir,
  distinct,
  generated,
  type Json,
  LATENCY,
  moto,
  nextCount,
  OFF,
  planOf,
  RUNBOOK_VALUES,
  type Runbook,
  readLease,
  runArgs,
  runbookPlan,
  ssm,
  ssmHistory,
  ssmParameter,
  step,
  stores,
  WORKSHOP_BEFORE,
  WORKSHOP_DOCUMENT,
  WORKSHOP_TEMPLATE,
  withoutStamp,
} from '../../fis/tests/player-setup.js'
import { SsmStore } from '../src/stores/index.js'
import { assertCliBuilt, exportForPlayer, repoRoot, runMain, startCli } from './helpers.js'

describe('the AWS FIS workshop template and document, played against moto SSM', () => {
  it('writes latency (S01), status code (S03), exception (S05), then faults off (S07), in that order', async () => {
    // Prepare
    const name = await ssmParameter(WORKSHOP_BEFORE)

    // Act
    const { code, stdout } = await runMain([
      'experiment',
      'run',
      '--fis-template',
      WORKSHOP_TEMPLATE,
      '--document',
      WORKSHOP_DOCUMENT,
      '--time-scale',
      '0.005',
      '--store',
      'ssm',
      '--param',
      name,
      '--endpoint',
      moto,
    ])

    // Assess
    expect(code).toBe(0)
    const history = await ssmHistory(name)
    const configs = history.map((entry) => JSON.parse(entry.value) as Record<string, unknown>)
    expect(configs.map((c) => [c.is_enabled, c.fault_type])).toEqual([
      [false, 'latency'],
      [true, 'latency'],
      [true, 'status_code'],
      [true, 'exception'],
      [false, 'latency'],
    ])
    // The workshop's values, as its documentParameters write them (line breaks kept), never stamped.
    expect(history[1]?.value).toMatch(/^\{\n {4}"is_enabled":true,\n/)
    expect(configs.every((c) => c.expiresAt === undefined)).toBe(true)
    expect(stdout).toContain(
      `FIS experiment FisWorkshopLambdaFailure: 7 actions, documents FisWorkshopPutParameterShim, on ssm:${name} (the documents' FisWorkshopLambdaFault)`,
    )
    expect(stdout.match(/^✔ .*completed/gm)).toHaveLength(7)
    expect(stdout).toMatch(
      /^▶ \[[\d:.]+\] S02_Wait1\s+running\s+aws:fis:wait PT1M \(played 300 ms\)$/m,
    )
    // It ends "off" but not with the value it found: the workshop has no rollback.
    expect(stdout).toContain('the same config as before the experiment, written differently')
  })

  it('has no rollback: stopped during S02_Wait1, the latency fault stays on, as FIS leaves it', async () => {
    // Prepare
    const name = await ssmParameter(WORKSHOP_BEFORE)
    const plan = planFisExperiment(await loadFisTemplate(WORKSHOP_TEMPLATE), [
      await loadAutomationDocument(WORKSHOP_DOCUMENT),
    ])
    const store = new SsmStore(name, { endpoint: moto, region: 'us-east-1' })
    const stop = new AbortController()

    // Act
    const result = await playFisExperiment(plan, {
      store,
      signal: stop.signal,
      timing: { timeScale: 1 },
      onEvent: (event) => {
        if (
          event.type === 'action' &&
          event.action.name === 'S02_Wait1' &&
          event.state === 'running'
        )
          stop.abort('SIGINT')
      },
    })

    // Assess
    expect(result.outcome).toBe('interrupted')
    expect(result.actions).toEqual({
      S01_EnableLatency: 'completed',
      S02_Wait1: 'stopped',
      S03_EnableStatusCode: 'pending',
      S04_Wait2: 'pending',
      S05_EnableException: 'pending',
      S06_Wait3: 'pending',
      S07_DisableFaults: 'pending',
    })
    const { Parameter } = await ssm.send(new GetParameterCommand({ Name: name }))
    expect(JSON.parse(Parameter?.Value ?? '')).toMatchObject({
      is_enabled: true,
      fault_type: 'latency',
    })
    expect(Parameter?.Version).toBe(2)
  })
})

describe.each(['file', 'ssm'] as const)('the generated runbook, played on the %s store', (kind) => {
  it('writes each step stamped with expiresAt in order, holds the lease while it runs, and restores the exact value', async () => {
    // Prepare
    const { store, args, history } = await stores[kind]()
    let lease: ReturnType<typeof parseLease>
    let status = ''
    const seen: Promise<void>[] = []

    // Act
    const result = await playFisExperiment(await runbookPlan(), {
      store,
      timing: { waitMs: 500 },
      executionId: () => 'exec-0001',
      onEvent: (event) => {
        if (
          event.type === 'automation' &&
          event.event.type === 'write' &&
          event.event.step.name === 'S01_latency' &&
          seen.length === 0
        )
          seen.push(
            (async () => {
              lease = await readLease(store)
              status = (await runMain(['status', ...args])).stdout
            })(),
          )
      },
    })
    await Promise.all(seen)

    // Assess: the lease during the run, as status shows it
    expect(lease).toMatchObject({
      id: 'exec-0001',
      experiment: 'workshop-runbook',
      original: { value: BEFORE, version: 1 },
      inForce: LATENCY,
    })
    expect(status).toMatch(/lease\s+held by experiment workshop-runbook \(host /)
    // Values in order, the fault values stamped until their 500-ms hold's end plus the grace
    // (10 s, sooner than the 60-s lease TTL), then exactly BEFORE
    expect(result.outcome).toBe('completed')
    const entries = await history()
    expect(distinct(entries.map((entry) => withoutStamp(entry.value)))).toEqual(RUNBOOK_VALUES)
    const faulty = entries.filter((entry) => JSON.parse(entry.value).is_enabled === true)
    // Each hold's stamp made at its start, by the store's own version times: after the writes
    // of the step before, no later than its first write (SSM's times are rounded to the ms)
    const windows = stampWindows(entries, 500 + EXPIRY_GRACE_SECONDS * 1000)
    expect(windows.map(({ version }) => version)).toEqual(faulty)
    for (const { stampedAt, after, written } of windows) {
      expect(stampedAt).toBeGreaterThanOrEqual(after - 1)
      expect(stampedAt).toBeLessThanOrEqual(written + 1)
    }
    expect(entries.at(-1)?.value).toBe(BEFORE)
    expect(await readLease(store)).toBeUndefined()
    expect(result.final?.value).toBe(BEFORE)
  })

  it('refuses a second run while the first holds the lease: exit 5, the first run untouched', async () => {
    // Prepare
    const { store, args, history } = await stores[kind]()
    const files = await generated()
    let second: Promise<{ code: number; stdout: string; stderr: string }> | undefined
    const first = playFisExperiment(await planOf(files), {
      store,
      timing: { waitMs: 700 },
      onEvent: (event) => {
        if (event.type === 'automation' && event.event.type === 'write' && second === undefined)
          // Act: while the first run holds its first step
          second = runMain([...runArgs(files), '--wait', '1s', ...args])
      },
    })
    const firstResult = await first
    const secondResult = await (second as NonNullable<typeof second>)

    // Assess
    expect(secondResult.code).toBe(5)
    expect(secondResult.stderr).toMatch(
      /^middy-chaos: .* is held by experiment workshop-runbook \(host .*\): one experiment per parameter; nothing was changed$/m,
    )
    expect(secondResult.stdout).toMatch(/✖ .*RunExperiment › AcquireLease {2}Failed/)
    expect(secondResult.stdout).toMatch(/■ .*S01_latency\s+stopped/)
    expect(firstResult.outcome).toBe('completed')
    expect(distinct((await history()).map((entry) => withoutStamp(entry.value)))).toEqual(
      RUNBOOK_VALUES,
    )
    expect(await readLease(store)).toBeUndefined()
  })

  it("restores when FIS's maxDuration cancels the automation mid-way: onCancel goes to Restore", async () => {
    // Prepare: holds of 1 min each, maxDuration 1m30s: cancelled during the second (played:
    // holds of 600 ms, maxDuration 1 s)
    const { store, history } = await stores[kind]()
    const files = await generated({
      template: (template) => {
        action(template, 'RunExperiment').parameters.maxDuration = 'PT90S'
      },
    })
    const events: FisEvent[] = []

    // Act
    const result = await playFisExperiment(await planOf(files), {
      store,
      timing: { timeScale: 0.01 },
      onEvent: (event) => events.push(event),
    })

    // Assess: the action completes, as on FIS; the automation was cancelled and restored
    expect(result.outcome).toBe('completed')
    expect(result.actions.RunExperiment).toBe('completed')
    const steps = events.flatMap((event) =>
      event.type === 'automation' && event.event.type === 'step' && event.event.state !== 'running'
        ? [`${event.event.step.name} ${event.event.state}`]
        : [],
    )
    expect(steps).toEqual([
      'AcquireLease Success',
      'S01_latency Success',
      'S02_hold_on Cancelled',
      'Restore Success',
    ])
    expect((await history()).at(-1)?.value).toBe(BEFORE)
    expect(await readLease(store)).toBeUndefined()
  })

  it('deletes the parameter at the end when it did not exist before', async () => {
    // Prepare
    const { store } = await stores[kind]({ empty: true })

    // Act
    const result = await playFisExperiment(await runbookPlan(), { store, timing: { waitMs: 100 } })

    // Assess
    expect(result.outcome).toBe('completed')
    expect(result.initial).toBeUndefined()
    expect(await store.read()).toBeUndefined()
    expect(await readLease(store)).toBeUndefined()
  })
})

describe('an experiment file, exported by experiment export and played back', () => {
  it("the workshop's experiment file, exported as a runbook and an FIS template, writes its values in order, stamped, then restores the exact value (moto SSM)", async () => {
    // Prepare
    const workshop = join(repoRoot, 'examples/hello-world/experiments/workshop.json')
    const files = join(dir, `exported-${nextCount()}`)
    await mkdir(files)
    const exported = await exportForPlayer(workshop, files, DOCUMENT_NAME, '/chaos/hello-world')
    const name = await ssmParameter(WORKSHOP_BEFORE)

    // Act
    const { code, stdout } = await runMain([
      ...runArgs(exported),
      '--wait',
      '300ms',
      '--store',
      'ssm',
      '--param',
      name,
      '--endpoint',
      moto,
    ])

    // Assess
    expect(code).toBe(0)
    expect(stdout).toContain(`on ssm:${name} (the documents' /chaos/hello-world)`)
    const history = await ssmHistory(name)
    const configs = distinct(history.map((entry) => withoutStamp(entry.value)))
    expect(configs.map((c) => [c.is_enabled, c.fault_type])).toEqual([
      [false, 'latency'],
      [true, 'latency'],
      [true, 'status_code'],
      [true, 'exception'],
      [false, 'exception'],
      [false, 'latency'],
    ])
    for (const entry of history) {
      const { is_enabled, expiresAt } = JSON.parse(entry.value) as Record<string, unknown>
      if (is_enabled === true) expect(Date.parse(String(expiresAt))).toBeGreaterThan(Date.now())
      else expect(expiresAt).toBeUndefined()
    }
    expect(history.at(-1)?.value).toBe(WORKSHOP_BEFORE)
    expect(stdout).toContain(', as before the experiment.')
  })
})

describe('a long wait, held by a loop', () => {
  it('plays the aws:loop of 540-s holds: the value in force renewed each iteration, then restored', async () => {
    // Prepare: 25 minutes of latency = a hold of 500 s, then a loop of two more
    const { store, args, history } = await stores.file()
    const files = await generated(
      {},
      { name: 'long-wait', steps: [step('latency', LATENCY, 25 * 60_000), step('off', OFF)] },
    )

    // Act: every hold played as 400 ms
    const { code, stdout } = await runMain([...runArgs(files), '--wait', '400ms', ...args])

    // Assess
    expect(code).toBe(0)
    expect(stdout).toMatch(/S01_latency_more_1/)
    expect(stdout).toMatch(/S01_latency_more_2/)
    const entries = await history()
    const labels = entries.map((entry) => entry.label ?? '')
    expect(labels.some((label) => label.endsWith('S01_latency_more_2'))).toBe(true)
    for (const entry of entries.filter((e) => (e.label ?? '').includes('S01_latency_more')))
      expect(withoutStamp(entry.value)).toEqual(JSON.parse(LATENCY))
    expect(entries.at(-1)?.value).toBe(BEFORE)
    expect(await store.readCompanion(LEASE_SUFFIX)).toBeUndefined()
  })
})

describe('a YAML runbook', () => {
  it('is played as the JSON one: its loop of holds, the values in order, then the exact value back', async () => {
    // Prepare: 10 minutes of latency (a hold, then a loop), written as YAML
    const { store, args, history } = await stores.file()
    const files = await generated(
      {},
      { name: 'yaml-runbook', steps: [step('latency', LATENCY, 10 * 60_000), step('off', OFF)] },
      'YAML',
    )

    // Act
    const { code, stdout } = await runMain([...runArgs(files), '--wait', '200ms', ...args])

    // Assess
    expect(files.document).toMatch(/\.yaml$/)
    expect(code).toBe(0)
    expect(stdout).toMatch(/S01_latency_more_1/)
    const values = distinct((await history()).map((entry) => withoutStamp(entry.value)))
    expect(values).toEqual([BEFORE, LATENCY, OFF, BEFORE].map((v) => JSON.parse(v)))
    expect(await store.readCompanion(LEASE_SUFFIX)).toBeUndefined()
  })
})

describe('a stop-condition alarm in the template', () => {
  it('stops the experiment when the alarm goes to ALARM: exit 4, the value restored', async () => {
    // Prepare
    vi.stubEnv('AWS_ENDPOINT_URL_CLOUDWATCH', moto)
    const cloudwatch = new CloudWatchClient({ endpoint: moto, region: 'us-east-1' })
    const alarm = `fis-player-${Date.now()}`
    await cloudwatch.send(
      new PutMetricAlarmCommand({
        AlarmName: alarm,
        MetricName: 'Errors',
        Namespace: 'AWS/Lambda',
        Statistic: 'Sum',
        Period: 60,
        EvaluationPeriods: 1,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      }),
    )
    const { store, args } = await stores.file()
    const files = await generated({
      template: (template) => {
        template.stopConditions = [
          {
            source: 'aws:cloudwatch:alarm',
            value: `arn:aws:cloudwatch:us-east-1:123456789012:alarm:${alarm}`,
          },
        ]
      },
    })

    try {
      // Act
      const running = runMain([
        ...runArgs(files),
        '--wait',
        '5s',
        '--alarm-interval',
        '100ms',
        ...args,
      ])
      while ((await store.read())?.version === 1) await new Promise((r) => setTimeout(r, 20))
      await cloudwatch.send(
        new SetAlarmStateCommand({ AlarmName: alarm, StateValue: 'ALARM', StateReason: 'test' }),
      )
      const { code, stdout, stderr } = await running

      // Assess
      expect(code).toBe(4)
      expect(stdout).toContain(`STOPPING (alarm ${alarm} is in ALARM)`)
      expect(stderr).toContain(`middy-chaos: stopped by alarm ${alarm} is in ALARM`)
      expect((await store.read())?.value).toBe(BEFORE)
      expect(await readLease(store)).toBeUndefined()
    } finally {
      cloudwatch.destroy()
      vi.unstubAllEnvs()
    }
  })
})

describe('--probe', () => {
  it('probes while the workshop plays and sums the answers up per step', async () => {
    // Prepare
    const server = createServer((_, response) => response.end('Hello from Lambda!'))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as { port: number }
    const { args } = await stores.file()

    try {
      // Act
      const { code, stdout } = await runMain([
        ...runArgs({ template: WORKSHOP_TEMPLATE, document: WORKSHOP_DOCUMENT }),
        '--time-scale',
        '0.005',
        '--probe',
        `http://127.0.0.1:${port}/`,
        '--interval',
        '50ms',
        ...args,
      ])

      // Assess
      expect(code).toBe(0)
      expect(stdout).toMatch(/^Hello from Lambda! - 200 - \d+\.\d{6}$/m)
      expect(stdout).toContain('Probe summary per step')
      expect(stdout).toMatch(/^S02_Wait1\s+latency 400ms\s+\d+\s+200×\d+/m)
    } finally {
      server.close()
    }
  })

  it('refuses to play when the URL does not answer: exit 2, nothing written', async () => {
    // Prepare: a port nothing listens on
    const server = createServer()
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as { port: number }
    await new Promise((resolve) => server.close(resolve))
    const param = join(dir, `unanswered-${nextCount()}.json`)

    // Act
    const { code, stdout, stderr } = await runMain([
      ...runArgs({ template: WORKSHOP_TEMPLATE, document: WORKSHOP_DOCUMENT }),
      '--probe',
      `http://127.0.0.1:${port}/`,
      '--store',
      'file',
      '--param',
      param,
    ])

    // Assess
    expect(code).toBe(2)
    expect(stdout).toBe('')
    expect(stderr).toMatch(/^middy-chaos: --probe http:\/\/127\.0\.0\.1:\d+\/ does not answer /)
    expect(existsSync(param)).toBe(false)
  })
})

describe('what the player cannot play is refused by name, before anything runs', () => {
  const refused = async (
    edit: { template?: (template: Json) => void; runbook?: (runbook: Runbook) => void },
    pattern: RegExp,
  ) => {
    const files = await generated(edit)
    const param = join(dir, `refused-${nextCount()}.json`)
    const { code, stderr } = await runMain([...runArgs(files), '--store', 'file', '--param', param])
    expect(code).toBe(2)
    expect(stderr).toMatch(pattern)
    expect(stderr.trim().split('\n')).toHaveLength(1)
    expect(existsSync(param)).toBe(false)
    expect(existsSync(`${param}.${LEASE_SUFFIX}`)).toBe(false)
  }
  const stepInputs = (runbook: Runbook, index: number) => runbook.mainSteps[index]?.inputs as Json

  it('an FIS action it does not play (aws:ec2:stop-instances)', async () => {
    await refused(
      {
        template: (template) => {
          ;(template.actions as Json).StopInstances = {
            actionId: 'aws:ec2:stop-instances',
            parameters: { startInstancesAfterDuration: 'PT5M' },
            targets: { Instances: 'web' },
          }
        },
      },
      /actions\.StopInstances\.actionId: aws:ec2:stop-instances is not played locally/,
    )
  })

  it('an aws:executeScript whose script is not the middy-chaos handlers', async () => {
    await refused(
      {
        runbook: (runbook) => {
          stepInputs(runbook, 1).Script = 'def hold(events, context):\n    pass\n'
        },
      },
      /step S01_latency: aws:executeScript runs a script the local player cannot run/,
    )
  })

  it('an aws:executeScript whose marked script was edited: a Restore that restores nothing', async () => {
    await refused(
      {
        runbook: (runbook) => {
          const restore = runbook.mainSteps.find((step) => step.name === 'Restore')
          const inputs = restore?.inputs as Json
          // The marker stays: only the body tells it from the script @middy-chaos/fis generates.
          inputs.Script = String(inputs.Script).replace(
            /def restore\(events, context\):\n[\s\S]*$/,
            'def restore(events, context):\n    return {}\n',
          )
          expect(inputs.Script).toMatch(/^# middy-chaos runbook handlers v1\n/)
          expect(inputs.Script).toMatch(/def restore\(events, context\):\n {4}return \{\}\n$/)
        },
      },
      /^middy-chaos: cannot play SSM document .*: step Restore: aws:executeScript: its script is not the one @middy-chaos\/fis \d+\.\d+\.\d+\S* generates for handler restore; the player only plays that script unchanged/,
    )
  })

  it('an aws:executeScript with a handler the runbook does not have', async () => {
    await refused(
      {
        runbook: (runbook) => {
          stepInputs(runbook, 1).Handler = 'explode'
        },
      },
      /step S01_latency: Handler "explode" is not a middy-chaos runbook handler/,
    )
  })

  it('an aws:executeAwsApi on another service than SSM', async () => {
    await refused(
      {
        runbook: (runbook) => {
          runbook.mainSteps.splice(1, 0, {
            name: 'StopInstances',
            action: 'aws:executeAwsApi',
            inputs: {
              Service: 'ec2',
              Api: 'StopInstances',
              InstanceIds: ['i-1'],
              InputPayload: {},
            },
          })
        },
      },
      /step StopInstances: aws:executeAwsApi Service "ec2" is not played locally \(only ssm/,
    )
  })

  it('an SSM API other than the parameter calls', async () => {
    await refused(
      {
        runbook: (runbook) => {
          runbook.mainSteps.splice(1, 0, {
            name: 'Run',
            action: 'aws:executeAwsApi',
            inputs: { Service: 'ssm', Api: 'SendCommand', InputPayload: {} },
          })
        },
      },
      /step Run: aws:executeAwsApi ssm "SendCommand" is not played locally/,
    )
  })

  it('an Automation action it does not play', async () => {
    await refused(
      {
        runbook: (runbook) => {
          runbook.mainSteps.splice(1, 0, {
            name: 'Approve',
            action: 'aws:approve',
            inputs: { Approvers: ['me'], InputPayload: {} },
          })
        },
      },
      /step Approve: action "aws:approve" is not played locally/,
    )
  })

  it('a startAfter naming no action', async () => {
    await refused(
      {
        template: (template) => {
          action(template, 'S02_hold_on').startAfter = ['S01_latencyy']
        },
      },
      /actions\.S02_hold_on\.startAfter: no action named "S01_latencyy"/,
    )
  })

  it('a startAfter cycle', async () => {
    await refused(
      {
        template: (template) => {
          action(template, 'S01_latency').startAfter = ['S02_hold_on']
        },
      },
      /startAfter makes a cycle \(S01_latency waits for S02_hold_on waits for S01_latency\)/,
    )
  })

  it('an automation whose document was not given', async () => {
    await refused(
      {
        template: (template) => {
          action(template, 'RunExperiment').parameters.documentArn =
            'arn:aws:ssm:us-east-1:123456789012:document/Other'
        },
      },
      /actions\.RunExperiment: no --document for Other .* give it as --document Other=<file>/,
    )
  })

  it('a variable that names nothing', async () => {
    await refused(
      {
        runbook: (runbook) => {
          stepInputs(runbook, 0).InputPayload = {
            ...(stepInputs(runbook, 0).InputPayload as Json),
            Experiment: '{{ ExperimentName }}',
          }
        },
      },
      /step AcquireLease: \{\{ ExperimentName \}\} is not a parameter of the document/,
    )
  })
})

describe('interrupted with SIGINT, through the built CLI', () => {
  beforeAll(() => assertCliBuilt())

  const start = (files: { template: string; document: string }, args: string[]) =>
    startCli([...runArgs(files), ...args], { env: { AWS_REGION: 'us-east-1' } })

  it('the workshop: exit 130, and the latency fault stays on: the workshop has no rollback', async () => {
    // Prepare
    const name = await ssmParameter(WORKSHOP_BEFORE)

    // Act
    const cli = start({ template: WORKSHOP_TEMPLATE, document: WORKSHOP_DOCUMENT }, [
      '--store',
      'ssm',
      '--param',
      name,
      '--endpoint',
      moto,
    ])
    await cli.waitFor(/S02_Wait1\s+running/)
    cli.child.kill('SIGINT')
    const { code } = await cli.exited

    // Assess
    expect(code).toBe(130)
    const history = await ssmHistory(name)
    expect(history).toHaveLength(2)
    expect(JSON.parse(history[1]?.value ?? '')).toMatchObject({
      is_enabled: true,
      fault_type: 'latency',
    })
    expect(cli.stdout()).toMatch(/STOPPING \(SIGINT\)/)
    expect(cli.stdout()).toContain('the documents did not put it back')
    await ssm.send(new DeleteParameterCommand({ Name: name }))
  })

  it.each(['file', 'ssm'] as const)(
    'the generated runbook on the %s store: exit 130, the exact value back, the lease gone',
    async (kind) => {
      // Prepare
      const { store, args, history } = await stores[kind]()

      // Act
      const cli = start(await generated(), args)
      await cli.waitFor(/RunExperiment › S01_latency {2}wrote version 2/)
      cli.child.kill('SIGINT')
      const { code } = await cli.exited

      // Assess
      expect(code).toBe(130)
      expect((await store.read())?.value).toBe(BEFORE)
      expect(await readLease(store)).toBeUndefined()
      expect(cli.stdout()).toMatch(/■ .*RunExperiment › S01_latency {2}Cancelled/)
      expect(cli.stdout()).toContain(', as before the experiment.')
      const values = (await history()).map((entry) => entry.value)
      expect(values).toEqual([BEFORE, expect.stringContaining('"fault_type":"latency"'), BEFORE])
    },
  )
})
