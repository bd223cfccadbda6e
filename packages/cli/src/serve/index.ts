import { randomUUID } from 'node:crypto'
import { access } from 'node:fs/promises'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { isRecord } from '@middy-chaos/core'
import { CliError, describeError } from '@middy-chaos/experiment'
import type { APIGatewayProxyEvent, Context } from 'aws-lambda'

/** A Lambda handler as exported by a user's module. */
export type LambdaHandler = (event: unknown, context: Context) => unknown

/** API Gateway's answer when the function fails or answers in the wrong format. */
export const INTERNAL_SERVER_ERROR = '{"message": "Internal server error"}'
/** API Gateway REST's answer past its 29-second integration timeout. */
export const ENDPOINT_TIMED_OUT = '{"message": "Endpoint request timed out"}'

/**
 * Imports a handler module (a built `.js`/`.mjs`/`.cjs`, or `.ts` with Node's
 * type stripping) and returns its export, as Lambda's `index.handler` does.
 */
export const loadHandler = async (
  modulePath: string,
  exportName = 'handler',
): Promise<LambdaHandler> => {
  const file = resolve(modulePath)
  try {
    await access(file)
  } catch {
    throw new CliError(`handler module not found: ${modulePath}`)
  }
  let mod: Record<string, unknown>
  try {
    mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>
  } catch (error) {
    throw new CliError(`cannot load handler module ${modulePath}: ${describeError(error)}`)
  }
  const fromDefault = mod.default as Record<string, unknown> | undefined
  const handler =
    mod[exportName] ??
    (typeof fromDefault === 'object' || typeof fromDefault === 'function'
      ? fromDefault?.[exportName]
      : undefined)
  if (typeof handler !== 'function') {
    const names = new Set(
      [
        ...Object.keys(mod),
        ...(fromDefault && typeof fromDefault === 'object' ? Object.keys(fromDefault) : []),
      ].filter((name) => name !== 'default' && name !== 'module.exports'),
    )
    throw new CliError(
      `handler module ${modulePath} has no function export "${exportName}" (exports: ${[...names].join(', ') || 'none'}); choose one with --export`,
    )
  }
  return handler as LambdaHandler
}

/** Options of {@link startServer}. */
export interface ServeOptions {
  handler: LambdaHandler
  port?: number
  host?: string
  /** The function's timeout in ms (Lambda's default: 3 s). */
  timeoutMs?: number
  /** API Gateway REST's integration timeout in ms (29 s). */
  integrationTimeoutMs?: number
  functionName?: string
  memoryMb?: number
  stage?: string
  region?: string
  /** Where runtime lines go (START/END/REPORT, errors, timeouts); default stdout. */
  log?: (line: string) => void
  /** Headers every answer carries besides API Gateway's (`serve`: {@link CACHE_WINDOW_HEADER}). */
  headers?: Readonly<Record<string, string>>
}

/** The cache window of the served function, s, in every answer: `experiment run` settles by it. */
export const CACHE_WINDOW_HEADER = 'x-middy-chaos-max-age'

export interface RunningServer {
  readonly url: string
  readonly port: number
  readonly server: Server
  close(): Promise<void>
}

const readBody = (request: IncomingMessage): Promise<Buffer> =>
  new Promise((resolveBody, reject) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => resolveBody(Buffer.concat(chunks)))
    request.on('error', reject)
  })

const requestTime = (date: Date): string => {
  const months = [
    'Jan',
    'Feb',
    'Mar',
    'Apr',
    'May',
    'Jun',
    'Jul',
    'Aug',
    'Sep',
    'Oct',
    'Nov',
    'Dec',
  ]
  const pad = (n: number) => String(n).padStart(2, '0')
  return `${pad(date.getUTCDate())}/${months[date.getUTCMonth()]}/${date.getUTCFullYear()}:${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`
}

const decodeUtf8 = new TextDecoder('utf-8', { fatal: true })

/**
 * The event API Gateway's REST API sends through a Lambda proxy integration
 * (payload format 1.0) for an HTTP request, on a `/{proxy+}` resource.
 */
export const buildProxyEvent = (
  request: IncomingMessage,
  body: Buffer,
  options: { stage: string; requestId: string; now?: Date },
): APIGatewayProxyEvent => {
  const now = options.now ?? new Date()
  const url = new URL(request.url ?? '/', 'http://localhost')
  const headers: Record<string, string> = {}
  const multiValueHeaders: Record<string, string[]> = {}
  for (let i = 0; i + 1 < request.rawHeaders.length; i += 2) {
    const name = request.rawHeaders[i] as string
    const value = request.rawHeaders[i + 1] as string
    headers[name] = value
    multiValueHeaders[name] = [...(multiValueHeaders[name] ?? []), value]
  }
  let queryStringParameters: Record<string, string> | null = null
  let multiValueQueryStringParameters: Record<string, string[]> | null = null
  for (const [key, value] of url.searchParams) {
    queryStringParameters ??= {}
    multiValueQueryStringParameters ??= {}
    queryStringParameters[key] = value
    multiValueQueryStringParameters[key] = [...(multiValueQueryStringParameters[key] ?? []), value]
  }
  let path = url.pathname
  try {
    path = decodeURIComponent(url.pathname)
  } catch {
    // keep the raw path
  }
  let eventBody: string | null = null
  let isBase64Encoded = false
  if (body.length > 0) {
    try {
      eventBody = decodeUtf8.decode(body)
    } catch {
      eventBody = body.toString('base64')
      isBase64Encoded = true
    }
  }
  const method = request.method ?? 'GET'
  const resource = path === '/' ? '/' : '/{proxy+}'
  const header = (name: string) => request.headers[name.toLowerCase()] as string | undefined
  return {
    resource,
    path,
    httpMethod: method,
    headers,
    multiValueHeaders,
    queryStringParameters,
    multiValueQueryStringParameters,
    pathParameters: path === '/' ? null : { proxy: path.slice(1) },
    stageVariables: null,
    requestContext: {
      accountId: '123456789012',
      apiId: 'local',
      resourceId: 'local',
      resourcePath: resource,
      httpMethod: method,
      path: `/${options.stage}${path}`,
      stage: options.stage,
      protocol: `HTTP/${request.httpVersion}`,
      requestId: options.requestId,
      extendedRequestId: options.requestId,
      requestTime: requestTime(now),
      requestTimeEpoch: now.getTime(),
      domainName: header('host') ?? 'localhost',
      domainPrefix: (header('host') ?? 'localhost').split('.')[0] ?? 'localhost',
      authorizer: null,
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: request.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '127.0.0.1',
        user: null,
        userAgent: header('user-agent') ?? null,
        userArn: null,
      },
    },
    body: eventBody,
    isBase64Encoded,
  }
}

/** A Lambda context whose `getRemainingTimeInMillis()` counts down to the invocation's deadline. */
export const buildContext = (options: {
  requestId: string
  functionName: string
  memoryMb: number
  region: string
  deadline: number
}): Context => ({
  callbackWaitsForEmptyEventLoop: true,
  functionName: options.functionName,
  functionVersion: '$LATEST',
  invokedFunctionArn: `arn:aws:lambda:${options.region}:123456789012:function:${options.functionName}`,
  memoryLimitInMB: String(options.memoryMb),
  awsRequestId: options.requestId,
  logGroupName: `/aws/lambda/${options.functionName}`,
  logStreamName: `${new Date().toISOString().slice(0, 10).replace(/-/g, '/')}/[$LATEST]local`,
  getRemainingTimeInMillis: () => Math.max(0, options.deadline - Date.now()),
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
})

type Outcome =
  | { kind: 'result'; value: unknown }
  | { kind: 'error'; error: unknown }
  | { kind: 'timeout' }
  | { kind: 'integration-timeout' }

/** An HTTP answer in the Lambda proxy integration's response format. */
interface HttpAnswer {
  statusCode: number
  headers: Record<string, string[]>
  body: Buffer
}

const isScalar = (value: unknown) =>
  typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'

/**
 * Reads a handler's result as API Gateway REST does: an object with an integer
 * `statusCode`, optional `headers` / `multiValueHeaders` of scalars, a string
 * `body` and `isBase64Encoded`. Returns why it is malformed otherwise.
 */
export const readProxyResult = (result: unknown): HttpAnswer | { malformed: string } => {
  if (!isRecord(result)) {
    return {
      malformed: `the response is ${result === null ? 'null' : Array.isArray(result) ? 'an array' : typeof result}, not an object`,
    }
  }
  const statusCode =
    typeof result.statusCode === 'string' && /^\d{3}$/.test(result.statusCode)
      ? Number(result.statusCode)
      : result.statusCode
  if (
    typeof statusCode !== 'number' ||
    !Number.isInteger(statusCode) ||
    statusCode < 100 ||
    statusCode > 599
  ) {
    return { malformed: `invalid status code ${JSON.stringify(result.statusCode) ?? 'undefined'}` }
  }
  const headers: Record<string, string[]> = {}
  if (result.headers !== undefined && result.headers !== null) {
    if (!isRecord(result.headers)) return { malformed: 'headers must be an object' }
    for (const [name, value] of Object.entries(result.headers)) {
      if (!isScalar(value)) return { malformed: `header ${name} must be a string` }
      headers[name.toLowerCase()] = [String(value)]
    }
  }
  if (result.multiValueHeaders !== undefined && result.multiValueHeaders !== null) {
    if (!isRecord(result.multiValueHeaders))
      return { malformed: 'multiValueHeaders must be an object' }
    for (const [name, values] of Object.entries(result.multiValueHeaders)) {
      if (!Array.isArray(values) || !values.every(isScalar)) {
        return { malformed: `multiValueHeaders.${name} must be an array of strings` }
      }
      const key = name.toLowerCase()
      headers[key] = [...(headers[key] ?? []), ...values.map(String)]
    }
  }
  if (result.body !== undefined && result.body !== null && typeof result.body !== 'string') {
    return {
      malformed: `body must be a string, not ${Array.isArray(result.body) ? 'an array' : typeof result.body}`,
    }
  }
  if (result.isBase64Encoded !== undefined && typeof result.isBase64Encoded !== 'boolean') {
    return { malformed: 'isBase64Encoded must be true or false' }
  }
  const text = (result.body as string | null | undefined) ?? ''
  return {
    statusCode,
    headers,
    body: result.isBase64Encoded === true ? Buffer.from(text, 'base64') : Buffer.from(text, 'utf8'),
  }
}

const gatewayError = (statusCode: number, body: string, type: string): HttpAnswer => ({
  statusCode,
  headers: {
    'content-type': ['application/json'],
    'x-amzn-errortype': [type],
  },
  body: Buffer.from(body, 'utf8'),
})

/**
 * Serves a Lambda handler on localhost the way API Gateway's REST API with a
 * Lambda proxy integration does: each HTTP request becomes a v1 proxy event
 * and a Lambda context; the handler's `statusCode`, headers and body are the
 * answer; an error, a malformed response or a timeout gives
 * `502 {"message": "Internal server error"}`.
 *
 * Unlike Lambda, a timed-out invocation cannot be frozen: its promise keeps
 * running in the background and its result is dropped.
 *
 * @example
 * ```ts
 * const server = await startServer({ handler: await loadHandler('lib/index.js'), port: 3000 })
 * console.log(server.url) // http://127.0.0.1:3000/
 * ```
 */
export const startServer = async (options: ServeOptions): Promise<RunningServer> => {
  const host = options.host ?? '127.0.0.1'
  const timeoutMs = options.timeoutMs ?? 3000
  const integrationTimeoutMs = options.integrationTimeoutMs ?? 29_000
  const functionName = options.functionName ?? 'local-function'
  const memoryMb = options.memoryMb ?? 128
  const stage = options.stage ?? 'local'
  const region = options.region ?? process.env.AWS_REGION ?? 'us-east-1'
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`))
  const safeLog = (line: string) => {
    try {
      log(line)
    } catch {
      // logging must not break serving
    }
  }

  const invoke = async (event: APIGatewayProxyEvent, requestId: string): Promise<Outcome> => {
    const start = Date.now()
    const context = buildContext({
      requestId,
      functionName,
      memoryMb,
      region,
      deadline: start + timeoutMs,
    })
    let timer: NodeJS.Timeout | undefined
    const limit = Math.min(timeoutMs, integrationTimeoutMs)
    const timeout = new Promise<Outcome>((resolveTimeout) => {
      timer = setTimeout(
        () =>
          resolveTimeout({
            kind: timeoutMs <= integrationTimeoutMs ? 'timeout' : 'integration-timeout',
          }),
        limit,
      )
    })
    const run = (async (): Promise<Outcome> => {
      try {
        return { kind: 'result', value: await options.handler(event, context) }
      } catch (error) {
        return { kind: 'error', error }
      }
    })()
    const outcome = await Promise.race([run, timeout])
    clearTimeout(timer)
    return outcome
  }

  const answer = (response: ServerResponse, reply: HttpAnswer, requestId: string) => {
    if (response.writableEnded) return
    const headers: Record<string, string | string[]> = {
      'x-amzn-requestid': requestId,
      'x-amz-apigw-id': requestId.slice(0, 16),
      ...options.headers,
    }
    for (const [name, values] of Object.entries(reply.headers)) {
      headers[name] = values.length === 1 ? (values[0] as string) : values
    }
    headers['content-length'] = String(reply.body.length)
    response.writeHead(reply.statusCode, headers)
    response.end(reply.body)
  }

  const handleRequest = async (request: IncomingMessage, response: ServerResponse) => {
    const requestId = randomUUID()
    try {
      const body = await readBody(request)
      const event = buildProxyEvent(request, body, { stage, requestId })
      const started = performance.now()
      safeLog(`START RequestId: ${requestId} Version: $LATEST`)
      const outcome = await invoke(event, requestId)
      const duration = performance.now() - started
      let reply: HttpAnswer
      switch (outcome.kind) {
        case 'result': {
          const read = readProxyResult(outcome.value)
          if ('malformed' in read) {
            safeLog(
              `${new Date().toISOString()}\t${requestId}\tERROR\tExecution failed due to configuration error: Malformed Lambda proxy response (${read.malformed})`,
            )
            reply = gatewayError(502, INTERNAL_SERVER_ERROR, 'InternalServerErrorException')
          } else reply = read
          break
        }
        case 'error': {
          const error = outcome.error
          const errorType = error instanceof Error ? error.name : typeof error
          const errorMessage = error instanceof Error ? error.message : String(error)
          safeLog(
            `${new Date().toISOString()}\t${requestId}\tERROR\tInvoke Error \t${JSON.stringify({ errorType, errorMessage })}`,
          )
          reply = gatewayError(502, INTERNAL_SERVER_ERROR, 'InternalServerErrorException')
          break
        }
        case 'timeout':
          safeLog(
            `${new Date().toISOString()} ${requestId} Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds`,
          )
          reply = gatewayError(502, INTERNAL_SERVER_ERROR, 'InternalServerErrorException')
          break
        case 'integration-timeout':
          safeLog(
            `${new Date().toISOString()}\t${requestId}\tERROR\tExecution failed due to a timeout error (API Gateway integration timeout ${integrationTimeoutMs} ms)`,
          )
          reply = gatewayError(504, ENDPOINT_TIMED_OUT, 'IntegrationTimeoutException')
          break
      }
      safeLog(`END RequestId: ${requestId}`)
      safeLog(
        `REPORT RequestId: ${requestId}\tDuration: ${duration.toFixed(2)} ms\tBilled Duration: ${Math.ceil(duration)} ms\tMemory Size: ${memoryMb} MB\tMax Memory Used: ${Math.round(process.memoryUsage().rss / 1_048_576)} MB`,
      )
      answer(response, reply, requestId)
    } catch (error) {
      safeLog(
        `${new Date().toISOString()}\t${requestId}\tERROR\tlocal gateway error: ${describeError(error)}`,
      )
      answer(
        response,
        gatewayError(500, INTERNAL_SERVER_ERROR, 'InternalServerErrorException'),
        requestId,
      )
    }
  }

  const server = createServer((request, response) => {
    void handleRequest(request, response)
  })
  await new Promise<void>((resolveListen, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.off('listening', onListening)
      if (error.code === 'EADDRINUSE') {
        reject(
          new CliError(
            `port ${options.port} is already in use on ${host}; choose another with --port`,
          ),
        )
      } else if (error.code === 'EACCES') {
        reject(
          new CliError(
            `not allowed to listen on ${host}:${options.port}; choose a port above 1024 with --port`,
          ),
        )
      } else {
        reject(new CliError(`cannot listen on ${host}:${options.port}: ${describeError(error)}`))
      }
    }
    const onListening = () => {
      server.off('error', onError)
      resolveListen()
    }
    server.once('error', onError)
    server.once('listening', onListening)
    server.listen(options.port ?? 3000, host)
  })
  const { port } = server.address() as AddressInfo
  const shownHost = host.includes(':') ? `[${host}]` : host
  return {
    url: `http://${shownHost}:${port}/`,
    port,
    server,
    close: () =>
      new Promise<void>((resolveClose) => {
        server.close(() => resolveClose())
        server.closeAllConnections()
      }),
  }
}
