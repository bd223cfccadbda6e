import { Logger } from '@aws-lambda-powertools/logger'
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware'
import { Tracer } from '@aws-lambda-powertools/tracer'
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware'
import middy from '@middy/core'
import type { ChaosMiddlewareOptions } from '@middy-chaos/core'
import { chaosException } from '@middy-chaos/exception'
import { chaosLatency } from '@middy-chaos/latency'
import { chaosStatusCode } from '@middy-chaos/status-code'
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda'

const logger = new Logger({ serviceName: 'hello-world' })
/** Traces with active tracing on (off outside Lambda, or with `POWERTOOLS_TRACE_ENABLED=false`). */
export const tracer = new Tracer({ serviceName: 'hello-world' })

/** The AWS FIS workshop's function, unchanged. */
export const lambdaHandler = async (
  _event: APIGatewayProxyEvent,
): Promise<APIGatewayProxyResult> => ({
  statusCode: 200,
  body: 'Hello from Lambda!',
})

/**
 * The function's chain, with the chaos options given. Deployed, the chaos
 * middlewares read the config named by `CHAOS_PARAM` (an SSM parameter, or a
 * local file with `CHAOS_STORE=file`); a test passes a static `config`
 * instead (see `tests/`). Every injected fault is logged through the same
 * Logger and, with active tracing, shows in X-Ray: the `## index.handler`
 * subsegment annotated `ChaosInjected = true`, an injected delay a
 * `## chaos latency` subsegment of its own. Chaos comes after
 * `injectLambdaContext` and `captureLambdaHandler`: see "Where chaos goes in
 * your chain" and "Traces" in `@middy-chaos/core`'s README.
 */
export const makeHandler = (chaos: ChaosMiddlewareOptions = {}) => {
  const options = { logger, tracer, ...chaos }
  return middy(lambdaHandler)
    .use(injectLambdaContext(logger))
    .use(captureLambdaHandler(tracer))
    .use(chaosLatency(options))
    .use(chaosStatusCode(options))
    .use(chaosException(options))
}
