// The functions the cold-start and size benchmarks compare (bench/coldstart.mjs, bench/size.mjs),
// each a module as a user writes it, with faults off:
//   - middy + logger:  Middy + Powertools Logger (injectLambdaContext), no parameter read;
//   - stack:           the same + Powertools Parameters' SSMProvider, one `get` per invocation: the
//                      stack middy-chaos is built on, doing what a chaos middleware does;
//   - chaos:           Middy + Logger + the workshop's three faults (latency, status code,
//                      exception), their config read from SSM by the built-in store;
//   - stack + chaos:   the stack with the three faults added (the function reads its own
//                      parameter too: what chaos adds to a function that already uses SSM);
//   - middy + logger + chaos, static config: the three faults with an in-code config and no
//                      store: what this project's own code costs, against middy + logger;
//   - stack + chaos, one provider: the same, the faults reading their config with the
//                      function's own SSMProvider (`provider` option): one SSM client;
//   - failure-lambda:  Middy + Logger + failure-lambda 1.x's Middy middleware.
/** The workshop's value with faults off, failure-lambda's, and the stack's own parameter. */
export const VALUES = {
  '/bench/chaos':
    '{"is_enabled":false,"fault_type":"latency","delay":400,"error_code":404,"exception_msg":"Fault injected by chaos-lambda","rate":1}',
  '/bench/failure-lambda':
    '{"latency":{"enabled":false},"statuscode":{"enabled":false},"exception":{"enabled":false}}',
  '/bench/param': '{"greeting":"Hello from Lambda!"}',
}

const LOGGER = `import { Logger } from '@aws-lambda-powertools/logger'
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware'
import middy from '@middy/core'`
const CHAOS = `import { chaosException } from '@middy-chaos/exception'
import { chaosLatency } from '@middy-chaos/latency'
import { chaosStatusCode } from '@middy-chaos/status-code'`
const HANDLER = "async () => ({ statusCode: 200, body: 'Hello from Lambda!' })"
const READ = `async () => {
    await provider.get('/bench/param')
    return { statusCode: 200, body: 'Hello from Lambda!' }
  }`

/**
 * Each function as its module: imports, then `build()` (what its top level would run).
 * failure-lambda 1.x is in only when asked for (it is built from its repository).
 */
export const functions = ({ failureLambda = false } = {}) => ({
  'middy + logger': `${LOGGER}
export const build = () => {
  const logger = new Logger({ serviceName: 'bench' })
  return middy(${HANDLER}).use(injectLambdaContext(logger))
}`,
  stack: `${LOGGER}
import { SSMProvider } from '@aws-lambda-powertools/parameters/ssm'
export const build = () => {
  const logger = new Logger({ serviceName: 'bench' })
  const provider = new SSMProvider()
  return middy(${READ}).use(injectLambdaContext(logger))
}`,
  chaos: `${LOGGER}
${CHAOS}
export const build = () => {
  const logger = new Logger({ serviceName: 'bench' })
  return middy(${HANDLER})
    .use(injectLambdaContext(logger))
    .use(chaosLatency({ logger }))
    .use(chaosStatusCode({ logger }))
    .use(chaosException({ logger }))
}`,
  'stack + chaos': `${LOGGER}
import { SSMProvider } from '@aws-lambda-powertools/parameters/ssm'
${CHAOS}
export const build = () => {
  const logger = new Logger({ serviceName: 'bench' })
  const provider = new SSMProvider()
  return middy(${READ})
    .use(injectLambdaContext(logger))
    .use(chaosLatency({ logger }))
    .use(chaosStatusCode({ logger }))
    .use(chaosException({ logger }))
}`,
  'middy + logger + chaos, static config': `${LOGGER}
${CHAOS}
const config = ${JSON.stringify(VALUES['/bench/chaos'])}
export const build = () => {
  const logger = new Logger({ serviceName: 'bench' })
  const chaos = { logger, config }
  return middy(${HANDLER})
    .use(injectLambdaContext(logger))
    .use(chaosLatency(chaos))
    .use(chaosStatusCode(chaos))
    .use(chaosException(chaos))
}`,
  'stack + chaos, one provider': `${LOGGER}
import { SSMProvider } from '@aws-lambda-powertools/parameters/ssm'
${CHAOS}
export const build = () => {
  const logger = new Logger({ serviceName: 'bench' })
  const provider = new SSMProvider()
  const chaos = { logger, provider }
  return middy(${READ})
    .use(injectLambdaContext(logger))
    .use(chaosLatency(chaos))
    .use(chaosStatusCode(chaos))
    .use(chaosException(chaos))
}`,
  ...(failureLambda
    ? {
        'failure-lambda 1.x': `${LOGGER}
import { failureLambdaMiddleware } from 'failure-lambda/middy'
export const build = () => {
  const logger = new Logger({ serviceName: 'bench' })
  return middy(${HANDLER}).use(injectLambdaContext(logger)).use(failureLambdaMiddleware())
}`,
      }
    : {}),
})
