import type { Context } from 'aws-lambda'

/** Milliseconds left before the Lambda deadline, or `undefined` outside Lambda. */
export const remainingTimeMs = (context: Partial<Context> | undefined): number | undefined => {
  const remaining = context?.getRemainingTimeInMillis?.()
  return typeof remaining === 'number' && Number.isFinite(remaining) ? remaining : undefined
}

/**
 * A wait of `requested` ms cut so that it ends `margin` ms before the Lambda
 * deadline (never below 0); `requested` outside Lambda (no
 * `getRemainingTimeInMillis`). What every fault that waits uses, so that no
 * injected delay runs an invocation into its timeout.
 *
 * @example
 * ```ts
 * const delay = withinDeadline(params.delay, request.context, options.deadlineMargin)
 * ```
 */
export const withinDeadline = (
  requested: number,
  context: Partial<Context> | undefined,
  margin = 0,
): number => {
  const remaining = remainingTimeMs(context)
  return remaining === undefined ? requested : Math.min(requested, Math.max(0, remaining - margin))
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/**
 * Reads a duration: a number of milliseconds, a string such as `500ms`, `30s`,
 * `1.5s`, `15m`, `2h`, `1d`, or parts of these, larger units first (`1h30m`,
 * `12h0.5s`), or ISO 8601 as AWS FIS writes it (`PT1M`, `PT1M30S`).
 * `undefined` when it is none of these.
 *
 * @example
 * ```ts
 * parseDuration('15m') // 900000
 * parseDuration('PT1M30S') // 90000
 * ```
 */
export const parseDuration = (value: unknown): number | undefined => {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined
  if (typeof value !== 'string' || value.length > 32) return undefined
  if (/^\s*(?:\d+(?:\.\d+)?\s*(?:ms|s|m|h|d)\s*)+$/i.test(value)) {
    // One or more parts, each unit once and larger units first: `90s`, `1h30m`, `12h0.5s`.
    let total = 0
    let previous = Number.POSITIVE_INFINITY
    for (const [, amount, unit] of value.matchAll(/(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)/gi)) {
      const size = UNITS[(unit as string).toLowerCase()] as number
      if (size >= previous) return undefined
      previous = size
      total += Number(amount) * size
    }
    return Math.round(total)
  }
  const iso = /^\s*PT(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?\s*$/i.exec(
    value,
  )
  if (!iso || value.trim().length <= 2) return undefined
  const [, h = '0', m = '0', s = '0'] = iso
  return Math.round(Number(h) * 3_600_000 + Number(m) * 60_000 + Number(s) * 1000)
}

/**
 * Reads a point in time: epoch milliseconds or an ISO 8601 string. A number
 * below 10^11 (1973 in milliseconds) is refused: it is almost surely seconds.
 */
export const parseInstant = (value: unknown): number | undefined => {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 1e11 ? value : undefined
  if (typeof value !== 'string' || value.length > 64) return undefined
  const time = Date.parse(value)
  return Number.isNaN(time) ? undefined : time
}

/**
 * Whether an environment flag is on: `true`, `1`, `yes`, `on`, `t`, `y` (any case), the
 * values Powertools reads as true in its flags (`POWERTOOLS_PARAMETERS_SSM_DECRYPT`, …).
 */
export const isEnvFlagOn = (name: string): boolean =>
  ['true', '1', 'yes', 'on', 't', 'y'].includes((process.env[name] ?? '').trim().toLowerCase())
