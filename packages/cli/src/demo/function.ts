/**
 * What `middy-chaos demo` serves: the AWS FIS workshop's hello-world function
 * with the three faults its experiment turns on, reading its chaos config from
 * the store `serve` names (`CHAOS_STORE`, `CHAOS_PARAM`). It ships with the
 * CLI so that `npx @middy-chaos/cli demo` plays the workshop in any folder;
 * `examples/hello-world` is the same function as a project of its own, with
 * Powertools Logger and Tracer. Never imported by the CLI itself: creating the
 * middlewares starts reading the store.
 *
 * @module
 */
import middy from '@middy/core'
import { chaosException } from '@middy-chaos/exception'
import { chaosLatency } from '@middy-chaos/latency'
import { chaosStatusCode } from '@middy-chaos/status-code'

/** The workshop's function, unchanged, with the chaos middlewares. */
export const handler = middy(async () => ({ statusCode: 200, body: 'Hello from Lambda!' }))
  .use(chaosLatency())
  .use(chaosStatusCode())
  .use(chaosException())
