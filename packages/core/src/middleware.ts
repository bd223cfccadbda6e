/**
 * The Middy adapter: turns a {@link FaultDefinition} into a middleware whose
 * hooks ask the config source for the invocation's snapshot and hand it to a
 * {@link FaultRunner}.
 *
 * The runner (deciding, injecting, logging, tracing: `runner.ts` and what it
 * imports) is loaded with the first snapshot that turns a fault on, never
 * with faults off: a function whose faults stay off loads, reads and compiles
 * only what fetches and reads its config.
 *
 * @module
 */
import type { MiddlewareObj, Request } from '@middy/core'
import { registerFault } from './catalog.js'
import { parseConfig } from './config.js'
import { ChaosConfigError } from './errors.js'
import { noteInvocation, resolveLogger } from './logger.js'
import type { FaultRunner, RunnerSettings } from './runner.js'
import type { ConfigSnapshot } from './source.js'
import { getConfigSource } from './sources.js'
import { isEnvFlagOn } from './time.js'
import type { ChaosMiddlewareOptions, FaultDefinition, Phase } from './types.js'
import { errorText, safeLog, withDefaults } from './util.js'

/** Environment variable that turns the whole library off: no fetch, no fault. */
export const KILL_SWITCH_ENV = 'CHAOS_DISABLED'
/** Environment variable that makes every fault a dry run. */
export const DRY_RUN_ENV = 'CHAOS_DRY_RUN'

const pascal = (text: string): string =>
  text
    .split(/[_\-\s]+/)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('')

const named = <F extends (...args: never[]) => unknown>(name: string, fn: F): F =>
  Object.defineProperty(fn, 'name', { value: name })

/**
 * Turns a {@link FaultDefinition} into a Middy middleware. The middleware reads
 * the shared config source, keeps the entries of its own fault type, validates
 * them once per fetched document, decides per invocation whether each fires
 * (`rate`), logs what it injects, and never lets a bug, a bad config or a
 * store outage break the invocation: only errors a fault throws on purpose
 * get through. The definition's `defaults` are merged under `options` here,
 * once; its `setup` runs here (not under the kill switch), and its `end` runs
 * however each invocation in which it fired ends.
 *
 * With nothing to inject the hooks are synchronous and return `undefined`, so
 * Middy does not even await them.
 *
 * @example
 * ```ts
 * export const chaosLatency = (options: ChaosLatencyOptions = {}) =>
 *   createFaultMiddleware(latencyFault, options)
 * ```
 */
export const createFaultMiddleware = <P, O extends ChaosMiddlewareOptions>(
  definition: FaultDefinition<P, O>,
  userOptions: O = {} as O,
): MiddlewareObj => {
  const middleware = buildFaultMiddleware(definition, userOptions)
  if (definition.scope !== 'calls' || isEnvFlagOn(KILL_SWITCH_ENV)) return middleware
  // Always set: a `calls` fault reaches its scope through scope.ts's exports, which loads it.
  return scopeCalls ? scopeCalls(definition, userOptions, middleware) : middleware
}

/** What gives a `scope: 'calls'` fault's middleware its invocation scopes. */
type ScopeCalls = <P, O extends ChaosMiddlewareOptions>(
  definition: FaultDefinition<P, O>,
  userOptions: O,
  inner: MiddlewareObj,
) => MiddlewareObj

let scopeCalls: ScopeCalls | undefined

/**
 * Called by scope.ts when it loads: so a function whose faults act on the
 * invocation only (the workshop's) never loads nor bundles the scopes.
 */
export const provideScopes = (scope: ScopeCalls): void => {
  scopeCalls = scope
}

/** The middleware of {@link createFaultMiddleware}, before any invocation scope. */
const buildFaultMiddleware = <P, O extends ChaosMiddlewareOptions>(
  definition: FaultDefinition<P, O>,
  userOptions: O,
): MiddlewareObj => {
  const options = withDefaults(definition.defaults, userOptions)
  const supported = definition.phases
  const registered = options.phases ?? supported
  for (const phase of registered) {
    if (!supported.includes(phase)) {
      throw new TypeError(
        `${definition.type}: phase "${phase}" is not supported (supported: ${supported.join(', ')})`,
      )
    }
  }
  const defaultPhase = options.phase ?? definition.defaultPhase
  if (!registered.includes(defaultPhase)) {
    throw new TypeError(
      `${definition.type}: phase "${defaultPhase}" is not among the registered phases (${registered.join(', ')})`,
    )
  }

  const hookName = (phase: Phase) => `chaos${pascal(definition.type)}${pascal(phase)}`
  if (isEnvFlagOn(KILL_SWITCH_ENV)) {
    // Kill switch: no source, no fetch, no set-up, one empty hook (Middy needs one).
    return { before: named(`${hookName('before')}Disabled`, () => undefined) }
  }
  registerFault(definition)
  const logger = resolveLogger(options.logger)
  if (definition.setup) {
    try {
      definition.setup({ options, logger: logger() })
    } catch (error) {
      // A set-up that fails leaves the fault inert, never the function broken.
      safeLog(logger, 'warn', `Chaos ${definition.type} set-up failed; the fault stays off`, {
        error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      })
      return { before: named(`${hookName('before')}Disabled`, () => undefined) }
    }
  }
  const source = getConfigSource(options)
  // Lambda's init phase: load the store and fetch now, so the first invocation finds it ready.
  source.prefetch()
  const settings: RunnerSettings = {
    phases: registered,
    defaultPhase,
    dryRun: options.dryRun === true || isEnvFlagOn(DRY_RUN_ENV),
    logger,
    metrics: options.metrics,
    tracer: options.tracer,
    sourceDescription: source.description,
    userLogger: options.logger !== undefined,
  }
  // Loaded with the first snapshot that has a live entry: see the module's comment.
  let runner: FaultRunner<P, O> | undefined
  let loading: Promise<FaultRunner<P, O> | undefined> | undefined
  const loadRunner = () =>
    (loading ??= import('./runner.js').then(
      ({ FaultRunner }) => {
        runner = new FaultRunner(definition, options, settings)
        return runner
      },
      (error: unknown) => {
        // Cannot happen with an intact install; if it does, the fault stays off.
        safeLog(logger, 'warn', `Chaos ${definition.type} fault could not load; it stays off`, {
          error: errorText(error),
        })
        return undefined
      },
    ))
  // Tests: a static config that cannot fire as written fails where it is written: its
  // document and shared fields now, its fault's own fields with the first invocation (they are
  // read by the runner, loaded then).
  let strict = options.strict === true && options.config !== undefined
  if (strict) {
    const { issues } = parseConfig(options.config)
    if (issues.length > 0) throw new ChaosConfigError(issues)
  }
  const runWith = (snapshot: ConfigSnapshot, request: Request, phase: Phase): unknown => {
    if (runner !== undefined) {
      if (strict) {
        strict = false
        runner.assertStrict(options.config)
      }
      return runner.run(snapshot, request, phase)
    }
    // No runner yet: nothing fired, so nothing is pending for an inert snapshot.
    if (snapshot.inert) return undefined
    return loadRunner().then((loaded) => loaded && runWith(snapshot, request, phase))
  }

  // A fault with end-of-invocation work hears how every invocation ends.
  const ends = definition.end !== undefined
  // A fault throwing HTTP errors answers them in onError when nothing else did.
  const answers = definition.throwsHttpErrors === true
  const hook = (phase: Phase) => {
    const answering = phase === 'onError' && answers
    return named(hookName(phase), (request: Request): unknown => {
      noteInvocation(request)
      // Only a loaded runner can have thrown the error it answers.
      if (answering) runner?.answer(request)
      const snapshot = source.snapshotFor(request)
      // Faults off (the common case), or only other types' faults live: no call, no await.
      // A promise has no `inert`.
      if (
        !ends &&
        ((snapshot as ConfigSnapshot).inert === true || snapshot === runner?.quietSnapshot)
      )
        return undefined
      return snapshot instanceof Promise
        ? snapshot.then((ready) => runWith(ready, request, phase))
        : runWith(snapshot, request, phase)
    })
  }

  return {
    ...(registered.includes('before') ? { before: hook('before') } : {}),
    ...(registered.includes('after') || ends ? { after: hook('after') } : {}),
    ...(registered.includes('onError') || ends || answers ? { onError: hook('onError') } : {}),
  }
}
