/**
 * What kind of HTTP request an event is, for faults that answer or alter HTTP
 * responses: API Gateway REST APIs (payload 1.0), HTTP APIs and function URLs
 * (payload 2.0), Application Load Balancers.
 *
 * @module
 */
import { createRequire } from 'node:module'
import { isRecord } from './util.js'

type HttpModule = typeof import('node:http')

let statusCodes: HttpModule['STATUS_CODES'] | undefined

/**
 * The reason phrase of a status code (`Service Unavailable` for 503), from
 * Node.js's own table, read without an ESM import of `node:http`: building
 * that module's namespace runs its lazy `WebSocket` and `EventSource` getters,
 * which load undici (10 to 50 ms of a cold start, for a status text).
 */
export const statusText = (statusCode: number): string | undefined => {
  statusCodes ??= (
    process.getBuiltinModule?.('node:http') ??
    (createRequire(import.meta.url)('node:http') as HttpModule)
  ).STATUS_CODES
  return statusCodes[statusCode]
}

/** An Application Load Balancer request: `requestContext.elb`. Its responses may carry `statusDescription`. */
export const isAlbEvent = (event: unknown): boolean =>
  isRecord(event) && isRecord(event.requestContext) && 'elb' in event.requestContext

/**
 * An API Gateway HTTP API (payload 2.0) or function URL request: `version: "2.0"`.
 * These accept a bare string or object as the response, answered as a 200 body.
 */
export const isHttpApiEvent = (event: unknown): boolean =>
  isRecord(event) && event.version === '2.0'

/** API Gateway REST (v1 proxy), HTTP API, function URL or ALB request. */
export const isHttpEvent = (event: unknown): boolean =>
  isHttpApiEvent(event) ||
  isAlbEvent(event) ||
  (isRecord(event) && typeof event.httpMethod === 'string')

/** `404 Not Found`: an ALB `statusDescription`. */
export const statusLine = (statusCode: number): string =>
  `${statusCode} ${statusText(statusCode) ?? 'Unknown'}`
