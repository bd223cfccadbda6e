import { type FaultCatalog, sleep } from '@middy-chaos/core'
import { describeConfig } from './config-check.js'
import { type Experiment, type RunResult, runExperiment } from './experiment.js'
import { describeRestore, formatProbeLine, timelinePrinter } from './output.js'
import { PhaseTracker, Probe, type ProbeSample, type SummaryRow, summarise } from './probe.js'
import { signalExitCode } from './signals.js'
import type { ConfigStore } from './store.js'
import type { Terminal } from './terminal.js'

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
  /** The faults the configs are described with (default: the registry). */
  faults?: FaultCatalog
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
  const { faults } = options
  const printTimeline = timelinePrinter(terminal, faults)
  const initial = await store.read()
  const tracker = new PhaseTracker('(baseline)', describeConfig(initial?.value, faults))
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
  terminal.line(describeRestore(store, result.restore, faults))
  if (result.restore.warning) terminal.error(`warning: ${result.restore.warning}`)

  if (probe) {
    const after = await store.read().catch(() => undefined)
    tracker.enter('(after)', describeConfig(after?.value, faults))
    await sleep(options.tailMs ?? 0, signal)
    await probe.stop()
  }
  const samples = probe?.samples ?? []
  return { result, samples, rows: summarise(samples, tracker.phases), phases: tracker.phases }
}

/**
 * The exit code of an experiment session: 0 completed and restored, 1 a step
 * failed, 130 / 143 interrupted by SIGINT / SIGTERM, 3 the restore failed.
 */
export const sessionExitCode = (
  session: SessionResult,
  signal: NodeJS.Signals | undefined,
): number => {
  if (session.result.restore.action === 'failed') return 3
  if (session.result.outcome === 'failed') return 1
  if (session.result.outcome === 'interrupted') return signalExitCode(signal)
  return 0
}
