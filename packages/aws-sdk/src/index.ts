import type { MiddlewareObj } from '@middy/core'
import {
  activateInScope,
  type ChaosEntryFields,
  type ChaosMiddlewareOptions,
  createFaultMiddleware,
  currentScope,
  describeValue,
  type FaultDefinition,
  type FaultTrace,
  isNetworkErrorCode,
  NETWORK_ERROR_CODES,
} from '@middy-chaos/core'
import {
  errorResponse,
  jsonContentType,
  type ProtocolLike,
  serviceError,
  transportError,
} from './response.js'

export { INJECTED_HEADER } from './response.js'

/** The part of an AWS SDK v3 client this package uses: its middleware stack (and its protocol, when it has one). */
export interface SdkClientLike {
  middlewareStack: { add(middleware: never, options: never): void }
}

type SdkContext = { clientName?: string; commandName?: string; __smithy_context?: unknown }
type SdkArgs = {
  request?: { hostname?: string; port?: number; headers?: Record<string, string> }
}
type SdkMiddleware = (
  next: (args: SdkArgs) => Promise<unknown>,
  context: SdkContext,
) => (args: SdkArgs) => Promise<unknown>
type SdkStack = { add(middleware: SdkMiddleware, options: Record<string, unknown>): void }
type SdkConfig = {
  protocol?: ProtocolLike
  requestHandler?: { httpHandlerConfigs?(): { requestTimeout?: number } }
}

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
  /** Delay before the outcome of each affected attempt, ms. */
  delay: number
  /**
   * What each affected attempt fails with: a service error name
   * (`ThrottlingException`), a Node.js network error code (`ECONNRESET`), or
   * `TimeoutError`. None when absent (the attempt is only delayed).
   */
  error?: string
  /** The service error's message. */
  message?: string
  /** The service error's HTTP status (`$metadata.httpStatusCode`). */
  httpStatusCode?: number
  /** Affect only the first `attempts` attempts of each call (the client's retries then reach the service). */
  attempts?: number
  /** Affect attempts for this long from the first affected one of the invocation, then let them through (ms). */
  stormMs?: number
}

/**
 * An `aws_sdk` entry of a middy-chaos document, as written: `error`, `delay`
 * or both.
 *
 * @example
 * ```ts
 * const entry: AwsSdkEntry = {
 *   type: 'aws_sdk', service: 'DynamoDB', operation: 'GetItem',
 *   error: 'ProvisionedThroughputExceededException', attempts: 2,
 * }
 * ```
 */
export interface AwsSdkEntry extends ChaosEntryFields {
  readonly type: 'aws_sdk' | 'sdk'
  /** The client's name without `Client`: `DynamoDB`; any when absent. */
  readonly service?: string
  /** The command's name without `Command`: `GetItem`; any when absent. */
  readonly operation?: string
  /** A service error name, a network error code, or `TimeoutError`. */
  readonly error?: string
  /** The service error's message. */
  readonly message?: string
  /** The service error's HTTP status, 400 to 599. */
  readonly httpStatusCode?: number
  /** Affect only the first K attempts of each call. */
  readonly attempts?: number
  /** Affect every attempt for this long from the first affected one, ms. */
  readonly stormMs?: number
  /** ms before the outcome of each affected attempt. */
  readonly delay?: number
  readonly phase?: 'before'
}

declare module '@middy-chaos/core' {
  interface ChaosFaultEntries {
    aws_sdk: AwsSdkEntry
  }
}

/** The fault as one invocation holds it: its parameters and the storm's start. */
interface AwsSdkState {
  readonly params: AwsSdkParams
  /** The invocation's trace: each affected attempt marks its call, each delay is its own subsegment / span. */
  readonly trace: FaultTrace
  stormStartedAt?: number
  affected: number
  readonly calls: WeakSet<object>
  callCount: number
}

const TYPE = 'aws_sdk'
const MIDDLEWARE_NAME = 'middyChaosAwsSdk'
const DEFAULT_MESSAGE = 'Fault injected by middy-chaos'

/**
 * The AWS SDK's throttling error names (`THROTTLING_ERROR_CODES` of
 * `@smithy/service-error-classification`): an injected error with one of these
 * names is retried by the SDK with its throttling backoff. A reference for
 * the `error` field; the status each is answered with is {@link defaultStatus}'s.
 */
export const THROTTLING_ERRORS: readonly string[] = [
  'BandwidthLimitExceeded',
  'EC2ThrottledException',
  'LimitExceededException',
  'PriorRequestNotComplete',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'ThrottledException',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'TransactionInProgressException',
]

/**
 * The HTTP status a service answers an error name with, when the config does
 * not say: 503 for `SlowDown` and names with `Unavailable`, 500 for names with
 * `Internal` or `Server`, 429 for `TooManyRequests…`, otherwise 400 (the
 * status of throttling and validation errors in the JSON protocols).
 */
export const defaultStatus = (error: string): number => {
  if (error === 'SlowDown' || error.includes('Unavailable')) return 503
  if (error.includes('Internal') || error.includes('Server')) return 500
  if (error.startsWith('TooManyRequests')) return 429
  return 400
}

const strip = (name: string | undefined, suffix: string): string | undefined =>
  name?.endsWith(suffix) ? name.slice(0, -suffix.length) : name

/** Attempts seen per call: the SDK passes the same context object to every attempt of a `send`. */
const attemptsOfCall = new WeakMap<object, number>()

const isTransportError = (error: string): boolean =>
  error === 'TimeoutError' || isNetworkErrorCode(error)

/** Whether this attempt is affected, counting it (and starting the storm) when it is. */
const affects = (state: AwsSdkState, context: object): boolean => {
  const attempt = (attemptsOfCall.get(context) ?? 0) + 1
  attemptsOfCall.set(context, attempt)
  const { attempts, stormMs } = state.params
  if (attempts !== undefined && attempt > attempts) return false
  if (stormMs !== undefined) {
    const now = Date.now()
    state.stormStartedAt ??= now
    if (now - state.stormStartedAt >= stormMs) return false
  }
  state.affected += 1
  if (!state.calls.has(context)) {
    state.calls.add(context)
    state.callCount += 1
  }
  return true
}

/**
 * The middleware each instrumented client gets, innermost in its stack (step
 * `deserialize`, priority `low`): below the retry middleware, so that the
 * client's retry strategy sees every injected failure and retries it with its
 * own backoff, and below the deserializer, which turns an injected error
 * response into the SDK's own error. An affected attempt never leaves the
 * process; the others go on untouched.
 */
const chaosSdkMiddleware =
  (config: SdkConfig | undefined): SdkMiddleware =>
  (next, context) =>
  async (args) => {
    const state = currentScope()?.fault<AwsSdkState>(TYPE)
    if (state === undefined) return next(args)
    const { params } = state
    if (
      (params.service !== undefined && params.service !== strip(context.clientName, 'Client')) ||
      (params.operation !== undefined &&
        params.operation !== strip(context.commandName, 'Command')) ||
      !affects(state, context)
    )
      return next(args)
    const signal = (context.__smithy_context as { abortSignal?: AbortSignal } | undefined)
      ?.abortSignal
    const headers = args.request?.headers
    // The X-Ray SDK's middleware (Tracer's captureAWSv3Client) names the call's subsegment here.
    const call = { traceHeader: headers?.['X-Amzn-Trace-Id'] ?? headers?.['x-amzn-trace-id'] }
    state.trace.call(
      {
        service: strip(context.clientName, 'Client'),
        operation: strip(context.commandName, 'Command'),
        attempt: attemptsOfCall.get(context),
      },
      call,
    )
    if (params.delay > 0) {
      await state.trace.delay(params.delay, signal, call)
      if (signal?.aborted) throw Object.assign(new Error('Request aborted'), { name: 'AbortError' })
    }
    const { error } = params
    if (error === undefined) return next(args)
    const request = args.request ?? {}
    if (isTransportError(error)) {
      throw transportError(error as Parameters<typeof transportError>[0], {
        host: request.hostname ?? 'localhost',
        ...(request.port === undefined ? {} : { port: request.port }),
        timeoutMs: config?.requestHandler?.httpHandlerConfigs?.().requestTimeout ?? params.delay,
      })
    }
    const failure = {
      name: error,
      message: params.message ?? DEFAULT_MESSAGE,
      httpStatusCode: params.httpStatusCode ?? 500,
    }
    const contentType = jsonContentType(config?.protocol, request.headers)
    if (contentType === undefined) throw serviceError(failure)
    return { response: errorResponse(contentType, failure, config?.protocol) }
  }

const instrumented = new WeakSet<object>()

/**
 * Adds the chaos middleware to a client's stack, once. `chaosAwsSdk` does it
 * for the clients it is given; call it for a client created later.
 */
export const instrumentClient = (client: SdkClientLike): void => {
  if (instrumented.has(client)) return
  const config = (client as { config?: SdkConfig }).config
  ;(client.middlewareStack as unknown as SdkStack).add(chaosSdkMiddleware(config), {
    step: 'deserialize',
    priority: 'low',
    name: MIDDLEWARE_NAME,
    tags: ['MIDDY_CHAOS'],
    override: true,
  })
  instrumented.add(client)
}

const NAME = /^[A-Za-z][A-Za-z0-9]{0,63}$/

/**
 * The AWS SDK fault: while an invocation's fault fires, the attempts of the
 * registered clients' calls that match `service` / `operation` are delayed by
 * `delay` ms and/or fail with `error`, below the client's retry layer: every
 * attempt, the first `attempts` of each call, or every attempt for `stormMs`.
 */
export const awsSdkFault: FaultDefinition<AwsSdkParams, ChaosAwsSdkOptions> = {
  type: TYPE,
  aliases: ['sdk'],
  package: '@middy-chaos/aws-sdk',
  factory: 'chaosAwsSdk',
  summary:
    'makes the AWS SDK v3 calls of the invocation slow or failing, per attempt, below the retry layer',
  phases: ['before'],
  defaultPhase: 'before',
  scope: 'calls',
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
    const message = fields.string('message', { maxLength: 4096 })
    const httpStatusCode = fields.number('httpStatusCode', { min: 400, max: 599, integer: true })
    const attempts = fields.number('attempts', { min: 1, max: 100, integer: true })
    const stormMs = fields.number('stormMs', { min: 1, max: 900_000, integer: true, unit: 'ms' })
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
        'is required unless a delay is given: an error name such as "ThrottlingException", a network error such as "ECONNRESET", or "TimeoutError"',
      )
    }
    for (const name of ['message', 'httpStatusCode']) {
      if (!fields.has(name)) continue
      if (error === undefined)
        return fields.issue(name, 'applies to a service error: give "error" as well')
      if (isTransportError(error))
        return fields.issue(
          name,
          `applies to a service error, and "${error}" is a network error (${[...NETWORK_ERROR_CODES, 'TimeoutError'].join(', ')})`,
        )
    }
    if (attempts !== undefined && stormMs !== undefined)
      return fields.issue(
        'stormMs',
        'conflicts with "attempts": affect the first attempts of each call, or every attempt for a time',
      )
    if (
      delay === undefined ||
      (fields.has('message') && message === undefined) ||
      (fields.has('httpStatusCode') && httpStatusCode === undefined) ||
      (fields.has('attempts') && attempts === undefined) ||
      (fields.has('stormMs') && stormMs === undefined)
    )
      return undefined
    const isServiceError = error !== undefined && !isTransportError(error)
    return {
      delay,
      ...(service === undefined ? {} : { service }),
      ...(operation === undefined ? {} : { operation }),
      ...(error === undefined ? {} : { error }),
      ...(isServiceError ? { message: message ?? DEFAULT_MESSAGE } : {}),
      ...(isServiceError ? { httpStatusCode: httpStatusCode ?? defaultStatus(error) } : {}),
      ...(attempts === undefined ? {} : { attempts }),
      ...(stormMs === undefined ? {} : { stormMs }),
    }
  },
  plan({ params, request, logger, trace }) {
    return {
      run: () => {
        const state: AwsSdkState = {
          params,
          trace,
          affected: 0,
          calls: new WeakSet(),
          callCount: 0,
        }
        const scoped = activateInScope(request, TYPE, state, () => {
          logger.info('Chaos fault ended', {
            chaos: {
              faultType: TYPE,
              affectedAttempts: state.affected,
              affectedCalls: state.callCount,
            },
            awsRequestId: request.context?.awsRequestId,
          })
        })
        if (!scoped)
          logger.warn('Chaos aws_sdk fault not scoped to the invocation: not injected', {
            chaos: { faultType: TYPE },
          })
      },
    }
  },
  describe: ({ service, operation, error, delay, attempts, stormMs }) => {
    const target = [service ?? 'any service', operation].filter(Boolean).join('.')
    const effects = [
      error,
      delay > 0 ? `+${delay}ms` : undefined,
      attempts === undefined ? undefined : `first ${attempts} attempts`,
      stormMs === undefined ? undefined : `for ${stormMs}ms`,
    ]
      .filter(Boolean)
      .join(' ')
    return `aws sdk ${target}: ${effects}`
  },
  flags: [
    { name: 'service', field: 'service', type: 'string', description: 'client: DynamoDB, S3, SQS' },
    { name: 'operation', field: 'operation', type: 'string', description: 'GetItem, PutObject' },
    {
      name: 'error',
      field: 'error',
      type: 'string',
      description: 'service error name, network error code (ECONNRESET) or TimeoutError',
      default: 'ThrottlingException',
    },
    { name: 'delay', field: 'delay', type: 'integer', description: 'ms added to each attempt' },
    {
      name: 'http-status',
      field: 'httpStatusCode',
      type: 'integer',
      description: "the service error's HTTP status, 400 to 599",
    },
    {
      name: 'attempts',
      field: 'attempts',
      type: 'integer',
      description: 'affect only the first N attempts of each call',
    },
    {
      name: 'storm-ms',
      field: 'stormMs',
      type: 'integer',
      description: 'affect every attempt for this long, then recover',
    },
  ],
}

/**
 * Makes the AWS SDK calls of an invocation slow or failing, per attempt, while
 * the chaos config has an `aws_sdk` fault: throttled DynamoDB reads, S3
 * timeouts, connection resets, a storm that passes. The failures happen below
 * the client's retry layer, so its retry strategy and backoff run as in a real
 * outage. The clients you pass get a middleware that does nothing unless a
 * fault fired for the invocation whose code is running.
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
 * //   "error":"ProvisionedThroughputExceededException","attempts":2,"rate":0.2}]}
 * ```
 */
export const chaosAwsSdk = (options: ChaosAwsSdkOptions): MiddlewareObj =>
  createFaultMiddleware(awsSdkFault, options)
