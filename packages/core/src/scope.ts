/**
 * Invocation scopes: what a fault decided for one invocation, seen by the code
 * that invocation runs (its AWS SDK calls, its outbound HTTP requests) and by
 * nothing else: not by a call made outside any invocation, not by another
 * invocation interleaved in the same process (a local server, Lambda Managed
 * Instances), not after the invocation, however it ends.
 *
 * A Middy `before` hook cannot wrap the handler in `AsyncLocalStorage.run`, so
 * {@link scopeInvocations} enters the scope with
 * `AsyncLocalStorage.enterWith`, synchronously, within its `before` hook.
 * Measured on Node 24 (AsyncContextFrame, `tests/unit/scope.test.ts`), this
 * reaches the handler whatever the position of the middleware in the chain:
 * first, after or before an asynchronous middleware, after Powertools Logger's
 * `injectLambdaContext`. An `enterWith` made later (after an `await`, in a
 * `.then` callback) would not reach the handler: when the decision has to wait
 * for the config store, the scope is entered first and the decision written
 * into it.
 *
 * When the middleware is reached synchronously from the code that invoked the
 * handler (chaos middleware first, no asynchronous middleware before it),
 * `enterWith` also reaches that caller's code from then on. A scope is
 * therefore only *active* while its invocation runs: it ends in the
 * middleware's `after` / `onError`, and is inert as soon as Middy records an
 * early answer (`request.earlyResponse`, from any middleware, in any phase) or
 * an error (`request.error`): so a later middleware answering early (status
 * code `preventExecution`, Powertools Idempotency from its cache) cannot leave
 * a fault on. An invocation that finds the scope of another one in its context
 * hides it. What remains: calls the invoking code makes itself, without
 * awaiting the invocation, while it runs. Lambda's runtime never does (it
 * awaits, and runs concurrent invocations each in its own context), nor does a
 * server invoking from its request callback. What could not be scoped is not
 * injected.
 *
 * @module
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import type { MiddlewareObj, Request } from '@middy/core'
import { provideScopes } from './middleware.js'
import type { ConfigSnapshot } from './source.js'
import { getConfigSource } from './sources.js'
import type { ChaosMiddlewareOptions, FaultDefinition } from './types.js'
import { withDefaults } from './util.js'

/**
 * One invocation's faults, as seen from the code it runs. `fault(type)` gives
 * the state a fault activated for this invocation while it runs, and
 * `undefined` otherwise.
 */
export class InvocationScope {
  /** Middy's request of the invocation. */
  public readonly request: Request
  #closed = false
  readonly #faults = new Map<string, unknown>()
  #onEnd: (() => void)[] | undefined

  public constructor(request: Request) {
    this.request = request
  }

  /** The invocation still runs: not ended, no early answer, no error recorded by Middy. */
  public get active(): boolean {
    return !this.#closed && !('earlyResponse' in this.request) && this.request.error === undefined
  }

  /** The state a fault type activated in this invocation, while it is active. */
  public fault<S>(type: string): S | undefined {
    return this.active ? (this.#faults.get(type) as S | undefined) : undefined
  }

  /** Whether the scope has ended (its `end` ran). An inert scope may not have ended yet. */
  public get ended(): boolean {
    return this.#closed
  }

  /** @internal */
  public activate(type: string, state: unknown, onEnd?: () => void): void {
    this.#faults.set(type, state)
    if (onEnd === undefined) return
    if (this.#onEnd === undefined) this.#onEnd = [watchEarlyAnswer(this)]
    this.#onEnd.push(onEnd)
  }

  /** @internal Ends the scope: inert for good, end callbacks run once. Never throws. */
  public end(): void {
    if (this.#closed) return
    this.#closed = true
    this.#faults.clear()
    const callbacks = this.#onEnd
    this.#onEnd = undefined
    for (const callback of callbacks ?? []) {
      try {
        callback()
      } catch {
        // An end callback restores what a fault changed; one failing must not stop the others.
      }
    }
  }
}

const storage = new AsyncLocalStorage<InvocationScope | undefined>()
const scopes = new WeakMap<object, InvocationScope>()

/**
 * The scope of the invocation whose code is running, if any. Interceptors (an
 * AWS SDK middleware, an HTTP agent) read it on every call and inject only when
 * it is active and holds their fault.
 *
 * @example
 * ```ts
 * const fault = currentScope()?.fault<MyFaultState>('my_fault')
 * if (fault === undefined) return next(args)
 * ```
 */
export const currentScope = (): InvocationScope | undefined => storage.getStore()

/** The scope opened for an invocation, if its middleware opened one. */
export const scopeOf = (request: Request): InvocationScope | undefined => scopes.get(request)

/** The request whose `before` hook is deciding synchronously: a fault activated for it gets a scope. */
let deciding: Request | undefined

/**
 * Writes a fault's state into its invocation's scope (from the fault's `run`),
 * and returns the scope. `onEnd` runs once when the invocation ends, however
 * it ends: in `after` or `onError`, or as soon as Middy records an early
 * answer from any middleware. Returns `undefined`, and activates nothing, when
 * the invocation has no scope (its fault definition has no `scope: 'calls'`):
 * a fault that cannot be scoped is not
 * injected.
 */
export const activateInScope = (
  request: Request,
  type: string,
  state: unknown,
  onEnd?: () => void,
): InvocationScope | undefined => {
  let scope = scopes.get(request)
  if (scope === undefined && deciding === request) {
    scope = new InvocationScope(request)
    scopes.set(request, scope)
  }
  if (scope === undefined || !scope.active) return undefined
  scope.activate(type, state, onEnd)
  return scope
}

/**
 * Middy answers early by assigning `request.response = request.earlyResponse`
 * and skipping the hooks left, ours included. Watching that assignment ends
 * the scope at once, so that what a fault installed for the invocation (an
 * HTTP interceptor) does not outlive it. The property is a plain data property
 * again once the scope ends.
 */
const watchEarlyAnswer = (scope: InvocationScope): (() => void) => {
  const request = scope.request as Request & Record<string, unknown>
  const descriptor = Object.getOwnPropertyDescriptor(request, 'response')
  if (descriptor === undefined || !('value' in descriptor) || !descriptor.configurable)
    return () => undefined
  let value = descriptor.value
  Object.defineProperty(request, 'response', {
    get: () => value,
    set: (next: unknown) => {
      value = next
      if ('earlyResponse' in request) scope.end()
    },
    enumerable: descriptor.enumerable ?? true,
    configurable: true,
  })
  return () => {
    Object.defineProperty(request, 'response', {
      value,
      writable: true,
      enumerable: descriptor.enumerable ?? true,
      configurable: true,
    })
  }
}

/** Ends an invocation's scope, if it has one. Never throws. */
export const endScope = (request: Request): void => {
  scopes.get(request)?.end()
}

const opened = (request: Request): InvocationScope => {
  let scope = scopes.get(request)
  if (scope === undefined) {
    scope = new InvocationScope(request)
    scopes.set(request, scope)
  }
  if (storage.getStore() !== scope) storage.enterWith(scope)
  return scope
}

/**
 * What `createFaultMiddleware` does for a fault with `scope: 'calls'`, one
 * that acts on the calls an invocation makes rather than on the invocation
 * itself (AWS SDK calls, outbound HTTP): its `plan` activates state with
 * {@link activateInScope}, and its interceptors read {@link currentScope}.
 * Around the fault's own middleware (`inner`), it enters the invocation's
 * scope in `before`, synchronously: once the fault has fired (the common
 * case: the config is cached and the decision synchronous), or first thing
 * while the config is still being fetched (the decision is then written into
 * it). Otherwise it hides the scope of any other invocation. It ends the scope
 * in `after` and `onError`.
 */
export const scopeInvocations = <P, O extends ChaosMiddlewareOptions>(
  definition: FaultDefinition<P, O>,
  userOptions: O,
  inner: MiddlewareObj,
): MiddlewareObj => {
  const source = getConfigSource(withDefaults(definition.defaults, userOptions))
  const types = new Set([definition.type, ...(definition.aliases ?? [])])
  let lastSnapshot: ConfigSnapshot | undefined
  let lastHasFault = false
  const mayHoldFault = (snapshot: ConfigSnapshot): boolean => {
    if (snapshot.inert) return false
    if (snapshot !== lastSnapshot) {
      lastSnapshot = snapshot
      lastHasFault = snapshot.document.faults.some((spec) => types.has(spec.type))
    }
    return lastHasFault
  }
  const innerBefore = inner.before
  const innerAfter = inner.after
  const innerOnError = inner.onError
  const name = innerBefore?.name ?? `chaos${definition.type}Before`

  /** Hides the scope of another invocation: never run inside it. */
  const hide = (request: Request, visible: InvocationScope | undefined): void => {
    if (visible !== undefined && visible.request !== request) storage.enterWith(undefined)
  }
  const before = (request: Request): unknown => {
    const snapshot = source.snapshotFor(request)
    if (snapshot instanceof Promise) {
      // Decided later: the scope is entered now, and the decision written into it.
      opened(request)
      return innerBefore?.(request)
    }
    const visible = storage.getStore()
    if (!mayHoldFault(snapshot)) {
      hide(request, visible)
      return innerBefore?.(request)
    }
    // Decided now: a scope is made only if the fault fires, and entered before Middy goes on.
    const previous = deciding
    deciding = request
    let result: unknown
    try {
      result = innerBefore?.(request)
    } finally {
      deciding = previous
    }
    const scope = scopes.get(request)
    // Deciding goes on (the fault's code is still loading, on its first live config): the
    // scope is entered now, and the decision written into it, as when the config is in flight.
    if (scope === undefined && result instanceof Promise) opened(request)
    else if (scope === undefined) hide(request, visible)
    else if (visible !== scope) storage.enterWith(scope)
    return result
  }
  const ending =
    (hook: MiddlewareObj['after']) =>
    (request: Request): unknown => {
      const result = hook?.(request)
      if (result instanceof Promise) return result.finally(() => endScope(request))
      endScope(request)
      return result
    }
  return {
    before: Object.defineProperty(before, 'name', { value: name }),
    after: Object.defineProperty(ending(innerAfter), 'name', {
      value: innerAfter?.name ?? name.replace(/Before$/, 'After'),
    }),
    onError: Object.defineProperty(ending(innerOnError), 'name', {
      value: innerOnError?.name ?? name.replace(/Before$/, 'OnError'),
    }),
  }
}

provideScopes(scopeInvocations)
