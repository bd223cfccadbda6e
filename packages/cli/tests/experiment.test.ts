import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { readFileHistory, writeFileValue } from '@middy-chaos/core'
import { adjustWaits, parseExperiment } from '@middy-chaos/experiment'
import type { ConfigStore } from '@middy-chaos/fis/local'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { loadExperiment } from '../src/runner/experiment-file.js'
import { type RunEvent, runExperiment } from '../src/runner/run.js'
import { FileStore } from '../src/stores/index.js'
import { repoRoot } from './helpers.js'

const OFF = '{"is_enabled":false}'
const latency = { is_enabled: true, fault_type: 'latency', delay: 400 }

describe('parseExperiment', () => {
  it('reads the shipped workshop experiment: seven steps, three one-minute waits', async () => {
    const experiment = await loadExperiment(
      join(repoRoot, 'examples/hello-world/experiments/workshop.json'),
    )
    expect(experiment.steps.map((step) => step.name)).toEqual([
      'S01_EnableLatency',
      'S02_Wait1',
      'S03_EnableStatusCode',
      'S04_Wait2',
      'S05_EnableException',
      'S06_Wait3',
      'S07_DisableFaults',
    ])
    expect(experiment.steps.map((step) => step.waitMs ?? 0)).toEqual([
      0, 60_000, 0, 60_000, 0, 60_000, 0,
    ])
    expect(experiment.steps.map((step) => step.setSummary ?? '')).toEqual([
      'latency 400ms',
      '',
      'status code 404',
      '',
      'exception',
      '',
      'faults off',
    ])
  })

  it('names every invalid field', () => {
    expect(() =>
      parseExperiment(
        {
          name: 'x',
          steps: [
            { name: 'a', set: { is_enabled: true, fault_type: 'latency', delay: -1 } },
            { name: 'a', wait: '5 minutes' },
            { name: 'c' },
            { name: 'd', wiat: '1s' },
          ],
        },
        'x.json',
      ),
    ).toThrow(/^invalid experiment x\.json: steps\[0\]\.set\.delay: .*-1/)
    const message = (() => {
      try {
        parseExperiment({
          name: 'x',
          steps: [
            { name: 'a', wait: '5 minutes' },
            { name: 'a', wait: '1s' },
            { name: 'c' },
            { name: 'd', wiat: '1s' },
          ],
        })
      } catch (error) {
        return (error as Error).message
      }
    })()
    expect(message).toContain('steps[0].wait: "5 minutes" is not a duration')
    expect(message).toContain('steps[1].name: "a" is used by an earlier step')
    expect(message).toContain(
      'steps[2]: needs "set" (a chaos config) or "wait" (a duration), or both',
    )
    expect(message).toContain('steps[3].wiat: unknown field')
    expect(message).not.toContain('\n')
  })

  it('refuses an experiment without steps', () => {
    expect(() => parseExperiment({ name: 'x', steps: [] })).toThrow(
      'steps: must be a non-empty array of steps',
    )
  })

  it('accepts FIS-style ISO durations and shortens waits on request', () => {
    const experiment = parseExperiment({ name: 'x', steps: [{ name: 'w', wait: 'PT1M30S' }] })
    expect(experiment.steps[0]?.waitMs).toBe(90_000)
    expect(adjustWaits(experiment, { waitMs: 4000 }).steps[0]?.waitMs).toBe(4000)
    expect(adjustWaits(experiment, { timeScale: 0.1 }).steps[0]?.waitMs).toBe(9000)
  })
})

describe('runExperiment', () => {
  let dir: string
  let path: string
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'middy-chaos-run-'))
    path = join(dir, 'config.json')
  })
  afterEach(async () => {
    vi.useRealTimers()
    await rm(dir, { recursive: true, force: true })
  })

  const experiment = parseExperiment({
    name: 'short',
    steps: [
      { name: 'S01', set: latency },
      { name: 'S02', wait: '20ms' },
      { name: 'S03', set: { ...latency, is_enabled: false } },
    ],
  })

  it('restores the pre-experiment value on completion, not a hard-coded off', async () => {
    // Prepare
    const before = '{"version":1,"faults":[{"type":"latency","delay":50,"rate":0.1}]}'
    await writeFileValue(path, before, { label: 'setup' })
    const events: RunEvent[] = []

    // Act
    const result = await runExperiment(experiment, new FileStore(path), {
      onEvent: (event) => events.push(event),
    })

    // Assess
    expect(result.outcome).toBe('completed')
    expect(result.restore).toMatchObject({ action: 'restored', value: before, version: 5 })
    expect(await readFile(path, 'utf8')).toBe(before)
    const history = await readFileHistory(path)
    // S02 only waits: it renews S01's value at once, its stamp capped at S02's end.
    expect(history.map((entry) => entry.label)).toEqual([
      'setup',
      'experiment short: S01',
      'experiment short: S01',
      'experiment short: S03',
      'experiment short: restore',
    ])
    expect(
      events
        .filter((e) => e.type === 'step')
        .map((e) => `${e.type === 'step' && e.step.name}:${e.type === 'step' && e.state}`),
    ).toEqual(['S01:running', 'S01:done', 'S02:running', 'S02:done', 'S03:running', 'S03:done'])
  })

  it('deletes the parameter at the end when it did not exist before', async () => {
    const result = await runExperiment(experiment, new FileStore(path))
    expect(result.restore.action).toBe('deleted')
    await expect(readFile(path, 'utf8')).rejects.toThrow(/ENOENT/)
  })

  it('restores after a failed step and reports the failure', async () => {
    // Prepare: a store whose third write (S03's, after S01's and S02's renewal) fails
    await writeFileValue(path, OFF)
    const file = new FileStore(path)
    let writes = 0
    const flaky: ConfigStore = {
      kind: 'file',
      parameter: path,
      description: file.description,
      read: () => file.read(),
      write: (value, options) => {
        writes++
        if (writes === 3) return Promise.reject(new Error('disk full'))
        return file.write(value, options)
      },
      remove: (options) => file.remove(options),
      history: () => file.history(),
      createCompanion: (suffix, value) => file.createCompanion(suffix, value),
      readCompanion: (suffix) => file.readCompanion(suffix),
      writeCompanion: (suffix, value) => file.writeCompanion(suffix, value),
      removeCompanion: (suffix) => file.removeCompanion(suffix),
    }

    // Act
    const result = await runExperiment(experiment, flaky)

    // Assess
    expect(result).toMatchObject({ outcome: 'failed', error: 'step S03 failed: disk full' })
    expect(result.restore.action).toBe('restored')
    expect(await readFile(path, 'utf8')).toBe(OFF)
  })

  it('stops at once when interrupted, then restores', async () => {
    // Prepare: timers and Date on a fake clock, the store's files real: the clock moves only
    // when the test moves it
    await writeFileValue(path, OFF)
    const controller = new AbortController()
    const long = parseExperiment({
      name: 'long',
      steps: [
        { name: 'S01', set: latency },
        { name: 'S02', wait: '1m' },
        { name: 'S03', set: { ...latency, delay: 800 } },
      ],
    })
    vi.useFakeTimers({
      toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'],
    })
    const started = Date.now()
    let holding: () => void = () => {}
    const held = new Promise<void>((resolve) => {
      holding = resolve
    })

    // Act: the interruption comes 20 ms into S02's minute
    const run = runExperiment(long, new FileStore(path), {
      signal: controller.signal,
      onEvent: (event) => {
        if (event.type === 'step' && event.step.name === 'S02' && event.state === 'running') {
          setTimeout(() => controller.abort(), 20)
          holding()
        }
      },
    })
    await held
    await vi.advanceTimersByTimeAsync(20)
    const result = await run
    const ended = Date.now()
    vi.useRealTimers()

    // Assess: the run ended with the clock at the interruption, 20 ms in: the minute's wait was
    // cut, not waited out (the clock never moved past it, a run that waited would never end)
    expect(ended - started).toBe(20)
    expect(result.outcome).toBe('interrupted')
    expect(await readFile(path, 'utf8')).toBe(OFF)
    expect((await readFileHistory(path)).map((entry) => entry.label)).toEqual([
      undefined,
      'experiment long: S01',
      'experiment long: S01',
      'experiment long: restore',
    ])
  })

  it('warns when another writer changed the parameter during the experiment, and still restores', async () => {
    await writeFileValue(path, OFF)
    const waiting = parseExperiment({
      name: 'w',
      steps: [
        { name: 'S01', set: latency },
        { name: 'S02', wait: '50ms' },
      ],
    })
    const result = await runExperiment(waiting, new FileStore(path), {
      onEvent: (event) => {
        if (event.type === 'step' && event.step.name === 'S02' && event.state === 'running') {
          void writeFileValue(path, '{"is_enabled":true,"fault_type":"exception"}', {
            label: 'someone else',
          })
        }
      },
    })
    expect(result.restore.warning).toMatch(/another writer changed file:.* during the experiment/)
    expect(await readFile(path, 'utf8')).toBe(OFF)
  })

  it('changes nothing when the initial read fails', async () => {
    const broken: ConfigStore = {
      kind: 'ssm',
      parameter: '/x',
      description: 'ssm:/x',
      read: () => Promise.reject(new Error('unreachable')),
      write: () => Promise.reject(new Error('must not write')),
      remove: () => Promise.reject(new Error('must not remove')),
      history: async () => [],
      createCompanion: () => Promise.reject(new Error('unreachable')),
      readCompanion: () => Promise.reject(new Error('unreachable')),
      writeCompanion: () => Promise.reject(new Error('must not write')),
      removeCompanion: () => Promise.reject(new Error('unreachable')),
    }
    await expect(runExperiment(experiment, broken)).rejects.toThrow('unreachable')
  })
})
