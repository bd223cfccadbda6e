import type { Logger } from '@aws-lambda-powertools/logger'
import type { Request } from '@middy/core'
import type { ChaosConfigInput } from './config-types.js'
import type { FieldReader } from './fields.js'
import type { ConfigIssue } from './issue.js'
import type { Targeting } from './match.js'
import type { RatePolicy } from './rate.js'
import type { FaultTrace, TracerLike } from './trace.js'

export type { ConfigIssue } from './issue.js'

/** The Middy hook a fault runs in. */
export type Phase = 'before' | 'after' | 'onError'

export const PHASES: readonly Phase[] = ['before', 'after', 'onError']

/**
 * One fault entry of a configuration document, after the fields every fault
 * shares have been validated. Fault-specific fields stay in `fields`, read by
 * the fault package that knows them.
 */
export interface FaultSpec {
  /** Fault type, e.g. `latency`, `status_code`, `exception`. */
  readonly type: string
  /** Probability of injection per invocation, 0..1. */
  readonly rate: number
  /** `rate` with the other rate modes: `every`, `budget`, `seed`. */
  readonly policy: RatePolicy
  /** `match` conditions on the event and `functions` filter, when given. */
  readonly targeting?: Targeting
  /** Phase chosen by the config, if any. */
  readonly phase?: Phase
  /** The entry as written (fault-specific fields are read from here). */
  readonly fields: Readonly<Record<string, unknown>>
  /** Prefix of this entry's fields in messages: `faults[0]`, or `` for chaos_lambda. */
  readonly path: string
  /** Field names as the source format spells them, for messages (`statusCode` → `error_code`). */
  readonly aliases?: Readonly<Record<string, string>>
  /** Log what would be injected and inject nothing. */
  readonly dryRun?: boolean
}

/** A configuration document, normalised from any accepted format. */
export interface ChaosDocument {
  /** Which format the document was written in. */
  readonly format: 'middy-chaos' | 'chaos_lambda' | 'failure-lambda-0' | 'failure-lambda-1'
  /** `false` means no fault fires, whatever the entries say. */
  readonly enabled: boolean
  readonly faults: readonly FaultSpec[]
  /** Every fault of the document is a dry run. */
  readonly dryRun?: boolean
  /** Epoch ms after which no fault fires (from `expiresAt`, or `writtenAt` + `duration`). */
  readonly expiresAt?: number
  /**
   * `duration` given without `writtenAt`: faults stop this long after the
   * execution environment first saw the document.
   */
  readonly durationMs?: number
}

/** What {@link parseConfig} returns: a document (empty when invalid) and every issue found. */
export interface ParseResult {
  readonly document: ChaosDocument
  readonly issues: readonly ConfigIssue[]
  /** What a converted format (failure-lambda) had that middy-chaos does not, or approximates. */
  readonly notes?: readonly string[]
  /** The notes that say something was dropped or skipped: logged as warnings. */
  readonly warnings?: readonly string[]
}

/** The `get` of any Powertools parameters provider (`SSMProvider`, `AppConfigProvider`, …). */
export interface ConfigProvider {
  get(name: string, options?: Record<string, unknown>): Promise<unknown>
}

/** Where a chain's chaos config comes from and how long it is cached. */
export interface ChaosSourceOptions {
  /**
   * Name of the parameter (or AppConfig profile, secret, DynamoDB key) holding
   * the config. Defaults to the `CHAOS_PARAM` environment variable, the name
   * chaos_lambda uses.
   */
  parameterName?: string
  /**
   * A Powertools parameters provider (or any `BaseProvider`). Defaults to the
   * built-in SSM store: a process-wide provider that reads the parameter with
   * `GetParameter` as `SSMProvider.get` does, its SSM client loaded on first use.
   */
  provider?: ConfigProvider
  /**
   * Built-in store used when no `provider` is given: `ssm` (SSM Parameter
   * Store, the default) or `file` (a local JSON file named by the parameter
   * name, see `FileProvider`). Defaults to the `CHAOS_STORE` environment variable.
   */
  store?: 'ssm' | 'file'
  /** Extra options passed to `provider.get` (e.g. `{ decrypt: true }` for SSM). */
  providerOptions?: Record<string, unknown>
  /**
   * A static in-code config instead of a store: handy in tests and local runs.
   * Any accepted format, typed ({@link ChaosConfigInput}): the entries of a
   * middy-chaos document are those of the fault packages the program imports,
   * so a misspelled field is a compile error. JSON text is checked at run time.
   */
  config?: ChaosConfigInput
  /**
   * Cache window in seconds. Defaults to `POWERTOOLS_PARAMETERS_MAX_AGE`, or 5.
   * `0` fetches on every invocation.
   */
  maxAge?: number
  /**
   * How long an invocation may wait for the store, in ms (default 1000): only a
   * cold start (or every invocation with `maxAge: 0`) waits. Past it the
   * invocation runs without faults while the request goes on for the next ones.
   */
  fetchTimeout?: number
  /**
   * Upper bound on one store request, in ms (default 5000, at least
   * `fetchTimeout`). Past it the request is ended (the built-in SSM client's
   * timeouts; the AWS SDK client of a Powertools provider you pass is given an
   * abort signal) and counts as a failed fetch.
   */
  requestTimeout?: number
  /** Logger for warnings about the config; defaults to the middleware's logger. */
  logger?: Logger
}

/** What a fault decided to do for one invocation. */
export interface FaultAction {
  /** Fields added to the structured log line (effective delay, status code, …). */
  details?: Record<string, unknown>
  /**
   * Carries out the fault. May throw an injected error (`ChaosHttpError` for
   * an HTTP failure), or return a response to end the chain early (which
   * skips the `after` and `onError` hooks of the chain: prefer an error).
   */
  run(): unknown
}

/** What a fault's `plan` receives. */
export interface PlanContext<P, O> {
  readonly phase: Phase
  readonly params: P
  readonly request: Request
  readonly options: O
  readonly logger: Logger
  /**
   * What the fault tells traces (Powertools Tracer, OpenTelemetry): wait an
   * injected delay with `trace.delay(ms)` rather than `sleep(ms)` so that it
   * is a subsegment / span of its own; mark the calls it affects with
   * `trace.call`. With no tracing, `delay` is `sleep` and the rest do nothing.
   */
  readonly trace: FaultTrace
}

/** What a fault's `setup` receives, once per middleware. */
export interface SetupContext<O> {
  readonly options: O
  readonly logger: Logger
}

/**
 * How failure-lambda (gunnargrosch/failure-lambda) spells a fault: the mode
 * that maps onto it and how to read that mode's own fields. The core reads
 * what every mode shares (`enabled`, `percentage`, `match`; 0.x's `isEnabled`,
 * `failureMode`, `rate`).
 */
export interface FailureLambdaMapping {
  /** The failure-lambda mode: `latency`, `statuscode`, `exception`, … */
  readonly mode: string
  /**
   * 1.x only: problems with the flag's own fields, worded as failure-lambda's
   * validation words them; a flag with any is skipped, as failure-lambda skips it.
   */
  check?(flag: Readonly<Record<string, unknown>>): string[]
  /**
   * This fault's fields (middy-chaos names: `delay`, `statusCode`, `phase`, …)
   * from a valid 1.x flag (`version: 1`) or a 0.x document (`version: 0`).
   * What is approximated goes to `note`.
   */
  fields(
    flag: Readonly<Record<string, unknown>>,
    context: { readonly version: 0 | 1; note(text: string): void },
  ): Record<string, unknown>
}

/** How other tools' config formats spell a fault's fields. */
export interface FaultFormats {
  /**
   * chaos_lambda's flat document (the AWS FIS workshop's): which of its keys
   * holds each of this fault's fields, `{ statusCode: 'error_code' }`.
   */
  readonly chaosLambda?: Readonly<Record<string, string>>
  /** failure-lambda's documents (0.x and 1.x). */
  readonly failureLambda?: FailureLambdaMapping
}

/**
 * A command-line flag that `middy-chaos enable <fault>` offers for one of the
 * fault's fields: `--delay 400` sets `delay`.
 */
export interface FaultFlag {
  /** Flag name without dashes: `delay`, `error-code`. */
  readonly name: string
  /** The fault field it sets: `delay`, `statusCode`. */
  readonly field: string
  /**
   * How the flag's text is written into the field: `map` reads
   * `key=value,key=value` into an object of strings (`--labels provider=stripe`).
   */
  readonly type: 'integer' | 'number' | 'string' | 'boolean' | 'map'
  /** One line for `--help`. */
  readonly description: string
  /** Value written when the flag is not given and the store holds none. */
  readonly default?: string | number | boolean
}

/**
 * What makes a fault type: its name, the phases it can run in, how to read its
 * parameters from a config entry, and what to do when it fires; and, for the
 * tooling, how people and other formats name it. Everything else (fetching,
 * caching, validation of shared fields, rate, logging, fail-safety) is done by
 * {@link createFaultMiddleware}.
 *
 * A fault package exports its definition; the CLI's registry lists them, and
 * nothing outside the package needs to know more about the fault.
 */
export interface FaultDefinition<P = unknown, O = ChaosMiddlewareOptions> {
  /** Fault type as written in configs: `latency`. */
  readonly type: string
  /** Other spellings accepted in configs (`status-code`, `statusCode`). */
  readonly aliases?: readonly string[]
  /** The npm package and factory that provide it, for messages: `@middy-chaos/latency`. */
  readonly package?: string
  /** The middleware factory's name: `chaosLatency`. */
  readonly factory?: string
  /** One line for people: what the fault does. */
  readonly summary?: string
  /** Phases this fault can run in. */
  readonly phases: readonly Phase[]
  /** Phase used when neither the config nor the code chooses one. */
  readonly defaultPhase: Phase
  /** Option defaults, merged once by the core under the user's options. */
  readonly defaults?: Partial<O>
  /**
   * Phase implied by the fault's own parameters (status code's
   * `preventExecution` means `before`), used when the config entry has no `phase`.
   */
  phaseOf?(params: P): Phase | undefined
  /** Validates and reads the fault's own parameters. Record problems with `fields.issue`. */
  parse(fields: FieldReader, options: O): P | undefined
  /** Decides what to do for this invocation; `undefined` means nothing to inject. */
  plan(context: PlanContext<P, O>): FaultAction | undefined
  /** A short phrase for an entry, for `status` and the probe: `latency 400ms`. */
  describe?(params: P): string
  /** How other config formats spell this fault. */
  readonly formats?: FaultFormats
  /** Flags `middy-chaos enable <type>` offers. */
  readonly flags?: readonly FaultFlag[]
  /**
   * The fault throws `ChaosHttpError`s (an HTTP failure: a status through
   * `onError`). The middleware then has an `onError` hook that answers with
   * the error's `response` when no middleware answered before it, so that a
   * chain without an error handler still gives the client that status.
   */
  readonly throwsHttpErrors?: boolean
  /**
   * What the fault acts on: the invocation itself (the default), or `calls`,
   * the calls it makes (AWS SDK, outbound HTTP). A `calls` fault's `plan`
   * activates its state with `activateInScope`, and its interceptors read
   * `currentScope()`: `createFaultMiddleware` then gives each invocation its
   * own scope (`AsyncLocalStorage`), so that calls made outside it, or by
   * another invocation in the same process, are never touched.
   */
  readonly scope?: 'invocation' | 'calls'
  /**
   * Once per middleware, when it is created; skipped under the kill switch
   * (`CHAOS_DISABLED`). For work such as instrumenting clients.
   */
  setup?(context: SetupContext<O>): void
  /**
   * Once per invocation in which this fault fired, however the invocation
   * ends: in `after` or `onError`, when a chaos middleware answers early, or at
   * the latest when the next invocation starts. Must not throw (what it throws
   * is logged and ignored).
   */
  end?(request: Request): void
}

/** Any fault definition, whatever its parameters and options. */
// biome-ignore lint/suspicious/noExplicitAny: each definition has the parameters and options of its own fault
export type AnyFaultDefinition = FaultDefinition<any, any>

/** A list of fault definitions: the faults a parser or a tool knows. */
export type FaultCatalog = readonly AnyFaultDefinition[]

/** Options every chaos middleware accepts. */
export interface ChaosMiddlewareOptions extends ChaosSourceOptions {
  /**
   * Phase used when the config does not choose one. Defaults to the fault's own
   * default (`before` for latency and exception, `after` for status code).
   */
  phase?: Phase
  /**
   * The phases this middleware registers hooks for. A config can choose a phase
   * only among these. Defaults to every phase the fault supports.
   */
  phases?: readonly Phase[]
  /** A Powertools Logger; the middleware logs through it, passing its fields per line (the logger is not changed). */
  logger?: Logger
  /**
   * With a static `config`: throw a `ChaosConfigError` naming every issue of
   * the config when the middleware is created, instead of logging a warning
   * and ignoring what is invalid. For tests: a config that cannot fire fails
   * the test where it is written. A value read from a store is never strict
   * (fail-safe): the option does nothing without `config`.
   *
   * @example
   * ```ts
   * // throws: faults[0].statusCode: must be an integer from 100 to 599 (got 99)
   * chaosStatusCode({ config: { faults: [{ type: 'status_code', statusCode: 99 }] }, strict: true })
   * ```
   */
  strict?: boolean
  /**
   * Log what would be injected and inject nothing, whatever the config says.
   * Also turned on by the `CHAOS_DRY_RUN=true` environment variable.
   */
  dryRun?: boolean
  /**
   * A Powertools Metrics instance: each injected fault adds 1 to the
   * `ChaosFaultInjected` metric (`ChaosFaultDryRun` for dry runs), with the
   * fault type as the `faultType` dimension, in a single-metric EMF blob so your
   * own dimensions are untouched. Off unless given.
   */
  metrics?: MetricsLike
  /**
   * A Powertools `Tracer` (`@aws-lambda-powertools/tracer`): each fault that
   * fires annotates the current subsegment (`ChaosInjected = true`,
   * `ChaosFault = "latency"`; a dry run `ChaosDryRun = true`), with its
   * details as metadata (namespace `chaos`), an injected delay is a
   * `## chaos <type>` subsegment of its own, and an injected error is marked
   * (`ChaosError`) where it is recorded. Nothing is called in an invocation in
   * which no fault fires. OpenTelemetry needs no option: an active span of a
   * registered SDK gets the same facts.
   */
  tracer?: TracerLike
}

/** The part of Powertools `Metrics` the middlewares use. */
export interface MetricsLike {
  singleMetric(): {
    addDimension(name: string, value: string): void
    addMetric(name: string, unit: 'Count', value: number): void
  }
}
