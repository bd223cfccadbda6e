/**
 * What a chaos middleware knows of the chain around it, and what it does so
 * that an injected fault travels through that chain as a real failure would:
 *
 * - where it stands among the Powertools middlewares, read from the keys their
 *   `before` hooks leave in Middy's `request.internal`
 *   (`@aws-lambda-powertools/commons`' `LOGGER_KEY`, `METRICS_KEY`,
 *   `TRACER_KEY`, and Idempotency's handler under `IDEMPOTENCY_KEY`): a key
 *   missing when the chaos `before` hook ran and present later belongs to a
 *   middleware `.use()`d after chaos, whose `after` hook has therefore already
 *   run when the chaos `after` hook runs;
 * - how to keep Powertools Idempotency from storing what a fault made of an
 *   answer: its `after` hook stores `request.response` unless the invocation is
 *   marked to skip (`${IDEMPOTENCY_KEY}.skip`), and its `onError` hook deletes
 *   the `INPROGRESS` record; `cleanupMiddlewares` does neither (Idempotency
 *   leaves no cleanup function under `IDEMPOTENCY_KEY`);
 * - the Lambda context a fault line should carry whatever the order of
 *   `injectLambdaContext`: the line goes through a child of the user's Logger
 *   given the invocation's context.
 *
 * @module
 */
import {
  IDEMPOTENCY_KEY,
  LOGGER_KEY,
  METRICS_KEY,
  TRACER_KEY,
} from '@aws-lambda-powertools/commons'
import type { Logger } from '@aws-lambda-powertools/logger'
import type { Request } from '@middy/core'
import type { Context } from 'aws-lambda'
import { isFirstInvocation } from './logger.js'

/** A Powertools middleware a chaos middleware can locate in the chain, as a bit. */
export const POWERTOOLS = {
  /** `injectLambdaContext` (with `resetKeys` or `clearState`: it leaves no key otherwise). */
  logger: 1,
  /** `logMetrics`. */
  metrics: 2,
  /** `captureLambdaHandler` (when tracing is enabled: it leaves no key otherwise). */
  tracer: 4,
  /** `makeHandlerIdempotent` (when the event carries an idempotency key). */
  idempotency: 8,
} as const

const IDEMPOTENCY_HANDLER = `${IDEMPOTENCY_KEY}.idempotencyHandler`
const IDEMPOTENCY_SKIP = `${IDEMPOTENCY_KEY}.skip`

const MARKS: readonly [string, number][] = [
  [LOGGER_KEY, POWERTOOLS.logger],
  [METRICS_KEY, POWERTOOLS.metrics],
  [TRACER_KEY, POWERTOOLS.tracer],
  [IDEMPOTENCY_HANDLER, POWERTOOLS.idempotency],
]

const internalOf = (request: Request): Record<string, unknown> | undefined => {
  const internal = (request as { internal?: unknown }).internal
  return typeof internal === 'object' && internal !== null
    ? (internal as Record<string, unknown>)
    : undefined
}

/** The Powertools middlewares whose `before` hook has run for this invocation, as bits of {@link POWERTOOLS}. */
export const powertoolsSeen = (request: Request): number => {
  const internal = internalOf(request)
  if (internal === undefined) return 0
  let seen = 0
  for (const [key, bit] of MARKS) if (internal[key] !== undefined) seen |= bit
  return seen
}

type IdempotencyHandlerLike = { handleMiddyOnError(): Promise<void> }

/**
 * Keeps Powertools Idempotency from storing what a fault made of this
 * invocation's answer (an early answer, a replaced response): deletes the
 * invocation's `INPROGRESS` record, as Idempotency's own `onError` hook does,
 * and marks the invocation so that its `after` and `onError` hooks do nothing
 * more. A retry then runs the handler. Returns `'released'`, `'none'` (no
 * Idempotency middleware, or nothing left to release) or the error the
 * persistence layer threw. Never throws.
 */
export const releaseIdempotency = async (
  request: Request,
): Promise<'released' | 'none' | Error> => {
  const internal = internalOf(request)
  const handler = internal?.[IDEMPOTENCY_HANDLER] as Partial<IdempotencyHandlerLike> | undefined
  if (
    internal === undefined ||
    internal[IDEMPOTENCY_SKIP] === true ||
    typeof handler?.handleMiddyOnError !== 'function'
  )
    return 'none'
  internal[IDEMPOTENCY_SKIP] = true
  try {
    await handler.handleMiddyOnError()
    return 'released'
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error))
  }
}

const CHILDREN = Symbol.for('middy-chaos.lineLoggers')

type ChildCarrier = { [CHILDREN]?: Map<Logger, Logger> }

/**
 * The logger one invocation's fault lines go through: a child of the user's
 * Logger given this invocation's Lambda context, so that a line carries the
 * right request id, function and cold start whatever the place of
 * `injectLambdaContext` in the chain (before it, the user's Logger still holds
 * the previous invocation's context, or none on a cold start). The user's
 * Logger is not changed. Made once per invocation and logger, when the first
 * line is written (creating a Logger costs tens of microseconds); the user's
 * Logger itself when it cannot make children or the invocation has no context.
 */
export const invocationLogger = (logger: Logger, request: Request): Logger => {
  const context = request.context as Partial<Context> | undefined
  if (typeof context?.awsRequestId !== 'string' || typeof logger.createChild !== 'function')
    return logger
  const carrier = request as unknown as ChildCarrier
  const known = carrier[CHILDREN]?.get(logger)
  if (known !== undefined) return known
  let child: Logger
  try {
    // Buffering off: a chaos line must not wait in a buffer only the parent's middleware flushes.
    child = logger.createChild({ logBufferOptions: { enabled: false } })
    // Powertools reports a cold start on the first context a Logger instance is given.
    ;(child as unknown as { coldStart: boolean }).coldStart = isFirstInvocation(request)
    child.addContext(context as Context)
  } catch {
    return logger
  }
  carrier[CHILDREN] ??= new Map()
  carrier[CHILDREN].set(logger, child)
  return child
}
