/**
 * What `experiment run --probe` does around the functions' cache and its own
 * probe, with the built CLI as a user runs it: the lease comes before any
 * request; the probe's URL must answer before the first write (else exit 2,
 * nothing written, the lease released); a probe that stops answering stops
 * the run (exit 4, restored); `serve` shows a change on the next request; the
 * settling time after each write is drawn but not judged; the baseline starts
 * once the value the run starts from is in force.
 */
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { readFileHistory, writeFileValue } from '@middy-chaos/core'
import { type Experiment, parseExperiment } from '@middy-chaos/experiment'
import { acquireLease, LEASE_SUFFIX } from '@middy-chaos/fis/local'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CACHE_WINDOW_HEADER } from '../src/serve/index.js'
import { inForceWait, settleTime, settleWarnings } from '../src/session/settle.js'
import { FileStore } from '../src/stores/index.js'
import { assertCliBuilt, runCli, serveFixture, startCli } from './helpers.js'

const OFF = '{"is_enabled":false,"fault_type":"status_code","error_code":404,"rate":1}'
const NOT_FOUND = '{"is_enabled":true,"fault_type":"status_code","error_code":404,"rate":1}'
const LATENCY = { is_enabled: true, fault_type: 'latency', delay: 400, rate: 1 }

let dir: string
let count = 0
beforeAll(async () => {
  assertCliBuilt()
  dir = await mkdtemp(join(tmpdir(), 'middy-chaos-probe-settle-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** A file store holding OFF, in a file of its own. */
const fileStore = async () => {
  const param = join(dir, `config-${++count}.json`)
  await writeFileValue(param, OFF, { label: 'setup' })
  return { param, args: ['--store', 'file', '--param', param] }
}
const experimentFile = async (steps: unknown[]) => {
  const file = join(dir, `experiment-${++count}.json`)
  await writeFile(file, JSON.stringify({ name: `probe-${count}`, steps }))
  return file
}

/** An HTTP server answering 200, counting the requests it got. */
const countingServer = async () => {
  let requests = 0
  const server: Server = createServer((_request, response) => {
    requests++
    response.end('ok')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    requests: () => requests,
    close: async () => {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}

interface ReportSample {
  phase: string
  status: number
  startedAtMs: number
  straddles: boolean
  settling?: boolean
}
interface Report {
  outcome: string
  stoppedBy?: string
  restore: { action: string }
  settle?: { ms: number; why: string; bands: { fromMs: number; toMs: number }[] }
  summary: { phase: string; requests: number; leftOut: number }[]
  expectations: { scope: string; name: string; verdicts: { requests: number; held: boolean }[] }[]
  samples: ReportSample[]
}

describe('the probe, checked before the first write', () => {
  it('takes the lease before any request: a run refused for the lease (exit 5) sends none', async () => {
    // Prepare: another run holds the parameter
    const store = await fileStore()
    const server = await countingServer()
    const lease = await acquireLease(new FileStore(store.param), {
      experiment: 'another',
      ttlMs: 60_000,
    })
    try {
      // Act
      const run = await runCli([
        'experiment',
        'run',
        await experimentFile([{ name: 'S01_Hold', wait: '1s' }]),
        '--probe',
        server.url,
        ...store.args,
      ])

      // Assess
      expect(run.code, run.stderr).toBe(5)
      expect(server.requests()).toBe(0)
    } finally {
      await lease.release()
      await server.close()
    }
  })

  it('refuses a run whose URL does not answer: exit 2, nothing written, the lease released', async () => {
    // Prepare: a port nothing listens on
    const store = await fileStore()
    const closed = await countingServer()
    await closed.close()

    // Act
    const run = await runCli([
      'experiment',
      'run',
      await experimentFile([{ name: 'S01_On', set: LATENCY, wait: '1s' }]),
      '--probe',
      closed.url,
      ...store.args,
    ])

    // Assess
    expect(run.code, run.stderr).toBe(2)
    expect(run.stdout).toBe('')
    expect(run.stderr).toBe(
      `middy-chaos: --probe ${closed.url} does not answer (connect ECONNREFUSED 127.0.0.1:${new URL(closed.url).port}; 3 tries, 500ms apart): the run is refused, the parameter unchanged; is the function served there (middy-chaos serve <handler module> --port <n>)?\n`,
    )
    expect((await readFileHistory(store.param)).map((entry) => entry.label)).toEqual(['setup'])
    expect(existsSync(`${store.param}.${LEASE_SUFFIX}`)).toBe(false)
  })

  it('stops a run whose probe stops answering (exit 4), restores, and the report says why', async () => {
    // Prepare: a URL that answers, then goes away while a fault holds
    const store = await fileStore()
    const server = await countingServer()
    const report = join(dir, 'lost.json')
    const runner = startCli([
      'experiment',
      'run',
      await experimentFile([
        { name: 'S01_On', set: LATENCY },
        { name: 'S02_Hold', wait: '1m' },
      ]),
      '--probe',
      server.url,
      '--interval',
      '50ms',
      '--settle',
      '0',
      '--probe-lost',
      '500ms',
      '--report',
      report,
      ...store.args,
    ])
    await runner.waitFor(/S02_Hold\s+running/)

    // Act
    await server.close()
    const { code } = await runner.exited

    // Assess: stopped by the lost probe, not by the end of the minute
    expect(code, runner.stderr()).toBe(4)
    expect(runner.stdout()).toMatch(
      /■ \[\d\d:\d\d\.\d\] STOPPED by probe lost: http:\/\/127\.0\.0\.1:\d+\/ could not be reached for \d+\.\d s \(\d+ requests in a row: [^)]+\)$/m,
    )
    expect(runner.stdout()).toMatch(/Restored .* to its pre-experiment value/)
    expect(await readFile(store.param, 'utf8')).toBe(OFF)
    const json = JSON.parse(await readFile(report, 'utf8')) as Report
    expect(json.outcome).toBe('stopped')
    expect(json.stoppedBy).toMatch(/^probe lost: /)
    expect(json.restore.action).toBe('restored')
  }, 30_000)
})

describe('serve, by default', () => {
  it('shows a change on the next request, and says its cache window is 0', async () => {
    // Prepare: no --max-age, no POWERTOOLS_PARAMETERS_MAX_AGE
    const store = await fileStore()
    const server = await serveFixture(store.args, {
      env: { POWERTOOLS_PARAMETERS_MAX_AGE: undefined },
    })
    try {
      const first = await fetch(server.url)
      await first.text()

      // Act: each write, then the very next request
      await writeFileValue(store.param, NOT_FOUND, { label: 'on' })
      const on = await fetch(server.url)
      await on.text()
      await writeFileValue(store.param, OFF, { label: 'off' })
      const off = await fetch(server.url)
      await off.text()

      // Assess
      expect([first.status, on.status, off.status]).toEqual([200, 404, 200])
      expect(first.headers.get(CACHE_WINDOW_HEADER)).toBe('0')
    } finally {
      await server.stop()
    }
  })
})

describe('the settling time', () => {
  it('is --settle, else the window serve announces (0: none), else Powertools’ 5 s, plus one probe interval', () => {
    expect(settleTime(2000, { status: 200, cacheMaxAgeSeconds: 0 }, 1000).ms).toBe(2000)
    expect(settleTime(undefined, { status: 200, cacheMaxAgeSeconds: 0 }, 1000).ms).toBe(0)
    expect(settleTime(undefined, { status: 200, cacheMaxAgeSeconds: 1 }, 300).ms).toBe(1300)
    expect(settleTime(undefined, { status: 200 }, 1000)).toEqual({
      ms: 6000,
      why: "the functions' cache window, 5 s unless they set POWERTOOLS_PARAMETERS_MAX_AGE, and one probe interval, 1s",
    })
  })

  it('warns of a step shorter than, or close to, it', () => {
    // Prepare: two holds of 4 s and one of 10 s after writes, as a first experiment has them
    const experiment: Experiment = parseExperiment({
      name: 'first',
      steps: [
        { name: 'S01_On', set: LATENCY },
        { name: 'S02_Hold', wait: '4s', expect: ['p50>=400ms'] },
        { name: 'S03_Longer', wait: '10s', expect: ['p50>=400ms'] },
        { name: 'S04_Again', set: LATENCY, wait: '8s', expect: ['p50>=400ms'] },
        { name: 'S05_Off', set: { is_enabled: false }, wait: '2s' },
      ],
    })

    // Act / Assess: S03 starts past the settling time of S01's write; S04 judges its last 2 s
    expect(settleWarnings(experiment, 6000)).toEqual([
      'step S02_Hold holds 4s, within the settling time after a write (6s): its expectations judge no request; lengthen it, or lower --settle if the functions cache their config for less',
      'step S04_Again holds 8s, close to the settling time after a write (6s): its expectations judge its last 2s only',
      'step S05_Off holds 2s, less than the settling time after a write (6s): the functions may show its config late, or not at all',
    ])
    expect(settleWarnings(experiment, 0)).toEqual([])
  })

  it('waits, before the baseline, for the rest of it after the value in force was written', () => {
    const now = Date.parse('2026-12-01T12:00:10.000Z')
    const written = (iso: string) => ({ value: OFF, version: 1, modifiedAt: iso })
    expect(inForceWait(written('2026-12-01T12:00:08.000Z'), 6000, now)).toBe(4000)
    expect(inForceWait(written('2026-12-01T12:00:00.000Z'), 6000, now)).toBe(0)
    // A clock ahead of ours: never more than the settling time
    expect(inForceWait(written('2026-12-01T12:01:00.000Z'), 6000, now)).toBe(6000)
    expect(inForceWait({ value: OFF, version: 1 }, 6000, now)).toBe(0)
    expect(inForceWait(undefined, 6000, now)).toBe(0)
  })

  it('leaves out of the verdicts and the table the requests that start within it, and the report shows it', async () => {
    // Prepare: a function that caches its config for 1 s, as a Lambda function does for 5 s
    const store = await fileStore()
    const server = await serveFixture([...store.args, '--max-age', '1'])
    const report = join(dir, 'settle.json')
    const results = join(dir, 'settle.jsonl')
    try {
      // Act: a hold of 3 s that expects the 400 ms, judged past the settling time
      const run = await runCli([
        'experiment',
        'run',
        await experimentFile([
          { name: 'S01_On', set: LATENCY },
          { name: 'S02_Hold', wait: '3s', expect: ['p50>=400ms', 'requests>=1'] },
          { name: 'S03_Off', set: { is_enabled: false, fault_type: 'latency' } },
        ]),
        '--probe',
        server.url,
        '--interval',
        '100ms',
        '--tail',
        '500ms',
        '--report',
        report,
        '--results',
        results,
        ...store.args,
      ])

      // Assess: the settling time is serve's window and one interval
      expect(run.code, run.stdout + run.stderr).toBe(0)
      expect(run.stdout).toContain(
        "Settling time 1.1s: requests starting within it after a write are drawn but not judged (the served function's cache window, 1 s (serve --max-age), and one probe interval, 100ms).",
      )
      const json = JSON.parse(await readFile(report, 'utf8')) as Report
      expect(json.settle?.ms).toBe(1100)
      const bands = json.settle?.bands ?? []
      expect(bands.length).toBeGreaterThanOrEqual(2)
      const inBand = (sample: ReportSample) =>
        bands.some((band) => sample.startedAtMs >= band.fromMs && sample.startedAtMs < band.toMs)
      // Marked exactly when they start in a band (a sample starting as a band starts may precede its write)
      for (const sample of json.samples.filter((s) => !s.straddles))
        if (sample.settling) expect(inBand(sample), JSON.stringify(sample)).toBe(true)
      const hold = json.samples.filter((s) => s.phase === 'S02_Hold' && !s.straddles)
      const judged = hold.filter((s) => !s.settling)
      expect(hold.some((s) => s.settling)).toBe(true)
      const [verdicts] = json.expectations.filter((scope) => scope.name === 'S02_Hold')
      expect(verdicts?.verdicts.map((v) => [v.held, v.requests])).toEqual([
        [true, judged.length],
        [true, judged.length],
      ])
      expect(json.summary.find((row) => row.phase === 'S02_Hold')?.requests).toBe(judged.length)
      expect(run.stdout).toMatch(/in the settling time after a write/)
      const lines = (await readFile(results, 'utf8'))
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line))
      expect(lines.filter((line) => line.type === 'settling')).toEqual(
        bands.map((band) => ({ type: 'settling', untilMs: band.toMs, atMs: band.fromMs })),
      )
    } finally {
      await server.stop()
    }
  }, 30_000)

  it('starts the baseline once the value the run starts from is in force, not a leftover in the cache', async () => {
    // Prepare: the function caches a 404 (a previous run's), then the value is put back, as a restore does
    const store = await fileStore()
    const server = await serveFixture([...store.args, '--max-age', '2'])
    const report = join(dir, 'baseline.json')
    try {
      await writeFileValue(store.param, NOT_FOUND, { label: 'a previous run' })
      // The first request after the window is served the old "off" at once while the read runs
      let status = 0
      for (let attempt = 0; attempt < 100 && status !== 404; attempt++) {
        const answer = await fetch(server.url)
        await answer.text()
        status = answer.status
        if (status !== 404) await new Promise((resolve) => setTimeout(resolve, 50))
      }
      expect(status).toBe(404)
      await writeFileValue(store.param, OFF, { label: 'its restore' })

      // Act: at once, a run with a baseline
      const run = await runCli([
        'experiment',
        'run',
        await experimentFile([{ name: 'S01_Hold', wait: '200ms' }]),
        '--probe',
        server.url,
        '--interval',
        '100ms',
        '--lead',
        '1s',
        '--report',
        report,
        ...store.args,
      ])

      // Assess: it waited for the rest of the settling time, and the baseline saw the value in force only
      expect(run.code, run.stdout + run.stderr).toBe(0)
      expect(run.stdout).toMatch(
        /The value in force was written \d+(\.\d+)?m?s ago: the baseline starts in \d+(\.\d+)?m?s, once the functions hold it\./,
      )
      const json = JSON.parse(await readFile(report, 'utf8')) as Report
      const baseline = json.samples.filter((s) => s.phase === '(baseline)')
      expect(baseline.length).toBeGreaterThanOrEqual(3)
      expect(baseline.map((s) => s.status)).toEqual(baseline.map(() => 200))
    } finally {
      await server.stop()
    }
  }, 30_000)
})
