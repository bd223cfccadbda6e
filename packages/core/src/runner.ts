/**
 * The logic behind every chaos middleware: compile a snapshot's entries of one
 * fault type (once per snapshot), decide which fire for an invocation (phase,
 * targeting, rate), inject them, log them, and end them however the
 * invocation ends. `middleware.ts` is the thin Middy adapter over it, as
 * Powertools' `makeHandlerIdempotent` sits over `IdempotencyHandler`.
 *
 * @module
 */
import { cleanupMiddlewares } from '@aws-lambda-powertools/commons'
import type { Logger } from '@aws-lambda-powertools/logger'
import type { Request } from '@middy/core'
import { invocationLogger, POWERTOOLS, powertoolsSeen, releaseIdempotency } from './chain.js'
import { parseConfig } from './config.js'
import { ChaosConfigError, ChaosHttpError, isInjectedError } from './errors.js'
import { FieldReader } from './fields.js'
import { matches } from './match.js'
import { alwaysFires, policyKey, Sampler } from './rate.js'
import type { ConfigSnapshot } from './source.js'
import { type InjectionTrace, type TracerLike, traceFiring, UNTRACED } from './trace.js'
import type {
  ChaosDocument,
  ChaosMiddlewareOptions,
  ConfigIssue,
  FaultDefinition,
  FaultSpec,
  MetricsLike,
  Phase,
} from './types.js'
import { errorText, formatIssues, safeLog } from './util.js'

/** A fault entry validated for one middleware: ready to fire. */
interface ActiveFault<P> {
  readonly spec: FaultSpec
  readonly params: P
  readonly phase: Phase
  readonly dryRun: boolean
  /** Rate decisions; `undefined` when the entry always fires. */
  readonly sampler: Sampler | undefined
}

/** An entry's fields as text, to tell an unchanged entry from a changed one (bounded, never throws). */
const entryKey = (spec: FaultSpec): string => {
  try {
    const text = JSON.stringify(spec.fields) ?? ''
    return text.length > 4096 ? `${text.length}:${text.slice(0, 4096)}` : text
  } catch {
    return ''
  }
}

/** Where the end-of-invocation work of the faults that fired is kept on Middy's request. */
const CLEANUPS = Symbol.for('middy-chaos.cleanups')

type CleanupCarrier = { [CLEANUPS]?: (() => void)[] }

/** Runs the end of every fault that fired in this invocation (an early answer skips `after`). */
export const runChaosCleanups = (request: Request): void => {
  const carrier = request as unknown as CleanupCarrier
  const cleanups = carrier[CLEANUPS]
  if (cleanups === undefined) return
  carrier[CLEANUPS] = undefined
  for (const cleanup of cleanups) cleanup()
}

/** What a {@link FaultRunner} needs besides the definition and the options. */
export interface RunnerSettings {
  /** The phases the middleware registered hooks for. */
  readonly phases: readonly Phase[]
  /** Phase used when neither the entry nor the fault's parameters choose one. */
  readonly defaultPhase: Phase
  /** Every fault is a dry run (option `dryRun` or `CHAOS_DRY_RUN`). */
  readonly dryRun: boolean
  readonly logger: () => Logger
  readonly metrics: MetricsLike | undefined
  /** The user's Powertools Tracer, when given. */
  readonly tracer?: TracerLike | undefined
  /** The config source, for log lines: `ssm:/chaos/config`. */
  readonly sourceDescription: string
  /**
   * The logger is the user's own: fault lines go through a child of it given
   * the invocation's Lambda context (see `invocationLogger`).
   */
  readonly userLogger?: boolean
}

/**
 * Runs one fault type's entries for the invocations of one middleware. Never
 * throws but for the errors a fault throws on purpose.
 */
export class FaultRunner<P, O extends ChaosMiddlewareOptions> {
  readonly #definition: FaultDefinition<P, O>
  readonly #options: O
  readonly #settings: RunnerSettings
  readonly #types: ReadonlySet<string>
  /** The entries of the last snapshot seen, validated: recomputed once per fetched document. */
  #lastSnapshot: ConfigSnapshot | undefined
  #lastActive: readonly ActiveFault<P>[] = []
  /** Whether an active entry runs after the handler: then `before` notes the Powertools middlewares outside. */
  #activeAfter = false
  /**
   * The last snapshot seen with no entry of this fault type: the middleware's
   * hooks return at once for it (a config whose faults are all for other types).
   */
  public quietSnapshot: ConfigSnapshot | undefined
  /** Samplers outlive snapshots: an unchanged entry keeps its every-Nth count and budget. */
  #samplers = new Map<string, Sampler>()
  /** The invocation in which this fault fired and whose `end` has not run yet. */
  #pending: Request | undefined
  /** Errors this runner threw that carry an answer, for its `onError` hook. */
  readonly #thrown = new WeakSet<object>()
  /** The Powertools middlewares that had run their `before` hook when this middleware's ran. */
  readonly #seenBefore = new WeakMap<Request, number>()
  /** Warnings about the chain that were given (once each). */
  readonly #warned = new Set<string>()

  public constructor(definition: FaultDefinition<P, O>, options: O, settings: RunnerSettings) {
    this.#definition = definition
    this.#options = options
    this.#settings = settings
    this.#types = new Set([definition.type, ...(definition.aliases ?? [])])
  }

  /**
   * Runs the faults due in `phase` for this invocation. Returns `undefined`
   * synchronously when nothing fires (Middy then does not even wait), or a
   * promise of the early response (if any).
   */
  public run(snapshot: ConfigSnapshot, request: Request, phase: Phase): unknown {
    if (this.#pending !== undefined && this.#pending !== request) this.#end(this.#pending)
    if (snapshot.inert) return this.#settle(request, phase)
    const active = snapshot === this.#lastSnapshot ? this.#lastActive : this.#compile(snapshot)
    if (active.length === 0) return this.#settle(request, phase)
    // Live entries after the handler: note which Powertools middlewares are outside this one
    // (their `before` ran). An entry of `before` notes it when it fires (#inject).
    if (phase === 'before' && this.#activeAfter)
      this.#seenBefore.set(request, powertoolsSeen(request))
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
    return due === undefined
      ? this.#settle(request, phase)
      : this.#inject(due, request, phase, snapshot)
  }

  /**
   * In `onError`: answers with the `response` of the `ChaosHttpError` this
   * middleware threw when no middleware has answered yet, so that a chain
   * without an error handler still gives the client the injected status.
   * Middlewares whose `onError` hook runs later (`http-cors`, the response
   * serializer, Idempotency) still see the invocation, with this answer.
   */
  public answer(request: Request): void {
    const error = request.error
    if (
      request.response === undefined &&
      error instanceof ChaosHttpError &&
      this.#thrown.has(error)
    )
      request.response = error.response
  }

  /**
   * Whether a Powertools middleware was `.use()`d after this one (its `before`
   * hook ran after this one's, so its `after` hook has run before this one's);
   * `undefined` when unknown (this middleware's `before` hook did not see the invocation).
   */
  #inside(request: Request, middleware: number): boolean | undefined {
    const before = this.#seenBefore.get(request)
    if (before === undefined) return undefined
    return (before & middleware) === 0 && (powertoolsSeen(request) & middleware) !== 0
  }

  /** A warning about the chain, given once per middleware. */
  #warnOnce(key: string, message: string, fix: string): void {
    if (this.#warned.has(key)) return
    this.#warned.add(key)
    safeLog(this.#settings.logger, 'warn', message, {
      chaos: { faultType: this.#definition.type },
      fix,
    })
  }

  /**
   * An injected error leaves `after`: if `logMetrics` is inside this middleware
   * it has already flushed, and Middy's `onError` chain makes it flush again.
   */
  #afterError(request: Request): void {
    if (this.#inside(request, POWERTOOLS.metrics) !== true) return
    const factory = this.#definition.factory ?? 'the chaos middleware'
    this.#warnOnce(
      'metrics',
      `Chaos ${this.#definition.type} fault: an error injected after the handler from outside Powertools logMetrics makes Metrics flush twice (in its after hook, then in onError)`,
      `.use(${factory}(…)) after .use(logMetrics(…)), so that chaos is inside it`,
    )
  }

  /**
   * A fault answered early or replaced the response: Powertools Idempotency
   * must not store it. Nothing to do when Idempotency is inside this
   * middleware (its `after` hook already stored the handler's own result).
   */
  async #release(request: Request, logger: () => Logger): Promise<void> {
    if (this.#inside(request, POWERTOOLS.idempotency) === true) return
    const outcome = await releaseIdempotency(request)
    if (outcome instanceof Error) {
      safeLog(logger, 'warn', 'Chaos could not release the Idempotency record', {
        chaos: { faultType: this.#definition.type },
        error: errorText(outcome),
      })
    }
  }

  /** Ends this fault for an invocation in `after` / `onError`; nothing in `before`. */
  #settle(request: Request, phase: Phase): undefined {
    if (phase !== 'before' && this.#pending === request) this.#end(request)
    return undefined
  }

  #end(request: Request): void {
    this.#pending = undefined
    try {
      this.#definition.end?.(request)
    } catch (error) {
      safeLog(
        this.#settings.logger,
        'warn',
        `Chaos ${this.#definition.type} fault could not end cleanly`,
        {
          error: errorText(error),
        },
      )
    }
  }

  /** Remembers that this fault fired in the invocation, so that its `end` runs however it ends. */
  #started(request: Request): void {
    if (this.#definition.end === undefined || this.#pending === request) return
    this.#pending = request
    const carrier = request as unknown as CleanupCarrier
    carrier[CLEANUPS] ??= []
    carrier[CLEANUPS].push(() => {
      if (this.#pending === request) this.#end(request)
    })
  }

  /**
   * This fault type's entries of a document, read with the definition and
   * this middleware's options, each with its parameters and phase: what
   * the runner makes ready to fire for each snapshot, and what strict mode
   * checks at creation. Every problem goes to `issues`; a fault's `parse` that throws
   * (a bug) throws here.
   */
  public entries(
    document: ChaosDocument,
    issues: ConfigIssue[],
  ): { spec: FaultSpec; params: P; phase: Phase }[] {
    const definition = this.#definition
    const { phases, defaultPhase } = this.#settings
    const entries: { spec: FaultSpec; params: P; phase: Phase }[] = []
    if (!document.enabled) return entries
    for (const spec of document.faults) {
      if (!this.#types.has(spec.type)) continue
      const before = issues.length
      const params = definition.parse(
        new FieldReader(spec.fields, spec.path, issues, spec.aliases),
        this.#options,
      )
      if (params === undefined || issues.length !== before) continue
      const phase = spec.phase ?? definition.phaseOf?.(params) ?? defaultPhase
      if (!phases.includes(phase)) {
        issues.push({
          path: spec.path ? `${spec.path}.phase` : 'phase',
          message: `"${phase}" is not a phase this ${definition.type} middleware registered (${phases.join(', ')})`,
        })
        continue
      }
      entries.push({ spec, params, phase })
    }
    return entries
  }

  /**
   * Strict mode (`strict: true`, a static config, for tests): throws a
   * {@link ChaosConfigError} naming every issue of this fault type's entries
   * of `config` (their fields, their phase) instead of logging them. Entries
   * of other fault types are checked by their own middlewares.
   */
  public assertStrict(config: unknown): void {
    const issues: ConfigIssue[] = []
    try {
      this.entries(parseConfig(config).document, issues)
    } catch (error) {
      issues.push({ path: '(fault)', message: `validation failed: ${(error as Error).message}` })
    }
    if (issues.length > 0) throw new ChaosConfigError(issues)
  }

  /** Validates this fault type's entries of a document; runs once per snapshot. */
  #compile(snapshot: ConfigSnapshot): readonly ActiveFault<P>[] {
    const definition = this.#definition
    const dryRunInCode = this.#settings.dryRun
    const active: ActiveFault<P>[] = []
    const issues: ConfigIssue[] = []
    const kept = new Map<string, Sampler>()
    try {
      for (const { spec, params, phase } of this.entries(snapshot.document, issues)) {
        const dryRun = dryRunInCode || snapshot.document.dryRun === true || spec.dryRun === true
        let sampler: Sampler | undefined
        if (!alwaysFires(spec.policy)) {
          // The same entry (all its fields) keeps its every-Nth count and budget; a changed one starts afresh.
          const key = `${spec.path}|${phase}|${policyKey(spec.policy)}|${entryKey(spec)}`
          sampler = this.#samplers.get(key) ?? new Sampler(spec.policy)
          kept.set(key, sampler)
        }
        active.push({ spec, params, phase, dryRun, sampler })
      }
    } catch (error) {
      issues.push({ path: '(fault)', message: `validation failed: ${(error as Error).message}` })
      active.length = 0
    }
    if (issues.length > 0) {
      safeLog(this.#settings.logger, 'warn', `Invalid ${definition.type} fault ignored`, {
        chaosSource: this.#settings.sourceDescription,
        issues: formatIssues(issues),
      })
    }
    this.#lastSnapshot = snapshot
    this.#lastActive = active
    this.#activeAfter = active.some((fault) => fault.phase !== 'before')
    this.quietSnapshot = active.length === 0 ? snapshot : undefined
    this.#samplers = kept
    return active
  }

  #count(metric: string): void {
    try {
      const single = this.#settings.metrics?.singleMetric()
      single?.addDimension('faultType', this.#definition.type)
      single?.addMetric(metric, 'Count', 1)
    } catch (error) {
      safeLog(this.#settings.logger, 'warn', 'Chaos metric could not be written', {
        error: String(error),
      })
    }
  }

  async #inject(
    due: ActiveFault<P>[],
    request: Request,
    phase: Phase,
    snapshot: ConfigSnapshot,
  ): Promise<unknown> {
    if (phase === 'before' && !this.#seenBefore.has(request))
      this.#seenBefore.set(request, powertoolsSeen(request))
    const definition = this.#definition
    const { metrics } = this.#settings
    // Lines about this invocation carry its Lambda context, whatever the order of the chain.
    let line: Logger | undefined
    const logger = this.#settings.userLogger
      ? () => {
          line ??= invocationLogger(this.#settings.logger(), request)
          return line
        }
      : this.#settings.logger
    const response = request.response
    try {
      for (const fault of due) {
        // Traced only when a tracer with tracing on, or an OpenTelemetry SDK, is there.
        let trace: InjectionTrace | undefined
        try {
          trace = traceFiring({
            type: definition.type,
            dryRun: fault.dryRun,
            tracer: this.#settings.tracer,
          })
          const action = definition.plan({
            phase,
            params: fault.params,
            request,
            options: this.#options,
            logger: logger(),
            trace: trace ?? UNTRACED,
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
          if (metrics) this.#count(fault.dryRun ? 'ChaosFaultDryRun' : 'ChaosFaultInjected')
          trace?.begin(record.chaos, snapshot.document.expiresAt)
          if (fault.dryRun) {
            safeLog(logger, 'info', 'Chaos fault dry run: not injected', record)
            continue
          }
          safeLog(logger, 'info', 'Chaos fault injected', record)
          this.#started(request)
          const result = await action.run()
          if (result !== undefined) {
            // Returning ends Middy's chain: end the chaos faults of this invocation, release
            // Idempotency's record, and run the cleanup other middlewares (Powertools Logger,
            // Metrics, Tracer) left for this case.
            runChaosCleanups(request)
            await this.#release(request, logger)
            await cleanupMiddlewares(request)
            return result
          }
        } catch (error) {
          if (isInjectedError(error)) {
            trace?.failed(error)
            if (error instanceof ChaosHttpError) this.#thrown.add(error)
            if (phase === 'after') this.#afterError(request)
            throw error
          }
          safeLog(
            logger,
            'warn',
            `Chaos ${definition.type} fault failed; invocation continues untouched`,
            { error: errorText(error) },
          )
        } finally {
          trace?.end()
        }
      }
      // A response replaced after the handler is not the handler's result: Idempotency must not store it.
      if (phase === 'after' && request.response !== response) await this.#release(request, logger)
    } finally {
      if (phase !== 'before' && this.#pending === request) this.#end(request)
    }
    return undefined
  }
}
