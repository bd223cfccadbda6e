/**
 * A point entry as read from the config: its name, labels, which calls it
 * affects, the error it throws or the edits it makes to the point's data, and
 * the bounds on all of them. `index.ts` runs what is read here.
 *
 * @module
 */
import {
  type ChaosEditFields,
  type ChaosEntryFields,
  type ChaosJsonValue,
  type ChaosMiddlewareOptions,
  describeValue,
  type FieldReader,
  FORBIDDEN_SEGMENTS,
  isRecord,
  type PathEdit,
} from '@middy-chaos/core'

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

export const DEFAULT_MESSAGE = 'Fault injected by middy-chaos at point'
export const NAME = /^[A-Za-z0-9_.:/@#*?-]+$/
export const LABEL_NAME = /^[A-Za-z0-9_.:/-]+$/
export const ERROR_NAME = /^[A-Za-z_$][A-Za-z0-9_$]*$/
export const FIELD_NAME = /^[A-Za-z_$][A-Za-z0-9_$]{0,63}$/
export const CALLS = /^(first|every):([0-9]{1,5})$/

// ---------------------------------------------------------------------------
// Reading an entry

export const readName = (fields: FieldReader): string | undefined => {
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
export const readLabels = (fields: FieldReader): Record<string, string> | undefined | false => {
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

export const readCalls = (fields: FieldReader): PointCalls | undefined => {
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
export const readErrorFields = (
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

export const readErrorName = (
  fields: FieldReader,
  raw: unknown,
  at: string,
): string | undefined => {
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
export const readError = (fields: FieldReader): PointError | undefined | false => {
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
