/**
 * A mistake the user can fix (missing file, invalid experiment, port in use,
 * unreachable store): the CLI prints its message on one line and exits with
 * `exitCode`, never with a stack trace.
 *
 * @example
 * ```ts
 * throw new CliError(`experiment file not found: ${path}`)
 * ```
 */
export class CliError extends Error {
  public readonly exitCode: number

  public constructor(message: string, options: { exitCode?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'CliError'
    this.exitCode = options.exitCode ?? 1
  }
}

/**
 * What the command was given is wrong, found before anything was changed: an
 * option, or the content of a file it reads (an invalid experiment, waits past
 * 12 h, a stop alarm that does not exist). Exit code 2, as for shell builtins;
 * failures while running (a store, a file or CloudWatch that cannot be read,
 * a step that fails) keep 1.
 */
export class InputError extends CliError {
  public constructor(message: string) {
    super(message, { exitCode: 2 })
    this.name = 'InputError'
  }
}

/** A command line that does not parse: an {@link InputError} (exit code 2). */
export class UsageError extends InputError {
  public constructor(message: string) {
    super(message)
    this.name = 'UsageError'
  }
}

/** One line describing any error, for messages: `ECONNREFUSED 127.0.0.1:1`. */
export const describeError = (error: unknown): string => {
  if (error instanceof AggregateError && error.errors.length > 0) {
    return describeError(error.errors[0])
  }
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code
    const message = error.message.split('\n')[0]?.trim() || error.name
    return code && !message.includes(code) ? `${code}: ${message}` : message
  }
  return String(error)
}
