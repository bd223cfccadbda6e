import type { MiddlewareObj } from '@middy/core'
import {
  applyEdits,
  asksForChange,
  type BodyChange,
  type BodyOutcome,
  type ChaosBodyFields,
  type ChaosEditFields,
  type ChaosEntryFields,
  type ChaosMiddlewareOptions,
  changeBody,
  createFaultMiddleware,
  describeChanges,
  editJsonBody,
  type FaultDefinition,
  isRecord,
  kindOf,
  type PathEdit,
  readBodyChange,
  readPathEdits,
} from '@middy-chaos/core'

/** Options of {@link chaosEvent}. */
export type ChaosEventOptions = ChaosMiddlewareOptions

/** Where `set` / `remove` paths point. */
export type EventTarget = 'event' | 'body'

/** Parameters of an event fault, as read from the config. */
export interface EventParams {
  /** `event` (default): paths into the event, as `match` reads them; `body`: into its JSON body. */
  target: EventTarget
  /** One change of the event's `body`: replace, truncate, mangle, make invalid JSON. */
  body?: BodyChange
  /** Edits by path. */
  edits?: readonly PathEdit[]
}

/**
 * An event entry of a middy-chaos document, as written: at least one change.
 *
 * @example
 * ```ts
 * const entry: EventEntry = { type: 'event', target: 'body', remove: ['email'] }
 * ```
 */
export interface EventEntry extends ChaosEntryFields, ChaosBodyFields, ChaosEditFields {
  readonly type: 'event' | 'event_mutation'
  /** Where `set` and `remove` point: the event (default), or its JSON body. */
  readonly target?: EventTarget
  readonly phase?: 'before'
}

declare module '@middy-chaos/core' {
  interface ChaosFaultEntries {
    event: EventEntry
  }
}

/** The fields that say what to change, in the order messages list them. */
const CHANGES = ['body', 'truncate', 'mangle', 'invalidJson', 'set', 'remove'] as const

/** Event fields a body change writes: a `set` / `remove` on them would say a second thing. */
const BODY_KEYS: ReadonlySet<string> = new Set(['body', 'isBase64Encoded'])

/**
 * What the log line shows of the parameters: paths, never a value nor a body.
 * Each key overrides the parameter of the same name, which the core puts in the line.
 */
const loggable = (params: EventParams): { [K in keyof EventParams]-?: unknown } => ({
  target: params.target,
  body: params.body?.kind,
  edits: params.edits?.map((edit) => `${edit.op} ${edit.label}`),
})

/** The altered event and what was done, or why nothing could be. */
type Alteration =
  | { event: unknown; details: Record<string, unknown>; skipped: string[] }
  | { reason: string }

const alter = (params: EventParams, original: unknown): Alteration => {
  if (!isRecord(original)) return { reason: `the event is ${kindOf(original)}, not an object` }
  const details: Record<string, unknown> = {}
  const skipped: string[] = []
  let event: Record<string, unknown> = original
  /** The event's body changed: a shallow copy with the new body (and base64 flag). */
  const withBody = (outcome: BodyOutcome, what: string): void => {
    if (!outcome.ok) {
      skipped.push(`${what}: ${outcome.reason}`)
      return
    }
    Object.assign(details, outcome.details)
    const base64 = original.isBase64Encoded === true
    event = {
      ...original,
      body: outcome.body,
      ...(base64 !== outcome.base64 && 'isBase64Encoded' in original
        ? { isBase64Encoded: outcome.base64 }
        : {}),
    }
  }
  const body = original.body
  const base64 = original.isBase64Encoded === true
  if (base64) details.base64 = true
  if (params.body !== undefined) {
    if (params.body.kind === 'replace') withBody(changeBody('', base64, params.body), 'body')
    else if (typeof body !== 'string')
      skipped.push(
        `body: the body is ${body === undefined ? 'missing' : kindOf(body)}, not a string`,
      )
    else withBody(changeBody(body, base64, params.body), 'body')
  }
  if (params.edits !== undefined) {
    if (params.target === 'body') {
      if (typeof body !== 'string')
        skipped.push(
          `set/remove: the body is ${body === undefined ? 'missing' : kindOf(body)}, not a string`,
        )
      else withBody(editJsonBody(body, base64, params.edits), 'set/remove')
    } else {
      const outcome = applyEdits(event, params.edits)
      skipped.push(...outcome.skipped)
      if (outcome.applied.length > 0) {
        details.edited = outcome.applied
        event = outcome.value as Record<string, unknown>
      }
    }
  }
  return event === original ? { reason: skipped.join('; ') } : { event, details, skipped }
}

/**
 * The event fault: before the handler, alters the event it receives without
 * mutating the caller's object. `set` / `remove` edit fields by path (in the
 * event, or with `target: "body"` inside its JSON body); `body`, `truncate`,
 * `mangle` or `invalidJson` change its body.
 */
export const eventFault: FaultDefinition<EventParams, ChaosEventOptions> = {
  type: 'event',
  aliases: ['event_mutation'],
  package: '@middy-chaos/event',
  factory: 'chaosEvent',
  summary: 'alters the event the handler receives: fields by path, body, for input validation',
  phases: ['before'],
  defaultPhase: 'before',
  parse(fields) {
    const target = fields.has('target') ? fields.oneOf('target', ['event', 'body']) : 'event'
    const body = readBodyChange(fields)
    const edits = readPathEdits(fields)
    if (!CHANGES.some((name) => asksForChange(fields, name)))
      return fields.issue(
        'set',
        `is required, or one of ${CHANGES.filter((name) => name !== 'set')
          .map((name) => `"${name}"`)
          .join(', ')}: what to change in the event`,
      )
    if (target === undefined) return undefined
    if (fields.has('target') && !fields.has('set') && !fields.has('remove'))
      return fields.issue('target', 'says where set and remove apply, and the entry has neither')
    if (body !== undefined && edits !== undefined) {
      const clash =
        target === 'body' ? edits[0] : edits.find((edit) => BODY_KEYS.has(edit.segments[0] ?? ''))
      if (clash !== undefined)
        return fields.issue(
          clash.op,
          `${clash.op} ${clash.label} conflicts with the body change: an entry changes the body one way`,
        )
    }
    if (body === undefined && edits === undefined) return undefined
    return {
      target,
      ...(body === undefined ? {} : { body }),
      ...(edits === undefined ? {} : { edits }),
    }
  },
  plan({ params, request, logger }) {
    const result = alter(params, request.event)
    if ('reason' in result) {
      logger.warn(`Event fault skipped: ${result.reason}`, {
        chaos: { faultType: 'event', ...loggable(params) },
        awsRequestId: request.context?.awsRequestId,
      })
      return undefined
    }
    return {
      details: {
        ...loggable(params),
        ...result.details,
        ...(result.skipped.length > 0 ? { skipped: result.skipped } : {}),
      },
      run: () => {
        // A new object sharing what did not change: the caller's event is never written to.
        request.event = result.event
      },
    }
  },
  describe: (params) => {
    const parts = describeChanges(
      params.body,
      params.edits,
      params.target === 'body' ? 'body.' : '',
    )
    return `event: ${parts.join(', ')}`
  },
  flags: [
    { name: 'body', field: 'body', type: 'string', description: 'replacement body' },
    {
      name: 'truncate',
      field: 'truncate',
      type: 'integer',
      description: 'keep the first N characters of the body',
    },
    {
      name: 'mangle',
      field: 'mangle',
      type: 'boolean',
      description: "cut the body at 30-80% and append U+FFFD (failure-lambda's corruption)",
    },
    {
      name: 'invalid-json',
      field: 'invalidJson',
      type: 'boolean',
      description: 'make a JSON body unparsable',
    },
    { name: 'remove', field: 'remove', type: 'string', description: 'remove a field by path' },
  ],
}

/**
 * Alters the event the handler receives, when the chaos config has an `event`
 * fault: fields set or removed by path, the body replaced, truncated, mangled
 * or made invalid JSON: to see the function's input validation at work. The
 * caller's event object is never mutated: `request.event` becomes a copy that
 * shares what did not change. Put it before the middlewares that parse or
 * validate the event, so that they see what it did.
 *
 * @example
 * ```ts
 * import middy from '@middy/core'
 * import { chaosEvent } from '@middy-chaos/event'
 *
 * export const handler = middy(lambdaHandler).use(chaosEvent()).use(httpJsonBodyParser())
 * // {"version":1,"faults":[{"type":"event","target":"body","remove":["email"]}]}
 * ```
 */
export const chaosEvent = (options: ChaosEventOptions = {}): MiddlewareObj =>
  createFaultMiddleware(eventFault, options)
