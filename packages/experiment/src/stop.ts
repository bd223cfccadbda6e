/**
 * Stop conditions, as AWS FIS has them, also when running locally: a
 * CloudWatch alarm in `ALARM`, or a threshold on what the probe measures over
 * a sliding window. When one trips, the runner stops and restores. Here: the
 * grammar of thresholds (shared with expectations), what they measure, and
 * the watch that judges probe samples against them; the CLI polls the alarms.
 *
 * @module
 */
import { parseDuration } from '@middy-chaos/core'
import { InputError } from './errors.js'
import { type ProbeSample, percentile } from './samples.js'

/** Default sliding window of a probe threshold. */
export const DEFAULT_STOP_WINDOW_MS = 10_000
/** A probe threshold is judged once its window holds this many requests. */
export const MIN_STOP_SAMPLES = 5

/** A stop condition as written in an experiment file or on the command line. */
export type StopConditionSpec = { alarm: string } | { probe: string }

type Operator = '>' | '>=' | '<' | '<=' | '=='

/**
 * A threshold on the probe's measurements: a stop condition (`errors>20%`,
 * `p95>2s over 30s`) or an expectation (`2xx>=99%`, `p95<500ms`, `errors==0`).
 */
export interface ProbeThreshold {
  readonly text: string
  /** As written, lower case: `errors`, `5xx`, `404`, `count(errors)`, `requests`, `p95`. */
  readonly metric: string
  /** `share`: a share of the requests; `count`: a number of requests; `latency`: seconds. */
  readonly kind: 'share' | 'count' | 'latency'
  /** The answers a share or a count is of: `errors`, `non-2xx`, `5xx`, `404`, `all`. */
  readonly of?: string
  readonly operator: Operator
  /** A share (0..1), a count, or seconds. */
  readonly value: number
  /** Sliding window of a stop condition (expectations are judged over their step). */
  readonly windowMs: number
}

/** What a threshold is for: its name in messages, and whether it takes `over <window>`. */
export interface ThresholdUse {
  readonly noun: 'stop condition' | 'expectation'
  readonly window: boolean
}

const STOP_CONDITION: ThresholdUse = { noun: 'stop condition', window: true }
const ANSWERS = 'errors|non-2xx|[0-9]xx|[0-9]{3}'
const THRESHOLD = new RegExp(
  `^\\s*(${ANSWERS}|count\\(\\s*(?:${ANSWERS})\\s*\\)|requests|p50|p90|p95|p99)\\s*(>=|<=|==|>|<)\\s*([0-9.]+\\s*(?:%|ms|s|m)?)\\s*(?:over\\s+(\\S+))?\\s*$`,
  'i',
)

/** The syntax, as messages and the README give it. */
export const THRESHOLD_SYNTAX =
  '<metric><op><value>: metric a share of the answers (errors = no answer or 5xx, non-2xx, 2xx, 4xx, 5xx..., a status such as 404, 000 = no answer), count(<answers>), requests, or a latency p50, p90, p95, p99, and op >, >=, <, <=, =='

const checkAnswers = (answers: string): string | undefined => {
  if (/^[0-9]{3}$/.test(answers)) {
    const status = Number(answers)
    return status === 0 || (status >= 100 && status <= 599)
      ? undefined
      : `${answers} is not an HTTP status (100 to 599, or 000 for no answer)`
  }
  if (/^[0-9]xx$/.test(answers) && !/^[1-5]xx$/.test(answers))
    return `${answers} is not a status class (1xx to 5xx)`
  return undefined
}

/**
 * Reads a threshold on what the probe measures; an {@link InputError} (exit 2)
 * naming the syntax when it is not one. Stop conditions and expectations share it; only
 * a stop condition takes a window (`over 30s`).
 *
 * @example
 * ```ts
 * parseThreshold('p95<500ms', { noun: 'expectation', window: false }) // { kind: 'latency', value: 0.5, … }
 * ```
 */
export const parseThreshold = (text: string, use: ThresholdUse): ProbeThreshold => {
  const { noun } = use
  const syntax = use.window
    ? `${THRESHOLD_SYNTAX}, then " over <duration>" for the window (for example "errors>20%", "p95>2s over 30s")`
    : `${THRESHOLD_SYNTAX} (for example "2xx>=99%", "p95<500ms", "errors==0")`
  const match = THRESHOLD.exec(text)
  if (!match) throw new InputError(`${noun} "${text}" is not a threshold: ${syntax}`)
  const metric = (match[1] as string).toLowerCase().replace(/\s+/g, '')
  const operator = match[2] as Operator
  const raw = (match[3] as string).replace(/\s+/g, '')
  const count = /^count\((.+)\)$/.exec(metric)
  const kind: ProbeThreshold['kind'] =
    count || metric === 'requests' ? 'count' : /^p[0-9]+$/.test(metric) ? 'latency' : 'share'
  const of = kind === 'latency' ? undefined : metric === 'requests' ? 'all' : (count?.[1] ?? metric)
  const wrongAnswers = of === undefined ? undefined : checkAnswers(of)
  if (wrongAnswers) throw new InputError(`${noun} "${text}": ${wrongAnswers}`)
  let value: number
  if (kind === 'share') {
    const number = Number(raw.replace(/%$/, ''))
    value = raw.endsWith('%') ? number / 100 : number
    if (!(value >= 0 && value <= 1) || /(ms|s|m)$/.test(raw))
      throw new InputError(`${noun} "${text}": ${metric} is a share, from 0 to 1 or 0% to 100%`)
  } else if (kind === 'count') {
    value = Number(raw)
    if (!/^[0-9]+$/.test(raw) || !Number.isSafeInteger(value))
      throw new InputError(`${noun} "${text}": ${metric} is a number of requests, such as 0 or 3`)
  } else {
    const ms = parseDuration(/^[0-9.]+$/.test(raw) ? `${raw}s` : raw)
    if (ms === undefined || raw.endsWith('%'))
      throw new InputError(`${noun} "${text}": ${metric} is a time, such as 500ms or 2s`)
    value = ms / 1000
  }
  let windowMs = DEFAULT_STOP_WINDOW_MS
  if (match[4] !== undefined) {
    if (!use.window)
      throw new InputError(
        `${noun} "${text}": an ${noun} is judged over all the requests of its step; "over <window>" is for stop conditions`,
      )
    const ms = parseDuration(match[4])
    if (ms === undefined || ms < 1000 || ms > 3_600_000)
      throw new InputError(`${noun} "${text}": the window is a duration from 1s to 1h`)
    windowMs = ms
  }
  return {
    text: text.trim(),
    metric,
    kind,
    ...(of === undefined ? {} : { of }),
    operator,
    value,
    windowMs,
  }
}

/** Reads a stop condition's threshold (`errors>20%`, `p95>2s over 30s`): {@link parseThreshold}. */
export const parseProbeThreshold = (text: string): ProbeThreshold =>
  parseThreshold(text, STOP_CONDITION)

/** Whether `left <op> right`. */
export const compare = (left: number, operator: Operator, right: number): boolean =>
  operator === '>'
    ? left > right
    : operator === '>='
      ? left >= right
      : operator === '<'
        ? left < right
        : operator === '<='
          ? left <= right
          : left === right

/** Whether a sample is among the answers a share or a count is of (`errors`, `5xx`, `404`, `all`). */
export const isAnswerOf = (sample: Pick<ProbeSample, 'status'>, of: string): boolean => {
  const { status } = sample
  if (of === 'all') return true
  if (of === 'errors') return status === 0 || status >= 500
  if (of === 'non-2xx') return status < 200 || status >= 300
  if (/^[1-5]xx$/.test(of)) return Math.floor(status / 100) === Number(of[0])
  return status === Number(of)
}

/** What a threshold measures over samples: a share, a count, or seconds. */
export const measure = (
  threshold: ProbeThreshold,
  samples: readonly ProbeSample[],
): number | undefined => {
  if (threshold.kind === 'count')
    return samples.filter((s) => isAnswerOf(s, threshold.of ?? 'all')).length
  if (samples.length === 0) return undefined
  if (threshold.kind === 'share')
    return samples.filter((s) => isAnswerOf(s, threshold.of ?? 'all')).length / samples.length
  return percentile(
    samples.map((s) => s.seconds).sort((a, b) => a - b),
    Number(threshold.metric.slice(1)),
  )
}

/** A measure as messages show it: `0.412s`, `12.5%`, `3`. */
export const formatMeasure = (threshold: ProbeThreshold, value: number): string =>
  threshold.kind === 'latency'
    ? `${value.toFixed(3)}s`
    : threshold.kind === 'count'
      ? String(value)
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
