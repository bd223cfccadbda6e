/**
 * What the CLI prints: every line and table of its output, in one place.
 * Commands decide what to say; this module says how it looks.
 *
 * @module
 */
import type { FaultCatalog } from '@middy-chaos/core'
import type { ProbeSample } from '@middy-chaos/experiment'
import {
  describeConfig,
  EXPECTATION_FAILED_EXIT_CODE,
  EXPIRY_GRACE_MS,
  failedCount,
  formatDuration,
  formatElapsed,
  type JudgedScope,
  type Verdict,
} from '@middy-chaos/experiment'
import type { ConfigStore, FisEvent, PlayResult, StoredValue } from '@middy-chaos/fis/local'
import { describeLease, type LeaseRecord, RECOVER_HINT } from '@middy-chaos/fis/local'
import type { SummaryRow } from '../runner/probe.js'
import type { RestoreReport, RunEvent, RunResult } from '../runner/run.js'
import type { Terminal } from '../terminal.js'

export { formatDuration, formatElapsed } from '@middy-chaos/experiment'

/** The workshop's `test.sh` line: `Hello from Lambda! - 200 - 0.134764`. */
export const formatProbeLine = (sample: Pick<ProbeSample, 'body' | 'status' | 'seconds'>): string =>
  `${sample.body.replace(/\r?\n/g, ' ')} - ${sample.status === 0 ? '000' : sample.status} - ${sample.seconds.toFixed(6)}`

/** `200×12 404×3`: status counts as the summary shows them. */
export const formatStatuses = (statuses: Readonly<Record<string, number>>): string =>
  Object.entries(statuses)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([code, count]) => `${code}×${count}`)
    .join(' ')

/** `0.412s`, or `-` without requests. */
export const formatSeconds = (seconds: number | undefined): string =>
  seconds === undefined ? '-' : `${seconds.toFixed(3)}s`

/** `✔ 2 held`, `✖ 1 of 2 failed`: a row's verdicts in one cell. */
export const formatVerdictCell = (verdicts: readonly Verdict[] | undefined): string => {
  if (verdicts === undefined || verdicts.length === 0) return ''
  const failed = verdicts.filter((v) => !v.held).length
  return failed === 0 ? `✔ ${verdicts.length} held` : `✖ ${failed} of ${verdicts.length} failed`
}

/** The cells of a summary row, as the terminal and the HTML report show them. */
export const summaryCells = (row: SummaryRow): Record<SummaryColumn, string> => ({
  step: row.phase,
  config: row.config,
  requests: String(row.requests),
  'status codes': formatStatuses(row.statuses),
  p50: formatSeconds(row.p50),
  p95: formatSeconds(row.p95),
  p99: formatSeconds(row.p99),
  expectations: formatVerdictCell(row.verdicts),
})

/** The columns of the summary table. */
export const SUMMARY_COLUMNS = [
  'step',
  'config',
  'requests',
  'status codes',
  'p50',
  'p95',
  'p99',
  'expectations',
] as const
export type SummaryColumn = (typeof SUMMARY_COLUMNS)[number]

/** `Probe summary per step: 40 requests`. */
export const summaryTitle = (rows: readonly SummaryRow[], title = 'Probe summary'): string =>
  `${title}: ${rows.filter((row) => !row.aggregate).reduce((sum, row) => sum + row.requests, 0)} requests`

/** The samples drawn but not counted: in flight across a change, or in the settling time after a write. */
export interface LeftOut {
  readonly straddling: number
  readonly settling: number
}

/** How many samples were in flight across a change (of step or config), and how many more started while a write settled. */
export const countLeftOut = (
  samples: readonly Pick<ProbeSample, 'straddles' | 'settling'>[],
): LeftOut => ({
  straddling: samples.filter((sample) => sample.straddles).length,
  settling: samples.filter((sample) => !sample.straddles && sample.settling === true).length,
})

const requests = (n: number) => `${n} ${n === 1 ? 'request' : 'requests'}`

/** `left out: 2 requests in flight across a change (…)`, when some were. */
export const summaryNote = (leftOut: LeftOut): string | undefined => {
  const parts = [
    ...(leftOut.straddling === 0
      ? []
      : [`${requests(leftOut.straddling)} in flight across a change (of step or config)`]),
    ...(leftOut.settling === 0
      ? []
      : [
          `${requests(leftOut.settling)} in the settling time after a write (the functions may still have held the previous config)`,
        ]),
  ]
  return parts.length === 0
    ? undefined
    : `left out: ${parts.join(', and ')}, drawn in the report but not counted`
}

/**
 * The summary as a text table (the expectations column when a row has
 * verdicts), and a note on the `leftOut` requests not counted.
 */
export const formatSummary = (
  rows: readonly SummaryRow[],
  title = 'Probe summary',
  leftOut: LeftOut = { straddling: 0, settling: 0 },
): string => {
  const columns = SUMMARY_COLUMNS.filter(
    (column) => column !== 'expectations' || rows.some((row) => row.verdicts !== undefined),
  )
  const body = rows.map((row) => {
    const cells = summaryCells(row)
    return columns.map((column) => cells[column])
  })
  const widths = columns.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] ?? '').length)))
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (i === 2 ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd()
  const note = summaryNote(leftOut)
  return [
    summaryTitle(rows, title),
    line(columns),
    ...body.map(line),
    ...(note ? [note] : []),
  ].join('\n')
}

/** One line per verdict, under the step it judges: `    ✖ 2xx>=99%: 2xx 50% (6 of 12)`. */
export const formatVerdicts = (verdicts: readonly Verdict[]): string[] =>
  verdicts.map((v) => `    ${v.held ? '✔' : '✖'} ${v.expectation}: ${v.measured}`)

/** The last line about expectations: `Expectations: 5 held, 1 failed (S04_Wait2: 2xx>=99%).` */
export const describeExpectations = (scopes: readonly JudgedScope[]): string | undefined => {
  const all = scopes.flatMap((scope) => scope.verdicts.map((verdict) => ({ scope, verdict })))
  if (all.length === 0) return undefined
  const failed = all.filter(({ verdict }) => !verdict.held)
  const which = failed.map(({ scope, verdict }) => `${scope.name}: ${verdict.expectation}`)
  return failed.length === 0
    ? `Expectations: all ${all.length} held.`
    : `Expectations: ${all.length - failed.length} held, ${failed.length} failed (${which.join('; ')}).`
}

/**
 * The last lines of a run: how many expectations held, and on stderr why the
 * exit code is not 0 (a failed step, a stop condition, a failed expectation).
 */
export const printRunEnd = (
  terminal: Terminal,
  session: { judged: readonly JudgedScope[]; result: RunResult },
  exitCode: number,
): void => {
  const verdicts = describeExpectations(session.judged)
  if (verdicts) terminal.line(verdicts)
  const { result } = session
  if (result.outcome === 'failed') terminal.error(`middy-chaos: ${result.error}`)
  if (result.outcome === 'stopped')
    terminal.error(`middy-chaos: stopped by ${result.stoppedBy}; restored`)
  if (exitCode === EXPECTATION_FAILED_EXIT_CODE) {
    const failed = failedCount(session.judged)
    terminal.error(
      `middy-chaos: ${failed} ${failed === 1 ? 'expectation' : 'expectations'} failed (exit ${EXPECTATION_FAILED_EXIT_CODE}); the parameter was restored`,
    )
  }
}

/** Quotes a word for a POSIX shell. */
const shellQuote = (text: string): string => `'${text.replaceAll("'", `'\\''`)}'`

/**
 * What to do after a restore failed: this process holds the lease, so
 * `recover` can take it over on this host as soon as the process has exited.
 */
export const RECOVER_LATER =
  'run middy-chaos recover once this run has exited (on this host at once; elsewhere once the lease has expired)'

/** One line saying what the restore did. */
export const describeRestore = (
  store: ConfigStore,
  restore: RestoreReport,
  faults?: FaultCatalog,
): string => {
  switch (restore.action) {
    case 'restored':
      return `Restored ${store.description} to its pre-experiment value (now version ${restore.version}): ${describeConfig(restore.value, faults)} ${restore.value}`
    case 'deleted':
      return `Restored ${store.description}: it did not exist before the experiment, so it was deleted`
    case 'unchanged':
      return `Nothing to restore: ${store.description} was not changed (${describeConfig(restore.value, faults)})`
    case 'skipped':
      return `Not restored by this run: ${restore.error}; the run holding the lease restores ${store.description}`
    case 'failed': {
      const where = [
        `--store ${store.kind}`,
        `--param ${shellQuote(store.parameter)}`,
        ...(store.kind === 'ssm' && process.env.AWS_ENDPOINT_URL_SSM
          ? [`--endpoint ${shellQuote(process.env.AWS_ENDPOINT_URL_SSM)}`]
          : []),
        ...(store.kind === 'ssm' && process.env.AWS_REGION
          ? [`--region ${process.env.AWS_REGION}`]
          : []),
      ].join(' ')
      const fix =
        restore.value === undefined
          ? `it did not exist before the experiment: delete it, or turn faults off with middy-chaos disable ${where}`
          : `middy-chaos set ${where} ${shellQuote(restore.value)}`
      return `RESTORE FAILED for ${store.description}: ${restore.error}. The lease keeps the value to restore: ${RECOVER_LATER}, or put it back by hand: ${fix}`
    }
  }
}

/** Prints the runner's events as a timeline: step, state, elapsed. */
export const timelinePrinter = (terminal: Terminal, faults?: FaultCatalog) => {
  let current: { name: string; startedAt: number; waitMs?: number } | undefined
  let total = 0
  const width = { name: 20 }
  return (event: RunEvent): void => {
    switch (event.type) {
      case 'start': {
        const { experiment, store, initial, lease } = event
        total = experiment.steps.reduce((sum, step) => sum + (step.waitMs ?? 0), 0)
        width.name = Math.max(...experiment.steps.map((s) => s.name.length), 10)
        terminal.line(
          `Experiment ${experiment.name}: ${experiment.steps.length} steps, ${formatDuration(total)} of waits, on ${store.description}`,
        )
        terminal.line(
          initial === undefined
            ? '  before: the parameter does not exist (it will be deleted at the end)'
            : `  before: version ${initial.version}, ${describeConfig(initial.value, faults)} (restored at the end)`,
        )
        terminal.line(leaseLine(lease))
        terminal.status(() => {
          if (!current) return ''
          const inStep = Date.now() - current.startedAt
          const left =
            current.waitMs === undefined
              ? ''
              : ` (${formatDuration(Math.max(0, current.waitMs - inStep))} left)`
          return `  ▶ ${current.name} running ${formatElapsed(inStep)}${left}`
        })
        break
      }
      case 'step': {
        const { step, state, elapsedMs } = event
        const what =
          state === 'running'
            ? [
                step.set !== undefined ? `set ${step.setSummary}` : '',
                step.waitMs !== undefined ? `wait ${formatDuration(step.waitMs)}` : '',
              ]
                .filter(Boolean)
                .join(', ')
            : state === 'failed'
              ? (event.error ?? '')
              : event.version !== undefined
                ? `version ${event.version}`
                : ''
        if (state === 'running') {
          current = {
            name: step.name,
            startedAt: Date.now(),
            ...(step.waitMs === undefined ? {} : { waitMs: step.waitMs }),
          }
        }
        const mark = { running: '▶', done: '✔', failed: '✖', interrupted: '■', stopped: '■' }[state]
        terminal.line(
          `${mark} [${formatElapsed(elapsedMs)}] ${step.name.padEnd(width.name)}  ${state.padEnd(11)} ${what}`.trimEnd(),
        )
        break
      }
      case 'stopped':
        terminal.line(`■ [${formatElapsed(event.elapsedMs)}] STOPPED by ${event.reason}`)
        break
      case 'renewal-failed':
        terminal.error(`warning: could not renew the lease and the expiry: ${event.error}`)
        break
      case 'restoring':
        current = undefined
        terminal.status(undefined)
        break
      default:
        break
    }
  }
}

/** What a run says about its lease at the start. */
export const leaseLine = (lease: LeaseRecord): string => {
  const ttl = Math.round((Date.parse(lease.expiresAt) - Date.parse(lease.since)) / 1000)
  const takeover =
    lease.tookOver === undefined
      ? ''
      : `, taken over from a stale lease (${lease.tookOver}): restores the value it recorded`
  return `  lease: ${lease.id} on this parameter, renewed every ${Math.max(1, Math.round(ttl / 3))} s; if this runner dies, its faults stop by themselves ${EXPIRY_GRACE_MS / 1000} s after its step's planned end, or within ${ttl} s if sooner${takeover}`
}

/** `status`'s line about a lease. */
export const leaseStatusLine = (lease: LeaseRecord | undefined, stale: string | undefined) =>
  lease === undefined
    ? 'lease    none (no experiment runs on this parameter)'
    : `lease    ${stale ? 'STALE ' : ''}held by ${describeLease(lease)}${stale ? `: its runner is gone (${stale}); ${RECOVER_HINT}` : ''}`

/** Prints an FIS template's play as a timeline: actions, their automations' steps, the writes. */
export const fisTimelinePrinter = (terminal: Terminal, faults?: FaultCatalog) => {
  const width = { name: 20 }
  const marks = { running: '▶', completed: '✔', failed: '✖', stopped: '■', pending: ' ' }
  return (event: FisEvent): void => {
    switch (event.type) {
      case 'start': {
        const { plan, store, initial } = event
        const { template } = plan
        width.name = Math.max(...template.actions.map((action) => action.name.length), 10)
        const documents = [...new Set([...plan.automations.values()].map((a) => a.document.name))]
        const mapped =
          plan.parameterName === undefined
            ? ''
            : plan.parameterName === store.parameter
              ? ''
              : ` (the documents' ${plan.parameterName})`
        terminal.line(
          `FIS experiment ${template.name}: ${template.actions.length} actions, documents ${documents.join(', ') || 'none'}, on ${store.description}${mapped}`,
        )
        terminal.line(
          initial === undefined
            ? '  before: the parameter does not exist'
            : `  before: version ${initial.version}, ${describeConfig(initial.value, faults)}`,
        )
        break
      }
      case 'action': {
        const { action, state, elapsedMs, detail } = event
        terminal.line(
          `${marks[state]} [${formatElapsed(elapsedMs)}] ${action.name.padEnd(width.name)}  ${state.padEnd(10)} ${detail ?? ''}`.trimEnd(),
        )
        break
      }
      case 'automation': {
        const { action, event: inner, elapsedMs } = event
        const at = `[${formatElapsed(elapsedMs)}] ${action.name} › ${inner.step.name}`
        if (inner.type === 'write')
          terminal.line(
            inner.value === undefined
              ? `    ${at}  deleted the parameter`
              : `    ${at}  wrote version ${inner.version ?? '?'}: ${describeConfig(inner.value, faults)}`,
          )
        else if (inner.state === 'running' && inner.attempt <= 1)
          terminal.line(`  · ${at}  ${inner.detail ?? ''}`.trimEnd())
        else if (inner.state === 'running') terminal.line(`  · ${at}  attempt ${inner.attempt}`)
        else if (inner.state !== 'Success')
          terminal.line(
            `  ${inner.state === 'Cancelled' ? '■' : '✖'} ${at}  ${inner.state}${inner.detail ? `: ${inner.detail}` : ''}`,
          )
        break
      }
      case 'stopping':
        terminal.line(
          `■ [${formatElapsed(event.elapsedMs)}] STOPPING (${event.reason}): as FIS stops an experiment, no more actions start and running automations are cancelled (their onCancel steps run)`,
        )
        break
    }
  }
}

/** The last lines of a play: how it ended, and what the parameter holds now. */
export const describeFisEnd = (
  store: ConfigStore,
  result: Pick<PlayResult, 'outcome' | 'initial' | 'final' | 'elapsedMs' | 'actions'>,
  faults?: FaultCatalog,
): string[] => {
  const counts = new Map<string, number>()
  for (const state of Object.values(result.actions)) counts.set(state, (counts.get(state) ?? 0) + 1)
  const actions = [...counts].map(([state, count]) => `${count} ${state}`).join(', ')
  const { initial, final } = result
  const now =
    final === undefined
      ? `${store.description} does not exist`
      : `${store.description} is at version ${final.version}: ${describeConfig(final.value, faults)}`
  const before =
    initial === undefined ? 'did not exist' : `held ${describeConfig(initial.value, faults)}`
  const summary = (value: StoredValue | undefined) =>
    value === undefined ? undefined : describeConfig(value.value, faults)
  return [
    `Experiment ${result.outcome} after ${formatDuration(result.elapsedMs)} (actions: ${actions}).`,
    initial?.value === final?.value
      ? `${now}, as before the experiment.`
      : summary(initial) === summary(final)
        ? `${now}: the same config as before the experiment, written differently.`
        : `${now}; before the experiment it ${before}: the documents did not put it back.`,
  ]
}
