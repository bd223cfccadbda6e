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
