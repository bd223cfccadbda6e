import { Logger } from '@aws-lambda-powertools/logger'

let defaultLogger: Logger | undefined

/**
 * The logger used when no `logger` option is given: a Powertools Logger whose
 * service name is `POWERTOOLS_SERVICE_NAME` or `middy-chaos`. Created on first use.
 */
export const getDefaultLogger = (): Logger => {
  defaultLogger ??= new Logger({
    serviceName: process.env.POWERTOOLS_SERVICE_NAME || 'middy-chaos',
  })
  return defaultLogger
}

/**
 * The logger a middleware writes through: the user's own (so its lines carry
 * the Lambda context that `injectLambdaContext` keeps current on it), or the
 * default. Every line passes its chaos fields as arguments: the user's logger
 * is never changed.
 */
export const resolveLogger = (logger: Logger | undefined): (() => Logger) =>
  logger ? () => logger : getDefaultLogger
