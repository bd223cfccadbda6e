import type { MiddlewareObj } from '@middy/core'
import {
  type ChaosMiddlewareOptions,
  createFaultMiddleware,
  describeValue,
  type FaultDefinition,
  INJECTED,
  sleep,
} from '@middy-chaos/core'

/** The part of an AWS SDK v3 client this package uses: its middleware stack. */
export interface SdkClientLike {
  middlewareStack: { add(middleware: never, options: never): void }
}

type SdkContext = { clientName?: string; commandName?: string }
type SdkMiddleware = (
  next: (args: unknown) => Promise<unknown>,
  context: SdkContext,
) => (args: unknown) => Promise<unknown>
type SdkStack = { add(middleware: SdkMiddleware, options: Record<string, unknown>): void }

/** Options of {@link chaosAwsSdk}. */
export interface ChaosAwsSdkOptions extends ChaosMiddlewareOptions {
  /** The AWS SDK v3 clients whose calls the fault may affect (created once, outside the handler). */
  clients: readonly SdkClientLike[]
}

/** Parameters of an AWS SDK fault, as read from the config. */
export interface AwsSdkParams {
  /** Service to affect, as in the client's name without `Client`: `DynamoDB`, `S3`, `SQS`. Any when absent. */
  service?: string
  /** Operation to affect, as in the command's name without `Command`: `GetItem`, `PutObject`. Any when absent. */
  operation?: string
  /** Delay added before each affected call, ms. */
  delay: number
  /** Name of the error each affected call fails with (`ThrottlingException`, …); none when absent. */
  error?: string
  /** Its message. */
  message: string
  /** Its HTTP status (`$metadata.httpStatusCode`). */
  httpStatusCode: number
}

const MIDDLEWARE_NAME = 'middyChaosAwsSdk'

/**
 * The fault of the invocation in progress, if any. Lambda runs one invocation
 * at a time per execution environment, so one slot is enough there; a local
 * server that interleaves invocations may see it in another invocation's calls.
 */
let active: AwsSdkParams | undefined

const strip = (name: string | undefined, suffix: string): string | undefined =>
  name?.endsWith(suffix) ? name.slice(0, -suffix.length) : name

const sdkMiddleware: SdkMiddleware = (next, context) => async (args) => {
  const fault = active
  if (
    fault !== undefined &&
    (fault.service === undefined || fault.service === strip(context.clientName, 'Client')) &&
    (fault.operation === undefined || fault.operation === strip(context.commandName, 'Command'))
  ) {
    if (fault.delay > 0) await sleep(fault.delay)
    if (fault.error !== undefined) {
      const error = Object.assign(new Error(fault.message), {
        name: fault.error,
        $fault: fault.httpStatusCode >= 500 ? 'server' : 'client',
        $metadata: { httpStatusCode: fault.httpStatusCode, attempts: 1, totalRetryDelay: 0 },
      })
      Object.defineProperty(error, INJECTED, { value: true })
      throw error
    }
  }
  return next(args)
}

const instrumented = new WeakSet<object>()

/** Adds the chaos middleware to a client's stack, once. */
export const instrumentClient = (client: SdkClientLike): void => {
  if (instrumented.has(client)) return
  ;(client.middlewareStack as unknown as SdkStack).add(sdkMiddleware, {
    step: 'initialize',
    name: MIDDLEWARE_NAME,
    tags: ['MIDDY_CHAOS'],
    override: true,
  })
  instrumented.add(client)
}

const NAME = /^[A-Za-z][A-Za-z0-9]{0,63}$/

/**
 * The AWS SDK fault: while an invocation's fault fires, the calls of the
 * registered clients that match `service` / `operation` are delayed by `delay`
 * ms and/or fail with an error named `error`.
 */
export const awsSdkFault: FaultDefinition<AwsSdkParams, ChaosAwsSdkOptions> = {
  type: 'aws_sdk',
  aliases: ['sdk'],
  package: '@middy-chaos/aws-sdk',
  factory: 'chaosAwsSdk',
  summary: 'makes AWS SDK v3 calls of the invocation slow or failing',
  phases: ['before'],
  defaultPhase: 'before',
  setup({ options }) {
    for (const client of options.clients ?? []) instrumentClient(client)
  },
  parse(fields) {
    const service = fields.string('service', { maxLength: 64 })
    const operation = fields.string('operation', { maxLength: 64 })
    const error = fields.string('error', { maxLength: 64 })
    const delay = fields.number('delay', {
      min: 0,
      max: 900_000,
      integer: true,
      unit: 'ms',
      default: 0,
    })
    const message = fields.string('message', {
      default: 'Fault injected by middy-chaos',
      maxLength: 4096,
    })
    const httpStatusCode = fields.number('httpStatusCode', {
      min: 400,
      max: 599,
      integer: true,
      default: 500,
    })
    for (const [name, value] of [
      ['service', service],
      ['operation', operation],
      ['error', error],
    ] as const) {
      if (value !== undefined && !NAME.test(value))
        return fields.issue(
          name,
          `must be a name such as "DynamoDB", "GetItem", "ThrottlingException" (got ${describeValue(value)})`,
        )
    }
    if (error === undefined && !fields.has('delay')) {
      return fields.issue(
        'error',
        'is required unless a delay is given: an error name such as "ThrottlingException"',
      )
    }
    if (delay === undefined || message === undefined || httpStatusCode === undefined)
      return undefined
    return {
      delay,
      message,
      httpStatusCode,
      ...(service === undefined ? {} : { service }),
      ...(operation === undefined ? {} : { operation }),
      ...(error === undefined ? {} : { error }),
    }
  },
  plan({ params }) {
    return {
      run: () => {
        active = params
      },
    }
  },
  // The invocation is over, however it ended: its calls are no longer affected.
  end() {
    active = undefined
  },
  describe: ({ service, operation, error, delay }) => {
    const target = [service ?? 'any service', operation].filter(Boolean).join('.')
    const effects = [error, delay > 0 ? `+${delay}ms` : undefined].filter(Boolean).join(' ')
    return `aws sdk ${target}: ${effects}`
  },
  flags: [
    { name: 'service', field: 'service', type: 'string', description: 'client: DynamoDB, S3, SQS' },
    { name: 'operation', field: 'operation', type: 'string', description: 'GetItem, PutObject' },
    {
      name: 'error',
      field: 'error',
      type: 'string',
      description: 'error name the calls fail with',
      default: 'ThrottlingException',
    },
    { name: 'delay', field: 'delay', type: 'integer', description: 'ms added to each call' },
    {
      name: 'http-status',
      field: 'httpStatusCode',
      type: 'integer',
      description: "the error's HTTP status, 400 to 599",
    },
  ],
}

/**
 * Makes the AWS SDK calls of an invocation slow or failing, while the chaos
 * config has an `aws_sdk` fault: throttled DynamoDB reads, S3 timeouts, SQS
 * errors, without changing your code or your clients' configuration. The
 * clients you pass get a middleware that does nothing unless a fault fired for
 * the invocation in progress; the fault ends with the invocation.
 *
 * @example
 * ```ts
 * import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
 * import middy from '@middy/core'
 * import { chaosAwsSdk } from '@middy-chaos/aws-sdk'
 *
 * const dynamodb = new DynamoDBClient({})
 * export const handler = middy(lambdaHandler).use(chaosAwsSdk({ clients: [dynamodb] }))
 * // {"version":1,"faults":[{"type":"aws_sdk","service":"DynamoDB","operation":"GetItem",
 * //   "error":"ProvisionedThroughputExceededException","httpStatusCode":400,"rate":0.2}]}
 * ```
 */
export const chaosAwsSdk = (options: ChaosAwsSdkOptions): MiddlewareObj =>
  createFaultMiddleware(awsSdkFault, options)
