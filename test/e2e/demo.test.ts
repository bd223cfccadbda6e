/**
 * The README's demo, end to end, as a newcomer's first command: `npx
 * @middy-chaos/cli demo` in an empty folder. The CLI is packed and installed
 * as a registry install would (test/pack/install.ts), then `middy-chaos demo`
 * runs in a folder of its own with nothing in it: it serves the AWS FIS
 * workshop's function, shipped with the CLI, behind the local API Gateway,
 * probes it, runs the workshop experiment (waits shortened to 4 s) against a
 * local file store, writes the report, and prints where (it opens nothing).
 */
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { installPacked, type PackedProject } from '../pack/install.js'

interface Sample {
  phase: string
  seconds: number
  status: number
  body: string
  straddles: boolean
  settling?: boolean
  phaseOffsetMs: number
}

const HELLO = 'Hello from Lambda!'
const INTERNAL = '{"message": "Internal server error"}'
/** The served function caches its config for 1 s: judge a phase after this. */
const SETTLE_MS = 1500

let project: PackedProject
/** The newcomer's folder: empty before the demo. */
let dir: string
let run: { code: number | null; stdout: string; stderr: string }
let samples: Sample[]
/** The run's data, from the JSON block of the HTML report the demo writes by default. */
let report: {
  outcome: { state: string; restore: { action: string } }
  samples: Sample[]
  settle?: { ms: number; bands: unknown[] }
}

beforeAll(async () => {
  project = await installPacked(['cli'])
  dir = await mkdtemp(join(tmpdir(), 'middy-chaos-newcomer-'))
  expect(await readdir(dir)).toEqual([])
  const bin = join(project.dir, 'node_modules', '@middy-chaos', 'cli', 'lib', 'bin.js')
  // No option at all: what `npx @middy-chaos/cli demo` runs
  run = await new Promise((resolve) => {
    execFile(
      process.execPath,
      [bin, 'demo'],
      { cwd: dir, env: { ...process.env, CHAOS_STORE: '', CHAOS_PARAM: '' } },
      (error, stdout, stderr) => {
        const code = error ? (error as { code?: number | string }).code : 0
        resolve({ code: typeof code === 'number' ? code : null, stdout, stderr })
      },
    )
  })
  const html = await readFile(join(dir, '.chaos', 'demo-report.html'), 'utf8')
  const block = /<script type="application\/json" id="middy-chaos-data">(.*?)<\/script>/s.exec(html)
  report = JSON.parse(block?.[1] ?? 'null')
  samples = report.samples
}, 180_000)

afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
  if (project) await rm(project.dir, { recursive: true, force: true })
})

/** Samples of a phase that saw one config only: not in flight across a change, past the cache window. */
const settled = (phase: string) => {
  const mine = samples.filter(
    (s) => s.phase === phase && !s.straddles && !s.settling && s.phaseOffsetMs >= SETTLE_MS,
  )
  expect(mine.length, `settled samples in ${phase}`).toBeGreaterThanOrEqual(2)
  return mine
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0

describe('npx @middy-chaos/cli demo, in an empty folder', () => {
  it('runs to the end by itself, restores the demo parameter, and prints where its report is', async () => {
    expect(run.code, run.stderr).toBe(0)
    expect(report.outcome.state).toBe('completed')
    expect(report.outcome.restore.action).toBe('restored')
    const url = pathToFileURL(join(dir, '.chaos', 'demo-report.html')).href
    expect(run.stdout).toContain(
      `Report: .chaos/demo-report.html (open it in a browser, ${url}: the timeline of every request, the steps, the table)`,
    )
    // Everything it wrote is in .chaos/ of the folder it ran in
    expect(existsSync(join(dir, '.chaos', 'demo-serve.log'))).toBe(true)
    expect(await readdir(dir)).toEqual(['.chaos'])
  })

  it('shades the settling time after each write: the function caches its config for 1 s', () => {
    expect(report.settle?.ms).toBe(1300)
    expect(report.settle?.bands.length).toBeGreaterThanOrEqual(4)
    expect(samples.some((s) => s.settling)).toBe(true)
    expect(run.stdout).toMatch(/Settling time 1\.3s: requests starting within it after a write/)
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
