/**
 * Expectations end to end, with the built CLI as a user runs it: the two
 * example experiments of examples/hello-world (one whose expectations hold,
 * one meant to fail) against a served, probed function, their verdicts on the
 * timeline and in the summary, the exit codes (0, and 6 for a failed
 * expectation), and the raw results; then the mistakes, each refused with one
 * `middy-chaos:` line before anything is written.
 */

import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { writeFileValue } from '@middy-chaos/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { assertCliBuilt, repoRoot, runCli, runMain, serveFixture } from './helpers.js'

const OFF =
  '{"is_enabled":false,"fault_type":"latency","delay":400,"error_code":404,"exception_msg":"Fault injected by chaos-lambda","rate":1}'
const EXAMPLES = join(repoRoot, 'examples/hello-world/experiments')
/** Short waits, frequent requests: a run takes about 3 s. */
const FAST = ['--wait', '2s', '--interval', '100ms']

let dir: string
beforeAll(async () => {
  assertCliBuilt()
  dir = await mkdtemp(join(tmpdir(), 'middy-chaos-expect-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** The workshop's function behind `middy-chaos serve`, reading its config at every request. */
const serve = async (param: string) => {
  await writeFileValue(param, OFF, { label: 'setup' })
  return serveFixture(['--store', 'file', '--param', param, '--max-age', '0'])
}

/** Runs an example experiment against its own served function. */
const runExample = async (name: string, extra: string[] = []) => {
  const param = join(dir, `${name}.json`)
  const server = await serve(param)
  try {
    const run = await runCli([
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
      ...extra,
    ])
    return { ...run, value: await readFile(param, 'utf8') }
  } finally {
    await server.stop()
  }
}

/** The verdict lines printed under a step line (or the run's line), up to the next timeline line. */
const verdictsAfter = (stdout: string, heading: RegExp): string[] => {
  const lines = stdout.split('\n')
  const start = lines.findIndex((line) => heading.test(line))
  expect(start, `${heading}\n${stdout}`).toBeGreaterThanOrEqual(0)
  const verdicts: string[] = []
  for (const line of lines.slice(start + 1)) {
    if (/^ {4}[✔✖] /.test(line)) verdicts.push(line.trim())
    else if (/^[▶✔✖■] \[/.test(line) || /^\S/.test(line)) break
  }
  return verdicts
}

describe('an experiment whose expectations hold (latency-slo.json)', () => {
  let run: Awaited<ReturnType<typeof runExample>>
  beforeAll(async () => {
    run = await runExample('latency-slo')
  }, 60_000)

  it('exits with 0, every verdict held, and restores the parameter', () => {
    expect(run.code, run.stderr).toBe(0)
    expect(run.stderr).toBe('')
    expect(run.value).toBe(OFF)
    expect(run.stdout).toMatch(/^Expectations: all 7 held\.$/m)
  })

  it('judges the step when it ends, on the timeline, with what it measured', () => {
    const verdicts = verdictsAfter(run.stdout, /^✔ \[\d\d:\d\d\.\d\] S02_Hold\s+done/)
    expect(verdicts).toEqual([
      expect.stringMatching(/^✔ p50>=200ms: p50 0\.\d{3}s \(\d+ requests\)$/),
      expect.stringMatching(/^✔ p95<1s: p95 0\.\d{3}s \(\d+ requests\)$/),
      expect.stringMatching(/^✔ 2xx==100%: 2xx 100% \((\d+) of \1\)$/),
      expect.stringMatching(
        /^✔ body of 200 == "Hello from Lambda!": (\d+) of \1 answers 200 as expected$/,
      ),
    ])
    expect(verdictsAfter(run.stdout, /^✔ \[\d\d:\d\d\.\d\] expectations over all steps/)).toEqual([
      expect.stringMatching(/^✔ 2xx==100%: /),
      expect.stringMatching(/^✔ errors==0: errors 0% \(0 of \d+\)$/),
      expect.stringMatching(/^✔ p95<1s: /),
    ])
  })

  it('shows the verdicts in the summary, with p99', () => {
    // No expectation bounds p99: on a busy machine, the slowest request may take a second or more
    expect(run.stdout).toMatch(
      /^step\s+config\s+requests\s+status codes\s+p50\s+p95\s+p99\s+expectations$/m,
    )
    expect(run.stdout).toMatch(
      /^S02_Hold\s+latency 200ms\s+\d+\s+200×\d+\s+(\d+\.\d{3}s\s+){3}✔ 4 held$/m,
    )
    expect(run.stdout).toMatch(/^\(all steps\)\s+\d+\s+200×\d+\s+(\d+\.\d{3}s\s+){3}✔ 3 held$/m)
  })
})

describe('an experiment meant to fail (outage-hidden.json)', () => {
  let run: Awaited<ReturnType<typeof runExample>>
  let results: Record<string, unknown>[]
  beforeAll(async () => {
    const file = join(dir, 'outage.jsonl')
    run = await runExample('outage-hidden', ['--results', file])
    results = (await readFile(file, 'utf8'))
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line))
  }, 60_000)

  it('exits with 6, says which expectations failed, and still restores the parameter', () => {
    expect(run.code, run.stderr).toBe(6)
    expect(run.stderr).toBe(
      'middy-chaos: 3 expectations failed (exit 6); the parameter was restored\n',
    )
    expect(run.value).toBe(OFF)
    expect(run.stdout).toMatch(/^Restored file:.* to its pre-experiment value/m)
    expect(run.stdout).toContain(
      'Expectations: 3 held, 3 failed (S02_Hold: 2xx>=99%; S02_Hold: count(5xx)==0; (all steps): errors<=5%).',
    )
  })

  it('marks each verdict on the timeline', () => {
    expect(verdictsAfter(run.stdout, /^✔ \[\d\d:\d\d\.\d\] S02_Hold\s+done/)).toEqual([
      expect.stringMatching(/^✖ 2xx>=99%: 2xx 0% \(0 of \d+\)$/),
      expect.stringMatching(/^✖ count\(5xx\)==0: count\(5xx\) \d+ \(\d+ requests\)$/),
      expect.stringMatching(/^✔ p95<1s: /),
      expect.stringMatching(
        /^✔ body of 5xx matches \/\^Hello\/: (\d+) of \1 answers 5xx as expected$/,
      ),
    ])
    expect(verdictsAfter(run.stdout, /^✖ \[\d\d:\d\d\.\d\] expectations over all steps/)).toEqual([
      expect.stringMatching(/^✖ errors<=5%: errors 100% \((\d+) of \1\)$/),
      expect.stringMatching(/^✔ p99<2s: /),
    ])
    expect(run.stdout).toMatch(/^S02_Hold\s+status code 503\s+\d+\s+503×\d+\s.*✖ 2 of 4 failed$/m)
  })

  it('writes one JSON line per request and per event, the same the terminal shows', () => {
    const requests = results.filter((line) => line.type === 'request')
    const printed = run.stdout.split('\n').filter((line) => / - \d{3} - \d+\.\d{6}$/.test(line))
    expect(requests).toHaveLength(printed.length)
    expect(results[0]).toMatchObject({ type: 'run', name: 'OutageHiddenFromCallers' })
    expect(results.at(-1)).toMatchObject({
      type: 'end',
      outcome: 'completed',
      exitCode: 6,
      expectationsFailed: 3,
    })
    expect(
      results.filter((line) => line.type === 'verdict').map((line) => [line.name, line.held]),
    ).toEqual([
      ['S02_Hold', false],
      ['S02_Hold', false],
      ['S02_Hold', true],
      ['S02_Hold', true],
      ['(all steps)', false],
      ['(all steps)', true],
    ])
    expect(results.map((line) => line.type)).toEqual(
      expect.arrayContaining(['phase', 'step', 'write', 'restored']),
    )
    const times = results.slice(1, -1).map((line) => line.atMs as number)
    expect(times).toEqual([...times].sort((a, b) => a - b))
  })
})

describe('mistakes, refused before anything is written', () => {
  const file = (name: string) => join(EXAMPLES, name)

  it('experiment validate names every wrong expectation by its field, on one line', async () => {
    const invalid = join(dir, 'invalid-expect.json')
    await writeFile(
      invalid,
      JSON.stringify({
        name: 'x',
        expect: ['p95 under 1s'],
        steps: [{ name: 'hold', wait: '1s', expect: ['2xx>=150%', { status: 200 }] }],
      }),
    )
    const { code, stdout, stderr } = await runMain(['experiment', 'validate', invalid])
    expect([code, stdout]).toEqual([2, ''])
    expect(stderr.split('\n')).toHaveLength(2)
    expect(stderr).toMatch(
      /^middy-chaos: invalid experiment .*invalid-expect\.json: expect\[0\]: expectation "p95 under 1s" is not a threshold: .*; steps\[0\]\.expect\[0\]: expectation "2xx>=150%": 2xx is a share, from 0 to 1 or 0% to 100%; steps\[0\]\.expect\[1\]: needs "body" .*\n$/,
    )
  })

  it('experiment validate prints the expectations of the examples', async () => {
    const { code, stdout } = await runMain(['experiment', 'validate', file('latency-slo.json')])
    expect(code).toBe(0)
    expect(stdout).toContain(
      '  S02_Hold: wait 1m, expect p50>=200ms, p95<1s, 2xx==100%, body of 200 == "Hello from Lambda!"\n  S03_RemoveLatency: set faults off\n  all steps: expect 2xx==100%, errors==0, p95<1s\n',
    )
  })

  it.each([
    [
      ['experiment', 'run', 'latency-slo.json'],
      'expectations are judged on what the probe sees: add --probe <url>',
    ],
    [
      ['experiment', 'run', 'workshop.json', '--probe', 'http://127.0.0.1:9/', '--expect', 'p95'],
      '--expect: expectation "p95" is not a threshold: ',
    ],
    [
      ['experiment', 'run', 'workshop.json', '--report', 'report.txt'],
      '--report: "report.txt" must end with .html (a page to open in a browser) or .json (the data)',
    ],
    [
      ['experiment', 'run', 'workshop.json', '--results', 'results.json'],
      '--results: "results.json" must end with .jsonl (one JSON object per line)',
    ],
  ])('%j: exit 2 and one line', async (args, message) => {
    const param = join(dir, 'untouched.json')
    await writeFileValue(param, OFF, { label: 'setup' })
    const [command, sub, name, ...rest] = args as [string, string, string, ...string[]]
    const { code, stdout, stderr } = await runMain([
      command,
      sub,
      file(name),
      ...rest,
      '--store',
      'file',
      '--param',
      param,
    ])
    expect(code).toBe(2)
    expect(stdout).toBe('')
    expect(stderr.startsWith(`middy-chaos: ${message}`), stderr).toBe(true)
    expect(stderr.split('\n')).toHaveLength(2)
    expect(await readFile(param, 'utf8')).toBe(OFF)
  })
})

describe('probe --expect', () => {
  let server: Server
  let url: string
  beforeAll(async () => {
    let hits = 0
    server = createServer((_req, res) => {
      hits++
      res.writeHead(hits % 4 === 0 ? 503 : 200).end(hits % 4 === 0 ? 'down' : 'Hello')
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`
  })
  afterAll(() => {
    server.close()
  })

  it('judges every request at the end: 0 when all hold, 6 when one fails', async () => {
    const probe = (...expect: string[]) =>
      runMain([
        'probe',
        url,
        '--count',
        '8',
        '--interval',
        '50ms',
        ...expect.flatMap((e) => ['--expect', e]),
      ])
    const held = await probe('2xx>=75%', 'count(5xx)==2', 'requests==8')
    expect(held.code, held.stderr).toBe(0)
    expect(held.stdout).toMatch(
      /✔ expectations over all 8 requests\n {4}✔ 2xx>=75%: 2xx 75% \(6 of 8\)\n {4}✔ count\(5xx\)==2: count\(5xx\) 2 \(8 requests\)\n {4}✔ requests==8: requests 8\n/,
    )
    expect(held.stdout).toMatch(/^\(all\)\s+8\s+200×6 503×2\s.*✔ 3 held$/m)
    const failed = await probe('errors==0')
    expect(failed.code).toBe(6)
    expect(failed.stdout).toMatch(/^ {4}✖ errors==0: errors \d+% \([1-8] of 8\)$/m)
    expect(failed.stderr).toBe('middy-chaos: 1 expectation failed (exit 6)\n')
  })
})

describe('experiment export', () => {
  it('leaves the expectations out, with a note: FIS does not judge them', async () => {
    const { code, stdout, stderr } = await runMain([
      'experiment',
      'export',
      join(EXAMPLES, 'latency-slo.json'),
      '--to',
      'runbook',
    ])
    expect(code, stderr).toBe(0)
    expect(JSON.parse(stdout)).toMatchObject({ schemaVersion: '0.3' })
    expect(stderr).toBe(
      'middy-chaos: note: expectations are left out (7): FIS does not judge them; middy-chaos experiment run --probe does\n',
    )
  })
})
