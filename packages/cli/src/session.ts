import { type FaultCatalog, sleep } from '@middy-chaos/core'
import { describeConfig } from './config-check.js'
import { CliError } from './errors.js'
import type { Experiment } from './experiment.js'
import { describeRestore, formatProbeLine, timelinePrinter } from './output.js'
import { PhaseTracker, Probe, type ProbeSample, type SummaryRow, summarise } from './probe.js'
import { type RunResult, runExperiment } from './run.js'
import { signalExitCode } from './signals.js'
import { AlarmWatch, ProbeWatch, parseProbeThreshold, type StopConditionSpec } from './stop.js'
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
  /** Stop conditions besides the experiment file's. */
  stopConditions?: readonly StopConditionSpec[]
  /** Time between two checks of the CloudWatch alarms (default 5 s). */
  alarmIntervalMs?: number
  /** Lease and expiry TTL (default 60 s). */
  leaseTtlMs?: number
  /** Take over a stale lease. */
  takeover?: boolean
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
  const conditions = [...(experiment.stopConditions ?? []), ...(options.stopConditions ?? [])]
  const alarms = conditions.flatMap((c) => ('alarm' in c ? [c.alarm] : []))
  const thresholds = conditions.flatMap((c) => ('probe' in c ? [parseProbeThreshold(c.probe)] : []))
  if (thresholds.length > 0 && !options.url)
    throw new CliError('a probe threshold stop condition needs --probe <url>', { exitCode: 2 })

  const stop = new AbortController()
  const trip = (reason: string) => {
    if (!stop.signal.aborted) stop.abort(reason)
  }
  // Alarms are checked before anything is written: one missing or in ALARM, nothing starts.
  const alarmWatch =
    alarms.length > 0
      ? new AlarmWatch({
          alarms,
          ...(options.alarmIntervalMs === undefined ? {} : { intervalMs: options.alarmIntervalMs }),
        })
      : undefined
  try {
    await alarmWatch?.start(trip)
  } catch (error) {
    alarmWatch?.close()
    throw error
  }
  const probeWatch = new ProbeWatch(thresholds, trip)

  const printTimeline = timelinePrinter(terminal, faults)
  const initial = await store.read()
  const tracker = new PhaseTracker('(baseline)', describeConfig(initial?.value, faults))
  const probe = options.url
    ? new Probe({
        url: options.url,
        intervalMs: options.intervalMs ?? 1000,
        tracker,
        onSample: (sample) => {
          terminal.line(formatProbeLine(sample))
          probeWatch.add(sample)
        },
      })
    : undefined
  probe?.start()
  await sleep(probe ? (options.leadMs ?? 0) : 0, signal)

  let result: RunResult
  try {
    result = await runExperiment(experiment, store, {
      ...(signal ? { signal } : {}),
      stop: stop.signal,
      ...(faults ? { faults } : {}),
      ...(options.leaseTtlMs === undefined ? {} : { leaseTtlMs: options.leaseTtlMs }),
      ...(options.takeover ? { takeover: true } : {}),
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
  } catch (error) {
    // Refused (a lease held) or failed before anything was written.
    await probe?.stop()
    throw error
  } finally {
    alarmWatch?.close()
  }
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
 * failed, 4 stopped by a stop condition (and restored), 130 / 143 interrupted by
 * SIGINT / SIGTERM, 3 the restore failed. (5: refused, another run holds the
 * lease, from `LeaseHeldError`.)
 */
export const sessionExitCode = (
  session: SessionResult,
  signal: NodeJS.Signals | undefined,
): number => {
  if (session.result.restore.action === 'failed') return 3
  if (session.result.outcome === 'failed') return 1
  if (session.result.outcome === 'stopped') return 4
  if (session.result.outcome === 'interrupted') return signalExitCode(signal)
  return 0
}
