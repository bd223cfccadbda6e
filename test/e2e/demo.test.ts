/**
 * The README's demo, end to end: `middy-chaos demo` serves examples/hello-world
 * behind the local API Gateway, probes it, and runs the AWS FIS workshop
 * experiment (waits shortened to 4 s) against the local file store.
 */
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { assertCliBuilt, repoRoot, runCli } from '../../packages/cli/tests/helpers.js'

interface Sample {
  phase: string
  seconds: number
  status: number
  body: string
  straddles: boolean
  phaseOffsetMs: number
}

const HELLO = 'Hello from Lambda!'
const INTERNAL = '{"message": "Internal server error"}'
/** The served function caches its config for 1 s: judge a phase after this. */
const SETTLE_MS = 1500

let dir: string
let run: Awaited<ReturnType<typeof runCli>>
let samples: Sample[]
/** The run's data, from the JSON block of the HTML report the demo writes by default. */
let report: { outcome: { state: string; restore: { action: string } }; samples: Sample[] }

beforeAll(async () => {
  assertCliBuilt()
  // The example is built like a user's function (tsc to lib/), then served from lib/.
  await promisify(execFile)(join(repoRoot, 'node_modules/.bin/tsc'), [
    '-p',
    join(repoRoot, 'examples/hello-world/tsconfig.json'),
  ])
  dir = await mkdtemp(join(tmpdir(), 'middy-chaos-demo-'))
  // No --report: the demo writes demo-report.html beside its parameter, as `pnpm demo` does.
  run = await runCli(['demo', '--param', join(dir, 'demo.json')])
  const html = await readFile(join(dir, 'demo-report.html'), 'utf8')
  const block = /<script type="application\/json" id="middy-chaos-data">(.*?)<\/script>/s.exec(html)
  report = JSON.parse(block?.[1] ?? 'null')
  samples = report.samples
}, 90_000)

afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** Samples of a phase that saw one config only: not in flight across a change, past the cache window. */
const settled = (phase: string) => {
  const mine = samples.filter(
    (s) => s.phase === phase && !s.straddles && s.phaseOffsetMs >= SETTLE_MS,
  )
  expect(mine.length, `settled samples in ${phase}`).toBeGreaterThanOrEqual(2)
  return mine
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0

describe('pnpm demo', () => {
  it('runs to the end by itself and restores the demo parameter', () => {
    expect(run.code, run.stderr).toBe(0)
    expect(report.outcome.state).toBe('completed')
    expect(report.outcome.restore.action).toBe('restored')
    expect(run.stdout).toMatch(/^Report: .*demo-report\.html \(open it in a browser/m)
  })

  it('shows the four phases in the workshop’s line format, in order, then the per-step summary', () => {
    const lines = run.stdout.split('\n')
    const first = (pattern: RegExp, from = 0) => {
      const index = lines.findIndex((line, i) => i >= from && pattern.test(line))
      expect(index, `${pattern} after line ${from}\n${run.stdout}`).toBeGreaterThanOrEqual(from)
      return index
    }
    // Under 0.4 s: no delay; 0.4 to 0.8 s: the one 400 ms delay (room for a busy machine)
    const base = first(/^Hello from Lambda! - 200 - 0\.[0-3]\d{5}$/)
    const slow = first(/^Hello from Lambda! - 200 - 0\.[4-7]\d{5}$/, base)
    const notFound = first(/^Hello from Lambda! - 404 - \d\.\d{6}$/, slow)
    const error = first(/^\{"message": "Internal server error"\} - 502 - \d\.\d{6}$/, notFound)
    const back = first(/^Hello from Lambda! - 200 - 0\.[0-3]\d{5}$/, error)
    const summary = first(/^Probe summary per step: \d+ requests$/, back)
    expect(lines.slice(summary).join('\n')).toMatch(/S02_Wait1\s+latency 400ms\s+\d+\s+200×\d+/)
    expect(lines.slice(summary).join('\n')).toMatch(/S04_Wait2\s+status code 404\s+\d+\s+.*404×\d+/)
    expect(lines.slice(summary).join('\n')).toMatch(/S06_Wait3\s+exception\s+\d+\s+.*502×\d+/)
  })

  it('answers each phase with the workshop’s status, body and latency band', () => {
    // Every request of the latency phase waits the 400 ms; the median of a phase shows whether
    // it waited once (0.4 to 0.8 s), or not at all (under 0.4 s), with a margin of tens of
    // times a request's own few ms, which a busy machine cannot eat, nor one slow request move
    const seconds = (samples: Sample[]) => median(samples.map((s) => s.seconds))
    const baseline = settled('(baseline)')
    for (const s of baseline) expect([s.status, s.body]).toEqual([200, HELLO])
    expect(seconds(baseline)).toBeLessThan(0.4)

    const slow = settled('S02_Wait1')
    for (const s of slow) {
      expect([s.status, s.body]).toEqual([200, HELLO])
      expect(s.seconds).toBeGreaterThanOrEqual(0.4)
    }
    expect(seconds(slow)).toBeLessThan(0.8)
    const notFound = settled('S04_Wait2')
    for (const s of notFound) expect([s.status, s.body]).toEqual([404, HELLO])
    expect(seconds(notFound)).toBeLessThan(0.4)
    const error = settled('S06_Wait3')
    for (const s of error) expect([s.status, s.body]).toEqual([502, INTERNAL])
    expect(seconds(error)).toBeLessThan(0.4)
    const after = settled('(after)')
    for (const s of after) expect([s.status, s.body]).toEqual([200, HELLO])
    expect(seconds(after)).toBeLessThan(0.4)
  })
})
