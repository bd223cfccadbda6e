import { Logger } from '@aws-lambda-powertools/logger'
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware'
import middy from '@middy/core'
import { chaosException } from '@middy-chaos/exception'
import { chaosLatency } from '@middy-chaos/latency'
import { chaosStatusCode } from '@middy-chaos/status-code'
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda'

const logger = new Logger({ serviceName: 'hello-world' })

/** The AWS FIS workshop's function, unchanged. */
const lambdaHandler = async (_event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => ({
  statusCode: 200,
  body: 'Hello from Lambda!',
})

/**
 * The chaos middlewares read the config named by `CHAOS_PARAM` (an SSM
 * parameter, or a local file with `CHAOS_STORE=file`) and log every injected
 * fault through the same Logger.
 */
export const handler = middy(lambdaHandler)
  .use(injectLambdaContext(logger))
  .use(chaosLatency({ logger }))
  .use(chaosStatusCode({ logger }))
  .use(chaosException({ logger }))
