import type { MiddlewareObj } from '@middy/core'
// Types only (erased): the entry type a typed config knows, and the module it augments.
import type { ChaosEntryFields } from '@middy-chaos/core'
import {
  ChaosInjectedError,
  type ChaosMiddlewareOptions,
  createFaultMiddleware,
  describeValue,
  type FaultDefinition,
  INJECTED,
} from '@middy-chaos/core/fault'

export { ChaosInjectedError } from '@middy-chaos/core/fault'

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

/**
 * An exception entry of a middy-chaos document, as written.
 *
 * @example
 * ```ts
 * const entry: ExceptionEntry = { type: 'exception', message: 'DynamoDB timed out', errorName: 'TimeoutError' }
 * ```
 */
export interface ExceptionEntry extends ChaosEntryFields {
  readonly type: 'exception' | 'error'
  /** The error's message. */
  readonly message?: string
  /** The error's `name`. */
  readonly errorName?: string
  readonly phase?: 'before' | 'after'
}

declare module '@middy-chaos/core' {
  interface ChaosFaultEntries {
    exception: ExceptionEntry
  }
}

const defaults = { message: 'Fault injected by middy-chaos' }

/** The exception fault: `message` (`exception_msg` in chaos_lambda's format), optional `errorName`. */
export const exceptionFault: FaultDefinition<ExceptionParams, ChaosExceptionOptions> = {
  type: 'exception',
  aliases: ['error'],
  package: '@middy-chaos/exception',
  factory: 'chaosException',
  summary: 'throws an injected error before or after the handler',
  phases: ['before', 'after'],
  defaultPhase: 'before',
  defaults,
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
  describe: ({ errorName }) => (errorName === undefined ? 'exception' : `exception ${errorName}`),
  formats: {
    chaosLambda: { message: 'exception_msg' },
    failureLambda: {
      mode: 'exception',
      check(flag) {
        const message = flag.exception_msg
        return message !== undefined && typeof message !== 'string'
          ? [`exception_msg must be a string (got ${describeValue(message)})`]
          : []
      },
      fields(flag, { version }) {
        if (version === 1)
          return { phase: 'before', message: flag.exception_msg ?? 'Injected exception' }
        // 0.x throws new Error(exceptionMsg): undefined gives an empty message, primitives their text.
        const text = flag.exceptionMsg
        const message =
          text === undefined
            ? ''
            : typeof text === 'number' || typeof text === 'boolean' || text === null
              ? String(text)
              : text
        return { phase: 'before', message }
      },
    },
  },
  flags: [
    {
      name: 'message',
      field: 'message',
      type: 'string',
      description: 'message of the thrown error',
      default: 'Fault injected by chaos-lambda',
    },
  ],
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
  createFaultMiddleware(exceptionFault, options)
