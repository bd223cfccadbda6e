import type { MiddlewareObj } from '@middy/core'
// Types only (erased): the entry type a typed config knows, and the module it augments.
import type { ChaosEntryFields, ChaosJsonValue } from '@middy-chaos/core'
import {
  ChaosHttpError,
  type ChaosMiddlewareOptions,
  createFaultMiddleware,
  describeValue,
  type FaultDefinition,
  isAlbEvent,
  isHttpApiEvent,
  isHttpEvent,
  isRecord,
  statusLine,
} from '@middy-chaos/core/fault'

/** Options of {@link chaosStatusCode}. */
export interface ChaosStatusCodeOptions extends ChaosMiddlewareOptions {
  /**
   * Answer before the handler without running it (what AWS FIS calls
   * `preventExecution`), instead of replacing the status of the handler's
   * response. Same as `phase: 'before'`; a config entry's `preventExecution`
   * or `phase` overrides this. Default `false`.
   */
  preventExecution?: boolean
  /** Body of an answer given without running the handler (default `{"message":"Injected fault"}`). */
  body?: string
  /** Headers of an answer given without running the handler. */
  headers?: Record<string, string>
}

/** Parameters of a status-code fault, as read from the config. */
export interface StatusCodeParams {
  statusCode: number
  preventExecution: boolean
  body?: string
  headers?: Record<string, string>
}

/**
 * A status-code entry of a middy-chaos document, as written.
 *
 * @example
 * ```ts
 * const entry: StatusCodeEntry = { type: 'status_code', statusCode: 503, preventExecution: true }
 * ```
 */
export interface StatusCodeEntry extends ChaosEntryFields {
  readonly type: 'status_code' | 'status-code' | 'statusCode' | 'statuscode' | 'http_status'
  /** The status to answer with, 100 to 599. */
  readonly statusCode: number
  /** Answer before the handler without running it (the same as `phase: "before"`). */
  readonly preventExecution?: boolean
  /** Body of an answer given without the handler, and the HTTP error's message: a string or a JSON value. */
  readonly body?: ChaosJsonValue
  /** Headers of the answer and of the HTTP error. */
  readonly headers?: Readonly<Record<string, string>>
  readonly phase?: 'before' | 'after'
}

declare module '@middy-chaos/core' {
  interface ChaosFaultEntries {
    status_code: StatusCodeEntry
  }
}

type HttpResponse = {
  statusCode: number
  statusDescription?: string
  body?: string
  headers?: Record<string, string>
}

const defaults = { body: JSON.stringify({ message: 'Injected fault' }) }

/**
 * The status-code fault. `statusCode` (`error_code` in chaos_lambda's format)
 * from 100 to 599; optional `preventExecution` (answer in `before` without
 * running the handler; the same as `phase: "before"`), `body`, `headers`.
 * It throws a `ChaosHttpError` (`body` as its message, `headers` as its
 * headers) whose `response` is the answer given when no error handler answers.
 */
export const statusCodeFault: FaultDefinition<StatusCodeParams, ChaosStatusCodeOptions> = {
  type: 'status_code',
  aliases: ['statuscode', 'http_status'],
  package: '@middy-chaos/status-code',
  factory: 'chaosStatusCode',
  summary: 'replaces the HTTP status, or answers without running the handler',
  phases: ['before', 'after'],
  defaultPhase: 'after',
  defaults,
  throwsHttpErrors: true,
  parse(fields, options) {
    const statusCode = fields.number('statusCode', { min: 100, max: 599, integer: true })
    if (!fields.has('statusCode'))
      return fields.issue('statusCode', 'is required: an HTTP status from 100 to 599')
    const preventExecution = fields.boolean('preventExecution', {
      default: options.preventExecution ?? options.phase === 'before',
    })
    const phase = fields.raw('phase')
    if (fields.has('preventExecution') && (phase === 'before' || phase === 'after')) {
      if (preventExecution !== (phase === 'before'))
        return fields.issue(
          'preventExecution',
          `conflicts with "phase": "${phase}" (preventExecution answers before the handler)`,
        )
    }
    let body = fields.raw('body')
    if (body !== undefined && typeof body !== 'string') {
      try {
        body = JSON.stringify(body)
      } catch {
        return fields.issue('body', 'must be a string or a JSON value that can be written out')
      }
    }
    const headers = fields.headers('headers') ?? options.headers
    if (statusCode === undefined) return undefined
    return {
      statusCode,
      preventExecution,
      ...(body === undefined
        ? options.body === undefined
          ? {}
          : { body: options.body }
        : { body: body as string }),
      ...(headers === undefined ? {} : { headers }),
    }
  },
  phaseOf: (params) => (params.preventExecution ? 'before' : 'after'),
  plan({ params, phase, request, logger }) {
    const { statusCode } = params
    // An HTTP failure, as a real one travels: through onError, where an error handler, CORS
    // and Idempotency see it; `response` is the answer when no error handler gives one.
    const fail = (response: Record<string, unknown>) => () => {
      throw new ChaosHttpError(statusCode, params.body ?? defaults.body, {
        faultType: 'status_code',
        ...(params.headers === undefined ? {} : { headers: params.headers }),
        response,
      })
    }
    const skip = (reason: string, response: unknown) => {
      logger.warn(`Status-code fault skipped: ${reason}`, {
        chaos: { faultType: 'status_code', statusCode, phase },
        responseType: response === null ? 'null' : typeof response,
        awsRequestId: request.context?.awsRequestId,
      })
      return undefined
    }
    if (phase === 'before') {
      // Answering an SQS batch or an EventBridge event with an HTTP response would
      // acknowledge it without running the handler: only HTTP events get one.
      if (!isHttpEvent(request.event)) return skip('the event is not an HTTP request', undefined)
      const response: HttpResponse = {
        statusCode,
        headers: { 'content-type': 'application/json', ...params.headers },
        body: params.body ?? defaults.body,
      }
      if (isAlbEvent(request.event)) response.statusDescription = statusLine(statusCode)
      return { details: { preventExecution: true }, run: fail(response) }
    }
    const response = request.response as unknown
    if (isRecord(response) && typeof response.statusCode === 'number') {
      return {
        details: { originalStatusCode: response.statusCode },
        // A new object: the handler may return the same (cached) object every time.
        run: fail({
          ...response,
          statusCode,
          ...(typeof response.statusDescription === 'string' || isAlbEvent(request.event)
            ? { statusDescription: statusLine(statusCode) }
            : {}),
        }),
      }
    }
    if (response !== undefined && isHttpApiEvent(request.event)) {
      // HTTP APIs and function URLs accept a bare string or object and answer 200 with it as the body.
      return {
        details: { originalStatusCode: 200 },
        run: fail({
          statusCode,
          headers: {
            'content-type': typeof response === 'string' ? 'text/plain' : 'application/json',
          },
          body: typeof response === 'string' ? response : JSON.stringify(response),
        }),
      }
    }
    return skip('the response is not an HTTP response', response)
  },
  describe: ({ statusCode, preventExecution }) =>
    preventExecution ? `status code ${statusCode} (handler skipped)` : `status code ${statusCode}`,
  formats: {
    chaosLambda: { statusCode: 'error_code' },
    failureLambda: {
      mode: 'statuscode',
      check(flag) {
        const code = flag.status_code
        return code !== undefined && !(typeof code === 'number' && code >= 100 && code <= 599)
          ? [`status_code must be a number from 100 to 599 (got ${describeValue(code)})`]
          : []
      },
      fields(flag, { version, note }) {
        // failure-lambda answers before the handler, which does not run.
        if (version === 1) return { statusCode: flag.status_code ?? 500, preventExecution: true }
        if (flag.statusCode === undefined)
          note(
            'statusCode: missing; failure-lambda 0.x answers { statusCode: undefined }, the status-code fault reports it as required',
          )
        return { statusCode: flag.statusCode, preventExecution: true }
      },
    },
  },
  flags: [
    {
      name: 'error-code',
      field: 'statusCode',
      type: 'integer',
      description: 'HTTP status, 100 to 599',
      default: 404,
    },
    {
      name: 'prevent-execution',
      field: 'preventExecution',
      type: 'boolean',
      description: 'answer before the handler, which does not run',
    },
  ],
}

/**
 * Answers with an error status when the chaos config has a `status_code` fault.
 * By default the handler runs and its response's `statusCode` is replaced (the
 * body is kept); with `preventExecution` the middleware answers before the
 * handler, which does not run. The status travels as an HTTP error through
 * Middy's `onError` chain, where `@middy/http-error-handler`, `@middy/http-cors`
 * and Powertools Idempotency handle it as a real one; without an error handler,
 * this middleware's `onError` hook gives the answer. Works with API Gateway
 * REST and HTTP APIs, ALB and function URLs; other responses are left alone
 * with a warning.
 *
 * @example
 * ```ts
 * import middy from '@middy/core'
 * import { chaosStatusCode } from '@middy-chaos/status-code'
 *
 * export const handler = middy(lambdaHandler).use(chaosStatusCode())
 * // {"is_enabled":true,"fault_type":"status_code","error_code":404} → "Hello from Lambda!" with 404
 * ```
 */
export const chaosStatusCode = (options: ChaosStatusCodeOptions = {}): MiddlewareObj =>
  createFaultMiddleware(statusCodeFault, options)
