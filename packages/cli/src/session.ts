import { describeConfig } from './describe.js'
import { formatDuration, formatElapsed } from './duration.js'
import {
  type Experiment,
  type RestoreReport,
  type RunEvent,
  type RunResult,
  runExperiment,
  totalWait,
} from './experiment.js'
import {
  formatProbeLine,
  PhaseTracker,
  Probe,
  type ProbeSample,
  type SummaryRow,
  summarise,
} from './probe.js'
import type { ConfigStore } from './store.js'
import type { Terminal } from './terminal.js'

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (ms <= 0 || signal?.aborted) return resolve()
    const timer = setTimeout(done, ms)
    function done() {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    signal?.addEventListener('abort', done, { once: true })
  })

/** Quotes a word for a POSIX shell. */
const shellQuote = (text: string): string => `'${text.replaceAll("'", `'\\''`)}'`

/** One line saying what the restore did. */
export const describeRestore = (store: ConfigStore, restore: RestoreReport): string => {
  switch (restore.action) {
    case 'restored':
      return `Restored ${store.description} to its pre-experiment value (now version ${restore.version}): ${describeConfig(restore.value)} ${restore.value}`
    case 'deleted':
      return `Restored ${store.description}: it did not exist before the experiment, so it was deleted`
    case 'unchanged':
      return `Nothing to restore: ${store.description} was not changed (${describeConfig(restore.value)})`
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
      return `RESTORE FAILED for ${store.description}: ${restore.error}. Put it back by hand: ${fix}`
    }
  }
}

/** Prints the runner's events as a timeline: step, state, elapsed. */
export const timelinePrinter = (terminal: Terminal) => {
  let current: { name: string; startedAt: number; waitMs?: number } | undefined
  let total = 0
  const width = { name: 20 }
  return (event: RunEvent): void => {
    switch (event.type) {
      case 'start': {
        const { experiment, store, initial } = event
        total = totalWait(experiment)
        width.name = Math.max(...experiment.steps.map((s) => s.name.length), 10)
        terminal.line(
          `Experiment ${experiment.name}: ${experiment.steps.length} steps, ${formatDuration(total)} of waits, on ${store.description}`,
        )
        terminal.line(
          initial === undefined
            ? '  before: the parameter does not exist (it will be deleted at the end)'
            : `  before: version ${initial.version}, ${describeConfig(initial.value)} (restored at the end)`,
        )
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
        const mark = { running: '▶', done: '✔', failed: '✖', interrupted: '■' }[state]
        terminal.line(
          `${mark} [${formatElapsed(elapsedMs)}] ${step.name.padEnd(width.name)}  ${state.padEnd(11)} ${what}`.trimEnd(),
        )
        break
      }
      case 'restoring':
        current = undefined
        terminal.status(undefined)
        break
      default:
        break
    }
  }
}

export interface SessionOptions {
  experiment: Experiment
  store: ConfigStore
  terminal: Terminal
  signal?: AbortSignal
  /** Probe this URL while the experiment runs. */
  url?: string
  intervalMs?: number
  /** Probe this long before the first step (baseline). */
  leadMs?: number
  /** Probe this long after the restore. */
  tailMs?: number
}

export interface SessionResult {
  result: RunResult
  samples: ProbeSample[]
  rows: SummaryRow[]
  phases: { name: string; config: string; startedAtMs: number }[]
}

/**
 * Runs an experiment with its live timeline and, given a URL, a probe whose
 * requests are attributed to the step under way: `(baseline)` before the first
 * step, each step's name, `(restore)`, then `(after)`.
 */
export const runSession = async (options: SessionOptions): Promise<SessionResult> => {
  const { experiment, store, terminal, signal } = options
  const printTimeline = timelinePrinter(terminal)
  const initial = await store.read()
  const tracker = new PhaseTracker('(baseline)', describeConfig(initial?.value))
  const probe = options.url
    ? new Probe({
        url: options.url,
        intervalMs: options.intervalMs ?? 1000,
        tracker,
        onSample: (sample) => terminal.line(formatProbeLine(sample)),
      })
    : undefined
  probe?.start()
  await sleep(probe ? (options.leadMs ?? 0) : 0, signal)

  const result = await runExperiment(experiment, store, {
    ...(signal ? { signal } : {}),
    onEvent: (event) => {
      switch (event.type) {
        case 'step':
          if (event.state === 'running') tracker.enter(event.step.name)
          break
        case 'writing':
          tracker.bump()
          break
        case 'written':
          tracker.bump(event.step.setSummary)
          break
        case 'restoring':
          tracker.enter('(restore)')
          break
        case 'restored':
          tracker.bump()
          break
      }
      printTimeline(event)
    },
  })
  terminal.line(describeRestore(store, result.restore))
  if (result.restore.warning) terminal.error(`warning: ${result.restore.warning}`)

  if (probe) {
    const after = await store.read().catch(() => undefined)
    tracker.enter('(after)', describeConfig(after?.value))
    await sleep(options.tailMs ?? 0, signal)
    await probe.stop()
  }
  const samples = probe?.samples ?? []
  return { result, samples, rows: summarise(samples, tracker.phases), phases: tracker.phases }
}
