import type { MiddlewareObj } from '@middy/core'
import {
  ChaosInjectedError,
  type ChaosMiddlewareOptions,
  createFaultMiddleware,
  type FaultDefinition,
  INJECTED,
} from '@middy-chaos/core'

export { ChaosInjectedError } from '@middy-chaos/core'

/** Options of {@link chaosException}. */
export interface ChaosExceptionOptions extends ChaosMiddlewareOptions {
  /** Message used when the config gives none (default `Fault injected by middy-chaos`). */
  message?: string
  /**
   * Error class thrown (default {@link ChaosInjectedError}). It is constructed
   * with the message; its instances are marked so the fail-safe lets them through.
   */
  errorClass?: new (
    message: string,
  ) => Error
}

/** Parameters of an exception fault, as read from the config. */
export interface ExceptionParams {
  message: string
  /** Overrides the thrown error's `name`. */
  errorName?: string
}

const defaults = { message: 'Fault injected by middy-chaos' }

/** The exception fault: `message` (`exception_msg` in chaos_lambda's format), optional `errorName`. */
export const exceptionFault: FaultDefinition<ExceptionParams, ChaosExceptionOptions> = {
  type: 'exception',
  aliases: ['error'],
  phases: ['before', 'after'],
  defaultPhase: 'before',
  parse(fields, options) {
    const message = fields.string('message', {
      default: options.message ?? defaults.message,
      maxLength: 4096,
    })
    const errorName = fields.string('errorName', { maxLength: 128 })
    if (message === undefined) return undefined
    return errorName === undefined ? { message } : { message, errorName }
  },
  plan({ params, options }) {
    const ErrorClass = options.errorClass
    return {
      details: { errorName: params.errorName ?? ErrorClass?.name ?? 'ChaosInjectedError' },
      run: () => {
        const error = ErrorClass
          ? new ErrorClass(params.message)
          : new ChaosInjectedError(params.message)
        Object.defineProperty(error, INJECTED, { value: true })
        if (params.errorName !== undefined) error.name = params.errorName
        throw error
      },
    }
  },
}

/**
 * Throws when the chaos config has an `exception` fault: in `before` by default
 * (the handler does not run), or in `after` (the handler ran, its result is lost).
 *
 * @example
 * ```ts
 * import middy from '@middy/core'
 * import { chaosException } from '@middy-chaos/exception'
 *
 * export const handler = middy(lambdaHandler).use(chaosException())
 * // {"is_enabled":true,"fault_type":"exception","exception_msg":"boom"} → throws ChaosInjectedError('boom')
 * ```
 */
export const chaosException = (options: ChaosExceptionOptions = {}): MiddlewareObj =>
  createFaultMiddleware(exceptionFault, { ...defaults, ...options })
