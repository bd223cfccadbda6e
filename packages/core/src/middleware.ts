import { cleanupMiddlewares } from '@aws-lambda-powertools/commons'
import type { Logger } from '@aws-lambda-powertools/logger'
import type { MiddlewareObj, Request } from '@middy/core'
import { isInjectedError } from './errors.js'
import { FieldReader } from './fields.js'
import { resolveLogger } from './logger.js'
import { matches } from './match.js'
import { alwaysFires, policyKey, Sampler } from './rate.js'
import { type ConfigSnapshot, getConfigSource } from './source.js'
import { isEnvFlagOn, remainingTimeMs } from './time.js'
import type {
  ChaosMiddlewareOptions,
  ConfigIssue,
  FaultDefinition,
  FaultSpec,
  Phase,
} from './types.js'

/** A fault entry validated for one middleware: ready to fire. */
interface ActiveFault<P> {
  readonly spec: FaultSpec
  readonly params: P
  readonly phase: Phase
  readonly dryRun: boolean
  /** Rate decisions; `undefined` when the entry always fires. */
  readonly sampler: Sampler | undefined
}

/** Environment variable that turns the whole library off: no fetch, no fault. */
export const KILL_SWITCH_ENV = 'CHAOS_DISABLED'
/** Environment variable that makes every fault a dry run. */
export const DRY_RUN_ENV = 'CHAOS_DRY_RUN'
/** Time kept free before the Lambda deadline when waiting for the config store (ms). */
const DEADLINE_MARGIN_MS = 100

const pascal = (text: string): string =>
  text
    .split(/[_\-\s]+/)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('')

const named = <F extends (...args: never[]) => unknown>(name: string, fn: F): F =>
  Object.defineProperty(fn, 'name', { value: name })

const safeLog = (logger: () => Logger, level: 'info' | 'warn', message: string, extra: object) => {
  try {
    logger()[level](message, extra as Record<string, unknown>)
  } catch {
    // A logger that throws must not break the invocation.
  }
}

/**
 * Turns a {@link FaultDefinition} into a Middy middleware. The middleware reads
 * the shared config source, keeps the entries of its own fault type, validates
 * them once per fetched document, decides per invocation whether each fires
 * (`rate`), logs what it injects, and never lets a bug, a bad config or a
 * store outage break the invocation: only errors a fault throws on purpose
 * get through.
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
  options: O,
): MiddlewareObj => {
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
    // Kill switch: no source, no fetch, one empty hook (Middy needs one).
    return { before: named(`${hookName('before')}Disabled`, () => undefined) }
  }
  const dryRunInCode = options.dryRun === true || isEnvFlagOn(DRY_RUN_ENV)
  const metrics = options.metrics
  const logger = resolveLogger(options.logger)
  const source = getConfigSource(options)
  const types = new Set([definition.type, ...(definition.aliases ?? [])])
  // The entries of the last snapshot seen, validated: recomputed once per fetched document.
  let lastSnapshot: ConfigSnapshot | undefined
  let lastActive: readonly ActiveFault<P>[] = []
  // Samplers outlive snapshots: an unchanged entry keeps its every-Nth count and budget.
  let samplers = new Map<string, Sampler>()

  /** Validates this fault type's entries of a document; runs once per snapshot. */
  const compile = (snapshot: ConfigSnapshot): readonly ActiveFault<P>[] => {
    const active: ActiveFault<P>[] = []
    const issues: ConfigIssue[] = []
    const kept = new Map<string, Sampler>()
    try {
      if (snapshot.document.enabled) {
        for (const spec of snapshot.document.faults) {
          if (!types.has(spec.type)) continue
          const before = issues.length
          const params = definition.parse(
            new FieldReader(spec.fields, spec.path, issues, spec.aliases),
            options,
          )
          if (params === undefined || issues.length !== before) continue
          const phase = spec.phase ?? definition.phaseOf?.(params) ?? defaultPhase
          if (!registered.includes(phase)) {
            issues.push({
              path: spec.path ? `${spec.path}.phase` : 'phase',
              message: `"${phase}" is not a phase this ${definition.type} middleware registered (${registered.join(', ')})`,
            })
            continue
          }
          const dryRun = dryRunInCode || snapshot.document.dryRun === true || spec.dryRun === true
          let sampler: Sampler | undefined
          if (!alwaysFires(spec.policy)) {
            const key = `${spec.path}|${phase}|${policyKey(spec.policy)}`
            sampler = samplers.get(key) ?? new Sampler(spec.policy)
            kept.set(key, sampler)
          }
          active.push({ spec, params, phase, dryRun, sampler })
        }
      }
    } catch (error) {
      issues.push({ path: '(fault)', message: `validation failed: ${(error as Error).message}` })
      active.length = 0
    }
    if (issues.length > 0) {
      safeLog(logger, 'warn', `Invalid ${definition.type} fault ignored`, {
        chaosSource: source.description,
        issues: issues.map((issue) => `${issue.path}: ${issue.message}`),
      })
    }
    lastSnapshot = snapshot
    lastActive = active
    samplers = kept
    return active
  }

  const count = (metric: string): void => {
    try {
      const single = metrics?.singleMetric()
      single?.addDimension('faultType', definition.type)
      single?.addMetric(metric, 'Count', 1)
    } catch (error) {
      safeLog(logger, 'warn', 'Chaos metric could not be written', { error: String(error) })
    }
  }

  const inject = async (
    due: ActiveFault<P>[],
    request: Request,
    phase: Phase,
  ): Promise<unknown> => {
    for (const fault of due) {
      try {
        const action = definition.plan({
          phase,
          params: fault.params,
          request,
          options,
          logger: logger(),
        })
        if (action === undefined) continue
        const record = {
          chaos: {
            faultType: definition.type,
            phase,
            rate: fault.spec.rate,
            ...(fault.dryRun ? { dryRun: true } : {}),
            ...(fault.params as object),
            ...action.details,
          },
          awsRequestId: request.context?.awsRequestId,
          functionName: request.context?.functionName,
        }
        if (metrics) count(fault.dryRun ? 'ChaosFaultDryRun' : 'ChaosFaultInjected')
        if (fault.dryRun) {
          safeLog(logger, 'info', 'Chaos fault dry run: not injected', record)
          continue
        }
        safeLog(logger, 'info', 'Chaos fault injected', record)
        const result = await action.run()
        if (result !== undefined) {
          // Returning ends Middy's chain: run the cleanup other middlewares
          // (Powertools Logger, Metrics, Tracer, Idempotency) left for this case.
          await cleanupMiddlewares(request)
          return result
        }
      } catch (error) {
        if (isInjectedError(error)) throw error
        safeLog(
          logger,
          'warn',
          `Chaos ${definition.type} fault failed; invocation continues untouched`,
          {
            error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
          },
        )
      }
    }
    return undefined
  }

  const fire = (snapshot: ConfigSnapshot, request: Request, phase: Phase): unknown => {
    if (snapshot.inert) return undefined
    const active = snapshot === lastSnapshot ? lastActive : compile(snapshot)
    if (active.length === 0) return undefined
    let due: ActiveFault<P>[] | undefined
    for (const fault of active) {
      if (fault.phase !== phase) continue
      const targeting = fault.spec.targeting
      if (targeting !== undefined && !matches(targeting, request.event, request.context)) continue
      if (fault.sampler === undefined || fault.sampler.shouldFire()) {
        due ??= []
        due.push(fault)
      }
    }
    return due === undefined ? undefined : inject(due, request, phase)
  }

  const requestKey = source.requestKey
  const hook = (phase: Phase) =>
    named(hookName(phase), (request: Request): unknown => {
      // One snapshot per invocation and source, shared by every chaos hook of the chain:
      // the hooks after the first find it with one comparison.
      if (request === source.lastRequest) {
        const snapshot = source.lastSnapshot as ConfigSnapshot
        return snapshot.inert ? undefined : fire(snapshot, request, phase)
      }
      // Interleaved invocations (a local server, tests) keep theirs on the request itself.
      const carrier = request as unknown as Record<symbol, ConfigSnapshot | undefined>
      const shared = carrier[requestKey]
      if (shared !== undefined) {
        source.lastRequest = request
        source.lastSnapshot = shared
        return fire(shared, request, phase)
      }
      const current = source.current()
      if (current instanceof Promise) {
        // Never wait for the store past the Lambda deadline (less a margin).
        const remaining = remainingTimeMs(request.context)
        const wait =
          remaining === undefined ? Number.POSITIVE_INFINITY : remaining - DEADLINE_MARGIN_MS
        return source.within(current, wait).then((snapshot) => {
          carrier[requestKey] = snapshot
          source.lastRequest = request
          source.lastSnapshot = snapshot
          return fire(snapshot, request, phase)
        })
      }
      carrier[requestKey] = current
      source.lastRequest = request
      source.lastSnapshot = current
      return fire(current, request, phase)
    })

  return {
    ...(registered.includes('before') ? { before: hook('before') } : {}),
    ...(registered.includes('after') ? { after: hook('after') } : {}),
    ...(registered.includes('onError') ? { onError: hook('onError') } : {}),
  }
}
