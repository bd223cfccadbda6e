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
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  CloudWatchClient,
  PutMetricAlarmCommand,
  SetAlarmStateCommand,
} from '@aws-sdk/client-cloudwatch'
import {
  DeleteParameterCommand,
  GetParameterCommand,
  GetParameterHistoryCommand,
  PutParameterCommand,
  SSMClient,
} from '@aws-sdk/client-ssm'
import { readFileHistory, writeFileValue } from '@middy-chaos/core'
import {
  buildFisJson,
  buildRunbook,
  CANCEL_WINDOW_SECONDS,
  EXPIRY_GRACE_SECONDS,
  type FisExperiment,
  RESTORE_MAX_ATTEMPTS,
  RESTORE_TIMEOUT_SECONDS,
  type RunbookDocument,
  type RunbookFormat,
  runbookContent,
} from '@middy-chaos/fis'
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest'
import { FAULTS } from '../src/faults.js'
import {
  type AutomationEvent,
  CANCEL_WORKFLOW_MS,
  resolveParameters,
  runAutomation,
} from '../src/fis/automation.js'
import { loadAutomationDocument, parseAutomationDocument } from '../src/fis/document.js'
import { type FisEvent, planFisExperiment, playFisExperiment } from '../src/fis/player.js'
import { loadFisTemplate, parseFisTemplate } from '../src/fis/template.js'
import { LEASE_SUFFIX, parseLease } from '../src/lease.js'
import { turnsFaultsOn } from '../src/stamp.js'
import { type ConfigStore, FileStore, SsmStore } from '../src/store.js'
import {
  assertCliBuilt,
  exportForPlayer,
  fixtures,
  repoRoot,
  runMain,
  startCli,
} from './helpers.js'

const FIS = join(fixtures, 'fis')
const WORKSHOP_TEMPLATE = join(FIS, 'workshop-template.json')
const WORKSHOP_DOCUMENT = join(FIS, 'FisWorkshopPutParameterShim.yaml')

/** The workshop's parameter as its SAM template creates it. */
const WORKSHOP_BEFORE =
  '{"is_enabled":false,"fault_type":"latency","delay":400,"error_code":404,"exception_msg":"Fault injected by chaos-lambda","rate":1}'
/** A distinctive pre-experiment value: the restore must bring exactly this back. */
const BEFORE = '{"is_enabled":false,"fault_type":"latency","delay":50,"rate":0.25,"note":"mine"}'

let dir: string
let moto: string
let ssm: SSMClient
let count = 0
beforeAll(async () => {
  moto = inject('motoEndpoint')
  ssm = new SSMClient({ endpoint: moto, region: 'us-east-1' })
  dir = await mkdtemp(join(tmpdir(), 'middy-chaos-fis-'))
})
afterAll(async () => {
  ssm.destroy()
  await rm(dir, { recursive: true, force: true })
})

/** A fresh SSM parameter on moto holding `value`. */
const ssmParameter = async (value?: string) => {
  const name = `/middy-chaos/fis-test/${Date.now()}-${++count}`
  if (value !== undefined)
    await ssm.send(new PutParameterCommand({ Name: name, Value: value, Type: 'String' }))
  return name
}
const ssmHistory = async (name: string) => {
  const { Parameters = [] } = await ssm.send(new GetParameterHistoryCommand({ Name: name }))
  return Parameters.map((p) => ({
    value: p.Value ?? '',
    modifiedAt: p.LastModifiedDate?.toISOString(),
    label: undefined as string | undefined,
  }))
}

/** The config a value sets, without its stamp. */
const withoutStamp = (value: string) => {
  const { expiresAt: _, ...rest } = JSON.parse(value) as Record<string, unknown>
  return rest
}
/** Consecutive equal entries once: a renewal rewrites the same config. */
const distinct = <T>(items: T[]) =>
  items.filter((item, index) => JSON.stringify(item) !== JSON.stringify(items[index - 1]))

const LATENCY = '{"is_enabled":true,"fault_type":"latency","delay":400,"rate":1}'
const STATUS_503 = '{"is_enabled":true,"fault_type":"status_code","error_code":503,"rate":1}'
const OFF = '{"is_enabled":false,"fault_type":"latency","delay":400,"rate":1}'
const step = (name: string, set?: string, waitMs?: number) => ({
  name,
  ...(set === undefined ? {} : { set }),
  ...(waitMs === undefined ? {} : { waitMs }),
  turnsFaultsOn: set !== undefined && turnsFaultsOn(set, FAULTS),
})
/** Latency, a wait-only step (it renews the latency), status code, off: one minute each. */
const EXPERIMENT: FisExperiment = {
  name: 'workshop-runbook',
  steps: [
    step('latency', LATENCY, 60_000),
    step('hold on', undefined, 60_000),
    step('status code', STATUS_503, 60_000),
    step('off', OFF),
  ],
}
/** The values the runbook writes, in order, without their stamps. */
const RUNBOOK_VALUES = [BEFORE, LATENCY, STATUS_503, OFF, BEFORE].map((v) => JSON.parse(v))
const DOCUMENT_NAME = 'middy-chaos-workshop'

type Json = Record<string, unknown>
type Runbook = {
  mainSteps: (Json & { inputs: Json & { InputPayload: Record<string, string> } })[]
}
type Action = Json & { parameters: Record<string, string> }
const action = (template: Json, name: string) =>
  (template.actions as Record<string, Action>)[name] as Action

/**
 * The runbook and the FIS template that `@middy-chaos/fis` generates (what
 * `middy-chaos experiment export` writes), as files: the template as
 * `aws fis get-experiment-template` prints it, the runbook named after its
 * document.
 */
const generated = async (
  edit: { template?: (template: Json) => void; runbook?: (runbook: Runbook) => void } = {},
  experiment: FisExperiment = EXPERIMENT,
  format: RunbookFormat = 'JSON',
) => {
  const runbook = JSON.parse(JSON.stringify(buildRunbook(experiment, { format }))) as Runbook
  const input = buildFisJson(experiment, {
    documentArn: `arn:aws:ssm:us-east-1:123456789012:document/${DOCUMENT_NAME}`,
    automationRoleArn: 'arn:aws:iam::123456789012:role/middy-chaos-automation',
    fisRoleArn: 'arn:aws:iam::123456789012:role/middy-chaos-fis',
    parameterName: '/chaos/hello',
    logGroupArn: 'arn:aws:logs:us-east-1:123456789012:log-group:/middy-chaos/experiments:*',
  })
  const template: Json = {
    id: 'EXT9z8y7x6w5v4u3t2',
    arn: 'arn:aws:fis:us-east-1:123456789012:experiment-template/EXT9z8y7x6w5v4u3t2',
    ...(JSON.parse(JSON.stringify(input)) as Json),
    creationTime: '2026-12-01T12:00:00.000000+00:00',
    lastUpdateTime: '2026-12-01T12:00:00.000000+00:00',
  }
  edit.template?.(template)
  edit.runbook?.(runbook)
  const files = join(dir, `generated-${++count}`)
  await mkdir(files)
  const paths = {
    template: join(files, 'template.json'),
    document: join(files, `${DOCUMENT_NAME}.${format.toLowerCase()}`),
  }
  await writeFile(paths.template, JSON.stringify({ experimentTemplate: template }, null, 4))
  await writeFile(paths.document, runbookContent(runbook as unknown as RunbookDocument, format))
  return paths
}
/** Changes the runbook's `LeaseTtlSeconds` in the template's documentParameters. */
const leaseTtl = (seconds: number) => (template: Json) => {
  const { parameters } = action(template, 'RunExperiment')
  parameters.documentParameters = JSON.stringify({
    ...JSON.parse(parameters.documentParameters ?? '{}'),
    LeaseTtlSeconds: String(seconds),
  })
}
const planOf = async ({ template, document }: { template: string; document: string }) =>
  planFisExperiment(await loadFisTemplate(template), [await loadAutomationDocument(document)])
const runbookPlan = async () => planOf(await generated())
const runArgs = (files: { template: string; document: string }) => [
  'experiment',
  'run',
  '--fis-template',
  files.template,
  '--document',
  files.document,
]

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

/** The store of a runbook test, on both sides, with `BEFORE` in it (or nothing). */
const stores = {
  file: async ({ empty = false } = {}) => {
    const param = join(dir, `config-${++count}.json`)
    if (!empty) await writeFileValue(param, BEFORE, { label: 'setup' })
    const store = new FileStore(param)
    return {
      store,
      args: ['--store', 'file', '--param', param],
      history: async () =>
        (await readFileHistory(param)).map((entry) => ({
          value: entry.value,
          modifiedAt: entry.modifiedAt,
          label: entry.label,
        })),
    }
  },
  ssm: async ({ empty = false } = {}) => {
    const name = await ssmParameter(empty ? undefined : BEFORE)
    const store = new SsmStore(name, { endpoint: moto, region: 'us-east-1' })
    return {
      store,
      args: ['--store', 'ssm', '--param', name, '--endpoint', moto],
      history: () => ssmHistory(name),
    }
  },
}

const readLease = async (store: ConfigStore) => parseLease(await store.readCompanion(LEASE_SUFFIX))

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
    for (const entry of entries) {
      const { is_enabled, expiresAt } = JSON.parse(entry.value) as Record<string, unknown>
      if (is_enabled !== true) {
        expect(expiresAt).toBeUndefined()
        continue
      }
      const ahead = Date.parse(String(expiresAt)) - Date.parse(entry.modifiedAt ?? '')
      expect(ahead).toBeGreaterThan(EXPIRY_GRACE_SECONDS * 1000 - 1_000)
      expect(ahead).toBeLessThanOrEqual(EXPIRY_GRACE_SECONDS * 1000 + 1_500)
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
    const files = join(dir, `exported-${++count}`)
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

describe('the generated runbook, renewing', () => {
  it('renews the lease and the stamp every third of the TTL, and a wait-only step renews the value in force', async () => {
    // Prepare: LeaseTtlSeconds 3 (renewed every second), holds of 1.2 s
    const { store, history } = await stores.file()
    const leases: string[] = []
    const files = await generated({ template: leaseTtl(3) })

    // Act
    await playFisExperiment(await planOf(files), {
      store,
      timing: { waitMs: 1200 },
      onEvent: (event) => {
        if (event.type === 'automation' && event.event.type === 'write')
          void store.readCompanion(LEASE_SUFFIX).then((text) => text && leases.push(text))
      },
    })

    // Assess: S02_hold_on sets nothing, and rewrites the latency with a fresh stamp each second
    const held = (await history()).filter(
      (entry) => entry.label === 'experiment workshop-runbook: S02_hold_on',
    )
    // At its start, then at least once a second later (a slow store may leave time for no more).
    expect(held.length).toBeGreaterThanOrEqual(2)
    const stamps = held.map((entry) => {
      expect(withoutStamp(entry.value)).toEqual(JSON.parse(LATENCY))
      const expiresAt = Date.parse(String(JSON.parse(entry.value).expiresAt))
      expect(expiresAt - Date.parse(entry.modifiedAt)).toBeGreaterThan(2_000)
      expect(expiresAt - Date.parse(entry.modifiedAt)).toBeLessThanOrEqual(3_100)
      return expiresAt
    })
    expect(stamps).toEqual([...stamps].sort((a, b) => a - b))
    expect(new Set(stamps).size).toBe(stamps.length)
    // The lease is renewed with the value: its expiry moves on
    const expiries = leases.map((text) => parseLease(text)?.expiresAt)
    expect(new Set(expiries).size).toBeGreaterThanOrEqual(3)
  })
})

describe('the generated runbook, capping its stamps', () => {
  it("stamps every write of a hold with the hold's planned end plus GraceSeconds, renewals too; the lease one TTL ahead", async () => {
    // Prepare: LeaseTtlSeconds 3 (renewed every second), holds of 2 s, GraceSeconds 0.5
    const { store, history } = await stores.file()
    const leases: string[] = []
    const files = await generated(
      {
        template: leaseTtl(3),
        runbook: (runbook) => {
          for (const step of runbook.mainSteps)
            if ('HoldSeconds' in step.inputs.InputPayload)
              step.inputs.InputPayload.GraceSeconds = '0.5'
        },
      },
      { name: 'capped', steps: [step('latency', LATENCY), step('hold on', undefined, 60_000)] },
    )
    const holds = new Map<string, { startedAt: number; endedAt?: number }>()

    // Act
    await playFisExperiment(await planOf(files), {
      store,
      timing: { waitMs: 2000 },
      onEvent: (event) => {
        if (event.type !== 'automation') return
        const { event: inner } = event
        if (inner.type === 'write')
          void store.readCompanion(LEASE_SUFFIX).then((text) => text && leases.push(text))
        else if (inner.state === 'running') holds.set(inner.step.name, { startedAt: Date.now() })
        else {
          const hold = holds.get(inner.step.name)
          if (hold) hold.endedAt = Date.now()
        }
      },
    })

    // Assess: S02_hold_on renews the latency each second, always with the same stamp:
    // between its start + 2.5 s and its end + 0.5 s, sooner than now + 3 s
    const held = (await history()).filter(
      (entry) => entry.label === 'experiment capped: S02_hold_on',
    )
    expect(held.length).toBeGreaterThanOrEqual(2)
    const stamps = new Set(
      held.map((entry) => Date.parse(String(JSON.parse(entry.value).expiresAt))),
    )
    expect(stamps.size).toBe(1)
    const [stamp = 0] = stamps
    const hold = holds.get('S02_hold_on')
    expect(stamp).toBeGreaterThanOrEqual((hold?.startedAt ?? 0) + 2_500)
    expect(stamp).toBeLessThanOrEqual((hold?.endedAt ?? 0) + 500)
    // The lease is renewed one TTL ahead each round: its expiry moves on
    const expiries = leases.map((text) => parseLease(text)?.expiresAt)
    expect(new Set(expiries).size).toBeGreaterThanOrEqual(3)
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

describe('the cancel window', () => {
  it('cuts a Restore that outlasts it, as SSM ends a cancel workflow: nothing runs after, the lease is left to expire', async () => {
    // Prepare: moto behind a proxy that stops answering once Restore starts; a window of 300 ms
    const name = await ssmParameter(BEFORE)
    let stalled = false
    let held = 0
    const proxy = createServer((request, response) => {
      if (stalled) {
        held++
        return
      }
      const chunks: Buffer[] = []
      request.on('data', (chunk: Buffer) => chunks.push(chunk))
      request.on('end', () => {
        void fetch(`${moto}${request.url ?? '/'}`, {
          method: request.method ?? 'POST',
          headers: Object.fromEntries(
            Object.entries(request.headers).flatMap(([key, value]) =>
              typeof value === 'string' && key !== 'host' ? [[key, value]] : [],
            ),
          ),
          body: Buffer.concat(chunks),
        }).then(async (answer) => {
          const headers = Object.fromEntries(
            [...answer.headers].filter(
              ([key]) => !/^(content-encoding|transfer-encoding)$/.test(key),
            ),
          )
          response.writeHead(answer.status, headers)
          response.end(Buffer.from(await answer.arrayBuffer()))
        })
      })
    })
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
    const { port } = proxy.address() as { port: number }
    const store = new SsmStore(name, { endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1' })
    const document = parseAutomationDocument(
      JSON.parse(JSON.stringify(buildRunbook(EXPERIMENT))),
      DOCUMENT_NAME,
    )
    const cancel = new AbortController()
    const ran: string[] = []

    // Act: cancelled once S02_hold_on has renewed the latency; Restore's calls then hang
    const result = await runAutomation({
      document,
      parameters: resolveParameters(document, {
        AutomationAssumeRole: 'arn:aws:iam::123456789012:role/middy-chaos-automation',
        ParameterName: name,
        LeaseTtlSeconds: '60',
      }),
      executionId: 'exec-cut',
      store,
      parameterName: name,
      globals: { account: '123456789012', region: 'us-east-1', partition: 'aws' },
      faults: FAULTS,
      label: 'test',
      cancel: cancel.signal,
      timing: { waitMs: 200 },
      cancelWindowMs: 300,
      onEvent: (event) => {
        if (event.type === 'write' && event.step.name === 'S02_hold_on') cancel.abort()
        if (event.type !== 'step') return
        if (event.state === 'running' && event.step.name === 'Restore') stalled = true
        if (event.state !== 'running') ran.push(`${event.step.name} ${event.state}`)
      },
    })
    proxy.closeAllConnections()
    proxy.close()

    // Assess: cut at the window, not at Restore's own timeout, and nothing after it
    expect(ran).toEqual([
      'AcquireLease Success',
      'S01_latency Success',
      'S02_hold_on Cancelled',
      'Restore Failed',
    ])
    expect(result.status).toBe('Cancelled')
    expect(result.failure).toMatchObject({
      step: 'Restore',
      error: 'the cancel workflow ran out of its 0.3 s (SSM ends it there)',
    })
    expect(held).toBe(1)
    // Not restored: the lease stays, and the value in force expires by itself (the dead-man's expiry).
    const lease = parseLease(
      (await ssm.send(new GetParameterCommand({ Name: `${name}.lease` }))).Parameter?.Value,
    )
    expect(lease?.id).toBe('exec-cut')
    const now = (await ssm.send(new GetParameterCommand({ Name: name }))).Parameter?.Value ?? ''
    expect(withoutStamp(now)).toEqual(JSON.parse(LATENCY))
    expect(Date.parse(String(JSON.parse(now).expiresAt))).toBeGreaterThan(Date.now())
    await ssm.send(new DeleteParameterCommand({ Name: `${name}.lease` }))
    // The window played is SSM's two minutes, and the generated Restore fits in half of it.
    expect(CANCEL_WORKFLOW_MS).toBe(CANCEL_WINDOW_SECONDS * 1000)
    expect(RESTORE_TIMEOUT_SECONDS * RESTORE_MAX_ATTEMPTS * 1000).toBeLessThanOrEqual(
      CANCEL_WORKFLOW_MS / 2,
    )
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
})

describe('the Automation interpreter', () => {
  const document = (mainSteps: unknown[]) =>
    parseAutomationDocument(
      {
        schemaVersion: '0.3',
        parameters: {
          Name: { type: 'String', default: 'cfg' },
          Value: { type: 'String' },
        },
        mainSteps,
      },
      'Interpreter',
    )
  const run = async (steps: unknown[], cancel?: AbortSignal) => {
    const param = join(dir, `interpreter-${++count}.json`)
    await writeFileValue(param, BEFORE)
    const events: AutomationEvent[] = []
    const result = await runAutomation({
      document: document(steps),
      parameters: { Name: 'cfg', Value: '{"is_enabled":true,"fault_type":"latency","delay":1}' },
      executionId: 'exec-1',
      store: new FileStore(param),
      parameterName: 'cfg',
      globals: { account: '123456789012', region: 'us-east-1', partition: 'aws' },
      faults: FAULTS,
      label: 'test',
      ...(cancel ? { cancel } : {}),
      onEvent: (event) => events.push(event),
    })
    const ran = events.flatMap((event) =>
      event.type === 'step' && event.state !== 'running'
        ? [`${event.step.name} ${event.state}`]
        : [],
    )
    return { result, ran, history: (await readFileHistory(param)).map((e) => e.value) }
  }
  const api = (name: string, Api: string, inputs: Record<string, unknown>, more = {}) => ({
    name,
    action: 'aws:executeAwsApi',
    inputs: { Service: 'ssm', Api, Name: '{{ Name }}', ...inputs },
    ...more,
  })

  it('passes outputs on ({{ Read.Before }}), follows nextStep, and on failure goes to the onFailure step, which ends it', async () => {
    // Act
    const { result, ran, history } = await run([
      api(
        'Read',
        'GetParameter',
        {},
        {
          outputs: [
            { Name: 'Before', Selector: '$.Parameter.Value', Type: 'String' },
            { Name: 'Version', Selector: '$.Parameter.Version', Type: 'Integer' },
          ],
        },
      ),
      api(
        'Write',
        'PutParameter',
        { Value: '{{ Value }}', Overwrite: true },
        { nextStep: 'Clash' },
      ),
      api('Skipped', 'DeleteParameter', {}),
      api(
        'Clash',
        'PutParameter',
        { Value: 'v{{ Read.Version }}' },
        { onFailure: 'step:Rollback' },
      ),
      api(
        'Rollback',
        'PutParameter',
        { Value: '{{ Read.Before }}', Overwrite: true },
        { isEnd: true },
      ),
      { name: 'Never', action: 'aws:sleep', inputs: { Duration: 'PT1H' } },
    ])

    // Assess
    expect(ran).toEqual(['Read Success', 'Write Success', 'Clash Failed', 'Rollback Success'])
    expect(result.status).toBe('Failed')
    expect(result.failure?.step).toBe('Clash')
    expect(result.failure?.error).toMatch(/^ParameterAlreadyExists: /)
    expect(result.outputs.get('Read.Version')).toBe(1)
    expect(history).toEqual([
      BEFORE,
      '{"is_enabled":true,"fault_type":"latency","delay":1}',
      BEFORE,
    ])
  })

  it('goes on after a failed step with onFailure Continue, and the execution succeeds', async () => {
    const { result, ran } = await run([
      api('Clash', 'PutParameter', { Value: 'x' }, { onFailure: 'Continue' }),
      { name: 'Nap', action: 'aws:sleep', inputs: { Duration: 'PT0S' } },
    ])
    expect(ran).toEqual(['Clash Failed', 'Nap Success'])
    expect(result.status).toBe('Success')
  })

  it('cancelled during aws:sleep, runs the onCancel step and ends Cancelled', async () => {
    // Prepare
    const cancel = new AbortController()
    setTimeout(() => cancel.abort(), 100)

    // Act
    const { result, ran, history } = await run(
      [
        api('Write', 'PutParameter', { Value: '{{ Value }}', Overwrite: true }),
        {
          name: 'Hold',
          action: 'aws:sleep',
          inputs: { Duration: 'PT1H' },
          onCancel: 'step:Rollback',
        },
        api('Skipped', 'DeleteParameter', {}),
        api('Rollback', 'PutParameter', { Value: BEFORE, Overwrite: true }, { isEnd: true }),
      ],
      cancel.signal,
    )

    // Assess
    expect(ran).toEqual(['Write Success', 'Hold Cancelled', 'Rollback Success'])
    expect(result.status).toBe('Cancelled')
    expect(history.at(-1)).toBe(BEFORE)
  })
})

describe('startAfter', () => {
  it('starts an action as soon as all its predecessors completed, and the others in parallel', async () => {
    // Prepare
    const wait = (startAfter?: string[]) => ({
      actionId: 'aws:fis:wait',
      parameters: { duration: 'PT1M' },
      ...(startAfter ? { startAfter } : {}),
    })
    const template = parseFisTemplate({
      actions: { A: wait(), B: wait(), C: wait(['A', 'B']), D: wait(['A']) },
      stopConditions: [{ source: 'none' }],
    })
    const starts: Record<string, number> = {}

    // Act
    const result = await playFisExperiment(planFisExperiment(template, []), {
      store: new FileStore(join(dir, 'untouched.json')),
      timing: { waitMs: 300 },
      onEvent: (event) => {
        if (event.type === 'action' && event.state === 'running')
          starts[event.action.name] = event.elapsedMs
      },
    })

    // Assess
    expect(result.outcome).toBe('completed')
    expect(starts.A).toBeLessThan(100)
    expect(starts.B).toBeLessThan(100)
    expect(starts.C).toBeGreaterThanOrEqual(290)
    expect(starts.D).toBeGreaterThanOrEqual(290)
    expect(Math.abs((starts.C ?? 0) - (starts.D ?? 0))).toBeLessThan(100)
    expect(existsSync(join(dir, 'untouched.json'))).toBe(false)
  })
})

describe('what the player cannot play is refused by name, before anything runs', () => {
  const refused = async (
    edit: { template?: (template: Json) => void; runbook?: (runbook: Runbook) => void },
    pattern: RegExp,
  ) => {
    const files = await generated(edit)
    const param = join(dir, `refused-${++count}.json`)
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
