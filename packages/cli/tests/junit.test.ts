/**
 * Experiments in a pipeline, with the built CLI as a CI job runs it: the
 * examples of examples/hello-world against a served, probed function with
 * `--junit` and `GITHUB_STEP_SUMMARY` set, as GitHub Actions sets it. The
 * JUnit XML is read back with a JUnit reader from npm (junit2json), as a CI
 * system would: a run whose expectations hold, one where three fail, one a
 * stop condition ends. Then the job summary's Markdown, and what is refused.
 */
import { access, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { writeFileValue } from '@middy-chaos/core'
import { parse, type TestCase, type TestSuite } from 'junit2json'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { assertCliBuilt, repoRoot, runCli, serveFixture } from './helpers.js'

const OFF =
  '{"is_enabled":false,"fault_type":"latency","delay":400,"error_code":404,"exception_msg":"Fault injected by chaos-lambda","rate":1}'
const EXAMPLES = join(repoRoot, 'examples/hello-world/experiments')
/** Short waits, frequent requests: a run takes about 3 s. */
const FAST = ['--wait', '2s', '--interval', '100ms']

let dir: string
beforeAll(async () => {
  assertCliBuilt()
  dir = await mkdtemp(join(tmpdir(), 'middy-chaos-junit-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

/**
 * Runs an example experiment against its own served function with
 * `--junit`, in a job whose summary file already holds an earlier step's text.
 */
const runInPipeline = async (name: string, extra: string[] = []) => {
  const param = join(dir, `${name}.json`)
  const junit = join(dir, `${name}.xml`)
  const summary = join(dir, `${name}.summary.md`)
  await writeFile(summary, '## Earlier step\n')
  await writeFileValue(param, OFF, { label: 'setup' })
  const server = await serveFixture(['--store', 'file', '--param', param, '--max-age', '0'])
  try {
    const run = await runCli(
      [
        'experiment',
        'run',
        join(EXAMPLES, `${name}.json`),
        '--store',
        'file',
        '--param',
        param,
        '--probe',
        server.url,
        ...FAST,
        '--junit',
        junit,
        ...extra,
      ],
      { env: { GITHUB_STEP_SUMMARY: summary } },
    )
    const xml = await readFile(junit, 'utf8')
    const report = await parse(xml)
    if (!report || !('testsuite' in report)) throw new Error(`not a <testsuites> report:\n${xml}`)
    const [suite] = report.testsuite ?? []
    return {
      ...run,
      xml,
      report,
      suite: suite as TestSuite,
      summary: await readFile(summary, 'utf8'),
    }
  } finally {
    await server.stop()
  }
}

/** The test cases of a suite by `classname › name`, with how each ended. */
const outcomes = (suite: TestSuite): Record<string, string> =>
  Object.fromEntries(
    (suite.testcase ?? []).map((testCase: TestCase) => [
      `${testCase.classname} › ${testCase.name}`,
      testCase.failure
        ? `failure: ${testCase.failure[0]?.message}`
        : testCase.error
          ? `error ${testCase.error[0]?.type}: ${testCase.error[0]?.message}`
          : testCase.skipped
            ? `skipped: ${testCase.skipped[0]?.message}`
            : 'passed',
    ]),
  )

describe('--junit, an experiment whose expectations hold (latency-slo.json)', () => {
  let run: Awaited<ReturnType<typeof runInPipeline>>
  beforeAll(async () => {
    run = await runInPipeline('latency-slo')
  }, 60_000)

  it('exits 0 and says where the JUnit XML is', () => {
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toContain(`JUnit: ${join(dir, 'latency-slo.xml')}`)
  })

  it('has a passing test case per step, per expectation and for the run, in one suite named after the experiment', () => {
    // Assess
    expect(run.report.name).toBe('middy-chaos experiment LatencyWithinSlo')
    expect(run.suite.name).toBe('LatencyWithinSlo')
    const cases = outcomes(run.suite)
    expect(Object.keys(cases)).toEqual([
      'LatencyWithinSlo › S01_AddLatency',
      'LatencyWithinSlo › S02_Hold',
      'LatencyWithinSlo › S03_RemoveLatency',
      'LatencyWithinSlo.S02_Hold › p50>=200ms',
      'LatencyWithinSlo.S02_Hold › p95<1s',
      'LatencyWithinSlo.S02_Hold › 2xx==100%',
      'LatencyWithinSlo.S02_Hold › body of 200 == "Hello from Lambda!"',
      'LatencyWithinSlo.(all steps) › 2xx==100%',
      'LatencyWithinSlo.(all steps) › errors==0',
      'LatencyWithinSlo.(all steps) › p95<1s',
      'LatencyWithinSlo › run',
    ])
    expect(new Set(Object.values(cases))).toEqual(new Set(['passed']))
    expect(run.suite).toMatchObject({ tests: 11, failures: 0, errors: 0, skipped: 0 })
    expect(run.report).toMatchObject({ tests: 11, failures: 0, errors: 0 })
  })

  it("keeps what was measured in each expectation's output, and the terminal's table in the run's", () => {
    const byName = new Map((run.suite.testcase ?? []).map((c) => [`${c.classname} › ${c.name}`, c]))
    expect(byName.get('LatencyWithinSlo.S02_Hold › p50>=200ms')?.['system-out']?.[0]).toMatch(
      /^held: p50 0\.\d{3}s \(\d+ requests\)$/,
    )
    const output = byName.get('LatencyWithinSlo › run')?.['system-out']?.[0] ?? ''
    expect(output).toMatch(/^Probe summary per step: \d+ requests\nstep +config +requests/)
    expect(output).toMatch(/S02_Hold +latency 200ms/)
    expect(output).toMatch(/Outcome: completed \(exit code 0\)$/)
    const properties = Object.fromEntries(
      (run.suite.properties ?? []).map((p) => [p.name, p.value]),
    )
    expect(properties).toMatchObject({ outcome: 'completed', 'exit code': 0, waits: '--wait 2s' })
  })
})

describe('--junit, an experiment meant to fail (outage-hidden.json)', () => {
  let run: Awaited<ReturnType<typeof runInPipeline>>
  beforeAll(async () => {
    run = await runInPipeline('outage-hidden')
  }, 60_000)

  it('makes each failed expectation a failure that names what was measured; the steps and the run pass', () => {
    // Assess
    expect(run.code, run.stderr).toBe(6)
    const cases = outcomes(run.suite)
    expect(cases['OutageHiddenFromCallers.S02_Hold › 2xx>=99%']).toMatch(
      /^failure: expected 2xx>=99%, measured 2xx 0% \(0 of \d+\)$/,
    )
    expect(cases['OutageHiddenFromCallers.S02_Hold › count(5xx)==0']).toMatch(
      /^failure: expected count\(5xx\)==0, measured count\(5xx\) \d+ \(\d+ requests\)$/,
    )
    expect(cases['OutageHiddenFromCallers.(all steps) › errors<=5%']).toMatch(
      /^failure: expected errors<=5%, measured errors 100% \(\d+ of \d+\)$/,
    )
    expect(cases['OutageHiddenFromCallers.S02_Hold › p95<1s']).toBe('passed')
    expect(cases['OutageHiddenFromCallers › S02_Hold']).toBe('passed')
    expect(cases['OutageHiddenFromCallers › run']).toBe('passed')
    expect(run.suite).toMatchObject({ tests: 10, failures: 3, errors: 0, skipped: 0 })
    const failure = run.suite.testcase?.find((c) => c.name === '2xx>=99%')?.failure?.[0]
    expect(failure?.type).toBe('expectation')
  })

  it("appends the run to the job's summary: outcome, steps, verdicts and the terminal's table, after what was there", () => {
    // Assess
    const { summary } = run
    expect(
      summary.startsWith(
        '## Earlier step\n### ✖ middy-chaos experiment `OutageHiddenFromCallers`: completed, 3 of 6 expectations failed\n',
      ),
    ).toBe(true)
    expect(summary).toContain('**completed**, exit code 6')
    expect(summary).toContain('| # | step | set | outcome | duration | expectations |')
    expect(summary).toMatch(/\| 1 \| S01_Outage \| status code 503 \| ✔ done \| \d+ms \| {2}\|/)
    // The hold's 2 s, and what a busy machine adds to them
    const hold = /\| 2 \| S02_Hold \| {2}\| ✔ done \| (\d+(?:\.\d)?)s \| ✖ 2 of 4 failed \|/.exec(
      summary,
    )
    expect(Number(hold?.[1])).toBeGreaterThanOrEqual(2)
    expect(summary).toContain('| scope | expectation | verdict | measured |')
    expect(summary).toMatch(/\| S02_Hold \| 2xx>=99% \| ✖ failed \| 2xx 0% \(0 of \d+\) \|/)
    expect(summary).toMatch(
      /\| \(all steps\) \| p99&lt;2s \| ✔ held \| p99 [01]\.\d{3}s \(\d+ requests\) \|/,
    )
    expect(summary).toMatch(
      /#### Probe summary per step: \d+ requests\n\n\| step \| config \| requests \| status codes \| p50 \| p95 \| p99 \| expectations \|/,
    )
    expect(summary).toMatch(/\| S02_Hold \| status code 503 \| \d+ \| 503×\d+ \|/)
    expect(run.stdout).toContain(`Job summary: ${join(dir, 'outage-hidden.summary.md')}`)
  })
})

describe('--junit, an experiment a stop condition ends', () => {
  let run: Awaited<ReturnType<typeof runInPipeline>>
  beforeAll(async () => {
    run = await runInPipeline('outage-hidden', ['--stop-if', 'errors>20%'])
  }, 60_000)

  it('makes the stop an error of the run and of the step it stopped, and skips the steps that never ran', () => {
    // Assess
    expect(run.code, run.stderr).toBe(4)
    const cases = outcomes(run.suite)
    expect(cases['OutageHiddenFromCallers › run']).toMatch(
      /^error stopped: stopped by probe threshold "errors>20%" \(errors \d+% over the last \d+ requests\)$/,
    )
    expect(cases['OutageHiddenFromCallers › S02_Hold']).toMatch(
      /^error stopped: stopped by probe threshold "errors>20%"/,
    )
    expect(cases['OutageHiddenFromCallers › S01_Outage']).toBe('passed')
    expect(cases['OutageHiddenFromCallers › S03_Recover']).toMatch(
      /^skipped: not run: the run ended before this step \(stopped by probe threshold/,
    )
    expect(run.suite).toMatchObject({ errors: 2, skipped: 1 })
    expect(run.summary).toContain(
      '### ✖ middy-chaos experiment `OutageHiddenFromCallers`: stopped by probe threshold',
    )
    expect(run.summary).toMatch(/\| 3 \| S03_Recover \| faults off \| not run \|/)
  })
})

describe('--junit and GITHUB_STEP_SUMMARY, refused or left alone', () => {
  it('refuses a file name that does not end with .xml before anything runs (exit 2)', async () => {
    // Act
    const run = await runCli([
      'experiment',
      'run',
      join(EXAMPLES, 'latency-slo.json'),
      '--store',
      'file',
      '--param',
      join(dir, 'refused.json'),
      '--probe',
      'http://127.0.0.1:9/',
      '--junit',
      join(dir, 'results.txt'),
    ])

    // Assess
    expect(run.code).toBe(2)
    expect(run.stderr.trim()).toBe(
      `middy-chaos: --junit: "${join(dir, 'results.txt')}" must end with .xml (JUnit XML)`,
    )
    await expect(access(join(dir, 'refused.json'))).rejects.toThrow()
  })

  it('refuses --junit with --fis-template, whose play has no expectations to report (exit 2)', async () => {
    // Act
    const run = await runCli([
      'experiment',
      'run',
      '--fis-template',
      join(dir, 'template.json'),
      '--document',
      join(dir, 'runbook.yaml'),
      '--junit',
      join(dir, 'fis.xml'),
    ])

    // Assess
    expect(run.code).toBe(2)
    expect(run.stderr).toMatch(/^middy-chaos: --junit does not apply to --fis-template/)
  })

  it('writes no job summary when GITHUB_STEP_SUMMARY is empty, and no JUnit XML unless asked', async () => {
    // Prepare
    const param = join(dir, 'quiet.json')
    await writeFileValue(param, OFF, { label: 'setup' })
    const experiment = join(dir, 'quiet-experiment.json')
    await writeFile(
      experiment,
      JSON.stringify({ name: 'Quiet', steps: [{ name: 'S01', set: JSON.parse(OFF) }] }),
    )

    // Act
    const run = await runCli(
      ['experiment', 'run', experiment, '--store', 'file', '--param', param],
      { env: { GITHUB_STEP_SUMMARY: '' } },
    )

    // Assess
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).not.toMatch(/Job summary|JUnit/)
  })
})
