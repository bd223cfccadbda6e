/**
 * What the service would have answered: an injected service error is an HTTP
 * error response in the client's own wire protocol, handed to the client's own
 * deserializer, so the error your code and the SDK's retry strategy see is the
 * one the SDK makes (its modeled class, `instanceof` the client's
 * `ServiceException`, `$fault`, `$metadata` with a request id, `$retryable`
 * where the service models it, `$response`). Network failures are thrown as the
 * SDK's Node.js HTTP handler throws them.
 *
 * JSON protocols (`awsJson1_0`: DynamoDB, CloudWatch, SQS…; `awsJson1_1`: SSM,
 * Secrets Manager, Lambda's control plane, Kinesis…; `restJson1`: Lambda,
 * AppConfig, API Gateway…) are answered on the wire. For the others (`restXml`:
 * S3; `awsQuery`: SNS, STS; `ec2Query`; `rpcv2Cbor`) the error is built the way
 * the SDK builds an error it has no class for (an `Error` with `name`,
 * `$fault`, `$metadata`): its retry strategy classifies it the same way.
 *
 * @module
 */
import { randomUUID } from 'node:crypto'
import { INJECTED, type NetworkErrorCode, networkError } from '@middy-chaos/core'

/** The header an injected response carries, so that `error.$response.headers` tells it apart. */
export const INJECTED_HEADER = 'x-middy-chaos-injected'

/** The protocols whose error responses are written on the wire, and their content type. */
const JSON_PROTOCOLS: Readonly<Record<string, string>> = {
  'aws.protocols#awsJson1_0': 'application/x-amz-json-1.0',
  'aws.protocols#awsJson1_1': 'application/x-amz-json-1.1',
  'aws.protocols#restJson1': 'application/json',
}

/** The part of a client's resolved config read here (SDK v3 clients with schema serde, 2025 on). */
export interface ProtocolLike {
  getShapeId?(): string
  awsQueryCompatible?: boolean
}

/** An HTTP response as the SDK's HTTP handlers return it (`HttpResponse` is duck-typed by the SDK). */
export interface SdkHttpResponse {
  statusCode: number
  reason?: string
  headers: Record<string, string>
  body: Uint8Array
}

/** The content type of an error response for a client, or `undefined` when it is not a JSON protocol. */
export const jsonContentType = (
  protocol: ProtocolLike | undefined,
  requestHeaders: Readonly<Record<string, string>> | undefined,
): string | undefined => {
  const shapeId = protocol?.getShapeId?.()
  if (shapeId !== undefined) return JSON_PROTOCOLS[shapeId]
  // Clients from before schema serde: their JSON RPC requests say so.
  const contentType = requestHeaders?.['content-type'] ?? requestHeaders?.['Content-Type']
  return contentType?.startsWith('application/x-amz-json-1.') ? contentType : undefined
}

/**
 * The error response a JSON-protocol service sends: the error type in
 * `x-amzn-ErrorType` and in the body's `__type`, the message in the body, a
 * request id, and for query-compatible services (SQS, CloudWatch) the query
 * error code.
 */
export const errorResponse = (
  contentType: string,
  error: { name: string; message: string; httpStatusCode: number },
  protocol: ProtocolLike | undefined,
): SdkHttpResponse => {
  const headers: Record<string, string> = {
    'content-type': contentType,
    'x-amzn-errortype': error.name,
    'x-amzn-requestid': randomUUID(),
    [INJECTED_HEADER]: 'true',
  }
  if (protocol?.awsQueryCompatible === true)
    headers['x-amzn-query-error'] =
      `${error.name};${error.httpStatusCode >= 500 ? 'Receiver' : 'Sender'}`
  return {
    statusCode: error.httpStatusCode,
    headers,
    body: Buffer.from(JSON.stringify({ __type: error.name, message: error.message })),
  }
}

/**
 * A service error built as the SDK builds one it has no modeled class for,
 * for protocols not answered on the wire.
 */
export const serviceError = (error: {
  name: string
  message: string
  httpStatusCode: number
}): Error => {
  const requestId = randomUUID()
  const built = Object.assign(new Error(error.message), {
    name: error.name,
    $fault: error.httpStatusCode >= 500 ? 'server' : 'client',
    $metadata: {
      httpStatusCode: error.httpStatusCode,
      requestId,
      extendedRequestId: undefined,
      cfId: undefined,
    },
  })
  Object.defineProperty(built, '$response', {
    value: {
      statusCode: error.httpStatusCode,
      headers: { 'x-amzn-requestid': requestId, [INJECTED_HEADER]: 'true' },
      body: new Uint8Array(),
    },
    enumerable: false,
  })
  Object.defineProperty(built, INJECTED, { value: true })
  return built
}

/** Node.js codes that `@smithy/node-http-handler` reports with the name `TimeoutError`. */
const RENAMED_BY_HANDLER: ReadonlySet<string> = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT'])

/**
 * A network failure as the SDK's Node.js HTTP handler throws it: Node's own
 * error for the code (`connect ECONNREFUSED host:port`, `read ECONNRESET`),
 * renamed `TimeoutError` for the codes the handler renames; `TimeoutError`
 * alone is the handler's request timeout.
 */
export const transportError = (
  code: NetworkErrorCode | 'TimeoutError',
  target: { host: string; port?: number; timeoutMs: number },
): Error => {
  if (code === 'TimeoutError') {
    const error = Object.assign(
      new Error(
        `@smithy/node-http-handler - [ERROR] a request has exceeded the configured ${target.timeoutMs} ms requestTimeout.`,
      ),
      { name: 'TimeoutError', code: 'ETIMEDOUT' },
    )
    Object.defineProperty(error, INJECTED, { value: true })
    return error
  }
  const error = networkError(code, target)
  if (RENAMED_BY_HANDLER.has(code)) error.name = 'TimeoutError'
  return error
}
