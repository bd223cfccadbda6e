/**
 * Network errors shaped as Node.js makes them (`connect ECONNREFUSED
 * 10.0.0.1:443`, `getaddrinfo ENOTFOUND api.example.com`, with `errno`,
 * `code`, `syscall`, `address`, `port` or `hostname`), for the faults that
 * make a connection fail: code that inspects `error.code` or retries on it
 * (the AWS SDK classifies these codes as transient) sees what a real outage
 * gives it.
 *
 * @module
 */
import { getSystemErrorMap } from 'node:util'
import { INJECTED } from './errors.js'

/** The connection failures a fault can produce, by Node.js error code. */
export const NETWORK_ERROR_CODES = [
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
] as const

export type NetworkErrorCode = (typeof NETWORK_ERROR_CODES)[number]

/** The system call Node.js names in each error: a connect, a read, a write, or DNS. */
const SYSCALL: Record<NetworkErrorCode, 'connect' | 'read' | 'write' | 'getaddrinfo'> = {
  ECONNREFUSED: 'connect',
  ECONNRESET: 'read',
  ETIMEDOUT: 'connect',
  EPIPE: 'write',
  EHOSTUNREACH: 'connect',
  ENETUNREACH: 'connect',
  ENOTFOUND: 'getaddrinfo',
  EAI_AGAIN: 'getaddrinfo',
}

/** libuv's numbers for the DNS codes (`UV_EAI_NONAME`, `UV_EAI_AGAIN`); the others come from the platform. */
const DNS_ERRNO: Partial<Record<NetworkErrorCode, number>> = { ENOTFOUND: -3008, EAI_AGAIN: -3001 }

let errnos: Map<string, number> | undefined

const errnoOf = (code: NetworkErrorCode): number | undefined => {
  const dns = DNS_ERRNO[code]
  if (dns !== undefined) return dns
  if (errnos === undefined) {
    errnos = new Map()
    for (const [errno, [name]] of getSystemErrorMap()) errnos.set(name, errno)
  }
  return errnos.get(code)
}

/** Whether a string is one of {@link NETWORK_ERROR_CODES}. */
export const isNetworkErrorCode = (value: unknown): value is NetworkErrorCode =>
  typeof value === 'string' && (NETWORK_ERROR_CODES as readonly string[]).includes(value)

/**
 * An error as Node.js reports a failed connection to `host:port`, marked as
 * injected (`isInjectedError` is true; the mark is a non-enumerable symbol).
 *
 * @example
 * ```ts
 * networkError('ECONNREFUSED', { host: '10.0.0.1', port: 443 })
 * // Error: connect ECONNREFUSED 10.0.0.1:443 { errno: -111, code: 'ECONNREFUSED', syscall: 'connect', address: '10.0.0.1', port: 443 }
 * networkError('ENOTFOUND', { host: 'api.example.com' })
 * // Error: getaddrinfo ENOTFOUND api.example.com { errno: -3008, code: 'ENOTFOUND', syscall: 'getaddrinfo', hostname: 'api.example.com' }
 * ```
 */
export const networkError = (
  code: NetworkErrorCode,
  target: { host: string; port?: number },
): NodeJS.ErrnoException => {
  const syscall = SYSCALL[code]
  const where =
    syscall === 'getaddrinfo'
      ? ` ${target.host}`
      : syscall === 'connect'
        ? ` ${target.host}${target.port === undefined ? '' : `:${target.port}`}`
        : ''
  const error = new Error(`${syscall} ${code}${where}`) as NodeJS.ErrnoException &
    Record<string, unknown>
  const errno = errnoOf(code)
  if (errno !== undefined) error.errno = errno
  error.code = code
  error.syscall = syscall
  if (syscall === 'getaddrinfo') error.hostname = target.host
  else if (syscall === 'connect') {
    error.address = target.host
    if (target.port !== undefined) error.port = target.port
  }
  Object.defineProperty(error, INJECTED, { value: true })
  return error
}
