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
import type { ConfigStore, StoredValue } from '@middy-chaos/fis/local'
import {
  describeRestore,
  formatDuration,
  formatElapsed,
  formatProbeLine,
  formatVerdicts,
  timelinePrinter,
} from '../report/output.js'
import type { SessionMark, SessionResult } from '../report/record.js'
import {
  checkProbe,
  DEFAULT_PROBE_LOST_MS,
  PhaseTracker,
  Probe,
  ProbeLostWatch,
  summarise,
  summariseRow,
} from '../runner/probe.js'
import { type RunResult, runExperiment } from '../runner/run.js'
import { type Interruption, signalExitCode } from '../runner/signals.js'
import { AlarmWatch } from '../runner/watch.js'
import type { Terminal } from '../terminal.js'
import { inForceWait, type Settle, settleTime, settleWarnings } from './settle.js'

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
  /**
   * ms after each write during which the probe's requests are not judged
   * (`--settle`); default: what {@link settleTime} makes of the probe check.
   */
  settleMs?: number
  /**
   * Stop when the probe has reached nothing for this long (ms, default
   * {@link DEFAULT_PROBE_LOST_MS}); `Infinity`: never.
   */
  probeLostMs?: number
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
  const stopping = signal ? AbortSignal.any([signal, stop.signal]) : stop.signal

  const printTimeline = timelinePrinter(terminal, faults)
  const { url } = options
  const intervalMs = options.intervalMs ?? 1000
  // Made once the lease is held (beforeSteps): the probe's clock starts with the baseline.
  let tracker: PhaseTracker | undefined
  let probe: Probe | undefined
  let settle: Settle = { ms: 0, why: 'no probe' }
  const track = (): PhaseTracker => {
    tracker ??= new PhaseTracker('(baseline)')
    return tracker
  }
  const marks: SessionMark[] = []
  const judged: JudgedScope[] = []
  const ran = new Set<string>()
  const warnings: string[] = []
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
    judged.push({ scope, name, atMs: track().elapsed(), verdicts })
    if (scope === 'run')
      terminal.line(
        `${verdicts.every((v) => v.held) ? '✔' : '✖'} [${formatElapsed(track().elapsed() - experimentStartMs)}] expectations over all steps (${samples.length} requests)`,
      )
    for (const line of formatVerdicts(verdicts)) terminal.line(line)
  }

  /**
   * Once the lease is held, before the first write: the probe's URL must
   * answer (else the run is refused, exit 2); the value the run starts from
   * must be in force (the rest of its settling time); then the baseline.
   */
  const beforeSteps = async ({ current }: { current: StoredValue | undefined }) => {
    const check = url ? await checkProbe(url, signal ? { signal } : {}) : undefined
    if (url && check) {
      settle = settleTime(options.settleMs, check, intervalMs)
      terminal.line(
        `Probe ${url} answers (${check.status}). ${settle.ms > 0 ? `Settling time ${formatDuration(settle.ms)}: requests starting within it after a write are drawn but not judged (${settle.why}).` : `No settling time: ${settle.why}.`}`,
      )
      for (const warning of settleWarnings(experiment, settle.ms)) {
        warnings.push(warning)
        terminal.error(`warning: ${warning}`)
      }
      const wait = inForceWait(current, settle.ms)
      if (wait > 0) {
        terminal.line(
          `The value in force was written ${formatDuration(settle.ms - wait)} ago: the baseline starts in ${formatDuration(wait)}, once the functions hold it.`,
        )
        await sleep(wait, stopping)
      }
    }
    tracker = new PhaseTracker('(baseline)', describeConfig(current?.value, faults))
    if (!url || !check) return
    const lost =
      options.probeLostMs === Number.POSITIVE_INFINITY
        ? undefined
        : new ProbeLostWatch(url, options.probeLostMs ?? DEFAULT_PROBE_LOST_MS, trip)
    probe = new Probe({
      url,
      intervalMs,
      tracker,
      onSample: (sample) => {
        terminal.line(formatProbeLine(sample))
        probeWatch.add(sample)
        lost?.add(sample)
      },
    })
    probe.start()
    await sleep(options.leadMs ?? 0, stopping)
  }

  let result: RunResult
  try {
    result = await runExperiment(experiment, store, {
      ...(signal ? { signal } : {}),
      stop: stop.signal,
      ...(faults ? { faults } : {}),
      ...(options.leaseTtlMs === undefined ? {} : { leaseTtlMs: options.leaseTtlMs }),
      ...(options.takeover ? { takeover: true } : {}),
      beforeSteps,
      onEvent: (event) => {
        const atMs = track().elapsed()
        switch (event.type) {
          case 'start':
            experimentStartMs = atMs
            break
          case 'step':
            if (event.state === 'running') {
              closeStep()
              track().enter(event.step.name)
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
            track().bump()
            // A request that starts while the value changes may see either: it settles too.
            track().settle(settle.ms)
            break
          case 'written':
            track().bump(event.step.setSummary)
            track().settle(settle.ms)
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
            track().enter('(restore)')
            break
          case 'restored':
            track().bump()
            if (event.restore.action === 'restored' || event.restore.action === 'deleted')
              track().settle(settle.ms)
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
    // Refused (a lease held, a probe that does not answer) or failed before anything was written.
    await probe?.stop()
    throw error
  } finally {
    alarmWatch?.close()
  }
  terminal.line(describeRestore(store, result.restore, faults))
  if (result.restore.warning) terminal.error(`warning: ${result.restore.warning}`)

  const phases = track()
  if (probe) {
    const after = await store.read().catch(() => undefined)
    phases.enter('(after)', describeConfig(after?.value, faults))
    await sleep(options.tailMs ?? 0, signal)
    await probe.stop()
  }
  const samples = probe?.samples ?? []
  const steps = judged.filter((scope) => scope.scope === 'step')
  const rows = summarise(
    samples,
    phases.phases,
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
    phases: phases.phases,
    startedAt: new Date(phases.origin).toISOString(),
    endedAtMs: phases.elapsed(),
    marks,
    judged,
    ...(probe ? { settle: { ms: settle.ms, why: settle.why, bands: phases.settling } } : {}),
    warnings,
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
