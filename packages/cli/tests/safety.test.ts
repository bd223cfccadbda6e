/**
 * An experiment never leaves chaos on, shown with the built CLI as a user runs
 * it: a runner or an FIS player killed with SIGKILL stops injecting by itself
 * with the step under way (plus the grace) and within its lease TTL (measured
 * against a served, probed function); every other end (SIGHUP, a closed
 * output, a terminal whose writes throw, an error nothing caught) restores and
 * releases the lease; two runs at once never both run; a stale lease is taken
 * over with the value it recorded (`recover`, `experiment run --takeover`), at
 * once when its runner's process is gone; and stop conditions (a CloudWatch
 * alarm on moto, given on the command line or in the file; a probe threshold)
 * stop and restore.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  CloudWatchClient,
  PutMetricAlarmCommand,
  SetAlarmStateCommand,
} from '@aws-sdk/client-cloudwatch'
import { GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm'
import { writeFileValue } from '@middy-chaos/core'
import { EXPIRY_GRACE_MS } from '@middy-chaos/experiment'
import { EXPIRY_GRACE_SECONDS } from '@middy-chaos/fis'
import { LEASE_SUFFIX } from '@middy-chaos/fis/local'
import { afterAll, beforeAll, describe, type ExpectStatic, expect, inject, it } from 'vitest'
import { forwardingProxy } from '../../../test/helpers/proxy.js'
import { main } from '../src/main.js'
import { FileStore, SsmStore } from '../src/stores/index.js'
import { Terminal } from '../src/terminal.js'
import {
  assertCliBuilt,
  type CliProcess,
  exportForPlayer,
  fixtures,
  runCli,
  serveFixture,
  startCli,
} from './helpers.js'

const BEFORE =
  '{"is_enabled":false,"fault_type":"latency","delay":400,"error_code":404,"exception_msg":"Fault injected by chaos-lambda","rate":1}'
const TTL_MS = 3000
/** The stop alarms' poll in these tests (the default is 5 s). */
const ALARM_POLL_MS = 250

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

/** A store on both sides: the file store, or a fresh SSM parameter on moto; `lease()` reads its lease. */
const stores = {
  file: async () => {
    const param = join(dir, `config-${++count}.json`)
    await writeFileValue(param, BEFORE, { label: 'setup' })
    return {
      args: ['--store', 'file', '--param', param],
      env: {},
      read: () => readFile(param, 'utf8'),
      lease: () => new FileStore(param).readCompanion(LEASE_SUFFIX),
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
      lease: () => new SsmStore(name, { client: ssm }).readCompanion(LEASE_SUFFIX),
    }
  },
}
type TestStore = Awaited<ReturnType<(typeof stores)['file']>>

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
      // Each request noted by when it started: the function judges it later, against the stamp
      let lastInjected = killedAt
      let healthySince: number | undefined
      while (Date.now() - killedAt < TTL_MS + 10_000) {
        const startedAt = Date.now()
        const status = await statusOf(server.url)
        if (status === 503) {
          lastInjected = startedAt
          healthySince = undefined
        } else if (status === 200) {
          healthySince ??= startedAt
          if (Date.now() - healthySince > 2000) break
        }
        await pause(100)
      }

      // Assess: the value in force was stamped before the kill, one TTL ahead at most, and no
      // request started at or past its expiry was injected: no injection later than one TTL
      // after the kill, however long each request took
      const value = JSON.parse(await store.read()) as { fault_type: string; expiresAt: string }
      const expiresAt = Date.parse(value.expiresAt)
      process.stdout.write(
        `[measured] ${kind} store: the last injected 503 started ${lastInjected - killedAt} ms after SIGKILL; the value in force expired ${expiresAt - killedAt} ms after it (lease TTL ${TTL_MS} ms)\n`,
      )
      expect(healthySince).toBeDefined()
      expect(expiresAt).toBeLessThanOrEqual(killedAt + TTL_MS)
      expect(lastInjected).toBeLessThan(expiresAt)

      // The parameter still holds the dead run's (expired) value, and its lease is stale
      expect(value).toMatchObject({ fault_type: 'status_code' })
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
    // Prepare: a runner killed with SIGKILL while it holds a 503; its lease is stale at once
    // (its process on this host is gone), well before its 60-s expiry
    const store = await stores[kind]()
    const runner = startCli(['experiment', 'run', await holdStatus503(), ...store.args], {
      env: store.env,
    })
    await runner.waitFor(/S02_Hold\s+running/)
    runner.child.kill('SIGKILL')
    await runner.exited
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

/** The step the dead-runner tests kill their runner in, and the function's config cache. */
const STEP_MS = 4_000
const CACHE_MS = 1_000
/** What a busy machine may add to the bound (late timers, slow writes and requests): generous. */
const MARGIN_MS = 3_000

/** Polls the served function every 100 ms: each request's start time and status. */
const probeOf = (url: string) => {
  const samples: { at: number; status: number }[] = []
  let running = true
  const done = (async () => {
    while (running) {
      const at = Date.now()
      const status = await fetch(url).then(
        (response) => response.status,
        () => 0,
      )
      samples.push({ at, status })
      await pause(100)
    }
  })()
  return {
    samples,
    stop: async () => {
      running = false
      await done
    },
  }
}

const until = async (condition: () => boolean, timeoutMs = 10_000) => {
  const deadline = Date.now() + timeoutMs
  while (!condition() && Date.now() < deadline) await pause(50)
  expect(condition()).toBe(true)
}

/**
 * Starts a runner against a served, probed function, kills it with SIGKILL a
 * second into a {@link STEP_MS} step that holds a 503 (the step's planned end is
 * at most STEP_MS after its line), and probes on until the bound (the step's
 * planned end + `graceMs` + one cache window + the margin) and four requests
 * started past it.
 */
const killDuringStep = async (
  what: string,
  store: TestStore,
  start: () => CliProcess,
  stepRunning: RegExp,
  graceMs: number,
  expect: ExpectStatic,
  whileAlive: () => Promise<void> = async () => {},
) => {
  const server = await serve(store.args, store.env)
  const probe = probeOf(server.url)
  try {
    const runner = start()
    await runner.waitFor(stepRunning)
    const plannedEnd = Date.now() + STEP_MS
    // Side by side: on a busy machine, the two take a good part of the step
    await Promise.all([
      until(() => probe.samples.some((sample) => sample.status === 503)),
      whileAlive(),
    ])
    await pause(plannedEnd - STEP_MS + 1_000 - Date.now())
    const killedAt = Date.now()
    runner.child.kill('SIGKILL')
    await runner.exited
    const bound = plannedEnd + graceMs + CACHE_MS + MARGIN_MS
    await pause(bound - Date.now())
    // Counted, not timed: however slow each request on a busy machine
    await until(() => probe.samples.filter((sample) => sample.at > bound).length > 3, 30_000)
    await probe.stop()

    // Injecting when killed, and no request started past the bound was injected
    const injected = probe.samples.filter((sample) => sample.status === 503)
    process.stdout.write(
      `[measured] ${what}: killed ${killedAt - (plannedEnd - STEP_MS)} ms into the step; the last injected 503 started ${(injected.at(-1)?.at ?? 0) - plannedEnd} ms after the step's planned end (grace ${graceMs} ms, cache ${CACHE_MS} ms, lease TTL 60 s)\n`,
    )
    expect(injected.some((sample) => sample.at > killedAt)).toBe(true)
    expect(injected.at(-1)?.at).toBeLessThanOrEqual(bound)
    const after = probe.samples.filter((sample) => sample.at > bound)
    expect(after.length).toBeGreaterThan(3)
    expect(after.every((sample) => sample.status === 200)).toBe(true)
  } finally {
    await probe.stop()
    await server.stop()
  }
}

describe.concurrent("a dead runner's faults end with its step", () => {
  it.for(['file', 'ssm'] as const)(
    'experiment run killed with SIGKILL during a 4-s step (%s store): no injection past its planned end + grace + one cache window, and recover at once',
    { timeout: 60_000 },
    async (kind, { expect }) => {
      // Prepare
      const store = await stores[kind]()
      const file = await experimentFile([
        {
          name: 'S01_Enable',
          set: { is_enabled: true, fault_type: 'status_code', error_code: 503 },
        },
        { name: 'S02_Hold', wait: `${STEP_MS}ms` },
      ])
      let refused: Awaited<ReturnType<typeof runCli>> | undefined

      // Act and assess (the lease TTL is the default, 60 s)
      await killDuringStep(
        `experiment run, ${kind} store`,
        store,
        () => startCli(['experiment', 'run', file, ...store.args], { env: store.env }),
        /S02_Hold\s+running/,
        EXPIRY_GRACE_MS,
        expect,
        async () => {
          refused = await runCli(['recover', ...store.args], { env: store.env })
        },
      )

      // While the runner lived, recover was refused, saying when it can
      expect(refused?.code).toBe(5)
      expect(refused?.stderr).toMatch(
        /is held by experiment safety-\d+ .*nothing was changed \(its process \d+ on this host is alive: recover and --takeover can take the lease over once it has ended\)/,
      )
      // Dead, its lease is recovered at once, long before it expires
      const lease = JSON.parse((await store.lease()) ?? '{}') as { expiresAt: string }
      expect(Date.parse(lease.expiresAt)).toBeGreaterThan(Date.now() + 30_000)
      const recovered = await runCli(['recover', ...store.args], { env: store.env })
      expect(recovered.code, recovered.stderr).toBe(0)
      expect(await store.read()).toBe(BEFORE)
      expect(await store.lease()).toBeUndefined()
    },
  )

  it.for(['file', 'ssm'] as const)(
    'the FIS player (experiment run --fis-template, generated runbook) killed with SIGKILL during a 4-s hold (%s store): no injection past its planned end + the runbook grace + one cache window',
    { timeout: 60_000 },
    async (kind, { expect }) => {
      // Prepare: the runbook and FIS template experiment export generates for a 503 and a 4-s hold
      const store = await stores[kind]()
      const file = await experimentFile([
        { name: 'Enable', set: { is_enabled: true, fault_type: 'status_code', error_code: 503 } },
        { name: 'Hold', wait: `${STEP_MS}ms` },
      ])
      const files = join(dir, `exported-${++count}`)
      await mkdir(files)
      const { template, document } = await exportForPlayer(
        file,
        files,
        'middy-chaos-dead',
        '/chaos/dead',
      )

      // Act and assess (the lease TTL is the export's default, 60 s)
      await killDuringStep(
        `FIS player, ${kind} store`,
        store,
        () =>
          startCli(
            [
              'experiment',
              'run',
              '--fis-template',
              template,
              '--document',
              document,
              ...store.args,
            ],
            { env: store.env },
          ),
        /RunExperiment › S02_Hold {2}aws:executeScript hold/,
        EXPIRY_GRACE_SECONDS * 1000,
        expect,
      )

      // The player's lease names this host and its process: recovered at once
      const recovered = await runCli(['recover', ...store.args], { env: store.env })
      expect(recovered.code, recovered.stderr).toBe(0)
      expect(await store.read()).toBe(BEFORE)
    },
  )
})

describe.each(['file', 'ssm'] as const)('every end but SIGKILL restores (%s store)', (kind) => {
  /** Starts a run holding a 503 for a minute, and resolves once the hold runs. */
  const holding = async (store: TestStore, more: string[] = []) => {
    const runner = startCli(['experiment', 'run', await holdStatus503(), ...more, ...store.args], {
      env: store.env,
    })
    await runner.waitFor(/S02_Hold\s+running/)
    expect(JSON.parse(await store.read())).toMatchObject({ fault_type: 'status_code' })
    return runner
  }

  it('SIGHUP (the terminal closed): exit 129, the exact value back, the lease released', async () => {
    // Prepare
    const store = await stores[kind]()
    const runner = await holding(store)

    // Act
    runner.child.kill('SIGHUP')
    const { code } = await runner.exited

    // Assess
    expect(code, runner.stderr()).toBe(129)
    expect(runner.stderr()).toContain(
      'middy-chaos: SIGHUP: stopping the experiment and restoring the parameter',
    )
    expect(await store.read()).toBe(BEFORE)
    expect(await store.lease()).toBeUndefined()
  })

  it('its output closed by the reader, as | head -1 does: exit 141, the exact value back, the lease released', async () => {
    // Prepare: a probe prints a line every 50 ms (its URL answers: the run checks it first)
    const store = await stores[kind]()
    const answering = createServer((_request, response) => response.end('ok'))
    await new Promise<void>((resolve) => answering.listen(0, '127.0.0.1', resolve))
    const { port } = answering.address() as AddressInfo
    const runner = await holding(store, [
      '--probe',
      `http://127.0.0.1:${port}/`,
      '--interval',
      '50ms',
    ])

    // Act: the reader goes away; the next line fails with EPIPE
    runner.child.stdout?.destroy()
    const { code } = await runner.exited
    answering.closeAllConnections()
    await new Promise((resolve) => answering.close(resolve))

    // Assess
    expect(code, runner.stderr()).toBe(141)
    expect(runner.stderr()).toMatch(
      /middy-chaos: the output is closed \(write EPIPE on stdout\): stopping the experiment and restoring the parameter/,
    )
    expect(runner.stderr()).not.toMatch(/unexpected error/)
    expect(await store.read()).toBe(BEFORE)
    expect(await store.lease()).toBeUndefined()
  })

  it('an error nothing caught (a bug in a timer): exit 1, the exact value back, the lease released', async () => {
    // Prepare: the built CLI, which throws from a timer on SIGUSR2
    const store = await stores[kind]()
    const runner = startCli(['experiment', 'run', await holdStatus503(), ...store.args], {
      env: store.env,
      script: join(fixtures, 'uncaught-on-sigusr2.mjs'),
    })
    await runner.waitFor(/S02_Hold\s+running/)

    // Act
    runner.child.kill('SIGUSR2')
    const { code } = await runner.exited

    // Assess
    expect(code, runner.stderr()).toBe(1)
    expect(runner.stderr()).toContain(
      'middy-chaos: unexpected error: a bug nothing caught: stopping the experiment and restoring the parameter',
    )
    expect(runner.stdout()).toMatch(/Restored .* to its pre-experiment value/)
    expect(await store.read()).toBe(BEFORE)
    expect(await store.lease()).toBeUndefined()
  })
})

describe('a terminal whose writes throw', () => {
  it('stops the run at the first failed write, restores the exact value and releases the lease: exit 141', async () => {
    // Prepare: stdout throws from the hold step's line on; stderr works
    const store = await stores.file()
    let err = ''
    let throwing = false
    const terminal = new Terminal(
      {
        write: (text: string) => {
          if (throwing || /S02_Hold\s+running/.test(text)) {
            throwing = true
            throw new Error('EIO: the terminal is gone')
          }
        },
      },
      { write: (text: string) => (err += text) },
    )

    // Act
    const code = await main(['experiment', 'run', await holdStatus503(), ...store.args], terminal)

    // Assess
    expect(code, err).toBe(141)
    expect(err).toContain(
      'middy-chaos: the output is closed (EIO: the terminal is gone on stdout): stopping the experiment and restoring the parameter',
    )
    expect(await store.read()).toBe(BEFORE)
    expect(await store.lease()).toBeUndefined()
  })
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
   * ALARM_POLL_MS on moto's CloudWatch, behind a proxy that notes when each
   * poll (DescribeAlarms) arrives; sets the alarm to ALARM once the hold runs
   * and two polls have come, and notes when SetAlarmState returned.
   */
  const stoppedByAlarm = async (runArgs: (alarm: string) => Promise<string[]>) => {
    const { cloudwatch, alarm } = await createAlarm('errors')
    const store = await stores.ssm()
    const polls: number[] = []
    const proxy = await forwardingProxy(moto, (request, body) => {
      const target = String(request.headers['x-amz-target'] ?? '')
      if (target.endsWith('.DescribeAlarms') || body.includes('Action=DescribeAlarms'))
        polls.push(Date.now())
    })
    try {
      const runner = startCli(
        [
          'experiment',
          'run',
          ...(await runArgs(alarm)),
          '--alarm-interval',
          `${ALARM_POLL_MS}ms`,
          ...store.args,
        ],
        { env: { ...store.env, AWS_ENDPOINT_URL_CLOUDWATCH: proxy.url } },
      )
      await runner.waitFor(/S02_Hold\s+running/)
      // The check before the start, and two polls
      await until(() => polls.length >= 3)
      await cloudwatch.send(
        new SetAlarmStateCommand({ AlarmName: alarm, StateValue: 'ALARM', StateReason: 'test' }),
      )
      const trippedAt = Date.now()
      const { code } = await runner.exited
      process.stdout.write(
        `[measured] alarm stop: exited ${Date.now() - trippedAt} ms after SetAlarmState (poll ${ALARM_POLL_MS} ms)\n`,
      )
      return { code, polls, trippedAt, alarm, runner, store }
    } finally {
      await proxy.close()
    }
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
      const { code, polls, trippedAt, alarm, runner, store } = await stoppedByAlarm(runArgs)

      // Assess: stopped by the first poll after the alarm went to ALARM (one at most came after:
      // a poll under way may see it first), and restored
      expect(code).toBe(4)
      expect(runner.stdout()).toMatch(new RegExp(`STOPPED by alarm ${alarm} is in ALARM`))
      expect(runner.stderr()).toMatch(/middy-chaos: stopped by alarm .* is in ALARM; restored/)
      expect(await store.read()).toBe(BEFORE)
      expect(polls.filter((at) => at >= trippedAt).length).toBeLessThanOrEqual(1)
      // Polled every ALARM_POLL_MS: no sooner, and within ten times it (the 5-s default would not)
      for (const [i, at] of polls.slice(1).entries()) {
        expect(at - (polls[i] ?? 0)).toBeGreaterThanOrEqual(ALARM_POLL_MS - 1)
        expect(at - (polls[i] ?? 0)).toBeLessThan(10 * ALARM_POLL_MS)
      }
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
