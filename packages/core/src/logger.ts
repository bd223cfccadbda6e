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

/** The logger a middleware writes through: a child of the user's, or the default. */
export const resolveLogger = (logger: Logger | undefined): (() => Logger) => {
  if (!logger) return getDefaultLogger
  let child: Logger | undefined
  return () => {
    child ??= logger.createChild()
    return child
  }
}
