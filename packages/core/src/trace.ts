/**
 * Injected faults in traces. An injected delay or error looks, in a trace, like
 * the function's own time and its own error; here every fault that fires says
 * what it is:
 *
 * - **Powertools Tracer (AWS X-Ray)**, given as the `tracer` option: the
 *   current subsegment gets the annotations `ChaosInjected = true` and
 *   `ChaosFault = "latency"` (a dry run: `ChaosDryRun = true`,
 *   `ChaosDryRunFault`), and the fault's details as metadata (namespace
 *   `chaos`, key the fault type); an injected error adds `ChaosError`; an
 *   injected delay is a subsegment of its own, `## chaos latency`, covering
 *   the wait. Lambda's own segment cannot be annotated: where no subsegment
 *   is open (chaos outside `captureLambdaHandler`), the facts go on a
 *   `## chaos <type>` subsegment, which records the injected error.
 * - **OpenTelemetry**, when an SDK is registered and a span is active: the
 *   same facts as attributes `chaos.fault.*` and an event
 *   `chaos.fault.injected` (`chaos.fault.dry_run`) on the active span, and a
 *   child span `chaos latency` for an injected delay. Nothing is imported:
 *   the SDK is found through the global registry that every copy of
 *   `@opentelemetry/api` 1.x shares (so a bundled function finds the SDK of
 *   the ADOT or OpenTelemetry layer, whose API it does not bundle).
 *
 * Only an invocation in which a fault fires (or would, in a dry run) calls
 * anything here; a tracer that throws is ignored.
 *
 * @module
 */
import { sleep } from './util.js'

/**
 * The part of Powertools `Tracer` (`@aws-lambda-powertools/tracer`) the
 * middlewares use: whether tracing is on, and the current segment.
 *
 * @example
 * ```ts
 * const tracer = new Tracer({ serviceName: 'orders' })
 * middy(lambdaHandler).use(captureLambdaHandler(tracer)).use(chaosLatency({ tracer }))
 * // X-Ray: annotation.ChaosInjected = true, a `## chaos latency` subsegment per injected delay
 * ```
 */
export interface TracerLike {
  isTracingEnabled(): boolean
  getSegment(): unknown
}

/** A call a fault affects (an AWS SDK call, an outbound HTTP request), as traces know it. */
export interface TracedCall {
  /**
   * The `X-Amzn-Trace-Id` header the X-Ray SDK put on the call: its `Parent`
   * names the call's subsegment, which is then the one marked.
   */
  readonly traceHeader?: string
}

/**
 * What a fault tells traces, given to its `plan` as `trace`. With no tracer
 * and no OpenTelemetry span, `delay` is `sleep` and the rest do nothing.
 *
 * @example
 * ```ts
 * plan({ params, trace }) {
 *   return { details: { delay: params.delay }, run: () => trace.delay(params.delay) }
 * }
 * ```
 */
export interface FaultTrace {
  /**
   * Waits `ms` (as `sleep`: never rejects, ends early when `signal` aborts)
   * as an injected delay: a subsegment / child span of its own, under the
   * call's when `call` names one.
   */
  delay(ms: number, signal?: AbortSignal, call?: TracedCall): Promise<void>
  /** The same for a wait the fault times itself: call the function returned when it ends. */
  startDelay(ms: number, call?: TracedCall): () => void
  /** Marks a call the fault affects: its subsegment (found by `call.traceHeader`), or the active span. */
  call(details: Readonly<Record<string, unknown>>, call?: TracedCall): void
}

const noop = (): void => undefined

/**
 * The trace of an invocation in which nothing is traced: what a fault's
 * `plan` gets with no tracer and no OpenTelemetry span.
 *
 * @example
 * ```ts
 * const action = latencyFault.plan({ ...context, trace: UNTRACED })
 * ```
 */
export const UNTRACED: FaultTrace = {
  delay: (ms, signal) => sleep(ms, signal),
  startDelay: () => noop,
  call: noop,
}

// ---------------------------------------------------------------------------
// Facts

type Scalar = string | number | boolean
type Facts = Record<string, Scalar | string[]>

const MAX_FACTS = 40
const MAX_TEXT = 256

/**
 * The scalar fields of a fault's log record (`faultType`, `phase`, `delay`,
 * `statusCode`, …), bounded: strings cut at 256 characters, lists of at most
 * 20 strings, at most 40 fields; objects (headers, edits) left out. A trace
 * document has a size limit (64 KB for X-Ray) that a config must not reach.
 */
const factsOf = (details: Readonly<Record<string, unknown>>): Facts => {
  const facts: Facts = {}
  let count = 0
  for (const [key, value] of Object.entries(details)) {
    if (count >= MAX_FACTS) break
    let fact: Scalar | string[] | undefined
    if (typeof value === 'string') fact = value.slice(0, MAX_TEXT)
    else if (typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value)))
      fact = value
    else if (Array.isArray(value) && value.every((item) => typeof item === 'string'))
      fact = value.slice(0, 20).map((item: string) => item.slice(0, MAX_TEXT))
    if (fact === undefined) continue
    facts[key] = fact
    count += 1
  }
  return facts
}

/** `ServiceUnavailableError: message`, cut, for traces. */
const errorFacts = (error: unknown): Facts => {
  const name = error instanceof Error ? error.name : typeof error
  const message = error instanceof Error ? error.message : String(error)
  return { errorName: name.slice(0, MAX_TEXT), errorMessage: message.slice(0, MAX_TEXT) }
}

/** Adds `type` to a comma-separated list of fault types, once. */
const joined = (list: unknown, type: string): string => {
  const types = typeof list === 'string' && list !== '' ? list.split(',') : []
  return types.includes(type) ? types.join(',') : [...types, type].join(',')
}

const attempt = (work: () => void): void => {
  try {
    work()
  } catch {
    // Tracing must never break the invocation.
  }
}

// ---------------------------------------------------------------------------
// X-Ray, through the user's Powertools Tracer

type XraySegment = {
  id?: unknown
  parent?: unknown
  in_progress?: unknown
  subsegments?: unknown
  annotations?: Record<string, unknown>
  addAnnotation(key: string, value: Scalar): void
  addMetadata(key: string, value: unknown, namespace?: string): void
  addNewSubsegment?(name: string): XraySegment
  close?(error?: unknown, remote?: boolean): void
}

/** Metadata namespace of the facts. */
const XRAY_NAMESPACE = 'chaos'

/**
 * An open subsegment: one that can be annotated and will be sent. Lambda's
 * own (facade) segment cannot be annotated, and a closed subsegment has gone.
 */
const isOpenSubsegment = (segment: unknown): segment is XraySegment => {
  const candidate = segment as Partial<XraySegment> | null | undefined
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    typeof candidate.parent === 'object' &&
    candidate.parent !== null &&
    candidate.in_progress === true &&
    typeof candidate.addAnnotation === 'function' &&
    typeof candidate.addMetadata === 'function'
  )
}

const canOpenSubsegment = (segment: unknown): segment is Required<XraySegment> =>
  typeof (segment as Partial<XraySegment> | null | undefined)?.addNewSubsegment === 'function'

const PARENT_ID = /(?:^|;)\s*Parent=([0-9a-f]{16})/i

/** The open subsegment under `root` whose id the header's `Parent` names (breadth first, bounded). */
const subsegmentOfCall = (root: unknown, header: string | undefined): XraySegment | undefined => {
  const id = header === undefined ? undefined : PARENT_ID.exec(header)?.[1]
  if (id === undefined) return undefined
  const queue: unknown[] = [root]
  for (let seen = 0; seen < queue.length && seen < 500; seen += 1) {
    const segment = queue[seen] as Partial<XraySegment>
    if (segment.id === id) return isOpenSubsegment(segment) ? segment : undefined
    if (Array.isArray(segment.subsegments)) queue.push(...segment.subsegments)
  }
  return undefined
}

/** Annotations and metadata of a fault on one subsegment. */
const annotate = (segment: XraySegment, type: string, facts: Facts, dryRun: boolean): void => {
  const annotations = segment.annotations ?? {}
  if (dryRun) {
    segment.addAnnotation('ChaosDryRun', true)
    segment.addAnnotation('ChaosDryRunFault', joined(annotations.ChaosDryRunFault, type))
  } else {
    segment.addAnnotation('ChaosInjected', true)
    segment.addAnnotation('ChaosFault', joined(annotations.ChaosFault, type))
    if (typeof facts.errorName === 'string') segment.addAnnotation('ChaosError', facts.errorName)
  }
  segment.addMetadata(type, facts, XRAY_NAMESPACE)
}

// ---------------------------------------------------------------------------
// OpenTelemetry, through the registry of @opentelemetry/api

type OtelAttributes = Record<string, Scalar | string[]>
type OtelSpan = {
  isRecording(): boolean
  setAttributes(attributes: OtelAttributes): unknown
  addEvent(name: string, attributes?: OtelAttributes): unknown
  end(): void
}
type OtelContext = { getValue(key: symbol): unknown }
type OtelRegistry = {
  version?: unknown
  context?: { active(): OtelContext }
  trace?: {
    getTracer(
      name: string,
      version?: string,
    ): {
      startSpan(
        name: string,
        options?: { attributes?: OtelAttributes },
        context?: OtelContext,
      ): OtelSpan
    }
  }
}

/** Where `@opentelemetry/api` 1.x keeps what an SDK registered: the same for every copy of the API. */
const OTEL_REGISTRY = Symbol.for('opentelemetry.js.api.1')
/** The context key of the active span (`trace.getActiveSpan()` reads it). */
const OTEL_SPAN_KEY = Symbol.for('OpenTelemetry Context Key SPAN')
/** The instrumentation scope of the spans this library starts. */
const OTEL_SCOPE = 'middy-chaos'

/** The registry, when an OpenTelemetry SDK has registered a context manager and a tracer provider. */
const otelRegistry = (): Required<Pick<OtelRegistry, 'context' | 'trace'>> | undefined => {
  const registry = (globalThis as Record<symbol, OtelRegistry | undefined>)[OTEL_REGISTRY]
  return registry?.context !== undefined && registry.trace !== undefined
    ? (registry as Required<Pick<OtelRegistry, 'context' | 'trace'>>)
    : undefined
}

/** `chaos.fault.status_code` for `statusCode`, as OpenTelemetry names attributes. */
const attributeName = (key: string): string =>
  key === 'faultType'
    ? 'chaos.fault.type'
    : `chaos.fault.${key.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`)}`

const attributesOf = (facts: Facts): OtelAttributes => {
  const attributes: OtelAttributes = {}
  for (const [key, value] of Object.entries(facts)) attributes[attributeName(key)] = value
  return attributes
}

/** Fault types already on a span, comma-separated (its attributes cannot be read back through the API). */
const spanTypes = new WeakMap<object, { injected: string; dryRun: string }>()

// ---------------------------------------------------------------------------
// One fault's trace in one invocation

/** What the runner needs to trace one fault that fires. */
export interface FaultFiring {
  readonly type: string
  readonly dryRun: boolean
  readonly tracer: TracerLike | undefined
}

/**
 * The trace of one fault in one invocation, or `undefined` when neither a
 * tracer with tracing on nor an OpenTelemetry SDK is there (the fault's
 * `plan` then gets {@link UNTRACED}, and nothing else is called). The runner
 * calls `begin` with the fault's details, then `failed` if it threw an
 * injected error, then `end`.
 */
export const traceFiring = (firing: FaultFiring): InjectionTrace | undefined => {
  let tracer: TracerLike | undefined
  let otel: ReturnType<typeof otelRegistry>
  attempt(() => {
    tracer = firing.tracer?.isTracingEnabled() === true ? firing.tracer : undefined
  })
  attempt(() => {
    otel = otelRegistry()
  })
  return tracer === undefined && otel === undefined
    ? undefined
    : new InjectionTrace(firing, tracer, otel)
}

/** See {@link traceFiring}. */
export class InjectionTrace implements FaultTrace {
  readonly #type: string
  readonly #dryRun: boolean
  readonly #tracer: TracerLike | undefined
  readonly #otel: Required<Pick<OtelRegistry, 'context' | 'trace'>> | undefined
  #facts: Facts = {}
  /** The X-Ray subsegment that carries this fault's facts, once one does. */
  #carrier: XraySegment | undefined
  /** The segment current when the fault fired. */
  #segment: unknown
  #span: OtelSpan | undefined
  #begun = false
  #ended = false

  public constructor(
    firing: FaultFiring,
    tracer: TracerLike | undefined,
    otel: Required<Pick<OtelRegistry, 'context' | 'trace'>> | undefined,
  ) {
    this.#type = firing.type
    this.#dryRun = firing.dryRun
    this.#tracer = tracer
    this.#otel = otel
  }

  /**
   * The fault fired (or would have): its details, and the expiry stamp of the
   * config value when it has one, go on the current subsegment and the active span.
   */
  public begin(details: Readonly<Record<string, unknown>>, expiresAt?: number): void {
    this.#begun = true
    this.#facts = factsOf(details)
    attempt(() => {
      if (expiresAt !== undefined) this.#facts.expiresAt = new Date(expiresAt).toISOString()
    })
    attempt(() => {
      if (this.#tracer === undefined) return
      this.#segment = this.#tracer.getSegment()
      if (!isOpenSubsegment(this.#segment)) return
      annotate(this.#segment, this.#type, this.#facts, this.#dryRun)
      this.#carrier = this.#segment
    })
    attempt(() => {
      const span = this.#activeSpan()
      if (span === undefined) return
      this.#span = span
      this.#mark(span, this.#facts)
    })
  }

  /** The fault threw an injected error: marked as injected where it is recorded. */
  public failed(error: unknown): void {
    if (this.#dryRun || !this.#begun) return
    const facts = { ...this.#facts, ...errorFacts(error) }
    this.#facts = facts
    attempt(() => {
      if (this.#tracer === undefined) return
      if (this.#carrier !== undefined && this.#carrier === this.#segment) {
        annotate(this.#carrier, this.#type, facts, false)
        return
      }
      // No subsegment was open: the error is recorded on one of the fault's own.
      const own = this.#open(this.#segment, facts)
      own?.close?.(error)
    })
    attempt(() => {
      this.#span?.setAttributes({
        'chaos.fault.error_name': facts.errorName as string,
        'chaos.fault.error_message': facts.errorMessage as string,
      })
    })
  }

  /** The fault's action is over: where nothing carried its facts yet, a subsegment of its own does. */
  public end(): void {
    if (this.#ended) return
    this.#ended = true
    if (!this.#begun || this.#dryRun || this.#tracer === undefined || this.#carrier !== undefined)
      return
    attempt(() => this.#open(this.#segment, this.#facts)?.close?.())
  }

  public async delay(ms: number, signal?: AbortSignal, call?: TracedCall): Promise<void> {
    const end = this.startDelay(ms, call)
    try {
      await sleep(ms, signal)
    } finally {
      end()
    }
  }

  public startDelay(ms: number, call?: TracedCall): () => void {
    if (this.#dryRun || !(ms > 0)) return noop
    const facts: Facts = { ...this.#facts, delay: ms }
    let subsegment: XraySegment | undefined
    let span: OtelSpan | undefined
    attempt(() => {
      if (this.#tracer === undefined) return
      const current = this.#tracer.getSegment()
      subsegment = this.#open(subsegmentOfCall(current, call?.traceHeader) ?? current, facts)
    })
    attempt(() => {
      const otel = this.#otel
      if (otel === undefined) return
      const parent = otel.context.active()
      if (!isRecording(parent.getValue(OTEL_SPAN_KEY))) return
      span = otel.trace
        .getTracer(OTEL_SCOPE)
        .startSpan(
          `chaos ${this.#type}`,
          { attributes: { 'chaos.fault.injected': true, ...attributesOf(facts) } },
          parent,
        )
    })
    let ended = false
    return () => {
      if (ended) return
      ended = true
      attempt(() => subsegment?.close?.())
      attempt(() => span?.end())
    }
  }

  public call(details: Readonly<Record<string, unknown>>, call?: TracedCall): void {
    if (this.#dryRun) return
    const facts = { ...this.#facts, ...factsOf(details) }
    attempt(() => {
      if (this.#tracer === undefined) return
      const subsegment = subsegmentOfCall(this.#tracer.getSegment(), call?.traceHeader)
      if (subsegment !== undefined) annotate(subsegment, this.#type, facts, false)
    })
    attempt(() => {
      const span = this.#activeSpan()
      if (span !== undefined) this.#mark(span, facts)
    })
  }

  /** A `## chaos <type>` subsegment under `parent`, carrying the facts (open: close it). */
  #open(parent: unknown, facts: Facts): XraySegment | undefined {
    if (!canOpenSubsegment(parent)) return undefined
    const own = parent.addNewSubsegment(`## chaos ${this.#type}`)
    annotate(own, this.#type, facts, this.#dryRun)
    this.#carrier ??= own
    return own
  }

  #activeSpan(): OtelSpan | undefined {
    const span = this.#otel?.context.active().getValue(OTEL_SPAN_KEY)
    return isRecording(span) ? span : undefined
  }

  /** The facts as attributes of the span and as one event. */
  #mark(span: OtelSpan, facts: Facts): void {
    const attributes = attributesOf(facts)
    const types = spanTypes.get(span) ?? { injected: '', dryRun: '' }
    spanTypes.set(span, types)
    if (this.#dryRun) {
      types.dryRun = joined(types.dryRun, this.#type)
      span.setAttributes({ 'chaos.fault.dry_run': true, 'chaos.fault.dry_run_type': types.dryRun })
      span.addEvent('chaos.fault.dry_run', attributes)
      return
    }
    types.injected = joined(types.injected, this.#type)
    const marked = { ...attributes, 'chaos.fault.injected': true }
    span.setAttributes({ ...marked, 'chaos.fault.type': types.injected })
    span.addEvent('chaos.fault.injected', marked)
  }
}

const isRecording = (span: unknown): span is OtelSpan =>
  typeof (span as Partial<OtelSpan> | undefined)?.isRecording === 'function' &&
  (span as OtelSpan).isRecording() === true
