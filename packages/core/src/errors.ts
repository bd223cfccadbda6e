import { statusText } from './http.js'

/**
 * Marks an error as deliberately injected by a chaos fault, so that the
 * fail-safe wrapper around every fault lets it through instead of treating it
 * as a bug in the fault.
 */
export const INJECTED = Symbol.for('middy-chaos.injected')

/**
 * Default error thrown by `@middy-chaos/exception`.
 *
 * @example
 * ```ts
 * import { ChaosInjectedError } from '@middy-chaos/core'
 * if (error instanceof ChaosInjectedError) console.log('expected during the experiment')
 * ```
 */
export class ChaosInjectedError extends Error {
  public readonly faultType: string

  public constructor(message: string, faultType = 'exception', options?: ErrorOptions) {
    super(message, options)
    this.name = 'ChaosInjectedError'
    this.faultType = faultType
  }
}

/** `ServiceUnavailableError` for 503: the name Middy's `createError` gives an HTTP error. */
const httpErrorName = (statusCode: number): string => {
  const name = (statusText(statusCode) ?? 'Unknown').replace(/[^a-zA-Z]/g, '')
  return name.endsWith('Error') ? name : `${name}Error`
}

/** What a {@link ChaosHttpError} is made of. */
export interface ChaosHttpErrorOptions {
  /** The fault type that threw it (default `status_code`). */
  faultType?: string
  /** Headers an error handler adds to its answer (`@middy/http-error-handler` does). */
  headers?: Record<string, string>
  /**
   * The answer the chaos middleware that threw the error gives when no other
   * middleware has answered by the time its `onError` hook runs.
   */
  response: Readonly<Record<string, unknown>>
}

/**
 * An HTTP failure injected by a fault, shaped as Middy's
 * `createError(statusCode, message, { expose: true })` makes one
 * (`statusCode`, `status`, `expose`, `headers`, and a name such as
 * `ServiceUnavailableError`) and marked as injected (`isInjectedError`,
 * `instanceof ChaosInjectedError`). It travels through Middy's `onError` chain
 * as a real HTTP error does: `@middy/http-error-handler` answers with its
 * status, its message as the body and its headers; `@middy/http-cors` and
 * `@middy/http-response-serializer` shape that answer; Powertools Idempotency
 * deletes the invocation's record, so a retry runs the handler. When no
 * middleware has answered by the time the `onError` hook of the chaos
 * middleware that threw it runs, that hook answers with {@link response}.
 *
 * @example
 * ```ts
 * import { ChaosHttpError } from '@middy-chaos/core'
 *
 * const myErrorHandler = { onError: (request) => {
 *   if (request.error instanceof ChaosHttpError) console.log('injected', request.error.statusCode)
 * } }
 * ```
 */
export class ChaosHttpError extends ChaosInjectedError {
  public readonly statusCode: number
  /** Same as `statusCode`, as `http-errors` and Middy's `createError` have it. */
  public readonly status: number
  /** Whether an error handler may show the message: `true`, whatever the status. */
  public expose = true
  public readonly headers: Record<string, string>
  readonly #response: Readonly<Record<string, unknown>>

  public constructor(statusCode: number, message: string, options: ChaosHttpErrorOptions) {
    super(message, options.faultType ?? 'status_code')
    this.name = httpErrorName(statusCode)
    this.statusCode = statusCode
    this.status = statusCode
    this.headers = { ...options.headers }
    this.#response = options.response
  }

  /**
   * The answer given when no error handler answered: a new object each time
   * (the middlewares after may change it).
   */
  public get response(): Record<string, unknown> {
    const response = this.#response
    return typeof response.headers === 'object' && response.headers !== null
      ? { ...response, headers: { ...(response.headers as Record<string, unknown>) } }
      : { ...response }
  }
}

/** Thrown by {@link parseConfigOrThrow} when a configuration document is invalid. */
export class ChaosConfigError extends Error {
  public readonly issues: readonly { path: string; message: string }[]

  public constructor(issues: readonly { path: string; message: string }[]) {
    super(
      `Invalid chaos configuration: ${issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ')}`,
    )
    this.name = 'ChaosConfigError'
    this.issues = issues
  }
}

/** The config store did not answer within `fetchTimeout`. */
export class ChaosConfigTimeoutError extends Error {
  public constructor(source: string, timeoutMs: number) {
    super(`Config source ${source} did not answer within ${timeoutMs} ms`)
    this.name = 'ChaosConfigTimeoutError'
  }
}

/** Whether an error was thrown on purpose by a fault. */
export const isInjectedError = (error: unknown): boolean =>
  typeof error === 'object' &&
  error !== null &&
  (error instanceof ChaosInjectedError || (error as Record<symbol, unknown>)[INJECTED] === true)
