/**
 * The lease, the dead-man's expiry and the input bounds, in-process against the
 * file store and moto's SSM: one experiment per parameter, the pre-experiment
 * value kept in the lease, stale leases taken over once (at once when their
 * holder's process on this host is gone), every stamp capped at its step's
 * planned end plus the grace.
 */

import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  DescribeParametersCommand,
  GetParameterCommand,
  PutParameterCommand,
  SSMClient,
} from '@aws-sdk/client-ssm'
import { readFileHistory, writeFileValue } from '@middy-chaos/core'
import { EXPIRY_GRACE_MS, parseExperiment, stampExpiry, valueExpiry } from '@middy-chaos/experiment'
import {
  acquireLease,
  LEASE_SUFFIX,
  LeaseHeldError,
  type LeaseRecord,
  parseLease,
  staleReason,
} from '@middy-chaos/fis/local'
import { afterAll, afterEach, beforeAll, describe, expect, inject, it, vi } from 'vitest'
import { stampWindows } from '../../../test/helpers/stamps.js'
import { recoverStaleLease, runExperiment } from '../src/runner/run.js'
import { FileStore, SsmStore } from '../src/stores/index.js'
import { runMain } from './helpers.js'

const BEFORE = '{"is_enabled":false,"fault_type":"latency","delay":400,"rate":1}'
const LATENCY = { is_enabled: true, fault_type: 'latency', delay: 400, rate: 1 }

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'middy-chaos-lease-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})
let count = 0
const fileStore = async (value: string | undefined = BEFORE) => {
  const path = join(dir, `config-${++count}.json`)
  if (value !== undefined) await writeFileValue(path, value, { label: 'setup' })
  return new FileStore(path)
}

/** A lease left by a runner that died: past its time, on another host. */
const staleLease = (original: LeaseRecord['original']): LeaseRecord => ({
  id: 'dead-run',
  experiment: 'crashed',
  host: 'another-host',
  pid: 4242,
  since: new Date(Date.now() - 600_000).toISOString(),
  expiresAt: new Date(Date.now() - 300_000).toISOString(),
  ...(original === undefined ? {} : { original }),
})

const experiment = (wait = '50ms') =>
  parseExperiment({
    name: 'lease-test',
    steps: [
      { name: 'S01', set: LATENCY },
      { name: 'S02', wait },
    ],
  })

describe('the lease', () => {
  it('refuses a second run at once, naming the holder, and changes nothing', async () => {
    // Prepare
    const store = await fileStore()
    const first = await acquireLease(store, { experiment: 'first', ttlMs: 60_000 })
    await first.recordOriginal(await store.read())

    // Act
    const second = acquireLease(store, { experiment: 'second', ttlMs: 60_000 })

    // Assess
    const error = await second.then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(LeaseHeldError)
    expect((error as LeaseHeldError).exitCode).toBe(5)
    expect((error as Error).message).toMatch(
      new RegExp(
        `is held by experiment first \\(host ${hostname()}, pid ${process.pid}, since \\S+, expires in \\d+ s\\)`,
      ),
    )
    expect(await readFile(store.parameter, 'utf8')).toBe(BEFORE)
    expect(await readFileHistory(store.parameter)).toHaveLength(1)
  })

  it('lets exactly one of two runs started at once run, on the file store and on SSM', async () => {
    const ssm = new SSMClient({ endpoint: inject('motoEndpoint'), region: 'us-east-1' })
    const name = `/middy-chaos/lease-test/${Date.now()}`
    await ssm.send(new PutParameterCommand({ Name: name, Value: BEFORE, Type: 'String' }))
    const stores = [await fileStore(), new SsmStore(name, { client: ssm })]
    for (const store of stores) {
      for (let round = 0; round < 5; round++) {
        // Act
        const runs = await Promise.allSettled([
          runExperiment(experiment(), store, { leaseTtlMs: 5_000 }),
          runExperiment(experiment(), store, { leaseTtlMs: 5_000 }),
        ])

        // Assess
        expect(runs.filter((run) => run.status === 'fulfilled')).toHaveLength(1)
        const refused = runs.find((run) => run.status === 'rejected')
        expect(refused?.status === 'rejected' && refused.reason).toBeInstanceOf(LeaseHeldError)
        expect((await store.read())?.value).toBe(BEFORE)
        expect(await store.readCompanion(LEASE_SUFFIX)).toBeUndefined()
      }
    }
  })

  it('stamps every value that turns faults on with an expiry one TTL ahead', async () => {
    const store = await fileStore()
    const seen: string[] = []
    await runExperiment(experiment('2500ms'), store, {
      leaseTtlMs: 2_000,
      onEvent: (event) => {
        if (event.type === 'written') void store.read().then((v) => seen.push(v?.value ?? ''))
      },
    })
    const history = await readFileHistory(store.parameter)
    const stamped = history.filter((entry) => entry.label?.endsWith('S01'))
    // The step's write, and its renewals every third of the TTL.
    expect(stamped.length).toBeGreaterThanOrEqual(3)
    for (const entry of stamped) expect(JSON.parse(entry.value)).toMatchObject(LATENCY)
    // Each stamped afresh (no two alike), one TTL ahead of the moment it was written, by the
    // store's own version times: after the version before it, no later than its own
    const windows = stampWindows(history, 2_000)
    expect(windows.map(({ version }) => version)).toEqual(stamped)
    expect(new Set(windows.map(({ stampedAt }) => stampedAt)).size).toBe(stamped.length)
    for (const { stampedAt, after, written } of windows) {
      expect(stampedAt).toBeGreaterThanOrEqual(after)
      expect(stampedAt).toBeLessThanOrEqual(written)
    }
    expect(history.at(-1)?.value).toBe(BEFORE)
  })

  it('refuses a stale lease without --takeover, saying so', async () => {
    const store = await fileStore('{"is_enabled":true,"fault_type":"exception"}')
    await store.createCompanion(
      LEASE_SUFFIX,
      JSON.stringify(staleLease({ value: BEFORE, version: 1 })),
    )
    await expect(runExperiment(experiment(), store)).rejects.toThrow(
      /has a stale lease from experiment crashed \(host another-host, pid 4242.*--takeover/,
    )
    expect(await readFile(store.parameter, 'utf8')).toBe(
      '{"is_enabled":true,"fault_type":"exception"}',
    )
  })

  it('takes a stale lease over and restores the value it recorded, never the chaos value it finds', async () => {
    // Prepare: the dead run's chaos value is in force; its lease recorded BEFORE.
    const chaos = '{"is_enabled":true,"fault_type":"exception","expiresAt":"2026-01-01T00:00:00Z"}'
    const store = await fileStore(chaos)
    await store.createCompanion(
      LEASE_SUFFIX,
      JSON.stringify(staleLease({ value: BEFORE, version: 1 })),
    )

    // Act
    const result = await runExperiment(experiment(), store, { takeover: true })

    // Assess
    expect(result.lease.tookOver).toBe('dead-run')
    expect(result.restore).toMatchObject({ action: 'restored', value: BEFORE })
    expect(await readFile(store.parameter, 'utf8')).toBe(BEFORE)
    expect(await store.readCompanion(LEASE_SUFFIX)).toBeUndefined()
  })

  it('lets one of two takeovers of the same stale lease win', async () => {
    const store = await fileStore('{"is_enabled":true,"fault_type":"exception"}')
    await store.createCompanion(
      LEASE_SUFFIX,
      JSON.stringify(staleLease({ value: BEFORE, version: 1 })),
    )
    const takers = await Promise.allSettled([
      acquireLease(store, { experiment: 'a', ttlMs: 60_000, takeover: true }),
      acquireLease(store, { experiment: 'b', ttlMs: 60_000, takeover: true }),
    ])
    expect(takers.filter((t) => t.status === 'fulfilled')).toHaveLength(1)
  })

  it('recover restores the value of a stale lease, and deletes a parameter that did not exist', async () => {
    const store = await fileStore('{"is_enabled":true,"fault_type":"exception"}')
    await store.createCompanion(
      LEASE_SUFFIX,
      JSON.stringify(staleLease({ value: BEFORE, version: 1 })),
    )
    const { stale, restore } = await recoverStaleLease(store)
    expect(stale?.experiment).toBe('crashed')
    expect(restore.action).toBe('restored')
    expect(await readFile(store.parameter, 'utf8')).toBe(BEFORE)

    const absent = await fileStore('{"is_enabled":true,"fault_type":"exception"}')
    await absent.createCompanion(LEASE_SUFFIX, JSON.stringify(staleLease(null)))
    expect((await recoverStaleLease(absent)).restore.action).toBe('deleted')
    await expect(readFile(absent.parameter, 'utf8')).rejects.toThrow(/ENOENT/)
  })

  it('status shows a live lease and a stale one', async () => {
    const store = await fileStore()
    const live = await acquireLease(store, { experiment: 'live-one', ttlMs: 60_000 })
    const shown = await runMain(['status', '--param', store.parameter])
    expect(shown.stdout).toMatch(/lease\s+held by experiment live-one \(host .*expires in/)
    await live.release()
    await store.createCompanion(LEASE_SUFFIX, JSON.stringify(staleLease(null)))
    const stale = await runMain(['status', '--param', store.parameter])
    expect(stale.stdout).toMatch(/lease\s+STALE held by experiment crashed .*--takeover/)
  })
})

describe('the expiry cap', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('is one lease TTL ahead, never past the planned end of the step plus the grace', () => {
    expect(EXPIRY_GRACE_MS).toBe(2_000)
    expect(valueExpiry(1_000, 60_000, 9_000)).toBe(11_000)
    expect(valueExpiry(1_000, 3_000, 9_000)).toBe(4_000)
    // A step that waits for nothing has no end: one TTL.
    expect(valueExpiry(1_000, 60_000, undefined)).toBe(61_000)
  })

  /** The expiresAt of each write of a run's history, by the step its label names. */
  const stampsByStep = async (store: FileStore) => {
    const stamps = new Map<string, number[]>()
    for (const entry of await readFileHistory(store.parameter)) {
      const step = /: (S\d+_\w+)$/.exec(entry.label ?? '')?.[1]
      const expiresAt = (JSON.parse(entry.value) as { expiresAt?: string }).expiresAt
      if (step === undefined || expiresAt === undefined) continue
      stamps.set(step, [...(stamps.get(step) ?? []), Date.parse(expiresAt)])
    }
    return stamps
  }

  it("stamps each step's writes and renewals with min(now + lease TTL, the step's planned end + grace)", async () => {
    // Prepare: the clock stands at T0 for the whole run (timers still run), so every "now" is T0
    vi.useFakeTimers({ toFake: ['Date'] })
    const t0 = Date.now()
    const store = await fileStore()
    const ttl = 6_000 // renewed every 2 s
    const leases: string[] = []
    const run = parseExperiment({
      name: 'cap',
      steps: [
        // Waits for nothing: one TTL.
        { name: 'S01_Set', set: LATENCY },
        // Renews the value in force at once, and every 2 s: capped at its end, 3.5 s, + grace.
        { name: 'S02_Hold', wait: '3500ms' },
        // A value and a wait: capped at 300 ms + grace.
        { name: 'S03_SetHold', set: { ...LATENCY, delay: 50 }, wait: '300ms' },
        { name: 'S04_Off', set: JSON.parse(BEFORE) },
      ],
    })

    // Act
    const result = await runExperiment(run, store, {
      leaseTtlMs: ttl,
      onEvent: (event) => {
        if (event.type === 'step' && event.state === 'done')
          void store.readCompanion(LEASE_SUFFIX).then((text) => text && leases.push(text))
      },
    })

    // Assess: S02 renews S01's value (its history label), so the S01 entries after the first are S02's
    const stamps = await stampsByStep(store)
    const [written, ...renewed] = stamps.get('S01_Set') ?? []
    expect(written).toBe(t0 + ttl)
    // The renewal at S02's start, then at least one every third of the TTL: all with the same cap.
    expect(renewed.length).toBeGreaterThanOrEqual(2)
    expect(new Set(renewed)).toEqual(new Set([t0 + 3_500 + EXPIRY_GRACE_MS]))
    expect(new Set(stamps.get('S03_SetHold'))).toEqual(new Set([t0 + 300 + EXPIRY_GRACE_MS]))
    expect(stamps.has('S04_Off')).toBe(false)
    // The lease itself is renewed one TTL ahead: it outlives the step, for the restore and recover.
    expect(leases.length).toBeGreaterThan(0)
    for (const text of leases) expect(Date.parse(parseLease(text)?.expiresAt ?? '')).toBe(t0 + ttl)
    expect(result.restore.action).toBe('restored')
  })

  it('keeps one lease TTL when it comes before the end of the step plus the grace', async () => {
    // Prepare
    vi.useFakeTimers({ toFake: ['Date'] })
    const t0 = Date.now()
    const store = await fileStore()

    // Act: a 300-ms step with a 2-s TTL: 300 ms + grace is later
    await runExperiment(
      parseExperiment({
        name: 'ttl',
        steps: [{ name: 'S01_SetHold', set: LATENCY, wait: '300ms' }],
      }),
      store,
      { leaseTtlMs: 2_000 },
    )

    // Assess
    expect((await stampsByStep(store)).get('S01_SetHold')).toEqual([t0 + 2_000])
  })
})

describe('a lease whose holder is provably gone', () => {
  /** The pid of a process of this host that has ended. */
  const endedPid = async (): Promise<number> => {
    const child = spawn(process.execPath, ['-e', ''])
    await once(child, 'exit')
    return child.pid as number
  }
  /** A lease that expires in 55 s: any refusal or takeover here is not about its expiry. */
  const unexpired = (host: string, pid: number): LeaseRecord => ({
    id: 'the-holder',
    experiment: 'holder',
    host,
    pid,
    since: new Date(Date.now() - 5_000).toISOString(),
    expiresAt: new Date(Date.now() + 55_000).toISOString(),
    original: { value: BEFORE, version: 1 },
  })
  const CHAOS = '{"is_enabled":true,"fault_type":"exception"}'

  it('is stale at once, before its expiry, when its process on this host is gone: recover restores, --takeover takes it', async () => {
    // Prepare
    const pid = await endedPid()
    const lease = unexpired(hostname(), pid)
    const recovered = await fileStore(CHAOS)
    await recovered.createCompanion(LEASE_SUFFIX, JSON.stringify(lease))
    const taken = await fileStore(CHAOS)
    await taken.createCompanion(LEASE_SUFFIX, JSON.stringify(lease))

    // Act
    const status = await runMain(['status', '--param', recovered.parameter])
    const recover = await runMain(['recover', '--param', recovered.parameter])
    const takeover = await runExperiment(experiment(), taken, { takeover: true })

    // Assess
    expect(staleReason(lease)).toBe(`its process ${pid} on this host is gone`)
    expect(status.stdout).toContain(
      `lease    STALE held by experiment holder (host ${hostname()}, pid ${pid}`,
    )
    expect(status.stdout).toContain(
      `: its runner is gone (its process ${pid} on this host is gone); middy-chaos recover writes back the value it recorded (experiment run --takeover does too, at the end of its own run)`,
    )
    expect(recover.code).toBe(0)
    expect(recover.stdout).toContain(`Took over the stale lease of experiment holder`)
    expect(await readFile(recovered.parameter, 'utf8')).toBe(BEFORE)
    expect(await recovered.readCompanion(LEASE_SUFFIX)).toBeUndefined()
    expect(takeover.lease.tookOver).toBe('the-holder')
    expect(await readFile(taken.parameter, 'utf8')).toBe(BEFORE)
  })

  it.each([
    [
      'alive on this host',
      () => unexpired(hostname(), process.pid),
      `its process ${process.pid} on this host is alive: recover and --takeover can take the lease over once it has ended`,
    ],
    [
      'on another host, before its expiry',
      () => unexpired('another-host', 4242),
      'its holder runs on host another-host: recover and --takeover can take the lease over once it has expired',
    ],
  ])(
    'is refused while its holder is %s: exit 5, saying when recover and --takeover can',
    async (_, lease, when) => {
      // Prepare
      const store = await fileStore(CHAOS)
      const held = lease()
      await store.createCompanion(LEASE_SUFFIX, JSON.stringify(held))

      // Act
      const recover = await runMain(['recover', '--param', store.parameter])
      const takeover = runExperiment(experiment(), store, { takeover: true })

      // Assess
      expect(staleReason(held)).toBeUndefined()
      expect(recover.code).toBe(5)
      expect(recover.stderr).toBe(
        `middy-chaos: file:${store.parameter} is held by experiment holder (host ${held.host}, pid ${held.pid}, since ${held.since}, expires in 55 s): one experiment per parameter; nothing was changed (${when})\n`,
      )
      await expect(takeover).rejects.toThrow(when)
      expect(await readFile(store.parameter, 'utf8')).toBe(CHAOS)
    },
  )
})

describe('the dead-man stamp', () => {
  const at = Date.parse('2026-12-01T12:00:00Z')

  it("adds expiresAt to the workshop's value, keeping its shape for chaos_lambda", () => {
    expect(stampExpiry(JSON.stringify(LATENCY), at)).toBe(
      '{"is_enabled":true,"fault_type":"latency","delay":400,"rate":1,"expiresAt":"2026-12-01T12:00:00.000Z"}',
    )
  })

  it('keeps an earlier expiry of the value, and leaves values that turn nothing on alone', () => {
    const sooner = { ...LATENCY, expiresAt: '2026-12-01T11:00:00Z' }
    expect(JSON.parse(stampExpiry(JSON.stringify(sooner), at)).expiresAt).toBe(
      '2026-12-01T11:00:00.000Z',
    )
    expect(stampExpiry(BEFORE, at)).toBe(BEFORE)
    expect(stampExpiry('not json', at)).toBe('not json')
  })

  it('stamps the middy-chaos and failure-lambda formats too', () => {
    const v1 = stampExpiry('{"version":1,"faults":[{"type":"latency","delay":5}]}', at)
    expect(JSON.parse(v1).expiresAt).toBe('2026-12-01T12:00:00.000Z')
    const fl = stampExpiry('{"latency":{"enabled":true,"min_latency":1,"max_latency":9}}', at)
    expect(JSON.parse(fl).expiresAt).toBe('2026-12-01T12:00:00.000Z')
  })
})

describe('inputs', () => {
  const writeExperiment = async (content: unknown) => {
    const file = join(dir, `experiment-${++count}.json`)
    await writeFile(file, JSON.stringify(content))
    return file
  }

  it.each(['30d', '13h', 'P1D', 2 ** 31 + 5])(
    'refuses a wait of %s before anything is written',
    async (wait) => {
      const store = await fileStore()
      const file = await writeExperiment({
        name: 'long',
        steps: [
          { name: 'on', set: LATENCY },
          { name: 'hold', wait },
        ],
      })
      const result = await runMain(['experiment', 'run', file, '--param', store.parameter])
      expect(result.code).not.toBe(0)
      expect(result.stderr).toMatch(/^middy-chaos: .*steps\[1\]\.wait/)
      expect(result.stderr.trim().split('\n')).toHaveLength(1)
      expect(await readFileHistory(store.parameter)).toHaveLength(1)
      expect(await store.readCompanion(LEASE_SUFFIX)).toBeUndefined()
    },
  )

  it('refuses waits that add up to more than 12 hours, also once --time-scale has scaled them', async () => {
    const store = await fileStore()
    const sum = await writeExperiment({
      name: 'sum',
      steps: [1, 2, 3].map((n) => ({ name: `w${n}`, wait: '5h' })),
    })
    const scaled = await writeExperiment({ name: 'scaled', steps: [{ name: 'w', wait: '2h' }] })
    const summed = await runMain(['experiment', 'run', sum, '--param', store.parameter])
    expect(summed.stderr).toMatch(/the waits add up to 15h/)
    const grown = await runMain([
      'experiment',
      'run',
      scaled,
      '--time-scale',
      '7',
      '--param',
      store.parameter,
    ])
    expect(grown.code).toBe(2)
    expect(grown.stderr).toMatch(/14h is longer than 12h/)
    expect(await readFileHistory(store.parameter)).toHaveLength(1)
  })

  it('prints the exact duration of a wait just past 12 hours, never a rounded one', async () => {
    // Prepare
    const store = await fileStore()
    const file = await writeExperiment({ name: 'x', steps: [{ name: 'w', wait: 'PT12H0.5S' }] })

    // Act
    const result = await runMain(['experiment', 'run', file, '--param', store.parameter])

    // Assess
    expect(result.code).toBe(2)
    expect(result.stderr).toBe(
      `middy-chaos: invalid experiment ${file}: steps[0].wait: 12h0.5s is longer than 12h, AWS FIS's maximum experiment duration\n`,
    )
    expect(await readFileHistory(store.parameter)).toHaveLength(1)
  })

  it('gives one middy-chaos line, a non-zero exit and an untouched store for every malformed input', async () => {
    const store = await fileStore()
    const good = await writeExperiment({ name: 'ok', steps: [{ name: 'on', set: LATENCY }] })
    const explode = await writeExperiment({
      name: 'explode',
      steps: [{ name: 'on', set: { isEnabled: true, failureMode: 'explode' } }],
    })
    const p = ['--param', store.parameter]
    const cases: string[][] = [
      ['set', '{"isEnabled":true,"failureMode":"explode","rate":1}', ...p],
      ['set', '{"latency":{"enabled":"maybe"}}', ...p],
      ['set', '{"explode":{"enabled":true}}', ...p],
      ['enable', 'latency', '--for', '0', ...p],
      ['enable', 'latency', '--for', '-5s', ...p],
      ['experiment', 'run', good, '--interval', '0', ...p],
      ['experiment', 'run', explode, ...p],
      ['disable', 'now', ...p],
      ['status', 'everything', ...p],
      ['recover', 'it', ...p],
      ['set', ...p],
      ['set', '{', ...p],
      ['set', '{"is_enabled":true}', ...p],
      ['set', '{"is_enabled":true,"fault_type":"explode"}', ...p],
      ['set', '{"version":1,"faults":[{"type":"latency","delay":3,"minDelay":-1}]}', ...p],
      ['set', '{"version":2,"faults":[]}', ...p],
      ['set', '{}', '--param', ''],
      ['enable', 'explode', ...p],
      ['enable', 'latency', '--rate', '2', ...p],
      ['enable', 'latency', '--delay', 'slow', ...p],
      ['enable', 'latency', '--for', '30d', ...p],
      ['enable', 'latency', 'exception', ...p],
      ['experiment', 'run', ...p],
      ['experiment', 'frobnicate', good, ...p],
      ['experiment', 'run', good, '--lease-ttl', '1s', ...p],
      ['experiment', 'run', good, '--lease-ttl', '2d', ...p],
      ['experiment', 'run', good, '--stop-if', 'errors>>20%', ...p],
      ['experiment', 'run', good, '--stop-if', 'errors>150%', ...p],
      ['experiment', 'run', good, '--stop-if', 'p95>2s', ...p],
      ['experiment', 'run', good, '--wait', '30d', ...p],
      ['experiment', 'run', good, '--probe', 'ftp://x', ...p],
      ['experiment', 'run', join(dir, 'missing.json'), ...p],
      ['probe', 'not a url'],
      ['probe', 'http://127.0.0.1:1/', '--duration', '13h'],
      ['serve'],
      ['frobnicate'],
      ['status', '--store', 'dynamo', ...p],
    ]
    for (const argv of cases) {
      const result = await runMain(argv)
      expect(result.code, argv.join(' ')).not.toBe(0)
      expect(result.stderr, argv.join(' ')).toMatch(/^middy-chaos: \S/)
      expect(result.stderr.trim().split('\n'), argv.join(' ')).toHaveLength(1)
    }
    expect(await readFile(store.parameter, 'utf8')).toBe(BEFORE)
    expect(await readFileHistory(store.parameter)).toHaveLength(1)
    expect(await store.readCompanion(LEASE_SUFFIX)).toBeUndefined()
  })
})

describe('SSM lease', () => {
  /**
   * An SSM store whose restore waits for the reads the test started during the
   * run: they land while the run, and its lease, go on, however long they take.
   */
  const readingDuringRun = (store: SsmStore) => {
    const reads: Promise<unknown>[] = []
    const held = new Proxy(store, {
      get: (target, key) => {
        if (key === 'write')
          return async (...args: Parameters<SsmStore['write']>) => {
            if (args[1]?.label?.endsWith(': restore')) await Promise.all(reads)
            return target.write(...args)
          }
        const member: unknown = Reflect.get(target, key, target)
        return typeof member === 'function' ? member.bind(target) : member
      },
    })
    return {
      store: held,
      read: (act: () => Promise<unknown>) => void reads.push(act()),
      done: () => Promise.all(reads),
    }
  }

  it('is a SecureString when the parameter is one: the value it records is never in clear', async () => {
    // Prepare
    const ssm = new SSMClient({ endpoint: inject('motoEndpoint'), region: 'us-east-1' })
    const name = `/middy-chaos/lease-secure/${Date.now()}`
    const secret = '{"is_enabled":false,"fault_type":"latency","note":"hunter2"}'
    await ssm.send(new PutParameterCommand({ Name: name, Value: secret, Type: 'SecureString' }))
    const during = readingDuringRun(new SsmStore(name, { client: ssm }))
    let type: string | undefined
    let stored: string | undefined

    // Act
    await runExperiment(experiment('100ms'), during.store, {
      onEvent: (event) => {
        if (event.type !== 'written') return
        during.read(async () => {
          const { Parameter } = await ssm.send(new GetParameterCommand({ Name: `${name}.lease` }))
          type = Parameter?.Type
          stored = Parameter?.Value
        })
      },
    })
    await during.done()

    // Assess
    expect(type).toBe('SecureString')
    // Read without decryption: what SSM keeps encrypted (moto stands in for KMS with a kms: prefix).
    expect(stored).toMatch(/^kms:/)
    const { Parameter } = await ssm.send(
      new GetParameterCommand({ Name: name, WithDecryption: true }),
    )
    expect(Parameter).toMatchObject({ Value: secret, Type: 'SecureString' })
  })

  it('is encrypted with the key of the parameter when it has a key of its own', async () => {
    // Prepare
    const ssm = new SSMClient({ endpoint: inject('motoEndpoint'), region: 'us-east-1' })
    const name = `/middy-chaos/lease-kms/${Date.now()}`
    const key = 'alias/chaos-config'
    await ssm.send(
      new PutParameterCommand({ Name: name, Value: BEFORE, Type: 'SecureString', KeyId: key }),
    )
    const keyOf = async (parameter: string) =>
      (
        await ssm.send(
          new DescribeParametersCommand({
            ParameterFilters: [{ Key: 'Name', Option: 'Equals', Values: [parameter] }],
          }),
        )
      ).Parameters?.[0]?.KeyId
    const keys: (string | undefined)[] = []
    const during = readingDuringRun(new SsmStore(name, { client: ssm }))

    // Act
    await runExperiment(experiment('100ms'), during.store, {
      onEvent: (event) => {
        if (event.type === 'written')
          during.read(async () => keys.push(await keyOf(`${name}.lease`), await keyOf(name)))
      },
    })
    await during.done()

    // Assess
    expect(keys.length).toBeGreaterThan(0)
    expect(new Set(keys)).toEqual(new Set([key]))
    expect(await keyOf(name)).toBe(key)
  })

  it('is a companion parameter, created with Overwrite false, and gone after the run', async () => {
    const ssm = new SSMClient({ endpoint: inject('motoEndpoint'), region: 'us-east-1' })
    const name = `/middy-chaos/lease-ssm/${Date.now()}`
    await ssm.send(new PutParameterCommand({ Name: name, Value: BEFORE, Type: 'String' }))
    const store = new SsmStore(name, { client: ssm })
    const reading = readingDuringRun(store)
    let during: string | undefined
    await runExperiment(experiment('100ms'), reading.store, {
      onEvent: (event) => {
        if (event.type === 'written')
          reading.read(async () => {
            during = await store.readCompanion(LEASE_SUFFIX)
          })
      },
    })
    await reading.done()
    expect(JSON.parse(during ?? '{}')).toMatchObject({
      experiment: 'lease-test',
      original: { value: BEFORE, version: 1 },
    })
    await expect(ssm.send(new GetParameterCommand({ Name: `${name}.lease` }))).rejects.toThrow(
      /ParameterNotFound|not found/i,
    )
    expect((await store.read())?.value).toBe(BEFORE)
  })
})
