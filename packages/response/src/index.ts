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
  describeValue,
  editJsonBody,
  type FaultDefinition,
  type FieldReader,
  HEADER_LIMITS,
  isAlbEvent,
  isHeaderName,
  isHttpApiEvent,
  isRecord,
  kindOf,
  type PathEdit,
  readBodyChange,
  readPathEdits,
  statusLine,
} from '@middy-chaos/core'

/** Options of {@link chaosResponse}. */
export type ChaosResponseOptions = ChaosMiddlewareOptions

/** Parameters of a response fault, as read from the config. */
export interface ResponseParams {
  /** One change of the body: replace, truncate, mangle, make invalid JSON. */
  body?: BodyChange
  /** Edits by path inside the JSON body (HTTP) or the returned value (otherwise). */
  edits?: readonly PathEdit[]
  /** Headers added or changed (names as written). */
  headers?: Readonly<Record<string, string>>
  /** Headers removed (any case). */
  removeHeaders?: readonly string[]
  statusCode?: number
}

/**
 * A response entry of a middy-chaos document, as written: at least one change.
 *
 * @example
 * ```ts
 * const entry: ResponseEntry = { type: 'response', remove: ['user.email'], removeHeaders: ['etag'] }
 * ```
 */
export interface ResponseEntry extends ChaosEntryFields, ChaosBodyFields, ChaosEditFields {
  readonly type: 'response' | 'corruption' | 'response_corruption'
  /** Headers added or changed. */
  readonly headers?: Readonly<Record<string, string>>
  /** Headers removed, whatever their case: one name or a list. */
  readonly removeHeaders?: string | readonly string[]
  /** Replaces the status. */
  readonly statusCode?: number
  readonly phase?: 'after'
}

declare module '@middy-chaos/core' {
  interface ChaosFaultEntries {
    response: ResponseEntry
  }
}

/** Bounds of the header fields, `HEADER_LIMITS` of the core (body and path bounds: its `ALTER_LIMITS`). */
export const RESPONSE_LIMITS = Object.freeze({
  /** Entries of `headers`, and of `removeHeaders`. */
  headers: HEADER_LIMITS.headers,
  headerNameLength: HEADER_LIMITS.nameLength,
  headerValueLength: HEADER_LIMITS.valueLength,
})

/** `headers` and `removeHeaders`; `undefined` on any issue. */
const readHeaders = (
  fields: FieldReader,
): Pick<ResponseParams, 'headers' | 'removeHeaders'> | undefined => {
  const headers = fields.headers('headers')
  if (fields.has('headers') && headers === undefined) return undefined
  const seen = new Map(Object.keys(headers ?? {}).map((name) => [name.toLowerCase(), name]))
  const rawRemove = fields.raw('removeHeaders')
  let removeHeaders: string[] | undefined
  if (rawRemove !== undefined) {
    const list = typeof rawRemove === 'string' ? [rawRemove] : rawRemove
    if (
      !Array.isArray(list) ||
      list.length === 0 ||
      list.length > RESPONSE_LIMITS.headers ||
      !list.every(isHeaderName)
    ) {
      fields.issue(
        'removeHeaders',
        `must be a header name or an array of 1 to ${RESPONSE_LIMITS.headers} header names (got ${Array.isArray(list) ? `${list.length} entries` : describeValue(list)})`,
      )
      return undefined
    }
    removeHeaders = list as string[]
    const removed = new Set<string>()
    for (const name of removeHeaders) {
      const lower = name.toLowerCase()
      const set = seen.get(lower)
      if (set !== undefined || removed.has(lower)) {
        fields.issue(
          'removeHeaders',
          set === undefined
            ? `names "${name}" twice`
            : `conflicts with headers.${set}: an entry sets or removes a header, not both`,
        )
        return undefined
      }
      removed.add(lower)
    }
  }
  return {
    ...(headers === undefined ? {} : { headers }),
    ...(removeHeaders === undefined ? {} : { removeHeaders }),
  }
}

/** How a response is read. */
type Shape =
  /** `{ statusCode, headers, body }`: API Gateway, ALB, function URL, or any object with a `body` (as failure-lambda reads it). */
  | 'http'
  /** A payload-2.0 answer without `statusCode` (string, object…), which Lambda sends as a 200 body. */
  | 'bare'
  /** Anything else: a direct invoke's JSON value, a string… */
  | 'plain'

const shapeOf = (response: unknown, event: unknown): Shape => {
  if (
    isRecord(response) &&
    (typeof response.statusCode === 'number' || Object.hasOwn(response, 'body'))
  )
    return 'http'
  if (response !== undefined && response !== null && isHttpApiEvent(event)) return 'bare'
  return 'plain'
}

/** A bare payload-2.0 answer as the response Lambda makes of it: 200, the value as body. */
const fromBare = (response: unknown): Record<string, unknown> => ({
  statusCode: 200,
  headers: { 'content-type': typeof response === 'string' ? 'text/plain' : 'application/json' },
  body: typeof response === 'string' ? response : JSON.stringify(response),
})

/** Copies of `headers` / `multiValueHeaders` with the names of `drop` (any case) left out. */
const without = (record: unknown, drop: ReadonlySet<string>): Record<string, unknown> => {
  const out: Record<string, unknown> = {}
  if (!isRecord(record)) return out
  for (const key of Object.keys(record)) {
    if (!drop.has(key.toLowerCase())) out[key] = record[key]
  }
  return out
}

/**
 * Sets and removes headers on a copy of an HTTP response. A response that
 * carries only `multiValueHeaders` (an ALB with multi-value headers on, which
 * then ignores `headers`) gets its headers there; otherwise in `headers`, and
 * the same names leave `multiValueHeaders` (which API Gateway would merge in).
 */
const alterHeaders = (
  response: Record<string, unknown>,
  set: Readonly<Record<string, string>>,
  remove: readonly string[],
): void => {
  const names = new Set([...Object.keys(set), ...remove].map((name) => name.toLowerCase()))
  const multiOnly = isRecord(response.multiValueHeaders) && !isRecord(response.headers)
  if (isRecord(response.multiValueHeaders)) {
    const multi = without(response.multiValueHeaders, names)
    if (multiOnly) for (const [name, value] of Object.entries(set)) multi[name] = [value]
    response.multiValueHeaders = multi
  }
  if (!multiOnly && (isRecord(response.headers) || Object.keys(set).length > 0)) {
    response.headers = { ...without(response.headers, names), ...set }
  }
}

/** The altered response and what was done, or why nothing could be. */
type Alteration =
  | { response: unknown; details: Record<string, unknown>; skipped: string[] }
  | { reason: string }

const NOT_HTTP = 'not an HTTP response'

/** The fields that say what to change, in the order messages list them. */
const CHANGES = [
  'body',
  'truncate',
  'mangle',
  'invalidJson',
  'set',
  'remove',
  'headers',
  'removeHeaders',
  'statusCode',
] as const

/**
 * What the log line shows of the parameters: paths and header names, never a
 * value nor a body. Each key overrides the parameter of the same name, which
 * the core puts in the line.
 */
const loggable = (params: ResponseParams): { [K in keyof ResponseParams]-?: unknown } => ({
  body: params.body?.kind,
  edits: params.edits?.map((edit) => `${edit.op} ${edit.label}`),
  headers: params.headers === undefined ? undefined : Object.keys(params.headers),
  removeHeaders: params.removeHeaders,
  statusCode: params.statusCode,
})

const alter = (params: ResponseParams, original: unknown, event: unknown): Alteration => {
  const shape = shapeOf(original, event)
  const details: Record<string, unknown> = { responseShape: shape }
  const skipped: string[] = []
  let done = 0
  const note = (outcome: BodyOutcome, what: string): string | undefined => {
    if (outcome.ok) {
      done++
      Object.assign(details, outcome.details)
      return outcome.body
    }
    skipped.push(`${what}: ${outcome.reason}`)
    return undefined
  }

  if (shape === 'plain') {
    let value = original
    if (params.body?.kind === 'replace') {
      value = params.body.json === undefined ? params.body.text : JSON.parse(params.body.json)
      details.bodyLength = params.body.text.length
      done++
    } else if (params.body !== undefined) {
      if (typeof original === 'string')
        value = note(changeBody(original, false, params.body), 'body') ?? value
      else skipped.push(`body: the response is ${kindOf(original)}, not a string`)
    }
    if (params.edits !== undefined) {
      const outcome = applyEdits(original, params.edits)
      skipped.push(...outcome.skipped)
      if (outcome.applied.length > 0) {
        done++
        value = outcome.value
        details.edited = outcome.applied
      }
    }
    if (params.headers !== undefined) skipped.push(`headers: ${NOT_HTTP}`)
    if (params.removeHeaders !== undefined) skipped.push(`removeHeaders: ${NOT_HTTP}`)
    if (params.statusCode !== undefined) skipped.push(`statusCode: ${NOT_HTTP}`)
    return done === 0 ? { reason: skipped.join('; ') } : { response: value, details, skipped }
  }

  // HTTP: a shallow copy; every nested object changed below is replaced, never written into.
  const response =
    shape === 'bare' ? fromBare(original) : ({ ...(original as object) } as Record<string, unknown>)
  const base64 = response.isBase64Encoded === true
  if (base64) details.base64 = true
  const body = response.body
  if (params.body !== undefined || params.edits !== undefined) {
    let outcome: BodyOutcome
    if (params.body?.kind === 'replace') outcome = changeBody('', base64, params.body)
    else if (typeof body !== 'string')
      outcome = {
        ok: false,
        reason: `the body is ${body === undefined ? 'missing' : kindOf(body)}, not a string`,
      }
    else if (params.body !== undefined) outcome = changeBody(body, base64, params.body)
    else outcome = editJsonBody(body, base64, params.edits ?? [])
    const text = note(outcome, params.body === undefined ? 'set/remove' : 'body')
    if (text !== undefined && outcome.ok) {
      response.body = text
      if (base64 !== outcome.base64 && 'isBase64Encoded' in response)
        response.isBase64Encoded = outcome.base64
    }
  }
  if (params.headers !== undefined || params.removeHeaders !== undefined) {
    alterHeaders(response, params.headers ?? {}, params.removeHeaders ?? [])
    done++
  }
  if (params.statusCode !== undefined) {
    details.originalStatusCode = response.statusCode
    response.statusCode = params.statusCode
    if (typeof response.statusDescription === 'string' || isAlbEvent(event))
      response.statusDescription = statusLine(params.statusCode)
    done++
  }
  return done === 0 ? { reason: skipped.join('; ') } : { response, details, skipped }
}

/**
 * The response fault: after the handler, alters what it returned without
 * mutating it. `body`, `truncate`, `mangle` or `invalidJson` change the body;
 * `set` / `remove` edit fields by path (inside a JSON body for HTTP
 * responses, in the returned value otherwise); `headers` / `removeHeaders`
 * change headers; `statusCode` the status.
 */
export const responseFault: FaultDefinition<ResponseParams, ChaosResponseOptions> = {
  type: 'response',
  aliases: ['corruption', 'response_corruption'],
  package: '@middy-chaos/response',
  factory: 'chaosResponse',
  summary: "alters the handler's response: body, JSON fields, headers, status",
  phases: ['after'],
  defaultPhase: 'after',
  parse(fields) {
    const body = readBodyChange(fields)
    const edits = readPathEdits(fields)
    const headers = readHeaders(fields)
    const statusCode = fields.number('statusCode', { min: 100, max: 599, integer: true })
    if (!CHANGES.some((name) => asksForChange(fields, name)))
      return fields.issue(
        'body',
        `is required, or one of ${CHANGES.slice(1)
          .map((name) => `"${name}"`)
          .join(', ')}: what to change in the response`,
      )
    if (body !== undefined && edits !== undefined)
      return fields.issue(
        edits[0]?.op ?? 'set',
        'conflicts with the body change: an entry changes the body, or edits fields inside it, not both',
      )
    if (headers === undefined) return undefined
    return {
      ...(body === undefined ? {} : { body }),
      ...(edits === undefined ? {} : { edits }),
      ...headers,
      ...(statusCode === undefined ? {} : { statusCode }),
    }
  },
  plan({ params, request, logger }) {
    const result = alter(params, request.response, request.event)
    if ('reason' in result) {
      logger.warn(`Response fault skipped: ${result.reason}`, {
        chaos: { faultType: 'response', ...loggable(params) },
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
        // A new object: the handler may return the same (cached) object every time.
        request.response = result.response
      },
    }
  },
  describe: (params) => {
    const parts = describeChanges(params.body, params.edits)
    const headers = [
      ...Object.keys(params.headers ?? {}),
      ...(params.removeHeaders ?? []).map((name) => `-${name}`),
    ]
    if (headers.length > 0) parts.push(`headers ${headers.join(' ')}`)
    if (params.statusCode !== undefined) parts.push(`status ${params.statusCode}`)
    return `response: ${parts.join(', ')}`
  },
  formats: {
    failureLambda: {
      mode: 'corruption',
      check(flag) {
        const body = flag.body
        return body !== undefined && typeof body !== 'string'
          ? [`body must be a string (got ${describeValue(body)})`]
          : []
      },
      fields(flag, { version, note }) {
        if (version === 0) {
          // Not reached while the core maps only 0.x modes; 0.x has no corruption mode.
          note('failureMode: "corruption" is a 1.x mode; failure-lambda 0.x injects nothing')
          return { enabled: false }
        }
        // failure-lambda corrupts after the handler: the body replaced, or mangled without one.
        return flag.body === undefined
          ? { phase: 'after', mangle: true }
          : { phase: 'after', body: flag.body }
      },
    },
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
    {
      name: 'status-code',
      field: 'statusCode',
      type: 'integer',
      description: 'replace the status, 100 to 599',
    },
  ],
}

/**
 * Alters what the handler returned, when the chaos config has a `response`
 * fault: the body (replaced, truncated, mangled, made invalid JSON), fields by
 * path, headers, the status. The object the handler returned is never
 * mutated: a cached response stays clean.
 *
 * @example
 * ```ts
 * import middy from '@middy/core'
 * import { chaosResponse } from '@middy-chaos/response'
 *
 * export const handler = middy(lambdaHandler).use(chaosResponse())
 * // {"version":1,"faults":[{"type":"response","remove":["items.0.price"]}]}
 * ```
 */
export const chaosResponse = (options: ChaosResponseOptions = {}): MiddlewareObj =>
  createFaultMiddleware(responseFault, options)
