/**
 * `probe --report` and `--results`: the page and the raw lines a probe run
 * leaves, for a function that answers 200, 200, 503 in turn.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { assertCliBuilt, runCli } from './helpers.js'

let dir: string
let server: Server
let url: string

beforeAll(async () => {
  assertCliBuilt()
  dir = await mkdtemp(join(tmpdir(), 'middy-chaos-probe-report-'))
  let calls = 0
  server = createServer((_, response) => {
    calls++
    const failing = calls % 3 === 0
    response.writeHead(failing ? 503 : 200, { 'content-type': 'text/plain' })
    response.end(failing ? 'Service Unavailable' : 'Hello from Lambda!')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
})

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve))
  await rm(dir, { recursive: true, force: true })
})

describe('probe --report and --results', () => {
  it('writes one HTML page with every request and one JSON line per request, matching the summary', async () => {
    // Prepare
    const report = join(dir, 'probe.html')
    const results = join(dir, 'probe.jsonl')

    // Act
    const run = await runCli([
      'probe',
      url,
      '--count',
      '6',
      '--interval',
      '50ms',
      '--report',
      report,
      '--results',
      results,
    ])

    // Assess: the terminal
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toMatch(/^Report: .*probe\.html/m)
    // the page: self-contained, its data block holds the six requests
    const html = await readFile(report, 'utf8')
    expect(html).not.toMatch(/<script(?![^>]*type="application\/json")/)
    expect(html).not.toMatch(/(?:src|href)="https?:/)
    const block = /<script type="application\/json" id="middy-chaos-data">(.*?)<\/script>/s.exec(
      html,
    )
    const data = JSON.parse(block?.[1] ?? 'null') as {
      kind: string
      samples: { status: number }[]
      rows: { requests: number }[]
    }
    expect(data.kind).toBe('probe')
    expect(data.samples.map((sample) => sample.status)).toEqual([200, 200, 503, 200, 200, 503])
    expect(data.rows.reduce((sum, row) => sum + row.requests, 0)).toBe(6)
    // the raw lines: a run line, one per request, an end line
    const lines = (await readFile(results, 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string; status?: number; outcome?: string })
    expect(lines[0]).toMatchObject({ type: 'run', kind: 'probe' })
    expect(lines.filter((line) => line.type === 'request').map((line) => line.status)).toEqual([
      200, 200, 503, 200, 200, 503,
    ])
    expect(lines.at(-1)).toMatchObject({ type: 'end', exitCode: 0 })
  })
})
