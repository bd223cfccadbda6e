/**
 * The runbook and the FIS template's rules that cfn-lint cannot check: it
 * does not look inside an SSM document's content, nor at FIS action
 * parameters' meaning.
 */
import { readFile } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import { parse as parseYaml } from 'yaml'
import {
  buildExperimentTemplate,
  buildRunbook,
  CANCEL_WINDOW_SECONDS,
  EXPIRY_GRACE_SECONDS,
  type FisExperiment,
  FisExperimentError,
  leaseFit,
  MAX_DOCUMENT_BYTES,
  MAX_RUNBOOK_BYTES,
  RUNBOOK_MARKER,
  type RunbookDocument,
  type RunbookStep,
  runbookBytes,
  runbookContent,
  scriptSteps,
  stepName,
  timelineNote,
  timelineWaits,
  VERSION,
} from '../src/index.js'
import { experiment, LATENCY, OFF, repeatSteps, runbookProblems, workshop } from './helpers.js'

const REFS = {
  documentArn: 'arn:aws:ssm:eu-west-1:123456789012:document/middy-chaos-workshop',
  automationRoleArn: 'arn:aws:iam::123456789012:role/middy-chaos-automation-role',
  fisRoleArn: 'arn:aws:iam::123456789012:role/middy-chaos-fis-role',
  parameterName: '/chaos/hello-world',
  logGroupArn: 'arn:aws:logs:eu-west-1:123456789012:log-group:/middy-chaos/experiments:*',
}

const hours = (h: number): FisExperiment =>
  experiment({
    name: `long-${h}h`,
    steps: [
      { name: 'latency on', set: LATENCY, wait: `${h * 60}m` },
      { name: 'off', set: OFF },
    ],
  })

const payload = (runbook: RunbookDocument, name: string) =>
  scriptSteps(runbook).find((step) => step.name === name)?.inputs.InputPayload

describe('the runbook', () => {
  it('of the workshop experiment keeps every rule: names, routes to Restore, timeouts, Restore last', async () => {
    // Prepare
    const fis = await workshop()

    // Act
    const runbook = buildRunbook(fis)

    // Assess
    expect(runbookProblems(runbook)).toEqual([])
    expect(runbook.mainSteps.map((step) => step.action)).not.toContain('aws:loop')
    expect(scriptSteps(runbook).map((step) => [step.name, step.inputs.Handler])).toEqual([
      ['AcquireLease', 'acquire'],
      ['S01_EnableLatency', 'hold'],
      ['S02_Wait1', 'hold'],
      ['S03_EnableStatusCode', 'hold'],
      ['S04_Wait2', 'hold'],
      ['S05_EnableException', 'hold'],
      ['S06_Wait3', 'hold'],
      ['S07_DisableFaults', 'hold'],
      ['Restore', 'restore'],
    ])
    expect(runbook.mainSteps.at(-1)).toMatchObject({
      isEnd: true,
      maxAttempts: 2,
      timeoutSeconds: 30,
    })
  })

  it('catches the mistakes its rules are for (a check of the check)', async () => {
    // Prepare
    const runbook = buildRunbook(await workshop())
    const [acquire, hold] = runbook.mainSteps
    const broken = {
      ...runbook,
      mainSteps: [
        { ...acquire, name: 'Acquire-Lease', onCancel: 'step:Nowhere' },
        { ...hold, timeoutSeconds: 660 },
        { ...runbook.mainSteps.at(-1), action: 'aws:sleep', isEnd: false },
      ],
    } as unknown as RunbookDocument

    // Act
    const problems = runbookProblems(broken)

    // Assess
    expect(problems).toEqual([
      'Restore is not the last step, isEnd',
      'Acquire-Lease: not [A-Za-z0-9_]',
      'Acquire-Lease.onCancel: step:Nowhere is not step:Restore',
      'S01_EnableLatency: timeoutSeconds 660 > 600',
      'S01_EnableLatency.onCancel: moves to aws:sleep',
    ])
  })

  it('gives each step its value, stamped only when it turns faults on, and its wait in whole seconds', async () => {
    // Prepare
    const fis = await workshop()

    // Act
    const runbook = buildRunbook(fis)

    // Assess
    expect(payload(runbook, 'AcquireLease')).toEqual({
      ParameterName: '{{ ParameterName }}',
      LeaseTtlSeconds: '{{ LeaseTtlSeconds }}',
      KmsKeyId: '{{ KmsKeyId }}',
      ExecutionId: '{{ automation:EXECUTION_ID }}',
      Experiment: 'FisWorkshopLambdaFailure',
    })
    expect(payload(runbook, 'S01_EnableLatency')).toMatchObject({
      Config: fis.steps[0]?.set,
      Stamp: 'true',
      HoldSeconds: '0',
      GraceSeconds: String(EXPIRY_GRACE_SECONDS),
    })
    // A hold's stamps end with it, plus the grace: the same for every hold step.
    expect(payload(runbook, 'S02_Wait1')).toMatchObject({
      Config: '',
      Stamp: 'false',
      HoldSeconds: '60',
      GraceSeconds: '10',
    })
    expect(payload(runbook, 'S07_DisableFaults')).toMatchObject({ Stamp: 'false' })
    expect(payload(runbook, 'Restore')).toEqual({
      ParameterName: '{{ ParameterName }}',
      ExecutionId: '{{ automation:EXECUTION_ID }}',
      KmsKeyId: '{{ KmsKeyId }}',
    })
    // No key of yours given: SecureStrings are written with the account's default key.
    expect(runbook.parameters.KmsKeyId.default).toBe('')
    expect(runbook.parameters.LeaseTtlSeconds.default).toBe('60')
    const ttl = new RegExp(runbook.parameters.LeaseTtlSeconds.allowedPattern ?? '')
    expect(['0', '07', '-1', '1.5', '10000'].filter((text) => ttl.test(text))).toEqual([])
    expect(runbook.assumeRole).toBe('{{ AutomationAssumeRole }}')
  })

  it('holds a wait past 540 s in one step, then a loop of 540-s holds that renews the value in force', () => {
    // Prepare
    const fis = experiment({ name: 'x', steps: [{ name: 'on', set: LATENCY, wait: '25m' }] })

    // Act
    const runbook = buildRunbook(fis)

    // Assess
    expect(runbook.mainSteps.map((step) => [step.name, step.action])).toEqual([
      ['AcquireLease', 'aws:executeScript'],
      ['S01_on', 'aws:executeScript'],
      ['S01_on_rest', 'aws:loop'],
      ['Restore', 'aws:executeScript'],
    ])
    const loop = runbook.mainSteps[2]
    expect(loop).toMatchObject({
      onFailure: 'step:Restore',
      inputs: { Iterators: ['500', '500'], IteratorDataType: 'String' },
    })
    expect(payload(runbook, 'S01_on')).toMatchObject({ HoldSeconds: '500', Stamp: 'true' })
    expect(payload(runbook, 'S01_on_more')).toMatchObject({
      Config: '',
      Stamp: 'false',
      HoldSeconds: '{{ S01_on_rest.CurrentIteratorValue }}',
    })
    expect(scriptSteps(runbook).every((step) => step.timeoutSeconds <= 600)).toBe(true)
    expect(runbookProblems(runbook)).toEqual([])
  })

  it('names steps with [A-Za-z0-9_] only, numbered, at most 64 characters with their suffix', () => {
    // Prepare
    const fis = experiment({
      name: 'x',
      steps: [{ name: `latency 400 ms! (é) ${'x'.repeat(80)}`, set: LATENCY, wait: '20m' }],
    })

    // Act
    const runbook = buildRunbook(fis)
    const names = [...runbook.mainSteps, ...scriptSteps(runbook)].map((step) => step.name)

    // Assess
    expect(names[1]).toMatch(/^S01_latency_400_ms______x+$/)
    expect(Math.max(...names.map((name) => name.length))).toBeLessThanOrEqual(64)
  })

  it('carries the handlers in every step, each script starting with the marker line', async () => {
    // Act
    const runbook = buildRunbook(await workshop())

    // Assess
    for (const step of scriptSteps(runbook)) {
      expect(step.inputs.Runtime).toBe('python3.11')
      expect(step.inputs.Script.split('\n')[0]).toBe(RUNBOOK_MARKER)
      expect(step.inputs.Script).toContain(`def ${step.inputs.Handler}(events, context):`)
    }
  })

  it('names the version of the package that generates the scripts: the one in its package.json', async () => {
    // Act
    const manifest = JSON.parse(
      await readFile(new URL('../package.json', import.meta.url), 'utf8'),
    ) as { version: string }

    // Assess: the local player names it when it refuses a script that is not this version's
    expect(VERSION).toBe(manifest.version)
  })

  it('stays under SSM 64 KB document limit for the workshop experiment and for 12 hours of waits', async () => {
    // Act
    const workshopBytes = runbookBytes(buildRunbook(await workshop()))
    const twelveHours = buildRunbook(hours(12))

    // Assess: a 12-hour wait is one hold and a loop of 80 holds of 540 s
    expect(workshopBytes).toBeLessThan(MAX_DOCUMENT_BYTES * 0.6)
    expect(runbookBytes(twelveHours)).toBeLessThan(MAX_DOCUMENT_BYTES * 0.6)
    const loop = twelveHours.mainSteps.find((step) => step.action === 'aws:loop')
    expect(loop?.action === 'aws:loop' && loop.inputs.Iterators.length).toBe(79)
    expect(runbookProblems(twelveHours)).toEqual([])
  })

  it('refuses by name an experiment whose runbook would pass 64 KB: too many steps', () => {
    // Act
    const build = () =>
      buildRunbook(
        experiment({
          name: 'many',
          steps: Array.from({ length: 30 }, (_, index) => ({ name: `s${index}`, set: LATENCY })),
        }),
      )

    // Assess
    expect(build).toThrow(FisExperimentError)
    expect(build).toThrow(
      /its runbook would be \d+ bytes as JSON, past 64512 \(SSM's 64 KB document limit, which counts the parameters given at run time, less FIS's 1024 characters of them\)/,
    )
  })

  it('checks the size of the text it writes, in its format, against 64 KB less the runtime parameters', async () => {
    // Prepare: the workshop's steps, repeated
    const fis = await workshop()
    const repeated = (count: number) => repeatSteps(fis, count)
    /** The size the refusal names, or undefined when the runbook is built. */
    const refusedAt = (count: number, format: 'JSON' | 'YAML') => {
      try {
        buildRunbook(repeated(count), { format })
        return undefined
      } catch (error) {
        return Number(/would be (\d+) bytes as /.exec((error as Error).message)?.[1])
      }
    }
    const most = (format: 'JSON' | 'YAML') => {
      let count = 1
      while (refusedAt(count + 1, format) === undefined) count++
      return count
    }

    // Act
    const json = most('JSON')
    const yaml = most('YAML')

    // Assess
    expect(MAX_RUNBOOK_BYTES).toBe(MAX_DOCUMENT_BYTES - 1024)
    const fits = buildRunbook(repeated(json))
    expect(runbookContent(fits, 'JSON')).toBe(JSON.stringify(fits))
    expect(runbookBytes(fits, 'JSON')).toBeLessThanOrEqual(MAX_RUNBOOK_BYTES)
    expect(refusedAt(json + 1, 'JSON')).toBeGreaterThan(MAX_RUNBOOK_BYTES)
    // 500 bytes more description: under SSM's 64 KB alone, refused for the runtime parameters' 1 KB.
    const description = `${fis.description}${'d'.repeat(MAX_RUNBOOK_BYTES + 500 - runbookBytes(fits))}`
    expect(() => buildRunbook({ ...repeated(json), description })).toThrow(
      `its runbook would be ${MAX_RUNBOOK_BYTES + 500} bytes as JSON`,
    )
    // YAML indents every script line: fewer steps fit, each format checked as it is written.
    expect(yaml).toBeLessThan(json)
    const fitsYaml = buildRunbook(repeated(yaml), { format: 'YAML' })
    expect(runbookBytes(fitsYaml, 'YAML')).toBeLessThanOrEqual(MAX_RUNBOOK_BYTES)
    expect(refusedAt(yaml + 1, 'YAML')).toBeGreaterThan(MAX_RUNBOOK_BYTES)
  })

  it('writes YAML that reads back as exactly the runbook, every script a literal block', async () => {
    // Prepare
    const runbook = buildRunbook(await workshop(), { format: 'YAML' })

    // Act
    const text = runbookContent(runbook, 'YAML')

    // Assess: YAML 1.1 and 1.2 readers alike
    expect(parseYaml(text, { version: '1.1' })).toEqual(runbook)
    expect(parseYaml(text)).toEqual(runbook)
    expect(text).toContain(`      Script: |-\n        ${RUNBOOK_MARKER}\n`)
    expect(text).not.toContain('%YAML')
  })

  it('gives the cancel path (onCancel to Restore) at most half of the two minutes SSM gives it', () => {
    // Prepare: a wait past 540 s adds a loop, whose step routes its cancel to Restore too
    const runbook = buildRunbook(hours(2))
    const byName = new Map(scriptSteps(runbook).map((step) => [step.name, step]))
    /** The worst case of the path from `name` on: every attempt of every step runs to its timeout. */
    const worstCase = (name: string): number => {
      const step = byName.get(name) as RunbookStep
      const own = step.timeoutSeconds * (step.maxAttempts ?? 1)
      return step.isEnd === true ? own : Number.POSITIVE_INFINITY
    }

    // Act
    const paths = scriptSteps(runbook)
      .filter((step) => step.onCancel !== undefined)
      .map((step) => worstCase((step.onCancel ?? '').replace(/^step:/, '')))

    // Assess: "Automation runs the cancellation workflow for a maximum of two minutes"
    expect(CANCEL_WINDOW_SECONDS).toBe(120)
    expect(paths.length).toBe(scriptSteps(runbook).length - 1)
    for (const seconds of paths) expect(seconds).toBeLessThanOrEqual(CANCEL_WINDOW_SECONDS / 2)
    // What it was: 90 s × 3 attempts
    expect(90 * 3).toBeGreaterThan(CANCEL_WINDOW_SECONDS)
  })

  it('refuses a config too large for the lease, naming its size and the bound, and takes it in the Advanced tier when asked', () => {
    // Prepare: a config of about 2 KB (its exception message long)
    const big = { ...LATENCY, fault_type: 'exception', exception_msg: 'x'.repeat(2000) }
    const fis = experiment({ name: 'big', steps: [{ name: 'big', set: big, wait: '1m' }] })

    // Act
    const standard = () => buildRunbook(fis)
    const advanced = buildRunbook(fis, { leaseTier: 'Advanced' })

    // Assess
    expect(standard).toThrow(FisExperimentError)
    expect(standard).toThrow(
      /steps\[0\] \(S01_big\) writes a config of 20\d\d bytes; the lease on AWS keeps it and the value before the experiment \(taken as 20\d\d bytes\), JSON-escaped, in one Standard-tier SSM parameter: 4\d\d\d bytes, over its 4096\. Shorten the config, or write the lease in the Advanced tier \(8,192 bytes; AWS charges/,
    )
    expect(leaseFit(fis, { leaseTier: 'Advanced' })).toMatchObject({
      limit: 8192,
      tier: 'Advanced',
    })
    expect(payload(advanced, 'AcquireLease')).toMatchObject({ LeaseTier: 'Advanced' })
    expect(payload(buildRunbook(hours(1)), 'AcquireLease')).not.toHaveProperty('LeaseTier')
    // A config of 1.8 KB (quotes counted twice once escaped) is about the most a Standard lease keeps.
    const near = (length: number) =>
      leaseFit(
        experiment({
          name: 'near',
          steps: [{ name: 'n', set: { ...big, exception_msg: 'x'.repeat(length) } }],
        }),
      )
    expect(near(1800).bytes).toBeLessThanOrEqual(4096)
    expect(near(1950).bytes).toBeGreaterThan(4096)
  })

  it('refuses what SSM would read as a variable, and a lease TTL AWS cannot keep', () => {
    // Prepare
    const braces = experiment({
      name: 'x',
      steps: [{ name: 'on', set: { ...LATENCY, exception_msg: 'boom {{ x }}' } }],
    })

    // Act / Assess
    expect(() => buildRunbook(braces)).toThrow(/steps\[0\]\.set: "\{\{" would be read by SSM/)
    expect(() => buildRunbook(hours(1), { leaseTtlSeconds: 5 })).toThrow(
      /lease TTL: 5 s; on AWS it must be a whole number of seconds from 30 to 3600/,
    )
  })
})

describe('the FIS experiment template', () => {
  it('gives the runbook only the three parameters, as a JSON string within 1024 characters', async () => {
    // Act
    const template = buildExperimentTemplate(await workshop(), REFS, { leaseTtlSeconds: 90 })

    // Assess
    const parameters = template.Actions.RunExperiment?.Parameters.documentParameters as string
    expect(JSON.parse(parameters)).toEqual({
      AutomationAssumeRole: REFS.automationRoleArn,
      ParameterName: '/chaos/hello-world',
      LeaseTtlSeconds: '90',
    })
    expect(parameters.length).toBeLessThanOrEqual(1024)
  })

  it('refuses documentParameters past 1024 characters', async () => {
    // Act
    const build = async () =>
      buildExperimentTemplate(await workshop(), { ...REFS, parameterName: `/${'p'.repeat(1000)}` })

    // Assess
    await expect(build()).rejects.toThrow(
      /documentParameters would be \d+ characters, past FIS's 1024/,
    )
  })

  it('sets maxDuration to the waits plus 5 minutes, at most PT12H, and one wait per waiting step', async () => {
    // Act
    const template = buildExperimentTemplate(await workshop(), REFS)
    const long = buildExperimentTemplate(hours(12), REFS)

    // Assess
    expect(template.Actions.RunExperiment?.Parameters.maxDuration).toBe('PT8M')
    expect(long.Actions.RunExperiment?.Parameters.maxDuration).toBe('PT720M')
    expect(template.Actions).toMatchObject({
      S02_Wait1: { ActionId: 'aws:fis:wait', Parameters: { duration: 'PT1M' } },
      S04_Wait2: { Parameters: { duration: 'PT1M' }, StartAfter: ['S02_Wait1'] },
      S06_Wait3: { Parameters: { duration: 'PT1M' }, StartAfter: ['S04_Wait2'] },
    })
    expect(Object.keys(template.Actions)).toHaveLength(4)
    expect(template.Actions.S02_Wait1?.StartAfter).toBeUndefined()
  })

  it('names each step S<nn>_<name> once: a name that starts with its own S<nn>_ is not prefixed again', () => {
    // Act
    const names = [
      stepName(1, 'S02_Wait1'),
      stepName(1, 'S01_Wait1'),
      stepName(0, 'enable latency!'),
      stepName(1, 'S02 wait'),
    ]

    // Assess: the workshop's names as they are; another step's prefix is only a name
    expect(names).toEqual(['S02_Wait1', 'S02_S01_Wait1', 'S01_enable_latency_', 'S02_wait'])
  })

  it('says when holds are not whole minutes: FIS waits are, at least PT1M, and the experiment lasts as its timeline', async () => {
    // Prepare: the workshop with its waits shortened to 4 s, and one hold of 90 s
    const workshopSteps = (await workshop()).steps
    const short: FisExperiment = {
      name: 'short',
      steps: workshopSteps.map((step) =>
        step.waitMs === undefined ? step : { ...step, waitMs: 4000 },
      ),
    }
    const ninety: FisExperiment = {
      name: 'ninety',
      steps: [{ name: 'hold', set: JSON.stringify(LATENCY), waitMs: 90_000, turnsFaultsOn: true }],
    }

    // Act / Assess
    expect(timelineWaits(short).map((wait) => [wait.name, wait.seconds, wait.duration])).toEqual([
      ['S02_Wait1', 4, 'PT1M'],
      ['S04_Wait2', 4, 'PT1M'],
      ['S06_Wait3', 4, 'PT1M'],
    ])
    expect(timelineNote(short)).toBe(
      'FIS waits are whole minutes, at least PT1M: the holds of S02_Wait1 (4 s, PT1M), S04_Wait2 (4 s, PT1M), S06_Wait3 (4 s, PT1M) are waits of whole minutes on the FIS timeline, so the FIS experiment lasts at least 3 min while its automation holds 12 s (the automation, not the timeline, applies the faults)',
    )
    expect(timelineNote(ninety)).toMatch(
      /the hold of S01_hold \(90 s, PT2M\) is a wait of whole minutes .* lasts at least 2 min while its automation holds 90 s/,
    )
    expect(timelineNote(await workshop())).toBeUndefined()
  })

  it('refuses an experiment whose waits pass 12 hours', () => {
    // Prepare
    const tooLong: FisExperiment = {
      name: 'x',
      steps: [{ name: 'w', waitMs: 12 * 3_600_000 + 1000, turnsFaultsOn: false }],
    }

    // Act / Assess
    expect(() => buildExperimentTemplate(tooLong, REFS)).toThrow(
      /longer than 12 h, AWS FIS's maximum/,
    )
  })
})
