/**
 * The middlewares' logger. With faults off and a healthy store nothing is
 * ever logged, so the default Powertools Logger is not loaded at import (it
 * costs about 20 ms of CPU on a cold start): the first line loads it, and is
 * itself written in the same JSON shape while it loads.
 *
 * @module
 */
import type { Logger } from '@aws-lambda-powertools/logger'

type Level = 'debug' | 'info' | 'warn' | 'error'

const serviceName = () => process.env.POWERTOOLS_SERVICE_NAME || 'middy-chaos'

let real: Logger | undefined
let loading = false

const load = (): void => {
  if (loading) return
  loading = true
  void import('@aws-lambda-powertools/logger').then(
    ({ Logger: PowertoolsLogger }) => {
      real ??= new PowertoolsLogger({ serviceName: serviceName() })
    },
    () => {
      // Not installed: lines keep going through the writer below.
    },
  )
}

/** One line in Powertools Logger's JSON shape, for the lines written while it loads. */
const writeLine = (level: Level, message: string, extras: unknown[]): void => {
  if (level === 'debug') return
  const line: Record<string, unknown> = {
    level: level.toUpperCase(),
    message,
    timestamp: new Date().toISOString(),
    service: serviceName(),
    sampling_rate: 0,
  }
  for (const extra of extras) {
    if (typeof extra === 'object' && extra !== null) Object.assign(line, extra)
  }
  const text = JSON.stringify(line)
  if (process.env.POWERTOOLS_DEV === 'true') {
    // As Powertools Logger does in dev mode: through the global console.
    ;(level === 'info' ? console.info : console[level])(text)
  } else {
    process.stdout.write(`${text}\n`)
  }
}

const write =
  (level: Level) =>
  (message: string, ...extras: unknown[]): void => {
    if (real !== undefined) {
      ;(real[level] as (message: string, ...extras: unknown[]) => void).call(
        real,
        message,
        ...extras,
      )
      return
    }
    load()
    writeLine(level, message, extras)
  }

/** The default logger until Powertools Logger has loaded: the methods the middlewares use. */
const lazy = {
  debug: write('debug'),
  info: write('info'),
  warn: write('warn'),
  error: write('error'),
} as unknown as Logger

/**
 * The logger used when no `logger` option is given: a Powertools Logger whose
 * service name is `POWERTOOLS_SERVICE_NAME` or `middy-chaos`, loaded by the
 * first line written. Until it has loaded, `debug`, `info`, `warn` and `error`
 * write the same JSON lines; pass your own `logger` for anything else.
 */
export const getDefaultLogger = (): Logger => real ?? lazy

/**
 * The logger a middleware writes through: the user's own (so its lines carry
 * the Lambda context that `injectLambdaContext` keeps current on it), or the
 * default. Every line passes its chaos fields as arguments: the user's logger
 * is never changed.
 */
export const resolveLogger = (logger: Logger | undefined): (() => Logger) =>
  logger ? () => logger : getDefaultLogger

/** The first invocation any chaos middleware of this process saw: the cold start. */
let firstInvocation: object | undefined

/** Notes an invocation (every chaos hook calls it: one comparison once the first is known). */
export const noteInvocation = (request: object): void => {
  if (firstInvocation === undefined) firstInvocation = request
}

/** Whether `request` is the first invocation a chaos middleware of this process saw. */
export const isFirstInvocation = (request: object): boolean => request === firstInvocation
