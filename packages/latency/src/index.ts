import type { MiddlewareObj } from '@middy/core'
// Types only (erased): the entry type a typed config knows, and the module it augments.
import type { ChaosEntryFields } from '@middy-chaos/core'
import {
  type ChaosMiddlewareOptions,
  createFaultMiddleware,
  describeValue,
  type FaultDefinition,
  remainingTimeMs,
  withinDeadline,
} from '@middy-chaos/core/fault'

/** Longest delay a config may ask for: Lambda's 15-minute maximum timeout. */
export const MAX_DELAY_MS = 900_000

/** Options of {@link chaosLatency}. */
export interface ChaosLatencyOptions extends ChaosMiddlewareOptions {
  /**
   * Time kept free before the Lambda deadline, in ms (default 100). A delay is
   * clamped to `getRemainingTimeInMillis() - deadlineMargin`.
   */
  deadlineMargin?: number
}

/** Parameters of a latency fault, as read from the config. */
export interface LatencyParams {
  /** Smallest delay, ms. */
  minDelay: number
  /** Largest delay, ms (equal to `minDelay` for a fixed delay). */
  maxDelay: number
}

/**
 * A latency entry of a middy-chaos document, as written: `delay` (ms, or
 * `{ min, max }`), or `minDelay` / `maxDelay`.
 *
 * @example
 * ```ts
 * const entry: LatencyEntry = { type: 'latency', delay: { min: 200, max: 800 }, rate: 0.25 }
 * ```
 */
export interface LatencyEntry extends ChaosEntryFields {
  readonly type: 'latency' | 'delay'
  /** A fixed delay in ms, or a range drawn uniformly per invocation. */
  readonly delay?: number | { readonly min: number; readonly max: number }
  /** The range's lower end, ms (with `maxDelay`, instead of `delay`). */
  readonly minDelay?: number
  /** The range's upper end, ms. */
  readonly maxDelay?: number
  readonly phase?: 'before' | 'after'
}

declare module '@middy-chaos/core' {
  interface ChaosFaultEntries {
    latency: LatencyEntry
  }
}

const defaults = { deadlineMargin: 100 }

const rule = { min: 0, max: MAX_DELAY_MS, integer: true, unit: 'ms' } as const

/**
 * The delay failure-lambda waits, `floor(min + random × (max − min))`, as a
 * `delay` (whole ms, both ends included): `{ min, max - 1 }`.
 */
const failureLambdaDelay = (
  min: number,
  max: number,
  note: (text: string) => void,
): number | { min: number; max: number } => {
  if (!Number.isInteger(min) || !Number.isInteger(max))
    note(
      `latency: latency bounds ${min} and ${max} are not whole ms; the delay is drawn uniformly between whole ms, which weights the two ends slightly differently from failure-lambda`,
    )
  let low: number
  let high: number
  if (max > min) {
    low = Math.floor(min)
    high = Math.max(low, Math.ceil(max) - 1)
  } else {
    // min ≥ max: failure-lambda 0.x draws from (max, min] all the same.
    low = Math.floor(max)
    high = Math.floor(min)
  }
  low = Math.max(0, low)
  high = Math.max(0, high)
  return low === high ? low : { min: low, max: high }
}

/** A 0.x bound: a number, or missing (failure-lambda 0.x then waits about 1 ms). */
const v0Bound = (raw: unknown, key: string, note: (text: string) => void): unknown => {
  if (typeof raw === 'number' && Number.isFinite(raw)) return raw
  if (raw === undefined) {
    note(`${key}: missing; failure-lambda 0.x then waits about 1 ms (setTimeout of NaN); read as 0`)
    return 0
  }
  return raw
}

/**
 * The latency fault: `delay` in ms (`400`), or a uniform range
 * (`{ "min": 100, "max": 500 }`, or `minDelay` / `maxDelay`).
 */
export const latencyFault: FaultDefinition<LatencyParams, ChaosLatencyOptions> = {
  type: 'latency',
  aliases: ['delay'],
  package: '@middy-chaos/latency',
  factory: 'chaosLatency',
  summary: 'adds a fixed or random delay, never past the Lambda deadline',
  phases: ['before', 'after'],
  defaultPhase: 'before',
  defaults,
  parse(fields) {
    const delay = fields.raw('delay')
    if (delay !== undefined) {
      for (const other of ['minDelay', 'maxDelay']) {
        if (fields.has(other))
          return fields.issue(other, 'conflicts with "delay": give "delay" or minDelay/maxDelay')
      }
    }
    if (typeof delay === 'object' && delay !== null && !Array.isArray(delay)) {
      const range = delay as Record<string, unknown>
      const min = fields.check('delay.min', range.min, rule)
      const max = fields.check('delay.max', range.max, rule)
      if (min === undefined || max === undefined) return undefined
      if (min > max) return fields.issue('delay', `min (${min}) must not exceed max (${max})`)
      return { minDelay: min, maxDelay: max }
    }
    if (delay !== undefined) {
      const fixed = fields.number('delay', rule)
      return fixed === undefined ? undefined : { minDelay: fixed, maxDelay: fixed }
    }
    if (fields.has('minDelay') || fields.has('maxDelay')) {
      const min = fields.number('minDelay', { ...rule, default: 0 })
      const max = fields.number('maxDelay', rule) ?? min
      if (min === undefined || max === undefined) return undefined
      if (min > max) return fields.issue('minDelay', `must not exceed maxDelay (${max})`)
      return { minDelay: min, maxDelay: max }
    }
    return fields.issue('delay', 'is required: a number of ms, or { "min": ms, "max": ms }')
  },
  plan({ params, request, options, trace }) {
    const requested =
      params.minDelay === params.maxDelay
        ? params.minDelay
        : params.minDelay + Math.floor(Math.random() * (params.maxDelay - params.minDelay + 1))
    const delay = withinDeadline(requested, request.context, options.deadlineMargin)
    return {
      details:
        delay < requested
          ? {
              delay,
              requestedDelay: requested,
              clamped: true,
              remainingTimeMs: remainingTimeMs(request.context),
            }
          : { delay },
      // A subsegment / span of its own in traces, covering exactly the wait.
      run: () => (delay > 0 ? trace.delay(delay) : undefined),
    }
  },
  describe: ({ minDelay, maxDelay }) =>
    minDelay === maxDelay ? `latency ${minDelay}ms` : `latency ${minDelay}-${maxDelay}ms`,
  formats: {
    chaosLambda: { delay: 'delay' },
    failureLambda: {
      mode: 'latency',
      check(flag) {
        const errors: string[] = []
        for (const key of ['min_latency', 'max_latency']) {
          const value = flag[key]
          if (value !== undefined && !(typeof value === 'number' && value >= 0))
            errors.push(`${key} must be a number of at least 0 (got ${describeValue(value)})`)
        }
        const { min_latency: min, max_latency: max } = flag
        if (typeof min === 'number' && typeof max === 'number' && min > max)
          errors.push(`max_latency (${max}) must not be below min_latency (${min})`)
        return errors
      },
      fields(flag, { version, note }) {
        if (version === 1) {
          const min = (flag.min_latency ?? 0) as number
          const max = (flag.max_latency ?? 0) as number
          return { phase: 'before', delay: failureLambdaDelay(min, max, note) }
        }
        const min = v0Bound(flag.minLatency, 'minLatency', note)
        const max = v0Bound(flag.maxLatency, 'maxLatency', note)
        return {
          phase: 'before',
          // Not numbers: left for parse to report.
          delay:
            typeof min === 'number' && typeof max === 'number'
              ? failureLambdaDelay(min, max, note)
              : { min, max },
        }
      },
    },
  },
  flags: [
    { name: 'delay', field: 'delay', type: 'integer', description: 'delay in ms', default: 400 },
  ],
}

/**
 * Adds latency to invocations when the chaos config has a `latency` fault.
 * Runs in `before` by default (the handler starts late) or `after` (the answer
 * leaves late). Never waits past the Lambda deadline.
 *
 * @example
 * ```ts
 * import middy from '@middy/core'
 * import { chaosLatency } from '@middy-chaos/latency'
 *
 * export const handler = middy(lambdaHandler).use(chaosLatency())
 * // CHAOS_PARAM=/chaos/config holds {"is_enabled":true,"fault_type":"latency","delay":400}
 * ```
 */
export const chaosLatency = (options: ChaosLatencyOptions = {}): MiddlewareObj =>
  createFaultMiddleware(latencyFault, options)
