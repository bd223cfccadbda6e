/**
 * An experiment never leaves chaos on, shown with the built CLI as a user runs
 * it: a runner killed with SIGKILL stops injecting by itself within its lease
 * TTL (measured against a served, probed function), two runs at once never
 * both run, a stale lease is taken over with the value it recorded (`recover`,
 * `experiment run --takeover`), and stop conditions (a CloudWatch alarm on
 * moto, given on the command line or in the file; a probe threshold) stop and
 * restore.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  CloudWatchClient,
  PutMetricAlarmCommand,
  SetAlarmStateCommand,
} from '@aws-sdk/client-cloudwatch'
import { GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm'
import { writeFileValue } from '@middy-chaos/core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { assertCliBuilt, runCli, serveFixture, startCli } from './helpers.js'

const BEFORE =
  '{"is_enabled":false,"fault_type":"latency","delay":400,"error_code":404,"exception_msg":"Fault injected by chaos-lambda","rate":1}'
const TTL_MS = 3000
/**
 * The stop alarms' poll in these tests, and what a stop may take besides it
 * (DescribeAlarms, the restore on moto's SSM, the exit): measured from 215 to
 * 441 ms in all (2 cores, idle and with 4 CPU-bound processes besides), so
 * one poll plus 1 s.
 */
const ALARM_POLL_MS = 250
const ALARM_STOP_MARGIN_MS = 1000

let dir: string
let moto: string
beforeAll(async () => {
  assertCliBuilt()
  moto = inject('motoEndpoint')
  dir = await mkdtemp(join(tmpdir(), 'middy-chaos-safety-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

let count = 0
const experimentFile = async (steps: unknown[], more: Record<string, unknown> = {}) => {
  const file = join(dir, `experiment-${++count}.json`)
  await writeFile(file, JSON.stringify({ name: `safety-${count}`, steps, ...more }))
  return file
}
const holdStatus503 = (more: Record<string, unknown> = {}) =>
  experimentFile(
    [
      { name: 'S01_Enable', set: { is_enabled: true, fault_type: 'status_code', error_code: 503 } },
      { name: 'S02_Hold', wait: '1m' },
    ],
    more,
  )

/** A store on both sides: the file store, or a fresh SSM parameter on moto. */
const stores = {
  file: async () => {
    const param = join(dir, `config-${++count}.json`)
    await writeFileValue(param, BEFORE, { label: 'setup' })
    return {
      args: ['--store', 'file', '--param', param],
      env: {},
      read: () => readFile(param, 'utf8'),
    }
  },
  ssm: async () => {
    const ssm = new SSMClient({ endpoint: moto, region: 'us-east-1' })
    const name = `/middy-chaos/safety/${Date.now()}-${++count}`
    await ssm.send(new PutParameterCommand({ Name: name, Value: BEFORE, Type: 'String' }))
    return {
      args: ['--store', 'ssm', '--param', name, '--endpoint', moto],
      env: { AWS_REGION: 'us-east-1' },
      read: async () =>
        (await ssm.send(new GetParameterCommand({ Name: name }))).Parameter?.Value ?? '',
    }
  },
}

const serve = (args: string[], env: Record<string, string>) =>
  serveFixture(['--max-age', '1', ...args], { env })

/** A CloudWatch alarm on moto, in state INSUFFICIENT_DATA. */
const createAlarm = async (label: string) => {
  const cloudwatch = new CloudWatchClient({ endpoint: moto, region: 'us-east-1' })
  const alarm = `middy-chaos-${label}-${Date.now()}`
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
  return { cloudwatch, alarm }
}

const statusOf = async (url: string) => (await fetch(url)).status
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe.each(['file', 'ssm'] as const)('a runner killed with SIGKILL (%s store)', (kind) => {
  it('stops injecting by itself within the lease TTL, and its stale lease is then recovered', async () => {
    // Prepare: a served function, and an experiment holding a 503 for a minute
    const store = await stores[kind]()
    const server = await serve(store.args, store.env)
    try {
      const runner = startCli(
        ['experiment', 'run', await holdStatus503(), '--lease-ttl', `${TTL_MS}ms`, ...store.args],
        { env: store.env },
      )
      await runner.waitFor(/S02_Hold\s+running/)
      const deadline = Date.now() + 5000
      while ((await statusOf(server.url)) !== 503 && Date.now() < deadline) await pause(100)
      expect(await statusOf(server.url)).toBe(503)
      // Let renewals happen: the stamp in force is a renewed one.
      await pause(TTL_MS)

      // Act: the runner dies without a word
      const killedAt = Date.now()
      runner.child.kill('SIGKILL')
      await runner.exited
      let lastInjected = killedAt
      let healthySince: number | undefined
      while (Date.now() - killedAt < TTL_MS + 10_000) {
        const status = await statusOf(server.url)
        if (status === 503) {
          lastInjected = Date.now()
          healthySince = undefined
        } else if (status === 200) {
          healthySince ??= Date.now()
          if (Date.now() - healthySince > 2000) break
        }
        await pause(100)
      }

      // Assess: no injection later than one TTL after the kill
      const stoppedAfter = lastInjected - killedAt
      process.stdout.write(
        `[measured] ${kind} store: the last injected 503 came ${stoppedAfter} ms after SIGKILL (lease TTL ${TTL_MS} ms)\n`,
      )
      expect(healthySince).toBeDefined()
      expect(stoppedAfter).toBeLessThanOrEqual(TTL_MS + 250)

      // The parameter still holds the dead run's (expired) value, and its lease is stale
      expect(JSON.parse(await store.read())).toMatchObject({ fault_type: 'status_code' })
      const status = await runCli(['status', ...store.args], { env: store.env })
      expect(status.stdout).toMatch(/lease\s+STALE held by experiment safety-\d+/)
      const refused = await runCli(['experiment', 'run', await holdStatus503(), ...store.args], {
        env: store.env,
      })
      expect(refused.code).toBe(5)
      expect(refused.stderr).toMatch(/has a stale lease from experiment safety-\d+ .*--takeover/)

      // Recovery: the value the lease recorded comes back
      const recovered = await runCli(['recover', ...store.args], { env: store.env })
      expect(recovered.code).toBe(0)
      expect(recovered.stdout).toMatch(/Took over the stale lease of experiment safety-\d+/)
      expect(await store.read()).toBe(BEFORE)
    } finally {
      await server.stop()
    }
  }, 60_000)

  it('experiment run --takeover then runs, and restores the value the dead run recorded', async () => {
    // Prepare: a runner killed with SIGKILL while it holds a 503, its lease gone stale
    const store = await stores[kind]()
    const runner = startCli(
      ['experiment', 'run', await holdStatus503(), '--lease-ttl', `${TTL_MS}ms`, ...store.args],
      { env: store.env },
    )
    await runner.waitFor(/S02_Hold\s+running/)
    runner.child.kill('SIGKILL')
    await runner.exited
    await pause(TTL_MS + 500)
    expect(JSON.parse(await store.read())).toMatchObject({ fault_type: 'status_code' })
    const next = await experimentFile([
      { name: 'S01_Latency', set: { is_enabled: true, fault_type: 'latency', delay: 50 } },
      { name: 'S02_Hold', wait: '200ms' },
    ])

    // Act
    const takeover = await runCli(['experiment', 'run', next, '--takeover', ...store.args], {
      env: store.env,
    })

    // Assess: its own steps ran, then the value before the dead run came back, and no lease is left
    expect(takeover.code, takeover.stderr).toBe(0)
    expect(takeover.stdout).toMatch(
      /taken over from a stale lease \([\w-]+\): restores the value it recorded/,
    )
    expect(takeover.stdout).toMatch(/S01_Latency\s+done/)
    expect(takeover.stdout).toMatch(/Restored .* to its pre-experiment value/)
    expect(await store.read()).toBe(BEFORE)
    const status = await runCli(['status', ...store.args], { env: store.env })
    expect(status.stdout).toMatch(/lease\s+none/)
  }, 60_000)
})

describe('two runs of one experiment at once', () => {
  it.each(['file', 'ssm'] as const)(
    'on the %s store: each time exactly one is refused, and the parameter ends as it was',
    async (kind) => {
      const rounds = 10
      for (let round = 0; round < rounds; round++) {
        const store = await stores[kind]()
        const file = await experimentFile([
          { name: 'on', set: { is_enabled: true, fault_type: 'latency', delay: 100 } },
          // Long enough that the two processes overlap even when one starts late on a busy machine.
          { name: 'hold', wait: '2s' },
        ])
        const runs = await Promise.all([
          runCli(['experiment', 'run', file, ...store.args], { env: store.env }),
          runCli(['experiment', 'run', file, ...store.args], { env: store.env }),
        ])
        expect(runs.map((run) => run.code).sort()).toEqual([0, 5])
        const refused = runs.find((run) => run.code === 5)
        expect(refused?.stderr).toMatch(
          /^middy-chaos: .* is held by experiment safety-\d+ \(host .*, pid \d+, since .*, expires in \d+ s\): one experiment per parameter; nothing was changed\n$/,
        )
        expect(await store.read()).toBe(BEFORE)
      }
    },
    120_000,
  )
})

describe('stop conditions', () => {
  /**
   * Runs an experiment holding a 503 with a stop alarm polled every
   * ALARM_POLL_MS on moto's CloudWatch, sets the alarm to ALARM once the hold
   * runs, and measures how long the runner took to stop, restore and exit.
   */
  const stoppedByAlarm = async (runArgs: (alarm: string) => Promise<string[]>) => {
    const { cloudwatch, alarm } = await createAlarm('errors')
    const store = await stores.ssm()
    const runner = startCli(
      [
        'experiment',
        'run',
        ...(await runArgs(alarm)),
        '--alarm-interval',
        `${ALARM_POLL_MS}ms`,
        ...store.args,
      ],
      { env: { ...store.env, AWS_ENDPOINT_URL_CLOUDWATCH: moto } },
    )
    await runner.waitFor(/S02_Hold\s+running/)
    const trippedAt = Date.now()
    await cloudwatch.send(
      new SetAlarmStateCommand({ AlarmName: alarm, StateValue: 'ALARM', StateReason: 'test' }),
    )
    const { code } = await runner.exited
    const took = Date.now() - trippedAt
    process.stdout.write(
      `[measured] alarm stop: exited ${took} ms after SetAlarmState (poll ${ALARM_POLL_MS} ms)\n`,
    )
    return { code, took, alarm, runner, store }
  }

  it.each([
    [
      '--stop-on-alarm',
      (alarm: string) => holdStatus503().then((file) => [file, '--stop-on-alarm', alarm]),
    ],
    [
      '"stopConditions" in the experiment file',
      (alarm: string) => holdStatus503({ stopConditions: [{ alarm }] }).then((file) => [file]),
    ],
  ])(
    'a CloudWatch alarm (moto) given by %s going to ALARM stops the experiment and restores, exit 4',
    async (_, runArgs) => {
      // Act
      const { code, took, alarm, runner, store } = await stoppedByAlarm(runArgs)

      // Assess: stopped within one poll, plus the time to read the alarms, restore and exit
      expect(code).toBe(4)
      expect(runner.stdout()).toMatch(new RegExp(`STOPPED by alarm ${alarm} is in ALARM`))
      expect(runner.stderr()).toMatch(/middy-chaos: stopped by alarm .* is in ALARM; restored/)
      expect(await store.read()).toBe(BEFORE)
      expect(took).toBeLessThan(ALARM_POLL_MS + ALARM_STOP_MARGIN_MS)
    },
    30_000,
  )

  it('refuses to start when a stop alarm is already in ALARM, or does not exist', async () => {
    const store = await stores.file()
    const missing = await runCli(
      [
        'experiment',
        'run',
        await holdStatus503(),
        '--stop-on-alarm',
        'no-such-alarm',
        ...store.args,
      ],
      { env: { AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL_CLOUDWATCH: moto } },
    )
    expect(missing.code).toBe(2)
    expect(missing.stderr).toBe(
      'middy-chaos: stop condition: no CloudWatch alarm named "no-such-alarm"\n',
    )

    const { cloudwatch, alarm } = await createAlarm('firing')
    await cloudwatch.send(
      new SetAlarmStateCommand({ AlarmName: alarm, StateValue: 'ALARM', StateReason: 'test' }),
    )
    const firing = await runCli(
      ['experiment', 'run', await holdStatus503(), '--stop-on-alarm', alarm, ...store.args],
      { env: { AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL_CLOUDWATCH: moto } },
    )
    expect(firing.code).toBe(4)
    expect(firing.stderr).toBe(
      `middy-chaos: stop condition: alarm ${alarm} is in ALARM already; the experiment does not start\n`,
    )
    expect(await store.read()).toBe(BEFORE)
  })

  it('a probe threshold stops an experiment that breaks the function, and restores, exit 4', async () => {
    const store = await stores.file()
    const server = await serve(store.args, {})
    try {
      const file = await experimentFile([
        { name: 'S01_Break', set: { is_enabled: true, fault_type: 'exception' } },
        { name: 'S02_Hold', wait: '1m' },
      ])
      const run = await runCli([
        'experiment',
        'run',
        file,
        '--probe',
        server.url,
        '--interval',
        '100ms',
        '--stop-if',
        'errors>50% over 2s',
        ...store.args,
      ])
      expect(run.code).toBe(4)
      expect(run.stdout).toMatch(
        /STOPPED by probe threshold "errors>50% over 2s" \(errors \d+(\.\d)?% over the last \d+ requests\)/,
      )
      expect(run.stdout).toMatch(/Restored .* to its pre-experiment value/)
      expect(await store.read()).toBe(BEFORE)
    } finally {
      await server.stop()
    }
  }, 30_000)
})
