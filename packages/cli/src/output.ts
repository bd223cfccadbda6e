/**
 * What the CLI prints: every line and table of its output, in one place.
 * Commands decide what to say; this module says how it looks.
 *
 * @module
 */
import type { FaultCatalog } from '@middy-chaos/core'
import { describeConfig } from './config-check.js'
import { describeLease, type LeaseRecord } from './lease.js'
import type { ProbeSample, SummaryRow } from './probe.js'
import type { RestoreReport, RunEvent } from './run.js'
import type { ConfigStore } from './store.js'
import type { Terminal } from './terminal.js'

/** `4s`, `1m`, `1m30s`, `2h`, `1h30m`, `400ms`: a duration as people write it. */
export const formatDuration = (ms: number): string => {
  if (ms < 1000) return `${Math.round(ms)}ms`
  if (ms < 60_000) return `${Number((ms / 1000).toFixed(1))}s`
  if (ms < 3_600_000) {
    const minutes = Math.floor(ms / 60_000)
    const seconds = Math.round((ms % 60_000) / 1000)
    return seconds === 0 ? `${minutes}m` : `${minutes}m${seconds}s`
  }
  const hours = Math.floor(ms / 3_600_000)
  const minutes = Math.round((ms % 3_600_000) / 60_000)
  return minutes === 0 ? `${hours}h` : `${hours}h${minutes}m`
}

/** Elapsed time as `00:04.2` (minutes:seconds.tenths). */
export const formatElapsed = (ms: number): string => {
  const tenths = Math.floor(ms / 100)
  const minutes = Math.floor(tenths / 600)
  const seconds = (tenths % 600) / 10
  return `${String(minutes).padStart(2, '0')}:${seconds.toFixed(1).padStart(4, '0')}`
}

/** The workshop's `test.sh` line: `Hello from Lambda! - 200 - 0.134764`. */
export const formatProbeLine = (sample: Pick<ProbeSample, 'body' | 'status' | 'seconds'>): string =>
  `${sample.body.replace(/\r?\n/g, ' ')} - ${sample.status === 0 ? '000' : sample.status} - ${sample.seconds.toFixed(6)}`

/** The summary as a text table. */
export const formatSummary = (rows: readonly SummaryRow[], title = 'Probe summary'): string => {
  const total = rows.reduce((sum, row) => sum + row.requests, 0)
  const header = ['step', 'config', 'requests', 'status codes', 'p50', 'p95']
  const body = rows.map((row) => [
    row.phase,
    row.config,
    String(row.requests),
    Object.entries(row.statuses)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([code, count]) => `${code}×${count}`)
      .join(' '),
    row.p50 === undefined ? '-' : `${row.p50.toFixed(3)}s`,
    row.p95 === undefined ? '-' : `${row.p95.toFixed(3)}s`,
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] ?? '').length)))
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === 2 ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd()
  return [`${title}: ${total} requests`, line(header), ...body.map(line)].join('\n')
}

/** Quotes a word for a POSIX shell. */
const shellQuote = (text: string): string => `'${text.replaceAll("'", `'\\''`)}'`

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
      return `RESTORE FAILED for ${store.description}: ${restore.error}. The lease keeps the value to restore: run again with --takeover once it has expired, or put it back by hand: ${fix}`
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
  return `  lease: ${lease.id} on this parameter, renewed every ${Math.max(1, Math.round(ttl / 3))} s; if this runner dies, its faults stop by themselves within ${ttl} s${takeover}`
}

/** `status`'s line about a lease. */
export const leaseStatusLine = (lease: LeaseRecord | undefined, stale: string | undefined) =>
  lease === undefined
    ? 'lease    none (no experiment runs on this parameter)'
    : `lease    ${stale ? 'STALE ' : ''}held by ${describeLease(lease)}${stale ? ': run the experiment with --takeover to restore the value it recorded' : ''}`
