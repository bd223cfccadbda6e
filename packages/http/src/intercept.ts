/**
 * Where outbound HTTP requests are caught, before they leave the process:
 *
 * - `fetch` (and anything else using undici's global dispatcher): the global
 *   dispatcher (`Symbol.for('undici.globalDispatcher.1')`) is wrapped, so an
 *   affected request is answered, failed or delayed through undici's own
 *   handler: `fetch` rejects with its usual `TypeError: fetch failed` whose
 *   `cause` is the network error. `globalThis.fetch` is wrapped too, for a
 *   call that passes its own `dispatcher` (`fetch(url, { dispatcher })`):
 *   that dispatcher is wrapped the same way for the call.
 * - `node:http` and `node:https` (`request`, `get`, any agent, the AWS SDK's
 *   Node.js HTTP handler): `http.Agent.prototype.addRequest`, through which
 *   every request with an agent gets its socket. An affected request gets a
 *   socket that fails as a real one would (`error` on the request with Node's
 *   own error), never answers, or answers with a status, parsed by Node's own
 *   HTTP parser; a delayed one gets its real socket late.
 *
 * All are installed when an invocation's fault fires and restored exactly
 * (the same dispatcher object, the same property descriptors) when the last
 * invocation holding such a fault ends. Requests of other invocations, or made
 * outside any invocation, go through untouched.
 *
 * @module
 */
import { Agent } from 'node:http'
import { Duplex } from 'node:stream'
import { INJECTED, type NetworkErrorCode, networkError } from '@middy-chaos/core'

/** What happens to an affected request. */
export interface Outcome {
  /** `undefined`: the request goes on, late by `delay`. */
  readonly fault?: 'refused' | 'reset' | 'dns' | 'timeout' | 'status'
  /** ms before the outcome (for `timeout`, how long the request hangs). */
  readonly delay: number
  readonly statusCode?: number
  readonly body?: string
  readonly headers?: Readonly<Record<string, string>>
  /** Called once when the delay is over (the outcome comes, or the request is given up): ends its trace. */
  readonly delayEnded?: () => void
}

/** A request's target, and the X-Ray trace header of its subsegment when the X-Ray SDK set one. */
export interface Target {
  readonly host: string
  readonly port: number
  readonly traceHeader?: string
}

/** Decides, for a request to `host:port`, whether and how it is affected. */
export type Decide = (target: Target) => Outcome | undefined

const CODE: Record<'refused' | 'reset' | 'dns', NetworkErrorCode> = {
  refused: 'ECONNREFUSED',
  reset: 'ECONNRESET',
  dns: 'ENOTFOUND',
}

/** The reason phrase of a status, for the status line. */
const reason = (status: number): string => {
  const phrases: Record<number, string> = {
    200: 'OK',
    400: 'Bad Request',
    403: 'Forbidden',
    404: 'Not Found',
    429: 'Too Many Requests',
    500: 'Internal Server Error',
    502: 'Bad Gateway',
    503: 'Service Unavailable',
    504: 'Gateway Timeout',
  }
  return phrases[status] ?? 'Injected'
}

const responseHeaders = (outcome: Outcome, body: Buffer): [string, string][] => {
  const headers: [string, string][] = Object.entries(outcome.headers ?? {})
  if (!headers.some(([name]) => name.toLowerCase() === 'content-type'))
    headers.push(['content-type', 'application/json'])
  headers.push(['content-length', String(body.length)], ['x-middy-chaos-injected', 'true'])
  return headers
}

// ---------------------------------------------------------------------------
// node:http, node:https

/**
 * A socket handed to a `ClientRequest` in place of a real one: Node's HTTP
 * client writes the request into it and parses what it answers.
 */
class FaultSocket extends Duplex {
  public connecting: boolean
  public readonly remoteAddress: string
  public readonly remotePort: number
  #answered = false
  #timer: NodeJS.Timeout | undefined
  #idle: NodeJS.Timeout | undefined
  readonly #outcome: Outcome

  public constructor(outcome: Outcome, target: { host: string; port: number }) {
    super()
    this.#outcome = outcome
    this.remoteAddress = target.host
    this.remotePort = target.port
    // A black hole never connects; the other outcomes follow a connection that was made.
    this.connecting =
      outcome.fault === 'timeout' || outcome.fault === 'refused' || outcome.fault === 'dns'
    const fail = (code: NetworkErrorCode) => () => this.destroy(networkError(code, target))
    if (outcome.fault === 'timeout')
      this.#timer = setTimeout(() => {
        outcome.delayEnded?.()
        fail('ETIMEDOUT')()
      }, outcome.delay)
    // After the request has taken the socket (`onSocket` attaches its listeners on the next tick).
    else if (outcome.fault === 'refused' || outcome.fault === 'dns')
      setImmediate(fail(CODE[outcome.fault]))
  }

  public override _read(): void {}

  public override _write(_: unknown, __: BufferEncoding, callback: (error?: Error) => void): void {
    callback()
    if (this.#answered) return
    this.#answered = true
    const outcome = this.#outcome
    if (outcome.fault === 'reset') {
      process.nextTick(() => this.destroy(networkError('ECONNRESET', { host: this.remoteAddress })))
    } else if (outcome.fault === 'status') {
      const body = Buffer.from(outcome.body ?? '')
      const status = outcome.statusCode ?? 503
      const head = [
        `HTTP/1.1 ${status} ${reason(status)}`,
        ...responseHeaders(outcome, body).map(([name, value]) => `${name}: ${value}`),
        'connection: close',
        '',
        '',
      ].join('\r\n')
      this.push(Buffer.concat([Buffer.from(head), body]))
      this.push(null)
    }
  }

  public override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (this.#outcome.fault === 'timeout') this.#outcome.delayEnded?.()
    clearTimeout(this.#timer)
    clearTimeout(this.#idle)
    callback(error)
  }

  /** As `net.Socket#setTimeout`: `timeout` after `ms` without the socket closing. */
  public setTimeout(ms: number, listener?: () => void): this {
    clearTimeout(this.#idle)
    if (listener) this.once('timeout', listener)
    if (ms > 0) this.#idle = setTimeout(() => this.emit('timeout'), ms)
    return this
  }

  public setNoDelay(): this {
    return this
  }

  public setKeepAlive(): this {
    return this
  }

  public ref(): this {
    return this
  }

  public unref(): this {
    return this
  }

  public destroySoon(): void {
    this.end()
    this.destroy()
  }

  public address(): { address: string; port: number } {
    return { address: this.remoteAddress, port: this.remotePort }
  }
}

type AddRequest = (this: Agent, request: unknown, options: Record<string, unknown>) => void
type ClientRequestLike = {
  destroyed?: boolean
  onSocket(socket: unknown): void
  getHeader?(name: string): unknown
}

let agentDescriptor: PropertyDescriptor | undefined
let agentWrapper: AddRequest | undefined

const installAgent = (decide: Decide): void => {
  if (agentWrapper !== undefined) return
  const descriptor = Object.getOwnPropertyDescriptor(Agent.prototype, 'addRequest')
  const original = descriptor?.value as AddRequest | undefined
  if (descriptor === undefined || typeof original !== 'function') return
  agentDescriptor = descriptor
  agentWrapper = function chaosAddRequest(this: Agent, request, options) {
    const host = String(options.host ?? options.hostname ?? 'localhost')
    const port = Number(options.port ?? (this as { defaultPort?: number }).defaultPort ?? 80)
    const req = request as ClientRequestLike
    // Set by the X-Ray SDK's http patch (Tracer's captureHTTPsRequests): names the request's subsegment.
    const header = req.getHeader?.('x-amzn-trace-id')
    const outcome = decide({
      host,
      port,
      ...(typeof header === 'string' ? { traceHeader: header } : {}),
    })
    if (outcome === undefined) return original.call(this, request, options)
    const deliver = () => {
      if (outcome.fault !== 'timeout') outcome.delayEnded?.()
      if (req.destroyed) return
      if (outcome.fault === undefined) return original.call(this, request, options)
      const socket = new FaultSocket(outcome, { host, port })
      if (typeof options.timeout === 'number') socket.setTimeout(options.timeout)
      req.onSocket(socket)
    }
    const delay = outcome.fault === 'timeout' ? 0 : outcome.delay
    if (delay > 0) setTimeout(deliver, delay)
    else deliver()
  }
  Object.defineProperty(Agent.prototype, 'addRequest', { ...descriptor, value: agentWrapper })
}

const uninstallAgent = (): void => {
  if (agentWrapper === undefined || agentDescriptor === undefined) return
  // Restored only if nobody wrapped it since; otherwise ours stays, passing everything through.
  if (Object.getOwnPropertyDescriptor(Agent.prototype, 'addRequest')?.value !== agentWrapper) return
  Object.defineProperty(Agent.prototype, 'addRequest', agentDescriptor)
  agentWrapper = undefined
  agentDescriptor = undefined
}

// ---------------------------------------------------------------------------
// fetch (undici's global dispatcher)

const DISPATCHER = Symbol.for('undici.globalDispatcher.1')

type Dispatcher = { dispatch(options: DispatchOptions, handler: DispatchHandler): boolean }
type DispatchOptions = { origin?: string | URL }
type DispatchHandler = {
  onConnect?(abort: (reason?: unknown) => void): void
  onResponseStarted?(): void
  onHeaders?(status: number, headers: Buffer[], resume: () => void, statusText: string): boolean
  onData?(chunk: Buffer): boolean
  onComplete?(trailers: Buffer[]): void
  onError?(error: Error): void
}

const globals = globalThis as unknown as Record<symbol, Dispatcher | undefined>
let dispatcherOriginal: Dispatcher | undefined
let dispatcherWrapper: Dispatcher | undefined

/** undici's error when a connection is not made in time, as `fetch` reports it in `cause`. */
const connectTimeout = (host: string, port: number, ms: number): Error => {
  const error = Object.assign(
    new Error(`Connect Timeout Error (attempted address: ${host}:${port}, timeout: ${ms}ms)`),
    { name: 'ConnectTimeoutError', code: 'UND_ERR_CONNECT_TIMEOUT' },
  )
  Object.defineProperty(error, INJECTED, { value: true })
  return error
}

const targetOf = (origin: string | URL | undefined): { host: string; port: number } | undefined => {
  if (origin === undefined) return undefined
  try {
    const url = typeof origin === 'string' ? new URL(origin) : origin
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1')
    return { host, port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)) }
  } catch {
    return undefined
  }
}

/** Plays an outcome through undici's handler, as its client would. */
const play = (
  outcome: Outcome,
  target: { host: string; port: number },
  handler: DispatchHandler,
  proceed: () => void,
): void => {
  let timer: NodeJS.Timeout | undefined
  let done = false
  const fail = (error: Error) => {
    if (done) return
    done = true
    clearTimeout(timer)
    outcome.delayEnded?.()
    handler.onError?.(error)
  }
  const run = () => {
    if (done) return
    outcome.delayEnded?.()
    switch (outcome.fault) {
      case undefined:
        done = true
        return proceed()
      case 'refused':
      case 'reset':
      case 'dns':
        return fail(networkError(CODE[outcome.fault], target))
      case 'timeout':
        return fail(connectTimeout(target.host, target.port, outcome.delay))
      case 'status': {
        done = true
        const body = Buffer.from(outcome.body ?? '')
        const status = outcome.statusCode ?? 503
        handler.onResponseStarted?.()
        const raw = responseHeaders(outcome, body).flatMap(([name, value]) => [
          Buffer.from(name),
          Buffer.from(value),
        ])
        handler.onHeaders?.(status, raw, () => undefined, reason(status))
        if (body.length > 0) handler.onData?.(body)
        handler.onComplete?.([])
      }
    }
  }
  // The request may be aborted while it waits (a caller's AbortSignal, its own timeout).
  if (outcome.fault !== undefined)
    handler.onConnect?.((why) => fail(why instanceof Error ? why : new Error(String(why))))
  timer = setTimeout(run, outcome.delay)
}

/** The dispatchers this module made, never wrapped twice. */
const ours = new WeakSet<object>()

/** `original`, its requests decided by `decide`: affected ones played, the others dispatched by it. */
const intercept = (original: Dispatcher, decide: Decide): Dispatcher => {
  const dispatch = (options: DispatchOptions, handler: DispatchHandler): boolean => {
    const target = targetOf(options.origin)
    const outcome = target === undefined ? undefined : decide(target)
    // A handler of an API this code does not know goes through untouched.
    if (
      outcome === undefined ||
      target === undefined ||
      typeof handler.onHeaders !== 'function' ||
      typeof handler.onError !== 'function'
    )
      return original.dispatch(options, handler)
    play(outcome, target, handler, () => original.dispatch(options, handler))
    return true
  }
  const wrapper = new Proxy(original, {
    get(target, key) {
      if (key === 'dispatch') return dispatch
      const value = Reflect.get(target, key, target)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
  ours.add(wrapper)
  return wrapper
}

const installDispatcher = (decide: Decide): void => {
  if (dispatcherWrapper !== undefined) return
  if (globals[DISPATCHER] === undefined) {
    // Node.js creates the global dispatcher on the first fetch; a data: URL never leaves the process.
    try {
      void globalThis.fetch?.('data:,').catch(() => undefined)
    } catch {
      // no fetch: nothing to wrap
    }
  }
  const original = globals[DISPATCHER]
  if (original === undefined || typeof original.dispatch !== 'function') return
  dispatcherOriginal = original
  dispatcherWrapper = intercept(original, decide)
  globals[DISPATCHER] = dispatcherWrapper
}

const uninstallDispatcher = (): void => {
  if (dispatcherWrapper === undefined) return
  // Restored only if nobody set another dispatcher since; theirs is left alone.
  if (globals[DISPATCHER] === dispatcherWrapper) globals[DISPATCHER] = dispatcherOriginal
  dispatcherWrapper = undefined
  dispatcherOriginal = undefined
}

// ---------------------------------------------------------------------------
// fetch with its own dispatcher (`fetch(url, { dispatcher })`)

type FetchLike = (this: unknown, ...args: unknown[]) => unknown

let fetchDescriptor: PropertyDescriptor | undefined
let fetchWrapper: FetchLike | undefined
/** The wrapper of each dispatcher a call passed, for as long as the interceptors are installed. */
let ownDispatchers = new WeakMap<Dispatcher, Dispatcher>()

const isDispatcher = (value: unknown): value is Dispatcher =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as { dispatch?: unknown }).dispatch === 'function'

const installGlobalFetch = (decide: Decide): void => {
  if (fetchWrapper !== undefined) return
  const descriptor = Object.getOwnPropertyDescriptor(globalThis, 'fetch')
  const original = globalThis.fetch as unknown as FetchLike | undefined
  if (descriptor === undefined || descriptor.configurable !== true) return
  if (typeof original !== 'function') return
  fetchDescriptor = descriptor
  fetchWrapper = function fetch(this: unknown, ...args: unknown[]) {
    const [input, init] = args
    const own = (init as { dispatcher?: unknown } | null | undefined)?.dispatcher
    // No dispatcher of its own: the global one, wrapped, decides.
    if (!isDispatcher(own) || ours.has(own)) return original.apply(this, args)
    let wrapped = ownDispatchers.get(own)
    if (wrapped === undefined) {
      wrapped = intercept(own, decide)
      ownDispatchers.set(own, wrapped)
    }
    // The caller's init, read through as it is, with the wrapped dispatcher in place of its own.
    const replaced = Object.create(init as object, {
      dispatcher: { value: wrapped, enumerable: true, writable: true, configurable: true },
    })
    return original.call(this, input, replaced, ...args.slice(2))
  }
  Object.defineProperty(globalThis, 'fetch', {
    configurable: true,
    enumerable: descriptor.enumerable ?? true,
    writable: true,
    value: fetchWrapper,
  })
}

const uninstallGlobalFetch = (): void => {
  if (fetchWrapper === undefined || fetchDescriptor === undefined) return
  // Restored only if nobody replaced it since; otherwise ours stays, passing everything through.
  if (Object.getOwnPropertyDescriptor(globalThis, 'fetch')?.value !== fetchWrapper) return
  Object.defineProperty(globalThis, 'fetch', fetchDescriptor)
  fetchWrapper = undefined
  fetchDescriptor = undefined
  ownDispatchers = new WeakMap()
}

/** Installs the interceptors (each once), deciding with `decide`. */
export const install = (decide: Decide): void => {
  installAgent(decide)
  installDispatcher(decide)
  installGlobalFetch(decide)
}

/** Restores what {@link install} changed. */
export const uninstall = (): void => {
  uninstallAgent()
  uninstallDispatcher()
  uninstallGlobalFetch()
}

/** Whether anything is installed now (for tests and the bench). */
export const installed = (): boolean =>
  agentWrapper !== undefined || dispatcherWrapper !== undefined || fetchWrapper !== undefined
