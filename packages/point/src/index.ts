import type { MiddlewareObj } from '@middy/core'
import {
  activateInScope,
  applyEdits,
  ChaosInjectedError,
  createFaultMiddleware,
  currentScope,
  describeChanges,
  type FaultDefinition,
  type FaultTrace,
  globMatches,
  type InvocationScope,
  readPathEdits,
  scopeOf,
  withinDeadline,
} from '@middy-chaos/core'

import {
  type ChaosPointOptions,
  type ChaosPointsOptions,
  DEFAULT_MESSAGE,
  POINT_LIMITS,
  type PointCalls,
  type PointError,
  type PointLabels,
  type PointParams,
  readCalls,
  readError,
  readLabels,
  readName,
} from './params.js'

export {
  type ChaosPointOptions,
  type ChaosPointsOptions,
  POINT_LIMITS,
  type PointCalls,
  type PointEntry,
  type PointError,
  type PointLabels,
  type PointParams,
} from './params.js'

const TYPE = 'point'

/** One entry that fired for an invocation, with its count of the calls it matched. */
interface Rule {
  readonly params: PointParams
  matched: number
}

/** The point faults of one invocation. */
interface PointState {
  readonly rules: Rule[]
  readonly margin: number
  /** The invocation's trace: each affected call is marked, each delay is its own subsegment / span. */
  readonly trace: FaultTrace
  scope?: InvocationScope
  affected: number
  clamped: number
  /** Affected calls per point name (at most 20 names; the others under `(other)`). */
  readonly points: Map<string, number>
  readonly skipped: Set<string>
}

/**
 * States of the invocations whose point fault is on. Empty, a call of
 * {@link chaosPoint} returns at once, without looking for its invocation.
 */
const live = new Set<PointState>()

/** Drops the states whose invocation no longer runs (an invocation that never ended). */
const sweep = (): void => {
  for (const state of live) if (state.scope?.active !== true) live.delete(state)
}

const RESOLVED: Promise<undefined> = Promise.resolve(undefined)
const NONE: readonly Rule[] = []

const labelsMatch = (
  selector: Readonly<Record<string, string>> | undefined,
  labels: PointLabels | undefined,
): boolean => {
  if (selector === undefined) return true
  if (typeof labels !== 'object' || labels === null) return false
  for (const label of Object.keys(selector)) {
    if (!Object.hasOwn(labels, label)) return false
    const value = labels[label]
    const text =
      typeof value === 'string'
        ? value
        : typeof value === 'number' || typeof value === 'boolean'
          ? String(value)
          : undefined
    if (
      text === undefined ||
      text.length > POINT_LIMITS.callLabelLength ||
      !globMatches(selector[label] as string, text)
    )
      return false
  }
  return true
}

const selected = (calls: PointCalls, matched: number): boolean =>
  calls === 'all' ? true : 'first' in calls ? matched <= calls.first : matched % calls.every === 0

/** The entries that affect this call, in the config's order; counts the call for every entry it matches. */
const select = (
  state: PointState,
  name: unknown,
  labels: PointLabels | undefined,
): readonly Rule[] => {
  if (typeof name !== 'string' || name.length > POINT_LIMITS.callNameLength) return NONE
  let due: Rule[] | undefined
  for (const rule of state.rules) {
    if (!globMatches(rule.params.name, name) || !labelsMatch(rule.params.labels, labels)) continue
    rule.matched += 1
    if (selected(rule.params.calls, rule.matched)) {
      due ??= []
      due.push(rule)
    }
  }
  return due ?? NONE
}

const injectedError = (error: PointError, point: string): Error => {
  const thrown = new ChaosInjectedError(error.message ?? `${DEFAULT_MESSAGE} ${point}`, TYPE)
  thrown.name = error.name
  if (error.fields !== undefined) {
    for (const [key, value] of Object.entries(JSON.parse(error.fields) as Record<string, unknown>))
      Object.defineProperty(thrown, key, {
        value,
        writable: true,
        enumerable: true,
        configurable: true,
      })
  }
  return thrown
}

const noteAffected = (state: PointState, name: string): void => {
  state.affected += 1
  const key = state.points.has(name) || state.points.size < 20 ? name : '(other)'
  state.points.set(key, (state.points.get(key) ?? 0) + 1)
}

/** A point reached while some invocation holds a point fault. */
const reach = async (name: string, options: ChaosPointOptions | undefined): Promise<unknown> => {
  const data = options?.data
  let due: readonly Rule[] = NONE
  let state: PointState | undefined
  try {
    state = currentScope()?.fault<PointState>(TYPE)
    if (state === undefined) sweep()
    else due = select(state, name, options?.labels)
  } catch {
    // Labels that cannot be read (a getter that throws): the call goes on untouched.
    return data
  }
  if (state === undefined || due.length === 0) return data
  const scope = state.scope as InvocationScope
  let value = data
  let affected = false
  for (const { params } of due) {
    if (!affected) state.trace.call({ faultType: TYPE, point: name })
    if (params.delay > 0) {
      const delay = withinDeadline(params.delay, scope.request.context, state.margin)
      if (delay < params.delay) state.clamped += 1
      affected = true
      await state.trace.delay(delay)
      // The invocation ended while the point waited: what is left does not apply.
      if (!scope.active) break
    }
    if (params.edits !== undefined) {
      const outcome = applyEdits(value, params.edits)
      for (const reason of outcome.skipped) if (state.skipped.size < 5) state.skipped.add(reason)
      if (outcome.applied.length > 0) {
        value = outcome.value
        affected = true
      }
    }
    if (params.error !== undefined) {
      noteAffected(state, name)
      throw injectedError(params.error, name)
    }
  }
  if (affected) noteAffected(state, name)
  return value
}

/**
 * A failure point in the handler's code. Resolves at once, with `data`
 * unchanged, unless a `point` fault of the invocation running this code
 * matches the point's name and labels: then it waits `delay` ms, throws the
 * configured error (a `ChaosInjectedError` with the configured name, message
 * and fields), or resolves with a copy of `data` altered by the `set` /
 * `remove` edits (`data` itself is never written to). Outside an invocation
 * that drew a point fault (another invocation, a script, a test without the
 * middleware) it never does anything, and while no invocation holds one it
 * costs one comparison.
 *
 * @example
 * ```ts
 * import { chaosPoint } from '@middy-chaos/point'
 *
 * await chaosPoint('orders.charge', { labels: { provider: 'stripe' } })
 * const charge = await stripe.charge(order)
 * const saved = await chaosPoint('orders.save', { data: order })
 * ```
 */
export function chaosPoint(name: string, options?: ChaosPointOptions<undefined>): Promise<void>
export function chaosPoint<T>(name: string, options: ChaosPointOptions<T> & { data: T }): Promise<T>
export function chaosPoint(name: string, options?: ChaosPointOptions): Promise<unknown> {
  if (live.size === 0) return options?.data === undefined ? RESOLVED : Promise.resolve(options.data)
  return reach(name, options)
}

/**
 * How many invocations hold a point fault now: 0 means every point resolves
 * at once. For tests that check nothing is left after an invocation.
 */
export const pointFaultsLive = (): number => live.size

// ---------------------------------------------------------------------------
// The fault

const callsText = (calls: PointCalls): string =>
  calls === 'all'
    ? 'all'
    : 'first' in calls
      ? calls.first === 1
        ? 'first'
        : `first:${calls.first}`
      : `every:${calls.every}`

/** `first call`, `first 3 calls`, `every 2 calls`; nothing for all calls. */
const callsPhrase = (calls: PointCalls): string | undefined => {
  if (calls === 'all') return undefined
  if ('first' in calls) return calls.first === 1 ? 'first call' : `first ${calls.first} calls`
  return `every ${calls.every} calls`
}

/** What the log line shows of an entry: names and paths, never an edit's value. */
const loggable = (params: PointParams): Record<string, unknown> => ({
  name: params.name,
  labels: params.labels,
  delay: params.delay,
  calls: callsText(params.calls),
  error: params.error?.name,
  edits: params.edits?.map((edit) => `${edit.op} ${edit.label}`),
})

/**
 * The point fault: while an invocation's fault fires, the {@link chaosPoint}
 * calls of its code whose name and labels match wait `delay` ms, throw
 * `error`, or resolve with their `data` altered by `set` / `remove`; on the
 * calls `calls` selects (every one, the first K, every Nth).
 */
export const pointFault: FaultDefinition<PointParams, ChaosPointsOptions> = {
  type: TYPE,
  aliases: ['failure_point', 'failure_flag'],
  package: '@middy-chaos/point',
  factory: 'chaosPoints',
  summary:
    "makes named points in the handler's code (chaosPoint) slow, failing or return altered data",
  phases: ['before'],
  defaultPhase: 'before',
  scope: 'calls',
  defaults: { deadlineMargin: 100 },
  parse(fields) {
    const name = readName(fields)
    const labels = readLabels(fields)
    const delay = fields.number('delay', {
      min: 0,
      max: 900_000,
      integer: true,
      unit: 'ms',
      default: 0,
    })
    const calls = readCalls(fields)
    const error = readError(fields)
    const edits = readPathEdits(fields)
    if (error !== undefined && error !== false && edits !== undefined)
      return fields.issue(
        fields.has('set') ? 'set' : 'remove',
        'conflicts with "error": a call that throws hands back no data',
      )
    if (
      error === undefined &&
      edits === undefined &&
      !fields.has('delay') &&
      !fields.has('set') &&
      !fields.has('remove')
    )
      return fields.issue(
        'delay',
        'is required unless "error", "set" or "remove" is given: what the point does',
      )
    if (
      name === undefined ||
      labels === false ||
      delay === undefined ||
      calls === undefined ||
      error === false ||
      ((fields.has('set') || fields.has('remove')) && edits === undefined)
    )
      return undefined
    return {
      name,
      ...(labels === undefined ? {} : { labels }),
      delay,
      calls,
      ...(error === undefined ? {} : { error }),
      ...(edits === undefined ? {} : { edits }),
    }
  },
  plan({ params, request, options, logger, trace }) {
    return {
      details: loggable(params),
      run: () => {
        const rule: Rule = { params, matched: 0 }
        // Several entries of one invocation: one state, their rules in the config's order.
        const held = scopeOf(request)?.fault<PointState>(TYPE)
        if (held !== undefined) {
          held.rules.push(rule)
          return
        }
        const state: PointState = {
          rules: [rule],
          margin: options.deadlineMargin ?? 0,
          trace,
          affected: 0,
          clamped: 0,
          points: new Map(),
          skipped: new Set(),
        }
        const scope = activateInScope(request, TYPE, state, () => {
          live.delete(state)
          logger.info('Chaos fault ended', {
            chaos: {
              faultType: TYPE,
              affectedCalls: state.affected,
              points: Object.fromEntries(state.points),
              ...(state.clamped > 0 ? { clampedDelays: state.clamped } : {}),
              ...(state.skipped.size > 0 ? { skippedEdits: [...state.skipped] } : {}),
            },
            awsRequestId: request.context?.awsRequestId,
          })
        })
        if (scope === undefined) {
          logger.warn('Chaos point fault not scoped to the invocation: not injected', {
            chaos: { faultType: TYPE },
          })
          return
        }
        state.scope = scope
        live.add(state)
      },
    }
  },
  describe: (params) => {
    const labels =
      params.labels === undefined
        ? ''
        : `{${Object.entries(params.labels)
            .map(([label, value]) => `${label}=${value}`)
            .join(',')}}`
    const effects = [
      params.error?.name,
      params.delay > 0 ? `+${params.delay}ms` : undefined,
      ...describeChanges(undefined, params.edits, 'data.'),
      callsPhrase(params.calls),
    ].filter(Boolean)
    return `point ${params.name}${labels}: ${effects.join(', ')}`
  },
  flags: [
    {
      name: 'name',
      field: 'name',
      type: 'string',
      description: 'the point: a name (orders.charge) or a glob (orders.*)',
    },
    {
      name: 'labels',
      field: 'labels',
      type: 'map',
      description: 'labels the call must carry, values or globs: provider=stripe',
    },
    { name: 'delay', field: 'delay', type: 'integer', description: 'ms the point waits' },
    {
      name: 'error',
      field: 'error',
      type: 'string',
      description: 'name of the error the point throws: CardDeclinedError',
    },
    { name: 'message', field: 'message', type: 'string', description: 'message of that error' },
    {
      name: 'calls',
      field: 'calls',
      type: 'string',
      description: 'which calls of the point in an invocation: all, first, first:K, every:N',
    },
  ],
}

/**
 * The middleware that decides, per invocation, whether the `point` faults of
 * the chaos config fire (rate, every, budget, match, functions, expiry, dry
 * run, kill switch, logs, metrics: as every fault); the {@link chaosPoint}
 * calls of that invocation's code then act on them. Use it like every chaos
 * middleware; without it, every point resolves at once.
 *
 * @example
 * ```ts
 * import middy from '@middy/core'
 * import { chaosPoint, chaosPoints } from '@middy-chaos/point'
 *
 * const lambdaHandler = async (event) => {
 *   await chaosPoint('orders.charge', { labels: { provider: 'stripe' } })
 *   // …
 * }
 * export const handler = middy(lambdaHandler).use(chaosPoints())
 * // {"version":1,"faults":[{"type":"point","name":"orders.charge","labels":{"provider":"stripe"},"delay":300}]}
 * ```
 */
export const chaosPoints = (options: ChaosPointsOptions = {}): MiddlewareObj =>
  createFaultMiddleware(pointFault, options)
