/**
 * The run in a GitHub Actions job's summary: when `GITHUB_STEP_SUMMARY`
 * names a file (GitHub Actions sets it in every step), `experiment run`
 * appends a Markdown section to it: the outcome, the steps, the verdicts and
 * the summary table the terminal printed. GitHub shows it on the run's page.
 *
 * @module
 */
import { appendFile } from 'node:fs/promises'
import { failedCount, RUN_SCOPE } from '@middy-chaos/experiment'
import { stepCourse } from './junit.js'
import {
  countLeftOut,
  formatDuration,
  formatVerdictCell,
  SUMMARY_COLUMNS,
  summaryCells,
  summaryNote,
} from './output.js'
import type { RunRecord } from './record.js'

/** The environment variable GitHub Actions names the job summary's file in. */
export const STEP_SUMMARY_ENV = 'GITHUB_STEP_SUMMARY'

/** A table cell: one line, its pipes escaped, no HTML (a body may hold a tag). */
const cell = (text: string): string =>
  text.replace(/\r?\n/g, ' ').replaceAll('|', '\\|').replaceAll('<', '&lt;').trim()

/** A code span that holds `text` whatever backticks it has. */
const code = (text: string): string => {
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length))
  const fence = '`'.repeat(longest + 1)
  return `${fence}${longest > 0 ? ' ' : ''}${text.replace(/\r?\n/g, ' ')}${longest > 0 ? ' ' : ''}${fence}`
}

const table = (header: readonly string[], rows: readonly (readonly string[])[]): string[] => [
  `| ${header.map(cell).join(' | ')} |`,
  `| ${header.map(() => '---').join(' | ')} |`,
  ...rows.map((row) => `| ${row.map(cell).join(' | ')} |`),
]

const STATE: Readonly<Record<string, string>> = {
  done: '✔ done',
  failed: '✖ failed',
  stopped: '■ stopped',
  interrupted: '■ interrupted',
}

/** The steps: how each ended and how long it took. */
const stepRows = (record: RunRecord): string[][] =>
  (record.experiment?.steps ?? []).map((step, index) => {
    const { started, ended } = stepCourse(record.marks, index)
    const state =
      started === undefined ? 'not run' : (STATE[ended?.state ?? ''] ?? ended?.state ?? '')
    const judged = record.judged.find((scope) => scope.scope === 'step' && scope.name === step.name)
    return [
      String(index + 1),
      step.name,
      step.setSummary ?? '',
      state + (ended?.error ? `: ${ended.error}` : ''),
      started && ended ? formatDuration(ended.atMs - started.atMs) : '',
      formatVerdictCell(judged?.verdicts),
    ]
  })

/**
 * The run as a Markdown section: a heading with the outcome, the run's
 * facts, the steps, the verdicts and the summary table.
 *
 * @example
 * ```ts
 * await appendFile(process.env.GITHUB_STEP_SUMMARY, stepSummaryMarkdown(record))
 * ```
 */
export const stepSummaryMarkdown = (record: RunRecord): string => {
  const { outcome } = record
  const failed = failedCount(record.judged)
  const verdicts = record.judged.flatMap((scope) =>
    scope.verdicts.map((verdict) => ({ scope, verdict })),
  )
  const good = outcome.exitCode === 0
  const expectations =
    verdicts.length === 0
      ? ''
      : failed === 0
        ? `, all ${verdicts.length} expectations held`
        : `, ${failed} of ${verdicts.length} expectations failed`
  const facts = [
    `**${outcome.text}**, exit code ${outcome.exitCode}`,
    ...(record.store === undefined ? [] : [`store ${code(record.store)}`]),
    ...(record.url === undefined ? [] : [`probe ${code(record.url)}`]),
    ...(record.waits === undefined ? [] : [`waits ${code(record.waits)}`]),
    ...(record.file === undefined ? [] : [`file ${code(record.file.path)}`]),
  ]
  const columns = SUMMARY_COLUMNS.filter(
    (column) => column !== 'expectations' || record.rows.some((row) => row.verdicts !== undefined),
  )
  const note = summaryNote(countLeftOut(record.samples))
  return [
    `### ${good ? '✔' : '✖'} middy-chaos experiment ${code(record.title)}: ${outcome.text}${expectations}`,
    '',
    facts.join(' · '),
    ...(outcome.restore ? ['', outcome.restore.text.trim()] : []),
    '',
    '#### Steps',
    '',
    ...table(['#', 'step', 'set', 'outcome', 'duration', 'expectations'], stepRows(record)),
    ...(verdicts.length === 0
      ? []
      : [
          '',
          '#### Verdicts',
          '',
          ...table(
            ['scope', 'expectation', 'verdict', 'measured'],
            verdicts.map(({ scope, verdict }) => [
              scope.scope === 'run' ? RUN_SCOPE : scope.name,
              verdict.expectation,
              verdict.held ? '✔ held' : '✖ failed',
              verdict.measured,
            ]),
          ),
        ]),
    ...(record.rows.length === 0
      ? []
      : [
          '',
          `#### ${record.summaryTitle}`,
          '',
          ...table(
            columns,
            record.rows.map((row) => {
              const cells = summaryCells(row)
              return columns.map((column) => cells[column])
            }),
          ),
          ...(note === undefined ? [] : ['', note]),
        ]),
    '',
    '',
  ].join('\n')
}

/**
 * Appends {@link stepSummaryMarkdown} to the job summary's file, when
 * `GITHUB_STEP_SUMMARY` names one; `undefined` when it does not, the file's
 * path when written.
 */
export const appendStepSummary = async (
  record: RunRecord,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<string | undefined> => {
  const path = env[STEP_SUMMARY_ENV]
  if (path === undefined || path === '') return undefined
  await appendFile(path, stepSummaryMarkdown(record))
  return path
}
