import { type FaultCatalog, sleep } from '@middy-chaos/core'
import type { Experiment, ExperimentStep } from '@middy-chaos/experiment'
import {
  describeConfig,
  EXPECTATION_FAILED_EXIT_CODE,
  type Expectation,
  failedCount,
  type JudgedScope,
  judge,
  judgedSamples,
  ProbeWatch,
  parseProbeThreshold,
  RUN_SCOPE,
  type StopConditionSpec,
  UsageError,
} from '@middy-chaos/experiment'
import type { ConfigStore } from '@middy-chaos/fis/local'
import {
  describeRestore,
  formatElapsed,
  formatProbeLine,
  formatVerdicts,
  timelinePrinter,
} from '../report/output.js'
import type { SessionMark, SessionResult } from '../report/record.js'
import { PhaseTracker, Probe, summarise, summariseRow } from '../runner/probe.js'
import { type RunResult, runExperiment } from '../runner/run.js'
import { type Interruption, signalExitCode } from '../runner/signals.js'
import { AlarmWatch } from '../runner/watch.js'
import type { Terminal } from '../terminal.js'

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
  /** Expectations over the whole run besides the experiment file's (`--expect`). */
  expect?: readonly Expectation[]
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
    throw new UsageError('a probe threshold stop condition needs --probe <url>')
  const runExpectations = [...(experiment.expect ?? []), ...(options.expect ?? [])]
  const expected =
    runExpectations.length > 0 || experiment.steps.some((step) => (step.expect ?? []).length > 0)
  if (expected && !options.url)
    throw new UsageError('expectations are judged on what the probe sees: add --probe <url>')

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
  const origin = Date.now()
  const tracker = new PhaseTracker('(baseline)', describeConfig(initial?.value, faults), origin)
  const marks: SessionMark[] = []
  const judged: JudgedScope[] = []
  const ran = new Set<string>()
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
  /** ms since the origin when the experiment started: the timeline's 00:00.0. */
  let experimentStartMs = 0
  /** The step that ended, judged as the next phase starts (its requests in flight then straddle). */
  let ended: ExperimentStep | undefined
  const closeStep = () => {
    if (ended) judgeNow('step', ended.name, ended.expect ?? [], new Set([ended.name]))
    ended = undefined
  }
  /** Judges expectations over what the probe saw in these phases, and prints the verdicts. */
  const judgeNow = (
    scope: JudgedScope['scope'],
    name: string,
    expectations: readonly Expectation[],
    phases: ReadonlySet<string>,
  ) => {
    if (!probe || expectations.length === 0) return
    const samples = judgedSamples(probe.samples, phases)
    const verdicts = judge(expectations, samples)
    judged.push({ scope, name, atMs: tracker.elapsed(), verdicts })
    if (scope === 'run')
      terminal.line(
        `${verdicts.every((v) => v.held) ? '✔' : '✖'} [${formatElapsed(tracker.elapsed() - experimentStartMs)}] expectations over all steps (${samples.length} requests)`,
      )
    for (const line of formatVerdicts(verdicts)) terminal.line(line)
  }
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
        const atMs = tracker.elapsed()
        switch (event.type) {
          case 'start':
            experimentStartMs = atMs
            break
          case 'step':
            if (event.state === 'running') {
              closeStep()
              tracker.enter(event.step.name)
              ran.add(event.step.name)
            } else if (ran.has(event.step.name)) ended = event.step
            marks.push({
              type: 'step',
              atMs,
              index: event.index,
              step: event.step.name,
              state: event.state,
              ...(event.error === undefined ? {} : { error: event.error }),
            })
            break
          case 'writing':
            tracker.bump()
            break
          case 'written':
            tracker.bump(event.step.setSummary)
            marks.push({
              type: 'write',
              atMs,
              step: event.step.name,
              version: event.version,
              config: event.step.setSummary ?? '',
            })
            break
          case 'renewal-failed':
            marks.push({ type: 'renewal-failed', atMs, error: event.error })
            break
          case 'stopped':
            marks.push({ type: 'stopped', atMs, reason: event.reason })
            break
          case 'restoring':
            // Every step has ended: the run is judged over the requests of the steps that ran.
            closeStep()
            judgeNow('run', RUN_SCOPE, runExpectations, ran)
            tracker.enter('(restore)')
            break
          case 'restored':
            tracker.bump()
            marks.push({
              type: 'restored',
              atMs,
              restore: event.restore,
              text: describeRestore(store, event.restore, faults),
            })
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
  const steps = judged.filter((scope) => scope.scope === 'step')
  const rows = summarise(
    samples,
    tracker.phases,
    new Map(steps.map((scope) => [scope.name, scope.verdicts])),
  )
  const run = judged.find((scope) => scope.scope === 'run')
  if (run)
    rows.push({
      ...summariseRow(
        RUN_SCOPE,
        '',
        samples.filter((sample) => ran.has(sample.phase)),
      ),
      verdicts: run.verdicts,
      aggregate: true,
    })
  return {
    result,
    samples,
    rows,
    phases: tracker.phases,
    startedAt: new Date(origin).toISOString(),
    endedAtMs: tracker.elapsed(),
    marks,
    judged,
  }
}

/**
 * The exit code of an experiment session: 0 completed and restored, 1 a step
 * failed, 4 stopped by a stop condition (and restored), 130 / 143 / 129
 * interrupted by SIGINT / SIGTERM / SIGHUP, 141 by a failed write to the output,
 * 1 by an unexpected error (restored), 3 the restore failed, 6 completed and restored but an
 * expectation failed (any other ending keeps its own code). (5: refused,
 * another run holds the lease, from `LeaseHeldError`.)
 */
export const sessionExitCode = (
  session: SessionResult,
  signal: Interruption | undefined,
): number => {
  if (session.result.restore.action === 'failed') return 3
  if (session.result.outcome === 'failed') return 1
  if (session.result.outcome === 'stopped') return 4
  if (session.result.outcome === 'interrupted') return signalExitCode(signal)
  if (failedCount(session.judged) > 0) return EXPECTATION_FAILED_EXIT_CODE
  return 0
}
