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
import { isInjectedError } from './errors.js'
import { FieldReader } from './fields.js'
import { matches } from './match.js'
import { alwaysFires, policyKey, Sampler } from './rate.js'
import type { ConfigSnapshot } from './source.js'
import type {
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
  /** The config source, for log lines: `ssm:/chaos/config`. */
  readonly sourceDescription: string
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
  /** Samplers outlive snapshots: an unchanged entry keeps its every-Nth count and budget. */
  #samplers = new Map<string, Sampler>()
  /** The invocation in which this fault fired and whose `end` has not run yet. */
  #pending: Request | undefined

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
    return due === undefined ? this.#settle(request, phase) : this.#inject(due, request, phase)
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

  /** Validates this fault type's entries of a document; runs once per snapshot. */
  #compile(snapshot: ConfigSnapshot): readonly ActiveFault<P>[] {
    const definition = this.#definition
    const { phases, defaultPhase, dryRun: dryRunInCode } = this.#settings
    const active: ActiveFault<P>[] = []
    const issues: ConfigIssue[] = []
    const kept = new Map<string, Sampler>()
    try {
      if (snapshot.document.enabled) {
        for (const spec of snapshot.document.faults) {
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

  async #inject(due: ActiveFault<P>[], request: Request, phase: Phase): Promise<unknown> {
    const definition = this.#definition
    const { logger, metrics } = this.#settings
    try {
      for (const fault of due) {
        try {
          const action = definition.plan({
            phase,
            params: fault.params,
            request,
            options: this.#options,
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
          if (metrics) this.#count(fault.dryRun ? 'ChaosFaultDryRun' : 'ChaosFaultInjected')
          if (fault.dryRun) {
            safeLog(logger, 'info', 'Chaos fault dry run: not injected', record)
            continue
          }
          safeLog(logger, 'info', 'Chaos fault injected', record)
          this.#started(request)
          const result = await action.run()
          if (result !== undefined) {
            // Returning ends Middy's chain: end the chaos faults of this invocation, and
            // run the cleanup other middlewares (Powertools Logger, Metrics, Tracer) left for this case.
            runChaosCleanups(request)
            await cleanupMiddlewares(request)
            return result
          }
        } catch (error) {
          if (isInjectedError(error)) throw error
          safeLog(
            logger,
            'warn',
            `Chaos ${definition.type} fault failed; invocation continues untouched`,
            { error: errorText(error) },
          )
        }
      }
    } finally {
      if (phase !== 'before' && this.#pending === request) this.#end(request)
    }
    return undefined
  }
}
