/**
 * The local FIS player (`@middy-chaos/fis/local`) itself, against the file
 * store and moto's SSM:
 *
 * - the runbook `@middy-chaos/fis` generates, played by the TypeScript twins
 *   of its Python handlers: the lease and the stamp renewed every third of the
 *   TTL, every stamp of a hold capped at its planned end plus the grace;
 *   SSM's cancel window cutting a Restore that outlasts it;
 * - the Automation interpreter: outputs, `nextStep`, `onFailure`, `onCancel`,
 *   `isEnd`; `startAfter` ordering.
 *
 * What `middy-chaos experiment run --fis-template` prints and exits with, the
 * workshop's own template and document, and what the player refuses, are the
 * CLI's tests (packages/cli/tests/fis-template.test.ts).
 */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { DeleteParameterCommand, GetParameterCommand } from '@aws-sdk/client-ssm'
import { FileStore, SsmStore } from '@middy-chaos/cli'
import { readFileHistory, writeFileValue } from '@middy-chaos/core'
import { FAULTS } from '@middy-chaos/experiment'
import { describe, expect, it } from 'vitest'
import { forwardingProxy } from '../../../test/helpers/proxy.js'
import { stampWindows } from '../../../test/helpers/stamps.js'
import {
  buildRunbook,
  CANCEL_WINDOW_SECONDS,
  RESTORE_MAX_ATTEMPTS,
  RESTORE_TIMEOUT_SECONDS,
} from '../src/index.js'
import {
  type AutomationEvent,
  CANCEL_WORKFLOW_MS,
  resolveParameters,
  runAutomation,
} from '../src/local/automation.js'
import { parseAutomationDocument } from '../src/local/document.js'
import { LEASE_SUFFIX, parseLease } from '../src/local/lease.js'
import { planFisExperiment, playFisExperiment } from '../src/local/player.js'
import { parseFisTemplate } from '../src/local/template.js'

import {
  BEFORE,
  DOCUMENT_NAME,
  dir,
  EXPERIMENT,
  generated,
  LATENCY,
  leaseTtl,
  moto,
  nextCount,
  planOf,
  ssm,
  ssmParameter,
  step,
  stores,
  withoutStamp,
} from './player-setup.js'

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
    const entries = await history()
    const held = entries.filter(
      (entry) => entry.label === 'experiment workshop-runbook: S02_hold_on',
    )
    // At its start, then at least once a second later (a slow store may leave time for no more).
    expect(held.length).toBeGreaterThanOrEqual(2)
    for (const entry of held) expect(withoutStamp(entry.value)).toEqual(JSON.parse(LATENCY))
    // Every stamp one TTL (3 s) ahead of the moment of its write (the 1.2-s holds' end plus the
    // 10-s grace is later), by the store's own version times: after the version before it, no
    // later than its own
    const windows = stampWindows(entries, 3_000)
    for (const { stampedAt, after, written } of windows) {
      expect(stampedAt).toBeGreaterThanOrEqual(after)
      expect(stampedAt).toBeLessThanOrEqual(written)
    }
    const stamps = windows
      .filter(({ version }) => held.includes(version))
      .map(({ stampedAt }) => stampedAt)
    expect(stamps).toHaveLength(held.length)
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

describe('the cancel window', () => {
  it('cuts a Restore that outlasts it, as SSM ends a cancel workflow: nothing runs after, the lease is left to expire', async () => {
    // Prepare: moto behind a proxy that stops answering once Restore starts; a window of 300 ms
    const name = await ssmParameter(BEFORE)
    let stalled = false
    let held = 0
    const proxy = await forwardingProxy(moto, () => {
      if (!stalled) return true
      held++
      return false
    })
    const store = new SsmStore(name, { endpoint: proxy.url, region: 'us-east-1' })
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
    await proxy.close()

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
    const param = join(dir, `interpreter-${nextCount()}.json`)
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
    const order: string[] = []

    // Act
    const result = await playFisExperiment(planFisExperiment(template, []), {
      store: new FileStore(join(dir, 'untouched.json')),
      timing: { waitMs: 300 },
      onEvent: (event) => {
        if (event.type !== 'action') return
        order.push(`${event.action.name} ${event.state}`)
        if (event.state === 'running') starts[event.action.name] = event.elapsedMs
      },
    })

    // Assess, by the order of the events: A and B started together, before either ended; D
    // once A had completed, with nothing else ending in between (it does not wait for B); C
    // once A and B had; C and D together, both started before either ended
    expect(result.outcome).toBe('completed')
    expect(order).toHaveLength(8)
    const at = (entry: string) => order.indexOf(entry)
    const firstEnd = order.findIndex((entry) => entry.endsWith('completed'))
    expect(Math.max(at('A running'), at('B running'))).toBeLessThan(firstEnd)
    expect(at('D running')).toBeGreaterThan(at('A completed'))
    const between = order.slice(at('A completed') + 1, at('D running'))
    expect(between.filter((entry) => entry.endsWith('completed'))).toEqual([])
    expect(at('C running')).toBeGreaterThan(Math.max(at('A completed'), at('B completed')))
    expect(Math.max(at('C running'), at('D running'))).toBeLessThan(
      Math.min(at('C completed'), at('D completed')),
    )
    // Each after its predecessor's 300 ms
    expect(starts.C).toBeGreaterThanOrEqual(290)
    expect(starts.D).toBeGreaterThanOrEqual(290)
    expect(existsSync(join(dir, 'untouched.json'))).toBe(false)
  })
})
