/**
 * The runbook's Python handlers, run for real (each step's own script, as
 * `aws:executeScript` runs it) against moto's SSM, and the lease they leave
 * read by the CLI: `middy-chaos status --store ssm` shows it, and
 * `middy-chaos recover --store ssm` restores after a dead automation.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import {
  DescribeParametersCommand,
  GetParameterCommand,
  GetParameterHistoryCommand,
  PutParameterCommand,
  SSMClient,
} from '@aws-sdk/client-ssm'
import { acquireLease, type LeaseRecord, parseLease, SsmStore, staleReason } from '@middy-chaos/cli'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { stampWindows } from '../../../test/helpers/stamps.js'
import { runMain } from '../../cli/tests/helpers.js'
import {
  EXPIRY_GRACE_SECONDS,
  leaseBytes,
  RUNBOOK_HANDLERS,
  type RunbookHandler,
  runbookScript,
} from '../src/index.js'

const endpoint = inject('motoEndpoint')
const ssm = new SSMClient({ endpoint, region: 'us-east-1' })
const BEFORE = '{"is_enabled":false,"fault_type":"latency","delay":400,"rate":1}'
const LATENCY = '{"is_enabled":true,"fault_type":"latency","delay":400,"rate":1}'

/** A long-lived Python running the handlers, so each call costs an SSM round trip, not a start. */
let python: ChildProcess
const replies: ((line: string) => void)[] = []
beforeAll(() => {
  const harness = fileURLToPath(new URL('./fixtures/handlers_harness.py', import.meta.url))
  python = spawn(inject('motoPython'), [harness], {
    env: {
      ...process.env,
      AWS_ENDPOINT_URL: endpoint,
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
    },
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  if (python.stdout)
    createInterface({ input: python.stdout }).on('line', (line) => replies.shift()?.(line))
})
afterAll(() => {
  python?.kill()
})

type Reply = { ok?: unknown; error?: string; message?: string; sleeps?: number[] }
const send = (request: object): Promise<Reply> =>
  new Promise((resolve) => {
    replies.push((line) => resolve(JSON.parse(line) as Reply))
    python.stdin?.write(`${JSON.stringify(request)}\n`)
  })

/** Runs a handler with the script its runbook step carries (`clock: 'virtual'`: see the harness). */
const call = (
  handler: RunbookHandler,
  events: Record<string, string>,
  options: { clock?: 'virtual' } = {},
) => send({ script: runbookScript(handler), handler, events, ...options })

let count = 0
/** A parameter of its own per test, with `value` in it (none when null). */
const parameter = async (value: string | null = BEFORE, type = 'String') => {
  const name = `/fis-handlers/${Date.now()}-${++count}`
  if (value !== null)
    await ssm.send(new PutParameterCommand({ Name: name, Value: value, Type: type as 'String' }))
  return name
}
const read = async (name: string) => {
  try {
    const { Parameter } = await ssm.send(
      new GetParameterCommand({ Name: name, WithDecryption: true }),
    )
    return Parameter
  } catch {
    return undefined
  }
}
const lease = async (name: string) => parseLease((await read(`${name}.lease`))?.Value)
const events = (name: string, run: string, more: Record<string, string> = {}) => ({
  ParameterName: name,
  ExecutionId: run,
  LeaseTtlSeconds: '60',
  ...more,
})
const acquire = (name: string, run = 'run-a', ttl = '60') =>
  call('acquire', events(name, run, { LeaseTtlSeconds: ttl, Experiment: 'workshop' }))
const hold = (
  name: string,
  more: Record<string, string>,
  run = 'run-a',
  options: { clock?: 'virtual' } = {},
) =>
  call(
    'hold',
    events(name, run, { Config: '', Stamp: 'false', HoldSeconds: '0', ...more }),
    options,
  )
const restore = (name: string, run = 'run-a') =>
  call('restore', { ParameterName: name, ExecutionId: run })

describe('the runbook handlers', () => {
  it('are each step script: the module cut to its handler, every script defining it', async () => {
    // Act
    const all = await send({ script: RUNBOOK_HANDLERS, names: true })
    const hold = await send({ script: runbookScript('hold'), names: true })

    // Assess
    expect(all.ok).toEqual(expect.arrayContaining(['acquire', 'hold', 'restore']))
    expect(hold.ok).toEqual(expect.arrayContaining(['hold', '_stamp', '_read_lease']))
    expect(hold.ok).not.toContain('acquire')
  })

  it('acquire takes the lease and records the value, its version and its type', async () => {
    // Prepare
    const name = await parameter()
    const before = Date.now()

    // Act
    const reply = await acquire(name)

    // Assess
    expect(reply).toEqual({ ok: { original: 1 } })
    const record = (await lease(name)) as LeaseRecord & { original: { type: string } }
    expect(record).toMatchObject({
      id: 'run-a',
      experiment: 'workshop',
      host: 'aws-ssm-automation',
      pid: 0,
      original: { value: BEFORE, version: 1, type: 'String' },
    })
    expect(Date.parse(record.expiresAt) - before).toBeGreaterThan(55_000)
    expect(Date.parse(record.expiresAt) - Date.now()).toBeLessThanOrEqual(60_000)
  })

  it('acquire records null for a parameter that does not exist', async () => {
    // Prepare
    const name = await parameter(null)

    // Act
    await acquire(name)

    // Assess
    expect((await lease(name))?.original).toBeNull()
    expect(await read(name)).toBeUndefined()
  })

  it('a second acquire is refused, naming the holder, and changes nothing', async () => {
    // Prepare
    const name = await parameter()
    await acquire(name, 'run-a')
    const held = (await read(`${name}.lease`))?.Value

    // Act
    const reply = await acquire(name, 'run-b')

    // Assess
    expect(reply.error).toBe('RuntimeError')
    expect(reply.message).toMatch(
      new RegExp(
        `${name} is held by experiment workshop \\(host aws-ssm-automation, expires \\S+\\): nothing was changed`,
      ),
    )
    expect((await read(`${name}.lease`))?.Value).toBe(held)
    expect((await read(name))?.Value).toBe(BEFORE)
  })

  it('an automation is refused while experiment run holds the parameter, and the other way round', async () => {
    // Prepare
    const name = await parameter()
    const store = new SsmStore(name, { endpoint })
    const cli = await acquireLease(store, { experiment: 'local run', ttlMs: 60_000 })

    // Act
    const automation = await acquire(name, 'run-a')
    await cli.release()
    await acquire(name, 'run-b')
    const local = acquireLease(store, { experiment: 'local run', ttlMs: 60_000 })

    // Assess
    expect(automation.message).toMatch(/is held by experiment local run/)
    await expect(local).rejects.toThrow(
      /is held by experiment workshop \(host aws-ssm-automation, pid 0, since \S+, expires in \d+ s\)/,
    )
  })

  it('hold writes the value stamped, and renews the lease and the stamp every third of the TTL', async () => {
    // Prepare
    const name = await parameter()
    await acquire(name, 'run-a', '3')

    // Act: on the harness's virtual clock, which moves only when the hold sleeps: its rounds come
    // when it asks for them, however long a busy machine makes each round's calls
    const reply = await hold(
      name,
      { LeaseTtlSeconds: '3', Config: LATENCY, Stamp: 'true', HoldSeconds: '2' },
      'run-a',
      { clock: 'virtual' },
    )

    // Assess: a write at the start of the 2 s, then one each second (a third of the TTL)
    expect(reply.sleeps).toEqual([1, 1])
    const { Parameters = [] } = await ssm.send(new GetParameterHistoryCommand({ Name: name }))
    const stamps = Parameters.slice(1).map((version) => JSON.parse(version.Value ?? '{}'))
    expect(reply.ok).toMatchObject({ writes: 3 })
    expect(stamps).toHaveLength(3)
    for (const value of stamps) expect(value).toMatchObject(JSON.parse(LATENCY))
    // Each write is stamped afresh, one TTL ahead of the moment it was made (a renewal, not a copy
    // of the first), by the versions' own times: after the version before it, no later than its
    // own (SSM's times rounded to the ms), not by the gaps between writes
    const versions = Parameters.map((version) => ({
      value: version.Value ?? '',
      modifiedAt: version.LastModifiedDate?.toISOString(),
    }))
    const windows = stampWindows(versions, 3_000)
    expect(windows).toHaveLength(3)
    for (const { stampedAt, after, written } of windows) {
      expect(stampedAt).toBeGreaterThanOrEqual(after - 1)
      expect(stampedAt).toBeLessThanOrEqual(written + 1)
    }
    expect(new Set(stamps.map((value) => value.expiresAt)).size).toBe(3)
    expect(stamps.at(-1).expiresAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
    const record = await lease(name)
    expect(record?.expiresAt).toBe(stamps.at(-1).expiresAt)
    expect(record).toMatchObject({ inForce: LATENCY })
  })

  it('hold caps every stamp at its planned end plus GraceSeconds, renewals too, and renews the lease one TTL ahead', async () => {
    // Prepare: renewed every second for 2 s; the cap (2 s + 0.5 s) comes before now + TTL (3 s)
    const name = await parameter()
    await acquire(name, 'run-a', '3')
    const leases: string[] = []
    const before = Date.now()

    // Act
    const held = hold(name, {
      LeaseTtlSeconds: '3',
      Config: LATENCY,
      Stamp: 'true',
      HoldSeconds: '2',
      GraceSeconds: '0.5',
    })
    const watch = setInterval(() => {
      void read(`${name}.lease`).then((p) => p?.Value && leases.push(p.Value))
    }, 300)
    await held
    clearInterval(watch)
    const after = Date.now()

    // Assess: the same expiry in every write, between the hold's start + 2.5 s and its end + 0.5 s
    const { Parameters = [] } = await ssm.send(new GetParameterHistoryCommand({ Name: name }))
    const stamps = Parameters.slice(1).map((v) => Date.parse(JSON.parse(v.Value ?? '{}').expiresAt))
    expect(stamps.length).toBeGreaterThanOrEqual(2)
    expect(new Set(stamps).size).toBe(1)
    expect(stamps[0]).toBeGreaterThanOrEqual(before + 2_500)
    expect(stamps[0]).toBeLessThanOrEqual(after + 500)
    const expiries = new Set(leases.map((text) => parseLease(text)?.expiresAt))
    expect(expiries.size).toBeGreaterThanOrEqual(2)
  })

  it('hold of 0 s stamps one TTL ahead; a hold without GraceSeconds takes the default grace', async () => {
    // Prepare
    const name = await parameter()
    await acquire(name)

    // Act
    const start = Date.now()
    await hold(name, { Config: LATENCY, Stamp: 'true' })
    const instant = JSON.parse((await read(name))?.Value ?? '{}').expiresAt
    await call('hold', events(name, 'run-a', { Config: LATENCY, Stamp: 'true', HoldSeconds: '1' }))
    const end = Date.now()
    const held = JSON.parse((await read(name))?.Value ?? '{}').expiresAt

    // Assess: 60 s of TTL; then 1 s + the default grace, well before the TTL
    expect(EXPIRY_GRACE_SECONDS).toBe(10)
    expect(Date.parse(instant) - start).toBeGreaterThan(55_000)
    expect(Date.parse(held)).toBeGreaterThanOrEqual(start + 1_000 + EXPIRY_GRACE_SECONDS * 1000)
    expect(Date.parse(held)).toBeLessThanOrEqual(end + EXPIRY_GRACE_SECONDS * 1000)
  })

  it('hold of a wait-only step renews the value in force; of a value that turns no fault on, writes it as it is', async () => {
    // Prepare
    const name = await parameter()
    await acquire(name)
    await hold(name, { Config: LATENCY, Stamp: 'true' })

    // Act
    await hold(name, {})
    const renewed = (await read(name))?.Value
    await hold(name, { Config: BEFORE, Stamp: 'false' })
    const off = await read(name)
    await hold(name, {})

    // Assess
    expect(JSON.parse(renewed ?? '{}')).toMatchObject({
      ...JSON.parse(LATENCY),
      expiresAt: expect.any(String),
    })
    expect(off?.Value).toBe(BEFORE)
    expect((await read(name))?.Version).toBe(off?.Version)
    expect(await lease(name)).not.toHaveProperty('inForce')
  })

  it('hold keeps a sooner expiresAt of the value itself, as the CLI stamp does', async () => {
    // Prepare
    const name = await parameter()
    await acquire(name)
    const soon = new Date(Date.now() + 5000).toISOString()

    // Act
    await hold(name, {
      Config: JSON.stringify({ ...JSON.parse(LATENCY), expiresAt: soon }),
      Stamp: 'true',
    })

    // Assess
    expect(JSON.parse((await read(name))?.Value ?? '{}').expiresAt).toBe(soon)
  })

  it('hold refuses to write without the lease', async () => {
    // Prepare
    const name = await parameter()
    await acquire(name, 'run-a')

    // Act
    const reply = await hold(name, { Config: LATENCY, Stamp: 'true' }, 'run-b')

    // Assess
    expect(reply).toMatchObject({
      error: 'RuntimeError',
      message: expect.stringMatching(/lost the lease/),
    })
    expect((await read(name))?.Value).toBe(BEFORE)
  })

  it('restore writes back the exact value with its type, then removes the lease', async () => {
    // Prepare
    const name = await parameter('{"a": 1,  "b":"é"}', 'SecureString')
    await acquire(name)
    await hold(name, { Config: LATENCY, Stamp: 'true' })

    // Act
    const reply = await restore(name)

    // Assess
    expect(reply).toEqual({ ok: { restore: 'wrote back the value of version 1' } })
    const after = await read(name)
    expect(after).toMatchObject({ Value: '{"a": 1,  "b":"é"}', Type: 'SecureString' })
    expect(await read(`${name}.lease`)).toBeUndefined()
  })

  it('keeps the lease of a SecureString parameter as a SecureString: the recorded value is never in clear', async () => {
    // Prepare
    const name = await parameter('{"is_enabled":false,"note":"s3cr3t"}', 'SecureString')

    // Act
    await acquire(name)

    // Assess
    const { Parameter } = await ssm.send(new GetParameterCommand({ Name: `${name}.lease` }))
    expect(Parameter?.Type).toBe('SecureString')
    // Read without decryption: what SSM keeps encrypted (moto stands in for KMS with a kms: prefix).
    expect(Parameter?.Value).toMatch(/^kms:/)
    expect((await lease(name))?.original).toMatchObject({
      value: '{"is_enabled":false,"note":"s3cr3t"}',
    })
    await hold(name, { Config: LATENCY, Stamp: 'true' })
    expect(
      (await ssm.send(new GetParameterCommand({ Name: `${name}.lease` }))).Parameter?.Type,
    ).toBe('SecureString')
    await restore(name)
    expect(await read(name)).toMatchObject({ Type: 'SecureString' })
  })

  it('writes a SecureString and its lease with the key of yours given as KmsKeyId, never with the default key', async () => {
    // Prepare: a parameter encrypted with a key of its own (moto records the KeyId, as SSM does)
    const key = 'alias/chaos-config'
    const name = `/fis-handlers/${Date.now()}-kms`
    await ssm.send(
      new PutParameterCommand({ Name: name, Value: BEFORE, Type: 'SecureString', KeyId: key }),
    )
    const keyOf = async (parameter: string) => {
      const { Parameters } = await ssm.send(
        new DescribeParametersCommand({
          ParameterFilters: [{ Key: 'Name', Option: 'Equals', Values: [parameter] }],
        }),
      )
      return Parameters?.[0]?.KeyId
    }
    const withKey = { KmsKeyId: key }

    // Act and assess, step by step
    await call('acquire', events(name, 'run-k', { Experiment: 'workshop', ...withKey }))
    expect(await keyOf(`${name}.lease`)).toBe(key)
    await call(
      'hold',
      events(name, 'run-k', { Config: LATENCY, Stamp: 'true', HoldSeconds: '0', ...withKey }),
    )
    expect(await keyOf(name)).toBe(key)
    expect(await keyOf(`${name}.lease`)).toBe(key)
    await call('restore', { ParameterName: name, ExecutionId: 'run-k', ...withKey })
    expect(await read(name)).toMatchObject({ Value: BEFORE, Type: 'SecureString' })
    expect(await keyOf(name)).toBe(key)

    // Without KmsKeyId, the lease gets SSM's default key: what the parameter exists for.
    await call('acquire', events(name, 'run-d', { Experiment: 'workshop' }))
    expect(await keyOf(`${name}.lease`)).toBe('alias/aws/ssm')
    await call('restore', { ParameterName: name, ExecutionId: 'run-d' })
  })

  it('writes the lease in the Advanced tier when given LeaseTier, on every rewrite; in the default tier otherwise', async () => {
    // Prepare
    const tierOf = async (parameter: string) => {
      const { Parameters } = await ssm.send(
        new DescribeParametersCommand({
          ParameterFilters: [{ Key: 'Name', Option: 'Equals', Values: [parameter] }],
        }),
      )
      return Parameters?.[0]?.Tier
    }
    const advanced = await parameter()
    const standard = await parameter()

    // Act
    await call('acquire', events(advanced, 'run-t', { Experiment: 'x', LeaseTier: 'Advanced' }))
    const acquired = await tierOf(`${advanced}.lease`)
    await hold(advanced, { Config: LATENCY, Stamp: 'true' }, 'run-t')
    const held = await tierOf(`${advanced}.lease`)
    await acquire(standard)

    // Assess: the chaos parameter keeps its own tier (an advanced one never goes back)
    expect([acquired, held]).toEqual(['Advanced', 'Advanced'])
    expect((await lease(advanced)) as unknown).toMatchObject({ tier: 'Advanced' })
    expect(await tierOf(advanced)).toBe('Standard')
    expect(await tierOf(`${standard}.lease`)).toBe('Standard')
    await restore(advanced, 'run-t')
    await restore(standard)
  })

  it('writes a lease no larger than @middy-chaos/fis sizes it (leaseBytes), quotes and non-ASCII included', async () => {
    // Prepare: a SecureString (its lease says so), a value before of its own, a config to stamp
    const config = JSON.stringify({ ...JSON.parse(LATENCY), exception_msg: 'dé"jà \\ vu ✓' })
    const before = JSON.stringify({ ...JSON.parse(BEFORE), note: 'ça "va"' })
    const name = await parameter(before, 'SecureString')
    await call('acquire', events(name, 'run-s', { Experiment: 'sizing', LeaseTier: 'Advanced' }))

    // Act
    await hold(name, { Config: config, Stamp: 'true' }, 'run-s')
    const written = (await read(`${name}.lease`))?.Value ?? ''

    // Assess: the lease holds both values; the model is an upper bound, within a few bytes
    expect(JSON.parse(written)).toMatchObject({ inForce: config, original: { value: before } })
    const modelled = leaseBytes('sizing', before, config, 'Advanced')
    expect(written.length).toBeLessThanOrEqual(modelled)
    expect(modelled - written.length).toBeLessThan(64)
    await restore(name, 'run-s')
  })

  it('restore gives up on an endpoint that does not answer after two tries of 5 s, within its step: the cancel path is bounded', async () => {
    // Prepare: an SSM endpoint that accepts requests and never answers
    let requests = 0
    const stalled = createServer(() => {
      requests++
    })
    await new Promise<void>((resolve) => stalled.listen(0, '127.0.0.1', resolve))
    const { port } = stalled.address() as AddressInfo
    const harness = spawn(
      inject('motoPython'),
      [fileURLToPath(new URL('./fixtures/handlers_harness.py', import.meta.url))],
      {
        env: {
          ...process.env,
          AWS_ENDPOINT_URL: `http://127.0.0.1:${port}`,
          AWS_DEFAULT_REGION: 'us-east-1',
          AWS_ACCESS_KEY_ID: 'test',
          AWS_SECRET_ACCESS_KEY: 'test',
        },
        stdio: ['pipe', 'pipe', 'inherit'],
      },
    )

    // Act
    const reply = await new Promise<Reply>((resolve) => {
      if (harness.stdout)
        createInterface({ input: harness.stdout }).once('line', (line) =>
          resolve(JSON.parse(line) as Reply),
        )
      harness.stdin?.write(
        `${JSON.stringify({ script: runbookScript('restore'), handler: 'restore', events: { ParameterName: '/x', ExecutionId: 'run-x' } })}\n`,
      )
    })
    harness.kill()
    stalled.closeAllConnections()
    stalled.close()

    // Assess: its first call failed after its two attempts; the step fails, not hangs
    expect(reply.error).toBe('ReadTimeoutError')
    expect(requests).toBe(2)
  }, 30_000)

  it('restore deletes a parameter that did not exist before', async () => {
    // Prepare
    const name = await parameter(null)
    await acquire(name)
    await hold(name, { Config: LATENCY, Stamp: 'true' })

    // Act
    const reply = await restore(name)

    // Assess
    expect(reply.ok).toEqual({ restore: 'deleted the parameter: it did not exist before' })
    expect(await read(name)).toBeUndefined()
    expect(await read(`${name}.lease`)).toBeUndefined()
  })

  it('restore does nothing for a run that does not hold the lease (a refused acquire goes there)', async () => {
    // Prepare
    const name = await parameter()
    await acquire(name, 'run-a')
    await hold(name, { Config: LATENCY, Stamp: 'true' }, 'run-a')
    const chaos = (await read(name))?.Value

    // Act
    const reply = await restore(name, 'run-b')

    // Assess
    expect(reply.ok).toEqual({ restore: 'nothing: this execution does not hold the lease' })
    expect((await read(name))?.Value).toBe(chaos)
    expect((await lease(name))?.id).toBe('run-a')
  })
})

describe('the lease an automation leaves', () => {
  it('is shown by middy-chaos status, stale once it expired, and middy-chaos recover restores the value', async () => {
    // Prepare: the automation took the lease, wrote a fault, and died (no Restore).
    const name = await parameter()
    await acquire(name, 'run-dead', '30')
    await hold(name, { LeaseTtlSeconds: '1', Config: LATENCY, Stamp: 'true' }, 'run-dead')
    await new Promise((resolve) => setTimeout(resolve, 1200))
    const store = ['--store', 'ssm', '--param', name, '--endpoint', endpoint]

    // Act
    const record = await lease(name)
    const status = await runMain(['status', ...store])
    const recover = await runMain(['recover', ...store])

    // Assess
    expect(record).toMatchObject({ id: 'run-dead', host: 'aws-ssm-automation', pid: 0 })
    expect(staleReason(record as LeaseRecord)).toMatch(/^expired \d+ s ago$/)
    expect(status.stdout).toMatch(
      /lease {4}STALE held by experiment workshop \(host aws-ssm-automation, pid 0/,
    )
    expect(recover.code).toBe(0)
    expect(recover.stdout).toMatch(
      /Took over the stale lease of experiment workshop \(host aws-ssm-automation, pid 0\)/,
    )
    expect((await read(name))?.Value).toBe(BEFORE)
    expect(await read(`${name}.lease`)).toBeUndefined()
  })
})
