import type { MiddlewareObj } from '@middy/core'
import {
  activateInScope,
  applyEdits,
  type ChaosEditFields,
  type ChaosEntryFields,
  ChaosInjectedError,
  type ChaosJsonValue,
  type ChaosMiddlewareOptions,
  createFaultMiddleware,
  currentScope,
  describeChanges,
  describeValue,
  type FaultDefinition,
  type FaultTrace,
  type FieldReader,
  FORBIDDEN_SEGMENTS,
  globMatches,
  type InvocationScope,
  isRecord,
  type PathEdit,
  readPathEdits,
  scopeOf,
  withinDeadline,
} from '@middy-chaos/core'

const TYPE = 'point'

/** Bounds on what a point entry may ask, and on what a call is compared with. */
export const POINT_LIMITS = Object.freeze({
  /** Characters of `name` in an entry (a name or a glob). */
  nameLength: 128,
  /** Label selectors of one entry. */
  labels: 10,
  /** Characters of a label name. */
  labelNameLength: 64,
  /** Characters of a label selector (a value or a glob). */
  labelValueLength: 256,
  /** Characters of the thrown error's name. */
  errorNameLength: 128,
  /** Characters of the thrown error's message. */
  messageLength: 4096,
  /** Extra fields of the thrown error. */
  errorFields: 20,
  /** Characters of the extra fields together, written as JSON. */
  errorFieldsLength: 4096,
  /** Largest K of `first:K` and N of `every:N`. */
  calls: 10_000,
  /** A call's name longer than this matches no entry. */
  callNameLength: 256,
  /** A call's label value longer than this matches no selector. */
  callLabelLength: 1024,
})

/** Which calls of a point, within one invocation, an entry affects. */
export type PointCalls =
  | 'all'
  /** The first `count` calls the entry matches. */
  | { readonly first: number }
  /** The Nth, 2Nth, 3Nth… call the entry matches. */
  | { readonly every: number }

/** The error a point throws, as read from the config. */
export interface PointError {
  readonly name: string
  /** The message; absent, `Fault injected by middy-chaos at point <the call's name>`. */
  readonly message?: string
  /** Extra fields of the error (`code`, `statusCode`…), as JSON text: parsed afresh for every throw. */
  readonly fields?: string
}

/** Parameters of a point entry, as read from the config. */
export interface PointParams {
  /** The point's name, or a glob (`orders.*`). */
  name: string
  /** Label name → value or glob: the labels a call must carry. */
  labels?: Readonly<Record<string, string>>
  /** ms the point waits before it resolves or throws. */
  delay: number
  /** Which calls of the point in one invocation are affected (default `all`). */
  calls: PointCalls
  /** What the point throws. */
  error?: PointError
  /** `set` / `remove` edits of the `data` a call passes: the call resolves with an altered copy. */
  edits?: readonly PathEdit[]
}

/**
 * A point entry of a middy-chaos document, as written: `name`, and at least
 * one of `delay`, `error`, `set`, `remove`.
 *
 * @example
 * ```ts
 * const entry: PointEntry = { type: 'point', name: 'orders.save', error: 'ProvisionedThroughputExceededException', every: 2 }
 * ```
 */
export interface PointEntry extends ChaosEntryFields, ChaosEditFields {
  readonly type: 'point' | 'failure_point' | 'failure_flag'
  /** The point's name, or a glob. */
  readonly name: string
  /** Labels the call must all carry, each a value or a glob. */
  readonly labels?: Readonly<Record<string, string>>
  /** Which calls of the point, counted per invocation. */
  readonly calls?: 'all' | 'first' | `first:${number}` | `every:${number}`
  /** ms the point waits. */
  readonly delay?: number
  /** The error's name, or `{ name, message, other fields }`. */
  readonly error?:
    | string
    | {
        readonly name?: string
        readonly message?: string
        readonly [field: string]: ChaosJsonValue | undefined
      }
  /** The error's message, beside an error name. */
  readonly message?: string
  readonly phase?: 'before'
}

declare module '@middy-chaos/core' {
  interface ChaosFaultEntries {
    point: PointEntry
  }
}

/** Options of {@link chaosPoints}. */
export interface ChaosPointsOptions extends ChaosMiddlewareOptions {
  /**
   * Time kept free before the Lambda deadline, in ms (default 100): a point's
   * delay is cut to `getRemainingTimeInMillis() - deadlineMargin` at the call.
   */
  deadlineMargin?: number
}

/** Labels of one call of a point: strings, numbers and booleans compare as text. */
export type PointLabels = Readonly<Record<string, string | number | boolean>>

/** What {@link chaosPoint} is told about one call. */
export interface ChaosPointOptions<T = unknown> {
  /** Labels a config can select the call by: `{ provider: 'stripe' }`. */
  labels?: PointLabels
  /** Data the call hands back: unchanged, or an altered copy when a fault edits it. */
  data?: T
}

const DEFAULT_MESSAGE = 'Fault injected by middy-chaos at point'
const NAME = /^[A-Za-z0-9_.:/@#*?-]+$/
const LABEL_NAME = /^[A-Za-z0-9_.:/-]+$/
const ERROR_NAME = /^[A-Za-z_$][A-Za-z0-9_$]*$/
const FIELD_NAME = /^[A-Za-z_$][A-Za-z0-9_$]{0,63}$/
const CALLS = /^(first|every):([0-9]{1,5})$/

// ---------------------------------------------------------------------------
// Reading an entry

const readName = (fields: FieldReader): string | undefined => {
  if (!fields.has('name'))
    return fields.issue(
      'name',
      'is required: the name of a point, such as "orders.charge", or a glob such as "orders.*"',
    )
  const name = fields.string('name', { maxLength: POINT_LIMITS.nameLength })
  if (name === undefined) return undefined
  if (!NAME.test(name))
    return fields.issue(
      'name',
      `must be a point name of letters, digits, ".", "_", "-", ":", "/", "@", "#", and "*" or "?" for a glob (got ${describeValue(name)})`,
    )
  return name
}

/** `labels`: `undefined` when absent or empty, `false` on an issue. */
const readLabels = (fields: FieldReader): Record<string, string> | undefined | false => {
  const raw = fields.raw('labels')
  if (raw === undefined) return undefined
  if (!isRecord(raw)) {
    fields.issue(
      'labels',
      `must be an object of label name → value or glob (got ${describeValue(raw)})`,
    )
    return false
  }
  const entries = Object.entries(raw)
  if (entries.length > POINT_LIMITS.labels) {
    fields.issue(
      'labels',
      `must select at most ${POINT_LIMITS.labels} labels (got ${entries.length})`,
    )
    return false
  }
  for (const [label, value] of entries) {
    const at = `labels.${label.length > 40 ? `${label.slice(0, 40)}…` : label}`
    if (
      label.length === 0 ||
      label.length > POINT_LIMITS.labelNameLength ||
      !LABEL_NAME.test(label) ||
      FORBIDDEN_SEGMENTS.has(label)
    ) {
      fields.issue(
        at,
        `must be a label name: 1 to ${POINT_LIMITS.labelNameLength} letters, digits, ".", "_", "-", ":", "/", and not __proto__, constructor or prototype`,
      )
      return false
    }
    if (typeof value !== 'string' || value.length > POINT_LIMITS.labelValueLength) {
      fields.issue(
        at,
        `must be a value or a glob of at most ${POINT_LIMITS.labelValueLength} characters (got ${describeValue(value)})`,
      )
      return false
    }
  }
  return entries.length === 0 ? undefined : (Object.fromEntries(entries) as Record<string, string>)
}

const readCalls = (fields: FieldReader): PointCalls | undefined => {
  const raw = fields.raw('calls')
  if (raw === undefined || raw === 'all') return 'all'
  if (raw === 'first') return { first: 1 }
  const found = typeof raw === 'string' ? CALLS.exec(raw) : null
  const count = Number(found?.[2])
  if (found === null || !(count >= 1 && count <= POINT_LIMITS.calls))
    return fields.issue(
      'calls',
      `must be "all", "first", "first:K" or "every:N", K and N from 1 to ${POINT_LIMITS.calls} (got ${describeValue(raw)})`,
    )
  return found[1] === 'first' ? { first: count } : { every: count }
}

/** The extra fields of an error object, as JSON text: `undefined` when none, `false` on an issue. */
const readErrorFields = (
  fields: FieldReader,
  error: Record<string, unknown>,
): string | undefined | false => {
  const extra = Object.entries(error).filter(([key]) => key !== 'name' && key !== 'message')
  if (extra.length === 0) return undefined
  if (extra.length > POINT_LIMITS.errorFields) {
    fields.issue(
      'error',
      `must hold at most ${POINT_LIMITS.errorFields} extra fields (got ${extra.length})`,
    )
    return false
  }
  for (const [key, value] of extra) {
    const at = `error.${key.length > 40 ? `${key.slice(0, 40)}…` : key}`
    if (!FIELD_NAME.test(key) || key in Error.prototype || key === 'stack') {
      fields.issue(
        at,
        'must be a field name (letters, digits, "_", "$", at most 64 characters) that is not a property every error has (stack, toString, constructor…)',
      )
      return false
    }
    if (value === undefined) {
      fields.issue(at, 'must be a JSON value (null to write null)')
      return false
    }
  }
  let json: string | undefined
  try {
    json = JSON.stringify(Object.fromEntries(extra))
  } catch {
    json = undefined
  }
  if (json === undefined || json.length > POINT_LIMITS.errorFieldsLength) {
    fields.issue(
      'error',
      `extra fields must be JSON values of at most ${POINT_LIMITS.errorFieldsLength} characters together${json === undefined ? '' : ` (got ${json.length})`}`,
    )
    return false
  }
  return json
}

const readErrorName = (fields: FieldReader, raw: unknown, at: string): string | undefined => {
  if (
    typeof raw !== 'string' ||
    raw.length === 0 ||
    raw.length > POINT_LIMITS.errorNameLength ||
    !ERROR_NAME.test(raw)
  )
    return fields.issue(
      at,
      `must be an error name such as "CardDeclinedError", of at most ${POINT_LIMITS.errorNameLength} letters, digits, "_" or "$" (got ${describeValue(raw)})`,
    )
  return raw
}

/** `error`: a name (with `message` beside it), or `{ name, message, …extra fields }`. `false` on an issue. */
const readError = (fields: FieldReader): PointError | undefined | false => {
  const raw = fields.raw('error')
  if (raw === undefined) {
    if (!fields.has('message')) return undefined
    fields.issue('message', 'applies to an error: give "error" as well')
    return false
  }
  if (typeof raw === 'string') {
    const name = readErrorName(fields, raw, 'error')
    const message = fields.string('message', { maxLength: POINT_LIMITS.messageLength })
    if (name === undefined || (fields.has('message') && message === undefined)) return false
    return message === undefined ? { name } : { name, message }
  }
  if (!isRecord(raw)) {
    fields.issue(
      'error',
      `must be an error name, or { "name": …, "message": …, other fields } (got ${describeValue(raw)})`,
    )
    return false
  }
  if (fields.has('message')) {
    fields.issue(
      'message',
      'conflicts with "error": give the message inside it, as "error": { "message": … }',
    )
    return false
  }
  const name =
    raw.name === undefined ? 'ChaosInjectedError' : readErrorName(fields, raw.name, 'error.name')
  const message = raw.message
  if (
    message !== undefined &&
    (typeof message !== 'string' || message.length > POINT_LIMITS.messageLength)
  ) {
    fields.issue(
      'error.message',
      `must be a string of at most ${POINT_LIMITS.messageLength} characters (got ${typeof message === 'string' ? `${message.length} characters` : describeValue(message)})`,
    )
    return false
  }
  const extra = readErrorFields(fields, raw)
  if (name === undefined || extra === false) return false
  return {
    name,
    ...(message === undefined ? {} : { message }),
    ...(extra === undefined ? {} : { fields: extra }),
  }
}

// ---------------------------------------------------------------------------
// The invocations holding a point fault, and what their calls get

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
