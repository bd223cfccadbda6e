import type { MiddlewareObj } from '@middy/core'
import {
  type ChaosEntryFields,
  ChaosInjectedError,
  type ChaosMiddlewareOptions,
  createFaultMiddleware,
  describeValue,
  type FaultDefinition,
  INJECTED,
  remainingTimeMs,
  sleep,
} from '@middy-chaos/core'

/** Largest `buffer` a config may ask for: Lambda's 15-minute maximum timeout. */
export const MAX_BUFFER_MS = 900_000

/**
 * How long after the deadline the fault ends, by itself, an invocation that
 * nothing else ended (a unit test, a runner that does not enforce timeouts).
 * Later than any timer a runner armed for the same deadline, so a runner that
 * enforces it (Lambda, `middy-chaos serve`) is always the one that ends the
 * invocation, with its own `Task timed out` report.
 */
export const DEADLINE_GRACE_MS = 5

/** Longest hold: Lambda's 15-minute maximum timeout (a context claiming more is no Lambda's). */
const MAX_HOLD_MS = 900_000

/**
 * `hold`: wait until `buffer` ms before the deadline, then let the invocation
 * go on with that little time (with `buffer` 0 there is none: Lambda ends the
 * invocation). `throw`: throw a {@link ChaosTimeoutError} `buffer` ms before
 * the deadline, so the code's own timeout handling runs.
 */
export type TimeoutMode = 'hold' | 'throw'

const MODES: readonly TimeoutMode[] = ['hold', 'throw']

/** `buffer` when neither the config nor the code gives one, per mode. */
export const DEFAULT_BUFFER_MS: Readonly<Record<TimeoutMode, number>> = { hold: 0, throw: 100 }

/** Options of {@link chaosTimeout}. */
export interface ChaosTimeoutOptions extends ChaosMiddlewareOptions {
  /** Mode of entries that do not say (default `hold`). */
  mode?: TimeoutMode
  /**
   * `buffer` of entries that do not say, in ms (default 0 with `hold`, 100
   * with `throw`).
   */
  buffer?: number
}

/** Parameters of a timeout fault, as read from the config. */
export interface TimeoutParams {
  mode: TimeoutMode
  /** Time left before the deadline when the hold ends, ms. */
  buffer: number
}

/**
 * A timeout entry of a middy-chaos document, as written.
 *
 * @example
 * ```ts
 * const entry: TimeoutEntry = { type: 'timeout', mode: 'throw', buffer: 250 }
 * ```
 */
export interface TimeoutEntry extends ChaosEntryFields {
  readonly type: 'timeout'
  /** `hold` (default) or `throw`. */
  readonly mode?: TimeoutMode
  /** ms left before the deadline when the fault acts. */
  readonly buffer?: number
  readonly phase?: 'before' | 'after'
}

declare module '@middy-chaos/core' {
  interface ChaosFaultEntries {
    timeout: TimeoutEntry
  }
}

/**
 * The error of a timeout fault: thrown `buffer` ms before the deadline in
 * `throw` mode, or at the deadline in `hold` mode when nothing ended the
 * invocation there. Its `name` is `TimeoutError`, as the error of Middy's
 * `timeoutEarly` and of `AbortSignal.timeout()`, so the code that handles
 * those handles it; `instanceof ChaosInjectedError` tells it apart.
 *
 * @example
 * ```ts
 * if (error.name === 'TimeoutError') logger.error('out of time', { injected: error instanceof ChaosTimeoutError })
 * ```
 */
export class ChaosTimeoutError extends ChaosInjectedError {
  public constructor(message: string) {
    super(message, 'timeout')
    this.name = 'TimeoutError'
    Object.defineProperty(this, INJECTED, { value: true })
  }
}

const checkOptions = (options: ChaosTimeoutOptions): void => {
  if (options.mode !== undefined && !MODES.includes(options.mode))
    throw new TypeError(`timeout: option mode must be "hold" or "throw" (got ${options.mode})`)
  const buffer = options.buffer
  if (buffer !== undefined && !(Number.isInteger(buffer) && buffer >= 0 && buffer <= MAX_BUFFER_MS))
    throw new TypeError(
      `timeout: option buffer must be an integer from 0 to ${MAX_BUFFER_MS} ms (got ${buffer})`,
    )
}

/**
 * The timeout fault: `mode` (`hold` or `throw`) and `buffer`, the ms left
 * before the deadline when it acts.
 */
export const timeoutFault: FaultDefinition<TimeoutParams, ChaosTimeoutOptions> = {
  type: 'timeout',
  package: '@middy-chaos/timeout',
  factory: 'chaosTimeout',
  summary: 'runs the invocation into its Lambda deadline, or throws a timeout error just before it',
  phases: ['before', 'after'],
  defaultPhase: 'before',
  parse(fields, options) {
    const given = fields.oneOf('mode', MODES)
    if (given === undefined && fields.has('mode')) return undefined
    const mode = given ?? options.mode ?? 'hold'
    const buffer = fields.number('buffer', {
      min: 0,
      max: MAX_BUFFER_MS,
      integer: true,
      unit: 'ms',
      default: options.buffer ?? DEFAULT_BUFFER_MS[mode],
    })
    return buffer === undefined ? undefined : { mode, buffer }
  },
  plan({ params, request, logger, trace }) {
    const context = request.context
    const remaining = remainingTimeMs(context)
    if (remaining === undefined) {
      try {
        logger.warn(
          'Chaos timeout fault skipped: no Lambda deadline known (the context has no getRemainingTimeInMillis)',
          { chaos: { faultType: 'timeout', ...params } },
        )
      } catch {
        // A logger that throws must not break the invocation.
      }
      return undefined
    }
    const hold = Math.min(MAX_HOLD_MS, Math.max(0, remaining - params.buffer))
    const outcome =
      params.mode === 'throw' ? 'throw' : params.buffer > 0 ? 'continue' : 'lambda timeout'
    return {
      details: { holdMs: hold, remainingTimeMs: remaining, outcome },
      run: async () => {
        await trace.delay(hold)
        if (params.mode === 'throw') {
          throw new ChaosTimeoutError(
            `Chaos timeout: ${params.buffer} ms before the Lambda deadline`,
          )
        }
        // The invocation goes on with `buffer` ms left: failure-lambda's timeout mode.
        if (params.buffer > 0) return undefined
        // The deadline: Lambda ends the invocation here ("Task timed out after …"). Where
        // nothing does, end it now rather than run the rest past its deadline.
        await sleep((remainingTimeMs(context) ?? 0) + DEADLINE_GRACE_MS)
        throw new ChaosTimeoutError(
          'Task timed out: a chaos timeout fault held the invocation until its deadline',
        )
      },
    }
  },
  describe: ({ mode, buffer }) =>
    mode === 'throw'
      ? `timeout: throws ${buffer}ms before the deadline`
      : buffer === 0
        ? 'timeout: held until the deadline'
        : `timeout: held until ${buffer}ms before the deadline`,
  formats: {
    failureLambda: {
      mode: 'timeout',
      check(flag) {
        const buffer = flag.timeout_buffer_ms
        return buffer !== undefined && !(typeof buffer === 'number' && buffer >= 0)
          ? [`timeout_buffer_ms must be a non-negative number (got ${describeValue(buffer)})`]
          : []
      },
      fields(flag, { note }) {
        // failure-lambda sleeps max(0, remaining - timeout_buffer_ms), then runs the handler.
        const raw = (flag.timeout_buffer_ms ?? 0) as number
        const buffer = Math.min(MAX_BUFFER_MS, Math.ceil(raw))
        if (buffer !== raw)
          note(
            `timeout: timeout_buffer_ms ${raw} read as ${buffer} (whole ms, at most Lambda's 15 minutes)`,
          )
        return { phase: 'before', mode: 'hold', buffer }
      },
    },
  },
  flags: [
    {
      name: 'mode',
      field: 'mode',
      type: 'string',
      description: 'hold (run into the deadline) or throw (a TimeoutError before it)',
    },
    {
      name: 'buffer',
      field: 'buffer',
      type: 'integer',
      description: 'ms left before the deadline when the fault acts',
    },
  ],
}

/**
 * Runs invocations into their Lambda deadline while the chaos config has a
 * `timeout` fault: before the handler by default, the invocation is held until
 * `buffer` ms before the deadline (default 0: Lambda ends it with `Task timed
 * out`), or, in `throw` mode, a {@link ChaosTimeoutError} is thrown `buffer`
 * ms (default 100) before it. Never holds past the deadline; without a
 * deadline (no Lambda context) it does nothing but warn.
 *
 * @example
 * ```ts
 * import middy from '@middy/core'
 * import { chaosTimeout } from '@middy-chaos/timeout'
 *
 * export const handler = middy(lambdaHandler).use(chaosTimeout())
 * // {"version":1,"faults":[{"type":"timeout"}]} → "Task timed out after 3.00 seconds"
 * ```
 */
export const chaosTimeout = (options: ChaosTimeoutOptions = {}): MiddlewareObj => {
  checkOptions(options)
  return createFaultMiddleware(timeoutFault, options)
}
