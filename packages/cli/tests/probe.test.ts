import { spawn } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { type ProbeSample, percentile } from '@middy-chaos/experiment'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { countLeftOut, formatProbeLine, formatSummary } from '../src/report/output.js'
import { PhaseTracker, Probe, ProbeLostWatch, summarise } from '../src/runner/probe.js'
import { assertCliBuilt, cliBin, startCli } from './helpers.js'

const sample = (phase: string, status: number, seconds: number): ProbeSample => ({
  seq: 0,
  startedAtMs: 0,
  seconds,
  status,
  body: '',
  phase,
  phaseAtEnd: phase,
  straddles: false,
  phaseOffsetMs: 0,
})

describe('a lost probe (ProbeLostWatch)', () => {
  /** A request that started at `atMs` and lasted 10 ms: no answer (`error`) or a status. */
  const at = (atMs: number, status: number, error?: string): ProbeSample => ({
    ...sample('S02_Hold', status, 0.01),
    startedAtMs: atMs,
    ...(error === undefined ? {} : { error }),
  })

  it('trips once, when two requests in a row reached nothing and the last ended that long after the last that did', () => {
    // Prepare
    const reasons: string[] = []
    const watch = new ProbeLostWatch('http://127.0.0.1:9/', 1000, (reason) => reasons.push(reason))

    // Act: an answer, then refusals every 300 ms
    watch.add(at(0, 200))
    for (const atMs of [300, 600, 900]) watch.add(at(atMs, 0, 'connect ECONNREFUSED'))
    const before = [...reasons]
    for (const atMs of [1200, 1500]) watch.add(at(atMs, 0, 'connect ECONNREFUSED'))

    // Assess: 1.2 s after the answer's end (10 ms), not before; once
    expect(before).toEqual([])
    expect(reasons).toEqual([
      'probe lost: http://127.0.0.1:9/ could not be reached for 1.2 s (4 requests in a row: connect ECONNREFUSED)',
    ])
  })

  it('counts a request that timed out, or any answer, 5xx included, as reaching the URL; one failure alone never trips', () => {
    // Prepare
    const reasons: string[] = []
    const watch = new ProbeLostWatch('http://127.0.0.1:9/', 1000, (reason) => reasons.push(reason))

    // Act: a slow server (timeouts), a failing one (503), then a single refusal after a long pause
    watch.add(at(0, 0, 'connect ECONNREFUSED'))
    watch.add(at(2000, 0, 'timed out'))
    watch.add(at(4000, 0, 'connect ECONNREFUSED'))
    watch.add(at(6000, 503))
    watch.add(at(9000, 0, 'connect ECONNREFUSED'))
    watch.add({ ...at(9500, 0, 'stopped'), stopped: true })

    // Assess
    expect(reasons).toEqual([])
  })
})

describe('probe output', () => {
  it('prints the workshop line format: BODY - STATUS - SECONDS', () => {
    expect(formatProbeLine({ body: 'Hello from Lambda!', status: 200, seconds: 0.134764 })).toBe(
      'Hello from Lambda! - 200 - 0.134764',
    )
    expect(
      formatProbeLine({ body: '{"message": "Internal server error"}', status: 502, seconds: 0.2 }),
    ).toBe('{"message": "Internal server error"} - 502 - 0.200000')
    expect(formatProbeLine({ body: '(ECONNREFUSED)', status: 0, seconds: 0.001 })).toBe(
      '(ECONNREFUSED) - 000 - 0.001000',
    )
  })

  it('takes nearest-rank percentiles', () => {
    const values = Array.from({ length: 20 }, (_, i) => i + 1)
    expect(percentile(values, 50)).toBe(10)
    expect(percentile(values, 95)).toBe(19)
    expect(percentile([], 50)).toBeUndefined()
  })

  it('summarises requests, status counts and p50/p95 per step, in step order', () => {
    const rows = summarise(
      [
        sample('S02_Wait1', 200, 0.41),
        sample('(baseline)', 200, 0.01),
        sample('S02_Wait1', 200, 0.42),
        sample('S04_Wait2', 404, 0.01),
        sample('S04_Wait2', 200, 0.4),
      ],
      [
        { name: '(baseline)', config: 'faults off' },
        { name: 'S01_EnableLatency', config: 'latency 400ms' },
        { name: 'S02_Wait1', config: 'latency 400ms' },
        { name: 'S04_Wait2', config: 'status code 404' },
      ],
    )
    expect(rows).toEqual([
      {
        phase: '(baseline)',
        config: 'faults off',
        requests: 1,
        leftOut: 0,
        statuses: { '200': 1 },
        p50: 0.01,
        p95: 0.01,
        p99: 0.01,
      },
      {
        phase: 'S02_Wait1',
        config: 'latency 400ms',
        requests: 2,
        leftOut: 0,
        statuses: { '200': 2 },
        p50: 0.41,
        p95: 0.42,
        p99: 0.42,
      },
      {
        phase: 'S04_Wait2',
        config: 'status code 404',
        requests: 2,
        leftOut: 0,
        statuses: { '200': 1, '404': 1 },
        p50: 0.01,
        p95: 0.4,
        p99: 0.4,
      },
    ])
    const table = formatSummary(rows, 'Probe summary per step')
    expect(table.split('\n')[0]).toBe('Probe summary per step: 5 requests')
    expect(table).toMatch(
      /S04_Wait2\s+status code 404\s+2\s+200×1 404×1\s+0\.010s\s+0\.400s\s+0\.400s$/m,
    )
    expect(table).not.toContain('expectations')
  })

  it('leaves out of the numbers the requests in flight across a change, and says how many', () => {
    const straddling = { ...sample('S02_Wait1', 502, 3), straddles: true }
    const rows = summarise([sample('S02_Wait1', 200, 0.41), straddling])
    expect(rows).toEqual([
      expect.objectContaining({ requests: 1, leftOut: 1, statuses: { '200': 1 }, p99: 0.41 }),
    ])
    expect(formatSummary(rows, 'Probe summary', countLeftOut([straddling])).split('\n')).toEqual([
      'Probe summary: 1 requests',
      expect.stringMatching(/^step\s+config\s+requests/),
      expect.stringMatching(/^S02_Wait1\s+1\s+200×1/),
      'left out: 1 request in flight across a change (of step or config), drawn in the report but not counted',
    ])
  })

  it('leaves out of the numbers the requests that started while a write settled, and says how many', () => {
    // Prepare: one request as the function may still hold the previous config, one past it
    const settling = { ...sample('S02_Wait1', 200, 0.01), settling: true as const }
    const straddling = { ...sample('S02_Wait1', 502, 3), straddles: true, settling: true as const }
    const samples = [settling, straddling, sample('S02_Wait1', 200, 0.41)]

    // Act
    const rows = summarise(samples)

    // Assess: counted once each, a straddling one as straddling
    expect(rows).toEqual([
      expect.objectContaining({ requests: 1, leftOut: 2, statuses: { '200': 1 }, p50: 0.41 }),
    ])
    expect(countLeftOut(samples)).toEqual({ straddling: 1, settling: 1 })
    expect(formatSummary(rows, 'Probe summary', countLeftOut(samples)).split('\n').at(-1)).toBe(
      'left out: 1 request in flight across a change (of step or config), and 1 request in the settling time after a write (the functions may still have held the previous config), drawn in the report but not counted',
    )
  })
})

describe('Probe', () => {
  let server: Server | undefined
  afterEach(() => {
    server?.close()
  })

  it('polls one request at a time and attributes each to the phase under way', async () => {
    // Prepare
    let hits = 0
    server = createServer((_req, res) => {
      hits++
      res.writeHead(hits > 3 ? 404 : 200).end('Hello from Lambda!')
    })
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as { port: number }
    const tracker = new PhaseTracker('(baseline)', 'faults off')
    const lines: string[] = []
    const probe = new Probe({
      url: `http://127.0.0.1:${port}/`,
      intervalMs: 10,
      tracker,
      onSample: (s) => {
        lines.push(formatProbeLine(s))
        if (s.seq === 3) tracker.enter('S04_Wait2', 'status code 404')
      },
    })

    // Act
    probe.start()
    while (probe.samples.length < 6) await new Promise((resolve) => setTimeout(resolve, 10))
    await probe.stop()

    // Assess
    expect(lines[0]).toMatch(/^Hello from Lambda! - 200 - \d\.\d{6}$/)
    expect(probe.samples.slice(0, 6).map((s) => `${s.phase}:${s.status}`)).toEqual([
      '(baseline):200',
      '(baseline):200',
      '(baseline):200',
      'S04_Wait2:404',
      'S04_Wait2:404',
      'S04_Wait2:404',
    ])
  })

  it('records a refused connection as status 000, as curl does', async () => {
    const closed = createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const { port } = closed.address() as { port: number }
    await new Promise((resolve) => closed.close(resolve))
    const probe = new Probe({ url: `http://127.0.0.1:${port}/`, intervalMs: 10 })
    probe.start()
    while (probe.samples.length < 1) await new Promise((resolve) => setTimeout(resolve, 10))
    await probe.stop()
    expect(probe.samples[0]).toMatchObject({
      status: 0,
      body: expect.stringContaining('ECONNREFUSED'),
    })
  })
})

describe('the probe always gives timers and signals their turn', () => {
  // A port fetch refuses without any I/O: a loop of such requests that never waits on a timer
  // starves the event loop (no --duration, no Ctrl-C). Run as processes, killed if they hang.
  const KILL_AFTER_MS = 8000
  const run = async (args: string[]) => {
    const cli = startCli(args)
    const killer = setTimeout(() => cli.child.kill('SIGKILL'), KILL_AFTER_MS)
    const { code } = await cli.exited
    clearTimeout(killer)
    return { code, stderr: cli.stderr() }
  }
  let dir: string
  beforeAll(async () => {
    assertCliBuilt()
    dir = await mkdtemp(join(tmpdir(), 'middy-chaos-interval-'))
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it.each([
    ['probe', '0'],
    ['probe', '5ms'],
    ['probe', '2h'],
    ['experiment run', '0'],
  ])(
    '%s refuses --interval %s with one line',
    async (command, interval) => {
      // Prepare
      const dir = await mkdtemp(join(tmpdir(), 'middy-chaos-interval-'))
      const file = join(dir, 'experiment.json')
      await writeFile(file, JSON.stringify({ name: 'x', steps: [{ name: 'hold', wait: '2s' }] }))
      const args =
        command === 'probe'
          ? ['probe', 'http://127.0.0.1:1/', '--duration', '1s']
          : [
              'experiment',
              'run',
              file,
              '--probe',
              'http://127.0.0.1:1/',
              '--param',
              join(dir, 'c.json'),
            ]

      // Act
      const result = await run([...args, '--interval', interval])

      // Assess
      await rm(dir, { recursive: true, force: true })
      expect(result.code).toBe(2)
      expect(result.stderr).toBe(`middy-chaos: --interval: "${interval}" is not from 10ms to 1h\n`)
    },
    20_000,
  )

  it('a Probe given intervalMs 0 against such a port still lets a timer stop it', async () => {
    // Prepare
    const probeModule = pathToFileURL(join(cliBin, '..', 'runner', 'probe.js')).href
    const script = `
      import { Probe } from ${JSON.stringify(probeModule)}
      const probe = new Probe({ url: 'http://127.0.0.1:1/', intervalMs: 0 })
      probe.start()
      setTimeout(async () => {
        await probe.stop()
        console.log(JSON.stringify(probe.samples.map((sample) => sample.startedAtMs)))
      }, 300)`

    // Act
    const child = spawn(process.execPath, ['--input-type=module', '-e', script])
    let out = ''
    child.stdout.on('data', (chunk) => (out += chunk))
    const killer = setTimeout(() => child.kill('SIGKILL'), KILL_AFTER_MS)
    const code = await new Promise((resolve) => child.once('exit', resolve))
    clearTimeout(killer)

    // Assess: it stopped, after one request or more, each started at least 10 ms after the one
    // before (as the probe's own clock, in whole ms, tells)
    expect(code).toBe(0)
    const starts = JSON.parse(out) as number[]
    expect(starts.length).toBeGreaterThan(0)
    for (const [i, start] of starts.slice(1).entries())
      expect(start - (starts[i] ?? 0)).toBeGreaterThanOrEqual(10 - 1)
  }, 20_000)
})
