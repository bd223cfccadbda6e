/**
 * Stop conditions, as AWS FIS has them, also when running locally: a
 * CloudWatch alarm in `ALARM`, or a threshold on what the probe measures over
 * a sliding window. When one trips, the runner stops and restores.
 *
 * @module
 */
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch'
import { parseDuration } from '@middy-chaos/core'
import { CliError, describeError } from './errors.js'
import { type ProbeSample, percentile } from './probe.js'

/** Default sliding window of a probe threshold. */
export const DEFAULT_STOP_WINDOW_MS = 10_000
/** A probe threshold is judged once its window holds this many requests. */
export const MIN_STOP_SAMPLES = 5
/** Default time between two `DescribeAlarms` calls. */
export const DEFAULT_ALARM_INTERVAL_MS = 5_000

/** A stop condition as written in an experiment file or on the command line. */
export type StopConditionSpec = { alarm: string } | { probe: string }

type RatioMetric = 'errors' | '5xx' | '4xx' | 'non-2xx'
type LatencyMetric = 'p50' | 'p90' | 'p95' | 'p99'
type Operator = '>' | '>=' | '<' | '<='

/** A threshold on the probe's measurements: `errors>20%`, `p95>2s over 30s`. */
export interface ProbeThreshold {
  readonly text: string
  readonly metric: RatioMetric | LatencyMetric
  readonly operator: Operator
  /** A share (0..1) for ratios, seconds for latencies. */
  readonly value: number
  readonly windowMs: number
}

const RATIOS: readonly string[] = ['errors', '5xx', '4xx', 'non-2xx']
const LATENCIES: readonly string[] = ['p50', 'p90', 'p95', 'p99']
const SYNTAX =
  '<metric><op><value>[ over <duration>], metric errors (no answer or 5xx), 5xx, 4xx, non-2xx, p50, p90, p95 or p99; for example "errors>20%", "p95>2s over 30s"'

/** Reads a probe threshold; a {@link CliError} naming the syntax when it is not one. */
export const parseProbeThreshold = (text: string): ProbeThreshold => {
  const match =
    /^\s*(errors|5xx|4xx|non-2xx|p50|p90|p95|p99)\s*(>=|<=|>|<)\s*([0-9.]+\s*(?:%|ms|s|m)?)\s*(?:over\s+(\S+))?\s*$/i.exec(
      text,
    )
  if (!match) throw new CliError(`stop condition "${text}" is not a threshold: ${SYNTAX}`)
  const metric = (match[1] as string).toLowerCase() as ProbeThreshold['metric']
  const operator = match[2] as Operator
  const raw = (match[3] as string).replace(/\s+/g, '')
  let value: number | undefined
  if (RATIOS.includes(metric)) {
    const number = Number(raw.replace(/%$/, ''))
    value = raw.endsWith('%') ? number / 100 : number
    if (!(value >= 0 && value <= 1))
      throw new CliError(
        `stop condition "${text}": ${metric} is a share, from 0 to 1 or 0% to 100%`,
      )
  } else {
    const ms = parseDuration(/^[0-9.]+$/.test(raw) ? `${raw}s` : raw)
    if (ms === undefined || raw.endsWith('%'))
      throw new CliError(`stop condition "${text}": ${metric} is a time, such as 500ms or 2s`)
    value = ms / 1000
  }
  let windowMs = DEFAULT_STOP_WINDOW_MS
  if (match[4] !== undefined) {
    const ms = parseDuration(match[4])
    if (ms === undefined || ms < 1000 || ms > 3_600_000)
      throw new CliError(`stop condition "${text}": the window is a duration from 1s to 1h`)
    windowMs = ms
  }
  return { text: text.trim(), metric, operator, value, windowMs }
}

const compare = (left: number, operator: Operator, right: number): boolean =>
  operator === '>'
    ? left > right
    : operator === '>='
      ? left >= right
      : operator === '<'
        ? left < right
        : left <= right

const isError = (sample: ProbeSample) => sample.status === 0 || sample.status >= 500

/** What a threshold measures over samples: a share, or seconds. */
export const measure = (
  threshold: ProbeThreshold,
  samples: readonly ProbeSample[],
): number | undefined => {
  if (samples.length === 0) return undefined
  const share = (test: (sample: ProbeSample) => boolean) =>
    samples.filter(test).length / samples.length
  switch (threshold.metric) {
    case 'errors':
      return share(isError)
    case '5xx':
      return share((s) => s.status >= 500 && s.status < 600)
    case '4xx':
      return share((s) => s.status >= 400 && s.status < 500)
    case 'non-2xx':
      return share((s) => s.status < 200 || s.status >= 300)
    default: {
      const p = Number(threshold.metric.slice(1))
      return percentile(
        samples.map((s) => s.seconds).sort((a, b) => a - b),
        p,
      )
    }
  }
}

const formatMeasure = (threshold: ProbeThreshold, value: number): string =>
  LATENCIES.includes(threshold.metric)
    ? `${value.toFixed(3)}s`
    : `${Math.round(value * 1000) / 10}%`

/**
 * Watches probe samples against thresholds: `add` each sample; when a
 * threshold holds over its window (with at least {@link MIN_STOP_SAMPLES}
 * requests in it), `onTrip` is called once with the reason.
 */
export class ProbeWatch {
  readonly #thresholds: readonly ProbeThreshold[]
  readonly #samples: ProbeSample[] = []
  readonly #onTrip: (reason: string) => void
  #tripped = false

  public constructor(thresholds: readonly ProbeThreshold[], onTrip: (reason: string) => void) {
    this.#thresholds = thresholds
    this.#onTrip = onTrip
  }

  public add(sample: ProbeSample): void {
    if (this.#tripped || this.#thresholds.length === 0) return
    this.#samples.push(sample)
    const end = sample.startedAtMs
    const longest = Math.max(...this.#thresholds.map((t) => t.windowMs))
    while ((this.#samples[0]?.startedAtMs ?? end) < end - longest) this.#samples.shift()
    for (const threshold of this.#thresholds) {
      const window = this.#samples.filter((s) => s.startedAtMs >= end - threshold.windowMs)
      if (window.length < MIN_STOP_SAMPLES) continue
      const value = measure(threshold, window)
      if (value !== undefined && compare(value, threshold.operator, threshold.value)) {
        this.#tripped = true
        this.#onTrip(
          `probe threshold "${threshold.text}" (${threshold.metric} ${formatMeasure(threshold, value)} over the last ${window.length} requests)`,
        )
        return
      }
    }
  }
}

/** Options of {@link AlarmWatch}. */
export interface AlarmWatchOptions {
  alarms: readonly string[]
  intervalMs?: number
  region?: string
  /** CloudWatch endpoint (moto); defaults to `AWS_ENDPOINT_URL_CLOUDWATCH` / `AWS_ENDPOINT_URL`. */
  endpoint?: string
  client?: CloudWatchClient
}

/**
 * Polls CloudWatch `DescribeAlarms` for the named alarms; when one is in
 * `ALARM`, calls `onTrip` once. Alarms that cannot be read three polls in a
 * row stop the experiment too: a stop condition that cannot be checked does
 * not protect anything.
 */
export class AlarmWatch {
  readonly #alarms: readonly string[]
  readonly #intervalMs: number
  readonly #client: CloudWatchClient
  #timer: NodeJS.Timeout | undefined
  #failures = 0
  #tripped = false

  public constructor(options: AlarmWatchOptions) {
    this.#alarms = options.alarms
    this.#intervalMs = options.intervalMs ?? DEFAULT_ALARM_INTERVAL_MS
    const endpoint =
      options.endpoint ?? process.env.AWS_ENDPOINT_URL_CLOUDWATCH ?? process.env.AWS_ENDPOINT_URL
    const region = options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION
    this.#client =
      options.client ??
      new CloudWatchClient({
        ...(endpoint ? { endpoint } : {}),
        ...(region ? { region } : {}),
        maxAttempts: 2,
        requestHandler: { connectionTimeout: 2000, requestTimeout: 5000 },
      })
  }

  /** The alarms' states; throws when one of them does not exist. */
  public async states(): Promise<Map<string, string>> {
    const states = new Map<string, string>()
    let NextToken: string | undefined
    do {
      const page = await this.#client.send(
        new DescribeAlarmsCommand({ AlarmNames: [...this.#alarms], NextToken }),
      )
      for (const alarm of [...(page.MetricAlarms ?? []), ...(page.CompositeAlarms ?? [])]) {
        if (alarm.AlarmName) states.set(alarm.AlarmName, alarm.StateValue ?? 'UNKNOWN')
      }
      NextToken = page.NextToken
    } while (NextToken)
    const missing = this.#alarms.filter((name) => !states.has(name))
    if (missing.length > 0) {
      throw new CliError(
        `stop condition: no CloudWatch alarm named ${missing.map((n) => `"${n}"`).join(', ')}`,
      )
    }
    return states
  }

  /**
   * Checks every alarm exists and none is in `ALARM` (else throws: the
   * experiment does not start), then polls until {@link AlarmWatch.close}.
   */
  public async start(onTrip: (reason: string) => void): Promise<void> {
    let states: Map<string, string>
    try {
      states = await this.states()
    } catch (error) {
      if (error instanceof CliError) throw error
      throw new CliError(`stop condition: cannot read CloudWatch alarms: ${describeError(error)}`)
    }
    const firing = [...states].filter(([, state]) => state === 'ALARM').map(([name]) => name)
    if (firing.length > 0) {
      throw new CliError(
        `stop condition: alarm ${firing.join(', ')} is in ALARM already; the experiment does not start`,
        { exitCode: 4 },
      )
    }
    const poll = async () => {
      if (this.#tripped) return
      try {
        const now = await this.states()
        this.#failures = 0
        for (const [name, state] of now) {
          if (state === 'ALARM') {
            this.#tripped = true
            onTrip(`alarm ${name} is in ALARM`)
            return
          }
        }
      } catch (error) {
        this.#failures++
        if (this.#failures >= 3) {
          this.#tripped = true
          onTrip(`alarms could not be read 3 times in a row (${describeError(error)})`)
          return
        }
      }
      if (!this.#tripped) this.#timer = setTimeout(poll, this.#intervalMs)
    }
    this.#timer = setTimeout(poll, this.#intervalMs)
  }

  public close(): void {
    this.#tripped = true
    clearTimeout(this.#timer)
    this.#client.destroy()
  }
}
