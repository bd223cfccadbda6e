/**
 * What a run leaves behind for people and tools: `--report <file>` (JSON when
 * the name ends with `.json`, one self-contained HTML page when it ends with
 * `.html`) and `--results <file>.jsonl` (one JSON object per request and per
 * event). Both are made from one {@link RunRecord}.
 *
 * @module
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import type { Experiment } from '@middy-chaos/experiment'
import { UsageError } from '@middy-chaos/experiment'
import type { ConfigStore } from '@middy-chaos/fis/local'
import { describeInterruption, type Interruption } from '../runner/signals.js'
import type { RunRecord, SessionResult } from './record.js'
import { renderHtmlReport } from './report-html.js'

/** What `--report` writes for a file name. */
export type ReportFormat = 'json' | 'html'

/** The format of `--report <path>`, by its extension; a usage error for any other. */
export const reportFormat = (path: string): ReportFormat => {
  if (/\.json$/i.test(path)) return 'json'
  if (/\.html?$/i.test(path)) return 'html'
  throw new UsageError(
    `--report: "${path}" must end with .html (a page to open in a browser) or .json (the data)`,
  )
}

/** Checks `--results <path>`: JSON Lines. */
export const resultsPath = (path: string): string => {
  if (!/\.jsonl$/i.test(path))
    throw new UsageError(`--results: "${path}" must end with .jsonl (one JSON object per line)`)
  return path
}

/** The record of an experiment session. */
export const experimentRecord = (
  session: SessionResult,
  options: {
    experiment: Experiment
    store: ConfigStore
    url?: string
    intervalMs?: number
    exitCode: number
    signal?: Interruption | undefined
    restoreText: string
    summaryTitle: string
    file?: { path: string; text: string }
    waits?: string
  },
): RunRecord => {
  const { result } = session
  const { experiment } = options
  const text =
    result.outcome === 'stopped'
      ? `stopped by ${result.stoppedBy}`
      : result.outcome === 'interrupted'
        ? `interrupted${options.signal ? ` by ${describeInterruption(options.signal)}` : ''}`
        : result.outcome === 'failed'
          ? `failed: ${result.error}`
          : 'completed'
  return {
    kind: 'experiment',
    title: experiment.name,
    ...(experiment.description === undefined ? {} : { description: experiment.description }),
    ...(options.url === undefined ? {} : { url: options.url }),
    ...(options.intervalMs === undefined ? {} : { intervalMs: options.intervalMs }),
    store: options.store.description,
    startedAt: session.startedAt,
    endedAtMs: session.endedAtMs,
    phases: session.phases,
    samples: session.samples,
    rows: session.rows,
    summaryTitle: options.summaryTitle,
    marks: session.marks,
    judged: session.judged,
    outcome: {
      state: result.outcome,
      text,
      exitCode: options.exitCode,
      ...(result.error === undefined ? {} : { error: result.error }),
      ...(result.stoppedBy === undefined ? {} : { stoppedBy: result.stoppedBy }),
      restore: { ...result.restore, text: options.restoreText },
    },
    experiment,
    ...(options.file === undefined ? {} : { file: options.file }),
    ...(options.waits === undefined ? {} : { waits: options.waits }),
    lease: result.lease,
    ...(session.settle === undefined ? {} : { settle: session.settle }),
    ...(session.warnings === undefined || session.warnings.length === 0
      ? {}
      : { warnings: session.warnings }),
  }
}

const write = async (path: string, text: string) => {
  await mkdir(dirname(resolve(path)), { recursive: true })
  await writeFile(path, text)
}

/** The JSON report: the run's outcome, phases, summary, verdicts, marks and every sample. */
export const jsonReport = (record: RunRecord): object => ({
  ...(record.kind === 'experiment' ? { experiment: record.title } : { url: record.title }),
  ...(record.store === undefined ? {} : { store: record.store }),
  startedAt: record.startedAt,
  outcome: record.outcome.state,
  exitCode: record.outcome.exitCode,
  error: record.outcome.error,
  stoppedBy: record.outcome.stoppedBy,
  lease: record.lease,
  restore: record.outcome.restore,
  ...(record.settle === undefined ? {} : { settle: record.settle }),
  ...(record.warnings === undefined ? {} : { warnings: record.warnings }),
  phases: record.phases,
  summary: record.rows,
  expectations: record.judged,
  events: record.marks,
  samples: record.samples,
})

/** Writes `--report <path>`: JSON for `.json`, the HTML page for `.html`. */
export const writeReport = async (path: string, record: RunRecord): Promise<void> => {
  await write(
    path,
    reportFormat(path) === 'json'
      ? `${JSON.stringify(jsonReport(record), null, 2)}\n`
      : renderHtmlReport(record),
  )
}

/**
 * The raw measurements as JSON Lines, in time order (`atMs`: ms since
 * `startedAt`): a `run` line, then `phase`, `request`, `step`, `write`,
 * `settling` (a write's settling time: `untilMs`), `verdict`, `stopped`,
 * `restored` and `renewal-failed` lines, then `end`.
 */
export const resultLines = (record: RunRecord): string[] => {
  const timed: { atMs: number; order: number; line: object }[] = []
  const add = (atMs: number, line: object) =>
    timed.push({ atMs, order: timed.length, line: { ...line, atMs } })
  for (const phase of record.phases)
    add(phase.startedAtMs, { type: 'phase', name: phase.name, config: phase.config })
  for (const sample of record.samples) {
    const { startedAtMs, ...rest } = sample
    add(startedAtMs, { type: 'request', ...rest })
  }
  for (const mark of record.marks) {
    const { atMs, ...rest } = mark
    add(atMs, rest)
  }
  for (const band of record.settle?.bands ?? [])
    add(band.fromMs, { type: 'settling', untilMs: band.toMs })
  for (const scope of record.judged)
    for (const verdict of scope.verdicts)
      add(scope.atMs, { type: 'verdict', scope: scope.scope, name: scope.name, ...verdict })
  timed.sort((a, b) => a.atMs - b.atMs || a.order - b.order)
  const { outcome } = record
  return [
    {
      type: 'run',
      kind: record.kind,
      name: record.title,
      ...(record.url === undefined ? {} : { url: record.url }),
      ...(record.store === undefined ? {} : { store: record.store }),
      startedAt: record.startedAt,
    },
    ...timed.map((entry) => entry.line),
    {
      type: 'end',
      atMs: record.endedAtMs,
      outcome: outcome.state,
      exitCode: outcome.exitCode,
      expectationsFailed: record.judged.reduce(
        (sum, scope) => sum + scope.verdicts.filter((v) => !v.held).length,
        0,
      ),
      ...(outcome.stoppedBy === undefined ? {} : { stoppedBy: outcome.stoppedBy }),
      ...(outcome.error === undefined ? {} : { error: outcome.error }),
    },
  ].map((line) => JSON.stringify(line))
}

/** Writes `--results <path>`: {@link resultLines}, one per line. */
export const writeResults = async (path: string, record: RunRecord): Promise<void> => {
  await write(path, `${resultLines(record).join('\n')}\n`)
}
