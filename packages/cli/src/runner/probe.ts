import { sleep } from '@middy-chaos/core'
import type { Verdict } from '@middy-chaos/experiment'
import {
  describeError,
  formatDuration,
  InputError,
  type ProbeSample,
  percentile,
} from '@middy-chaos/experiment'
import { CACHE_WINDOW_HEADER } from '../serve/index.js'

/** Which experiment phase is under way, shared by the runner and the probe. */
export class PhaseTracker {
  #name: string
  #config: string
  #generation = 0
  #startedAt: number
  readonly #origin: number
  readonly phases: { name: string; config: string; startedAtMs: number }[] = []
  /** The settling times after each write: requests starting in one are not judged. */
  readonly settling: { fromMs: number; toMs: number }[] = []
  #settlingUntil = Number.NEGATIVE_INFINITY

  public constructor(name = '(all)', config = '', origin = Date.now()) {
    this.#origin = origin
    this.#name = name
    this.#config = config
    this.#startedAt = Date.now()
    this.phases.push({ name, config, startedAtMs: this.#startedAt - origin })
  }

  public get name(): string {
    return this.#name
  }
  public get config(): string {
    return this.#config
  }
  /** Changes whenever what the function may see changes; a sample that saw two generations straddles. */
  public get generation(): number {
    return this.#generation
  }
  /** ms since the tracker's origin when the current phase started. */
  public get startedAtMs(): number {
    return this.#startedAt - this.#origin
  }
  /** Epoch ms of the tracker's ms 0. */
  public get origin(): number {
    return this.#origin
  }
  public elapsed(now = Date.now()): number {
    return now - this.#origin
  }

  /** Enters a new phase. */
  public enter(name: string, config = this.#config): void {
    this.#generation++
    this.#name = name
    this.#config = config
    this.#startedAt = Date.now()
    this.phases.push({ name, config, startedAtMs: this.#startedAt - this.#origin })
  }

  /** True while a request starting now may still meet the previous config in a function's cache. */
  public get settlingNow(): boolean {
    return this.elapsed() < this.#settlingUntil
  }

  /**
   * A write landed: for `ms` from now, the functions may still serve the
   * previous config from their cache (nothing when `ms` is 0).
   */
  public settle(ms: number): void {
    if (ms <= 0) return
    const fromMs = this.elapsed()
    this.#settlingUntil = fromMs + ms
    const last = this.settling.at(-1)
    // A write within the settling time of the one before extends it.
    if (last !== undefined && last.toMs >= fromMs) last.toMs = fromMs + ms
    else this.settling.push({ fromMs, toMs: fromMs + ms })
  }

  /** Marks that the store is changing under the current phase (a write starts or ends). */
  public bump(config?: string): void {
    this.#generation++
    if (config !== undefined) {
      this.#config = config
      const last = this.phases.at(-1)
      if (last) last.config = config
    }
  }
}

/**
 * Shortest and longest time between two requests of the probe: `--interval`
 * is refused outside them, and a {@link Probe} given less waits the minimum.
 */
export const PROBE_INTERVAL_BOUNDS = { min: 10, max: 3_600_000 } as const

/** Abort reasons of a request: the probe was stopped, or the request timed out. */
const STOPPED = 'stopped'
const TIMED_OUT = 'timed out'

export interface ProbeOptions {
  url: string
  /**
   * Time between the starts of two requests, ms (default 1000, as the
   * workshop's loop; at least {@link PROBE_INTERVAL_BOUNDS}.min).
   */
  intervalMs?: number
  /** Per-request timeout, ms (default 10 s). */
  requestTimeoutMs?: number
  tracker?: PhaseTracker
  onSample?: (sample: ProbeSample) => void
}

/**
 * Polls a URL, one request at a time, and records body, status and time of
 * each answer. Start with `start()`, end with `stop()`.
 *
 * @example
 * ```ts
 * const probe = new Probe({ url: 'http://127.0.0.1:3000/', onSample: (s) => console.log(formatProbeLine(s)) })
 * probe.start()
 * ```
 */
export class Probe {
  readonly samples: ProbeSample[] = []
  readonly #options: ProbeOptions
  readonly #tracker: PhaseTracker
  #running: Promise<void> | undefined
  #stopped = false
  #wake: (() => void) | undefined
  #inflight: AbortController | undefined

  public constructor(options: ProbeOptions) {
    this.#options = options
    this.#tracker = options.tracker ?? new PhaseTracker()
  }

  public start(): void {
    this.#running ??= this.#loop()
  }

  /**
   * Stops after the request in flight, aborted after `graceMs` (0: at once); an
   * aborted request is recorded as a sample with status 0 and error `stopped`.
   */
  public async stop(graceMs = 2000): Promise<void> {
    this.#stopped = true
    this.#wake?.()
    const abort = () => this.#inflight?.abort(STOPPED)
    const abortLater = graceMs > 0 ? setTimeout(abort, graceMs) : undefined
    if (abortLater === undefined) abort()
    await this.#running
    clearTimeout(abortLater)
  }

  /**
   * One request at a time. Between two, the loop always waits on a timer (at
   * least until the next turn of the event loop), also when a request fails
   * at once (`fetch` refuses some ports without any I/O): timers, `stop()`
   * and signal handlers always get their turn.
   */
  async #loop(): Promise<void> {
    const interval = Math.max(PROBE_INTERVAL_BOUNDS.min, this.#options.intervalMs ?? 1000)
    let seq = 0
    while (!this.#stopped) {
      const started = Date.now()
      // The sample's start is this same reading: the spacing the loop keeps is the one it records.
      const sample = await this.#request(++seq, started)
      this.samples.push(sample)
      try {
        this.#options.onSample?.(sample)
      } catch {
        // a broken printer must not stop the probe
      }
      const rest = Math.max(0, interval - (Date.now() - started))
      if (!this.#stopped) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, rest)
          this.#wake = () => {
            clearTimeout(timer)
            resolve()
          }
        })
      }
    }
  }

  async #request(seq: number, started: number): Promise<ProbeSample> {
    const tracker = this.#tracker
    const phase = tracker.name
    const generation = tracker.generation
    const startedAtMs = tracker.elapsed(started)
    const phaseOffsetMs = startedAtMs - tracker.startedAtMs
    const settling = tracker.settlingNow
    const controller = new AbortController()
    this.#inflight = controller
    const timeout = setTimeout(
      () => controller.abort(TIMED_OUT),
      this.#options.requestTimeoutMs ?? 10_000,
    )
    const t0 = performance.now()
    let status = 0
    let body = ''
    let error: string | undefined
    let stopped = false
    try {
      const response = await fetch(this.#options.url, {
        signal: controller.signal,
        headers: { 'user-agent': 'middy-chaos-probe' },
      })
      status = response.status
      body = await response.text()
    } catch (cause) {
      const reason: unknown = controller.signal.aborted ? controller.signal.reason : undefined
      error =
        reason === STOPPED || reason === TIMED_OUT
          ? reason
          : describeError((cause as Error).cause ?? cause)
      stopped = reason === STOPPED
      // Stopped by the probe, even after its headers: no answer, `000`.
      if (stopped) status = 0
      body = `(${error})`
    } finally {
      clearTimeout(timeout)
      this.#inflight = undefined
    }
    const seconds = (performance.now() - t0) / 1000
    return {
      seq,
      startedAtMs,
      seconds,
      status,
      body,
      ...(error === undefined ? {} : { error }),
      ...(stopped ? { stopped: true as const } : {}),
      phase,
      phaseAtEnd: tracker.name,
      straddles: tracker.generation !== generation,
      ...(settling ? { settling: true as const } : {}),
      phaseOffsetMs,
    }
  }
}

/** True when the request reached the URL: an answer (any status), or a request that timed out once connected or not. */
const reached = (sample: ProbeSample): boolean => sample.status !== 0 || sample.error === TIMED_OUT

/** Default time without reaching the probed URL after which a run stops (`--probe-lost`). */
export const DEFAULT_PROBE_LOST_MS = 5_000

/**
 * A stop condition of its own: the probe no longer reaches its URL. Trips
 * once, when at least two requests in a row got no answer for another reason
 * than their timeout (refused, reset, DNS, …: the server is gone, or the URL
 * was wrong) and the last one ended `lostAfterMs` or more after the end of the
 * last request that reached it (or after the start). A request that timed out
 * reached a server that is slow: the thresholds of `--stop-if` judge that.
 */
export class ProbeLostWatch {
  readonly #url: string
  readonly #lostAfterMs: number
  readonly #onTrip: (reason: string) => void
  #reachedAtMs: number
  #misses = 0
  #tripped = false

  public constructor(
    url: string,
    lostAfterMs: number,
    onTrip: (reason: string) => void,
    startMs = 0,
  ) {
    this.#url = url
    this.#lostAfterMs = lostAfterMs
    this.#onTrip = onTrip
    this.#reachedAtMs = startMs
  }

  public add(sample: ProbeSample): void {
    // The probe's own cut at its end says nothing about the URL.
    if (this.#tripped || sample.stopped === true) return
    const endMs = sample.startedAtMs + sample.seconds * 1000
    if (reached(sample)) {
      this.#misses = 0
      this.#reachedAtMs = endMs
      return
    }
    this.#misses++
    const lostMs = endMs - this.#reachedAtMs
    if (this.#misses >= 2 && lostMs >= this.#lostAfterMs) {
      this.#tripped = true
      this.#onTrip(
        `probe lost: ${this.#url} could not be reached for ${(lostMs / 1000).toFixed(1)} s (${this.#misses} requests in a row: ${sample.error ?? 'no answer'})`,
      )
    }
  }
}

/** What the probed URL said to {@link checkProbe}. */
export interface ProbeCheck {
  /** The HTTP status of its answer. */
  readonly status: number
  /**
   * The served function's chaos config cache window, in seconds, when the
   * answer carried `serve`'s {@link CACHE_WINDOW_HEADER} header.
   */
  readonly cacheMaxAgeSeconds?: number
}

/**
 * Asks the probed URL once, and again up to `attempts` times in all, `pauseMs`
 * apart, until it answers (any HTTP status); resolves with the answer, or
 * `undefined` when `signal` ended the check. Throws an {@link InputError}
 * (exit 2) naming the last error when it never answers: `experiment run`
 * checks its probe so before its first write, and refuses the run.
 *
 * @example
 * ```ts
 * const { status, cacheMaxAgeSeconds } = (await checkProbe('http://127.0.0.1:3000/')) ?? {}
 * ```
 */
export const checkProbe = async (
  url: string,
  options: { attempts?: number; pauseMs?: number; timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<ProbeCheck | undefined> => {
  const attempts = options.attempts ?? 3
  let lastError = 'no answer'
  for (let attempt = 1; attempt <= attempts; attempt++) {
    if (attempt > 1) await sleep(options.pauseMs ?? 500, options.signal)
    if (options.signal?.aborted) return undefined
    const timeout = AbortSignal.timeout(options.timeoutMs ?? 10_000)
    try {
      const response = await fetch(url, {
        signal: options.signal ? AbortSignal.any([options.signal, timeout]) : timeout,
        headers: { 'user-agent': 'middy-chaos-probe' },
      })
      await response.arrayBuffer()
      const header = response.headers.get(CACHE_WINDOW_HEADER)
      const seconds = Number(header)
      return {
        status: response.status,
        ...(header !== null && header.trim() !== '' && Number.isFinite(seconds) && seconds >= 0
          ? { cacheMaxAgeSeconds: seconds }
          : {}),
      }
    } catch (cause) {
      if (options.signal?.aborted) return undefined
      lastError = timeout.aborted
        ? `no answer within ${formatDuration(options.timeoutMs ?? 10_000)}`
        : describeError((cause as Error).cause ?? cause)
    }
  }
  throw new InputError(
    `--probe ${url} does not answer (${lastError}; ${attempts} ${attempts === 1 ? 'try' : `tries, ${formatDuration(options.pauseMs ?? 500)} apart`}): the run is refused, the parameter unchanged; is the function served there (middy-chaos serve <handler module> --port <n>)?`,
  )
}

/** One row of the probe summary. */
export interface SummaryRow {
  phase: string
  config: string
  /** Requests counted: those that saw one config (see `leftOut`). */
  requests: number
  /**
   * Requests in flight while the step or the store changed (they saw two
   * configs), or started in the settling time after a write (the functions
   * may still have held the previous one): left out of the numbers and
   * verdicts (the report still draws them).
   */
  leftOut: number
  statuses: Record<string, number>
  p50?: number
  p95?: number
  p99?: number
  /** The verdicts of the phase's expectations, once judged. */
  verdicts?: readonly Verdict[]
  /** A row over the requests of every step (the run's expectations): not added to the total. */
  aggregate?: boolean
}

/** Requests, status counts and p50/p95/p99 of samples, the straddling and settling ones left out. */
export const summariseRow = (
  phase: string,
  config: string,
  samples: readonly ProbeSample[],
): SummaryRow => {
  const counted = samples.filter((s) => !s.straddles && s.settling !== true)
  const statuses: Record<string, number> = {}
  for (const s of counted) {
    const key = s.status === 0 ? '000' : String(s.status)
    statuses[key] = (statuses[key] ?? 0) + 1
  }
  const times = counted.map((s) => s.seconds).sort((a, b) => a - b)
  const p50 = percentile(times, 50)
  const p95 = percentile(times, 95)
  const p99 = percentile(times, 99)
  return {
    phase,
    config,
    requests: counted.length,
    leftOut: samples.length - counted.length,
    statuses,
    ...(p50 === undefined ? {} : { p50 }),
    ...(p95 === undefined ? {} : { p95 }),
    ...(p99 === undefined ? {} : { p99 }),
  }
}

/**
 * Requests, status counts and p50/p95/p99 latency (seconds) per phase, in
 * phase order, over the requests that saw one config (the others are counted
 * in `leftOut`); phases without a counted request or a verdict are left
 * out. Without phases, one overall row.
 */
export const summarise = (
  samples: readonly ProbeSample[],
  phases: readonly { name: string; config: string }[] = [],
  verdicts: ReadonlyMap<string, readonly Verdict[]> = new Map(),
): SummaryRow[] => {
  const order = [...new Set([...phases.map((p) => p.name), ...samples.map((s) => s.phase)])]
  const configOf = new Map(phases.map((p) => [p.name, p.config]))
  const rows: SummaryRow[] = []
  for (const phase of order) {
    const row = summariseRow(
      phase,
      configOf.get(phase) ?? '',
      samples.filter((s) => s.phase === phase),
    )
    const judged = verdicts.get(phase)
    if (row.requests === 0 && judged === undefined) continue
    rows.push({ ...row, ...(judged === undefined ? {} : { verdicts: judged }) })
  }
  return rows
}
