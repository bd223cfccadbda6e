import type { MiddlewareObj } from '@middy/core'
import {
  type ChaosMiddlewareOptions,
  createFaultMiddleware,
  type FaultDefinition,
  remainingTimeMs,
  sleep,
} from '@middy-chaos/core'

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

const defaults = { deadlineMargin: 100 }

const rule = { min: 0, max: MAX_DELAY_MS, integer: true, unit: 'ms' } as const

/**
 * The latency fault: `delay` in ms (`400`), or a uniform range
 * (`{ "min": 100, "max": 500 }`, or `minDelay` / `maxDelay`).
 */
export const latencyFault: FaultDefinition<LatencyParams, ChaosLatencyOptions> = {
  type: 'latency',
  aliases: ['delay'],
  phases: ['before', 'after'],
  defaultPhase: 'before',
  parse(fields) {
    const delay = fields.raw('delay')
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
  plan({ params, request, options }) {
    const requested =
      params.minDelay === params.maxDelay
        ? params.minDelay
        : params.minDelay + Math.floor(Math.random() * (params.maxDelay - params.minDelay + 1))
    const remaining = remainingTimeMs(request.context)
    const margin = options.deadlineMargin ?? defaults.deadlineMargin
    const limit = remaining === undefined ? requested : Math.max(0, remaining - margin)
    const delay = Math.min(requested, limit)
    const clamped = delay < requested
    return {
      details: clamped
        ? { delay, requestedDelay: requested, clamped: true, remainingTimeMs: remaining }
        : { delay },
      run: () => (delay > 0 ? sleep(delay) : undefined),
    }
  },
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
  createFaultMiddleware(latencyFault, { ...defaults, ...options })
