/**
 * The report: `--report x.json` (data), `--report x.html` (one page, checked
 * in headless Chromium: a point per request, a band per step, the table the
 * terminal printed, no console error, no request off the machine, nothing it
 * inlines able to break it) and `--results x.jsonl`.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { writeFileValue } from '@middy-chaos/core'
import type { ProbeSample } from '@middy-chaos/experiment'
import { parseExpectation } from '@middy-chaos/experiment'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunRecord } from '../src/report/record.js'
import { jsonReport, reportFormat, resultLines, writeReport } from '../src/report/report.js'
import { escapeHtml, renderHtmlReport, scriptJson } from '../src/report/report-html.js'
import { summarise, summariseRow } from '../src/runner/probe.js'
import { launchChromium, type OpenedPage } from './browser.js'
import { assertCliBuilt, repoRoot, runCli, serveFixture } from './helpers.js'

const OFF = '{"is_enabled":false,"fault_type":"status_code","error_code":503,"rate":1}'
const EVIL = '</script><script>window.pwned = 1</script><img src=x onerror="window.pwned = 2">'

let dir: string
let browser: Awaited<ReturnType<typeof launchChromium>>
beforeAll(async () => {
  assertCliBuilt()
  dir = await mkdtemp(join(tmpdir(), 'middy-chaos-report-'))
  browser = await launchChromium()
}, 60_000)
afterAll(async () => {
  await browser?.close()
  await rm(dir, { recursive: true, force: true })
})

const sample = (seq: number, phase: string, status: number, more: Partial<ProbeSample> = {}) => ({
  seq,
  startedAtMs: seq * 200,
  seconds: 0.01 * seq,
  status,
  body: 'Hello',
  phase,
  phaseAtEnd: phase,
  straddles: false,
  phaseOffsetMs: 0,
  ...more,
})

/** A run whose every name, config and body tries to break out of the page. */
const hostileRecord = (): RunRecord => {
  const step = `S01 ${EVIL}`
  const samples: ProbeSample[] = [
    sample(1, '(baseline)', 200),
    sample(2, step, 503, { body: EVIL }),
    sample(3, step, 0, { body: `(${EVIL})`, error: EVIL }),
    sample(4, step, 200, { straddles: true }),
  ]
  const phases = [
    { name: '(baseline)', config: 'faults off', startedAtMs: 0 },
    { name: step, config: `latency "400ms" & '${EVIL}'`, startedAtMs: 300 },
  ]
  const verdicts = [
    { expectation: `body of 5xx == "${EVIL}"`, held: false, measured: EVIL, requests: 2 },
  ]
  const judged = [{ scope: 'step' as const, name: step, atMs: 900, verdicts }]
  const rows = summarise(samples, phases, new Map([[step, verdicts]]))
  return {
    kind: 'experiment',
    title: EVIL,
    description: EVIL,
    url: 'http://127.0.0.1:1/',
    store: `file:${EVIL}`,
    startedAt: '2026-01-01T00:00:00.000Z',
    endedAtMs: 1000,
    phases,
    samples,
    rows,
    summaryTitle: `Probe summary per step: 3 requests ${EVIL}`,
    marks: [
      { type: 'write', atMs: 310, step, version: 2, config: EVIL },
      { type: 'stopped', atMs: 800, reason: EVIL },
      {
        type: 'restored',
        atMs: 950,
        restore: { action: 'restored', value: EVIL, version: 3 },
        text: `Restored ${EVIL}`,
      },
    ],
    judged,
    outcome: {
      state: 'stopped',
      text: `stopped by ${EVIL}`,
      exitCode: 4,
      stoppedBy: EVIL,
      restore: { action: 'restored', value: EVIL, version: 3, text: `Restored ${EVIL}` },
    },
    file: { path: `${EVIL}.json`, text: `{ "name": "${EVIL}" }` },
  }
}

describe('the report files', () => {
  it('are JSON for .json and HTML for .html; anything else is a usage error', () => {
    expect(reportFormat('out/report.json')).toBe('json')
    expect(reportFormat('report.HTML')).toBe('html')
    expect(reportFormat('report.htm')).toBe('html')
    expect(() => reportFormat('report.txt')).toThrow(/must end with \.html .* or \.json/)
  })

  it('escapes what the page inlines: text, attributes and the JSON block', async () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe(
      '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;',
    )
    expect(scriptJson({ body: '</script>\u2028' })).toBe('{"body":"\\u003c/script\\u003e\\u2028"}')
    const html = renderHtmlReport(hostileRecord())
    // One <script> element (the JSON block) and its one closing tag; no <img>.
    expect(html.match(/<script/g)).toHaveLength(1)
    expect(html.match(/<\/script>/g)).toHaveLength(1)
    expect(html).not.toMatch(/<img/i)
    // Nothing fetched: a Content-Security-Policy, and no URL but the SVG namespace.
    expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline'; img-src data:"`)
    expect(new Set(html.match(/https?:\/\/[^"\s<,]+/g))).toEqual(
      new Set(['http://www.w3.org/2000/svg', 'http://127.0.0.1:1/']),
    )
  })

  it('keeps the JSON report’s fields, and adds the verdicts and events', async () => {
    const record = hostileRecord()
    const path = join(dir, 'nested', 'report.json')
    await writeReport(path, record)
    const json = JSON.parse(await readFile(path, 'utf8'))
    expect(json).toEqual(jsonReport(JSON.parse(JSON.stringify(record))))
    expect(Object.keys(json)).toEqual([
      'experiment',
      'store',
      'startedAt',
      'outcome',
      'exitCode',
      'stoppedBy',
      'restore',
      'phases',
      'summary',
      'expectations',
      'events',
      'samples',
    ])
    expect(json.summary[1]).toMatchObject({ requests: 2, leftOut: 1 })
  })

  it('writes one JSON line per request and per event, in time order, between run and end', () => {
    const lines = resultLines(hostileRecord()).map((line) => JSON.parse(line))
    expect(lines.map((line) => line.type)).toEqual([
      'run',
      'phase',
      'request',
      'phase',
      'write',
      'request',
      'request',
      'request',
      'stopped',
      'verdict',
      'restored',
      'end',
    ])
    expect(lines.at(-1)).toEqual({
      type: 'end',
      atMs: 1000,
      outcome: 'stopped',
      exitCode: 4,
      expectationsFailed: 1,
      stoppedBy: EVIL,
    })
    expect(lines[5]).toMatchObject({ type: 'request', seq: 2, status: 503, body: EVIL, atMs: 400 })
  })

  it('summarises the run’s rows as the terminal does', () => {
    expect(summariseRow('(all steps)', '', [sample(1, 'a', 200), sample(2, 'a', 503)])).toEqual({
      phase: '(all steps)',
      config: '',
      requests: 2,
      leftOut: 0,
      statuses: { '200': 1, '503': 1 },
      p50: 0.01,
      p95: 0.02,
      p99: 0.02,
    })
    expect(parseExpectation('p95<1s').text).toBe('p95<1s')
  })
})

describe('the HTML report in Chromium', () => {
  /** The failing example, probed with a baseline and a tail, with its report and results. */
  let run: Awaited<ReturnType<typeof runCli>>
  let requests: Record<string, unknown>[]
  let opened: OpenedPage
  const experimentPath = join(repoRoot, 'examples/hello-world/experiments/outage-hidden.json')

  beforeAll(async () => {
    const param = join(dir, 'config.json')
    await writeFileValue(param, OFF, { label: 'setup' })
    const server = await serveFixture(['--store', 'file', '--param', param, '--max-age', '0'])
    try {
      const { url } = server
      run = await runCli([
        'experiment',
        'run',
        experimentPath,
        '--store',
        'file',
        '--param',
        param,
        '--probe',
        url,
        '--wait',
        '2s',
        '--interval',
        '100ms',
        '--lead',
        '500ms',
        '--tail',
        '1s',
        // serve reads the store on every request; a settling time to shade all the same
        '--settle',
        '500ms',
        '--report',
        join(dir, 'run.html'),
        '--results',
        join(dir, 'run.jsonl'),
      ])
    } finally {
      await server.stop()
    }
    requests = (await readFile(join(dir, 'run.jsonl'), 'utf8'))
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line))
      .filter((line) => line.type === 'request')
    opened = await browser.open(join(dir, 'run.html'))
  }, 60_000)

  it('opens with no console error and no request but the file itself', () => {
    expect(run.code, run.stderr).toBe(6)
    expect(run.stdout).toContain(`Report: ${join(dir, 'run.html')}`)
    expect(opened.consoleErrors).toEqual([])
    expect(opened.pageErrors).toEqual([])
    expect(opened.refused).toEqual([])
    expect(opened.requests.every((url) => url.startsWith('file:'))).toBe(true)
  })

  it('draws one point per probe request, errors as crosses', async () => {
    const { page } = opened
    const printed = run.stdout.split('\n').filter((line) => / - \d{3} - \d+\.\d{6}$/.test(line))
    // A request every 100 ms: about 30 in the 3-s run, 20 of them in S02_Hold's outage; a busy
    // machine makes each request slower, so fewer: a tenth of each is the least asked for
    expect(requests.length).toBeGreaterThanOrEqual(3)
    expect(await page.locator('#timeline .sample').count()).toBe(requests.length)
    expect(requests).toHaveLength(printed.length)
    const errors = requests.filter((r) => (r.status as number) >= 500 || r.status === 0).length
    expect(errors).toBeGreaterThanOrEqual(2)
    expect(await page.locator('#timeline .sample.error path').count()).toBe(errors)
    const box = await page.locator('#timeline').boundingBox()
    expect(box?.width).toBeGreaterThan(1000)
  })

  it('draws one band per step that ran, named, besides the baseline, restore and after', async () => {
    const { page } = opened
    const steps = page.locator('#timeline .band.step')
    expect(
      await steps.evaluateAll((bands) => bands.map((b) => b.getAttribute('data-phase'))),
    ).toEqual(['S01_Outage', 'S02_Hold', 'S03_Recover'])
    expect(
      await page
        .locator('#timeline .band.phase')
        .evaluateAll((bands) => bands.map((b) => b.getAttribute('data-phase'))),
    ).toEqual(['(baseline)', '(restore)', '(after)'])
    expect(await page.locator('#timeline .band.step text').allTextContents()).toEqual(
      expect.arrayContaining(['S02_Hold', 'status code 503']),
    )
    expect(await page.locator('#timeline .mark.restored').count()).toBe(1)
    expect(await page.locator('#timeline .mark.write').count()).toBe(2)
    expect(
      await page
        .locator('#timeline .verdict')
        .evaluateAll((marks) => marks.map((m) => `${m.getAttribute('data-scope')} ${m.classList}`)),
    ).toEqual(['S02_Hold verdict failed', '(all steps) verdict failed'])
  })

  it('shows the table the terminal printed, cell for cell', async () => {
    const { page } = opened
    const lines = run.stdout.split('\n')
    const start = lines.findIndex((line) => line.startsWith('Probe summary per step: '))
    const [title, header, ...rest] = lines.slice(start)
    const end = rest.findIndex((line) => /^(left out|Report|Results|Expectations):/.test(line))
    const terminalRows = rest.slice(0, end)
    const note = rest[end]?.startsWith('left out:') ? rest[end] : null
    const shownNote = page.locator('#summary-note')
    expect((await shownNote.count()) === 0 ? null : await shownNote.textContent()).toBe(note)
    expect(await page.locator('#summary caption').textContent()).toBe(title)
    expect((await page.locator('#summary th').allTextContents()).join('  ')).toBe(
      header?.split(/\s{2,}/).join('  '),
    )
    const htmlRows = await page
      .locator('#summary tbody tr')
      .evaluateAll((rows) =>
        rows.map((row) =>
          [...row.querySelectorAll('td')].map((td) => td.textContent ?? '').filter(Boolean),
        ),
      )
    expect(htmlRows).toEqual(terminalRows.map((line) => line.trim().split(/\s{2,}/)))
    // The writing steps take milliseconds: a probe request falls into one only on a busy machine.
    const instant = ['S01_Outage', 'S03_Recover']
    expect(htmlRows.map((row) => row[0]).filter((name) => !instant.includes(name ?? ''))).toEqual([
      '(baseline)',
      'S02_Hold',
      '(after)',
      '(all steps)',
    ])
  })

  it('tells the outcome, the restore, the verdicts and the experiment file', async () => {
    const { page } = opened
    expect(await page.locator('#outcome').textContent()).toBe('completed')
    expect(await page.locator('#verdict').textContent()).toBe('expectations: 3 of 6 failed')
    const facts = await page.locator('.facts').textContent()
    expect(facts).toContain('6: an expectation failed (restored)')
    expect(facts).toMatch(/restoredversion \d+: the value from before the experiment/)
    expect(facts).toContain(`restored value${OFF}`)
    expect(await page.locator('#expectations li.failed').allTextContents()).toEqual([
      expect.stringMatching(/^✖ 2xx>=99%: 2xx 0% \(0 of \d+\)$/),
      expect.stringMatching(/^✖ count\(5xx\)==0: /),
      expect.stringMatching(/^✖ errors<=5%: /),
    ])
    expect(await page.locator('#experiment-file pre').textContent()).toBe(
      await readFile(experimentPath, 'utf8'),
    )
    const data = JSON.parse(
      (await page.locator('#middy-chaos-data').textContent({ timeout: 1000 })) ?? 'null',
    )
    expect(data.samples).toHaveLength(requests.length)
  })

  it('shades the settling time after each write, its requests drawn but not counted', async () => {
    const { page } = opened
    const data = JSON.parse(
      (await page.locator('#middy-chaos-data').textContent({ timeout: 1000 })) ?? 'null',
    )
    // A band after each write and after the restore (the two writes of the run, then the restore)
    const bands = data.settle.bands as { fromMs: number; toMs: number }[]
    expect(data.settle.ms).toBe(500)
    expect(bands.length).toBeGreaterThanOrEqual(2)
    expect(await page.locator('#timeline .settling-band').count()).toBe(bands.length)
    expect(
      await page
        .locator('#timeline .settling-band')
        .evaluateAll((marks) =>
          marks.map((m) => [
            Number(m.getAttribute('data-from-ms')),
            Number(m.getAttribute('data-to-ms')),
          ]),
        ),
    ).toEqual(bands.map((band) => [band.fromMs, band.toMs]))
    const settling = requests.filter((r) => r.settling === true && r.straddles !== true)
    expect(settling.length).toBeGreaterThan(0)
    expect(await page.locator('#timeline .sample.settling').count()).toBe(
      requests.filter((r) => r.settling === true).length,
    )
    expect(await page.locator('#settling-legend').textContent()).toBe(
      ` settling time after a write, 500ms: requests starting in it are not judged (${settling.length})`,
    )
    expect(await page.locator('#summary-note').textContent()).toMatch(
      new RegExp(`${settling.length} requests? in the settling time after a write`),
    )
    expect(await page.locator('.facts').textContent()).toContain(
      'settling500ms after each write, not judged: --settle 500ms',
    )
  })

  it('shows hostile names, configs and bodies as text: nothing runs, nothing is fetched', async () => {
    const record = hostileRecord()
    const path = join(dir, 'hostile.html')
    await writeFile(path, renderHtmlReport(record))
    const hostile = await browser.open(path)
    const { page } = hostile
    // What the injected scripts would set, had one run.
    expect(await page.evaluate('window.pwned')).toBeUndefined()
    expect(await page.title()).toBe(`middy-chaos: Experiment ${EVIL}`)
    expect(await page.locator('img').count()).toBe(0)
    expect(await page.locator('h1').textContent()).toBe(`Experiment ${EVIL}`)
    expect(await page.locator('#timeline .sample').count()).toBe(4)
    expect(await page.locator('#timeline .sample.straddles').count()).toBe(1)
    expect(await page.locator('#timeline .band.step').getAttribute('data-phase')).toBe(
      record.phases[1]?.name,
    )
    expect(await page.locator('#experiment-file pre').textContent()).toBe(record.file?.text)
    const data = JSON.parse(
      (await page.locator('#middy-chaos-data').textContent({ timeout: 1000 })) ?? 'null',
    )
    expect(data.samples[1].body).toBe(EVIL)
    expect(data.title).toBe(EVIL)
    expect([hostile.consoleErrors, hostile.pageErrors, hostile.refused]).toEqual([[], [], []])
  })
})
