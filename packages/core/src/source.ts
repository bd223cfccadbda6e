import type { Logger } from '@aws-lambda-powertools/logger'
import { EMPTY_DOCUMENT, parseConfig } from './config.js'
import { ChaosConfigTimeoutError } from './errors.js'
import { getDefaultLogger } from './logger.js'
import type { ChaosDocument, ChaosSourceOptions, ConfigProvider } from './types.js'

/** Environment variable naming the SSM parameter, as in chaos_lambda. */
export const PARAMETER_ENV = 'CHAOS_PARAM'
export const DEFAULT_MAX_AGE_SECONDS = 5
export const DEFAULT_FETCH_TIMEOUT_MS = 1000
/** A store that failed is not asked again sooner than this (ms). */
const FAILURE_RETRY_MS = 1000

/**
 * One fetched and validated config, shared by every chaos middleware reading
 * the same source until it expires. Each middleware validates its own entries
 * once per snapshot.
 */
export interface ConfigSnapshot {
  readonly document: ChaosDocument
  /** No fault can fire: the document is disabled or has no entries. Hooks return at once. */
  readonly inert: boolean
  /** When the snapshot was fetched (epoch ms). */
  readonly fetchedAt: number
  /** When its faults stop by themselves (epoch ms; `Infinity` when never). */
  readonly faultsEndAt: number
}

type Loader = () => Promise<unknown>

const resolveMaxAgeSeconds = (maxAge: number | undefined): number => {
  if (maxAge !== undefined) return maxAge
  const fromEnv = Number(process.env.POWERTOOLS_PARAMETERS_MAX_AGE)
  return process.env.POWERTOOLS_PARAMETERS_MAX_AGE !== undefined &&
    Number.isFinite(fromEnv) &&
    fromEnv >= 0
    ? fromEnv
    : DEFAULT_MAX_AGE_SECONDS
}

const snapshotOf = (
  document: ChaosDocument,
  fetchedAt: number,
  faultsEndAt = Number.POSITIVE_INFINITY,
): ConfigSnapshot => ({
  document,
  inert: !document.enabled || document.faults.length === 0 || faultsEndAt <= fetchedAt,
  fetchedAt,
  faultsEndAt,
})

/** What an invocation uses when it cannot wait for the store: nothing fires. */
const NO_FAULTS: ConfigSnapshot = Object.freeze(snapshotOf(EMPTY_DOCUMENT, 0))

const fingerprint = (raw: unknown): string => {
  if (typeof raw === 'string') return raw
  if (raw instanceof Uint8Array) return new TextDecoder().decode(raw)
  try {
    return JSON.stringify(raw) ?? ''
  } catch {
    return ''
  }
}

/**
 * A config store seen through a cache window. Fetches at most once per window,
 * shares one in-flight request between concurrent callers, bounds each fetch
 * in time, and never throws: whatever goes wrong ends in an empty config and
 * at most one warning per window.
 */
export class ConfigSource {
  /** Human-readable name of the source for log lines: `ssm:/chaos/config`. */
  public readonly description: string
  /** Per-invocation key under which hooks share the snapshot on Middy's `request`. */
  public readonly requestKey: symbol
  /**
   * The request seen last and the snapshot it uses: lets every chaos hook of a
   * chain after the first find its snapshot with one comparison. Interleaved
   * invocations fall back to `request[requestKey]`.
   * @internal
   */
  public lastRequest: object | undefined = undefined
  /** @internal */
  public lastSnapshot: ConfigSnapshot | undefined = undefined
  readonly #load: Loader
  readonly #maxAgeMs: number
  readonly #fetchTimeoutMs: number
  readonly #logger: () => Logger
  #snapshot: ConfigSnapshot | undefined
  #expiresAt = 0
  #inflight: Promise<ConfigSnapshot> | undefined
  #lastWarningAt = Number.NEGATIVE_INFINITY
  #fetches = 0
  /** The document text last fetched and when it was first seen, for relative `duration`s. */
  #seen: { text: string; at: number } | undefined
  #notedText: string | undefined

  public constructor(options: {
    description: string
    load: Loader
    maxAgeSeconds: number
    fetchTimeoutMs?: number
    logger?: () => Logger
  }) {
    this.description = options.description
    this.requestKey = Symbol(`middy-chaos:${options.description}`)
    this.#load = options.load
    this.#maxAgeMs = Math.max(0, options.maxAgeSeconds * 1000)
    this.#fetchTimeoutMs = options.fetchTimeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS
    this.#logger = options.logger ?? getDefaultLogger
  }

  /** How many times the store has been asked, for tests and benchmarks. */
  public get fetchCount(): number {
    return this.#fetches
  }

  /**
   * The current snapshot: synchronously while the cache is fresh, otherwise a
   * promise of the refreshed one (which never rejects).
   */
  public current(): ConfigSnapshot | Promise<ConfigSnapshot> {
    const snapshot = this.#snapshot
    if (snapshot !== undefined) {
      const now = Date.now()
      if (now < this.#expiresAt) {
        return now < snapshot.faultsEndAt || snapshot.inert ? snapshot : this.#ended(snapshot)
      }
    }
    return this.refresh()
  }

  /** The snapshot's faults have reached their end time: the same document, inert. */
  #ended(snapshot: ConfigSnapshot): ConfigSnapshot {
    const ended = snapshotOf(snapshot.document, snapshot.fetchedAt, snapshot.fetchedAt)
    this.#snapshot = ended
    try {
      this.#logger().info('Chaos config expired: faults stopped by themselves', {
        chaosSource: this.description,
        expiredAt: new Date(snapshot.faultsEndAt).toISOString(),
      })
    } catch {
      // A logger that throws must not break the invocation.
    }
    return ended
  }

  /** Fetches now unless a fetch is already in flight, whose result is shared. */
  public refresh(): Promise<ConfigSnapshot> {
    this.#inflight ??= this.#fetch().finally(() => {
      this.#inflight = undefined
    })
    return this.#inflight
  }

  /**
   * A refresh that the caller waits for at most `ms` (the time left before its
   * Lambda deadline): past it the caller goes on with no faults, and the fetch
   * goes on for the next invocation.
   */
  public within(refresh: Promise<ConfigSnapshot>, ms: number): Promise<ConfigSnapshot> {
    if (!(ms < this.#fetchTimeoutMs)) return refresh
    let timer: NodeJS.Timeout | undefined
    const fallback = new Promise<ConfigSnapshot>((resolve) => {
      timer = setTimeout(() => resolve(NO_FAULTS), Math.max(0, ms))
    })
    return Promise.race([refresh, fallback]).finally(() => clearTimeout(timer))
  }

  async #fetch(): Promise<ConfigSnapshot> {
    this.#fetches++
    let document: ChaosDocument = EMPTY_DOCUMENT
    let faultsEndAt = Number.POSITIVE_INFINITY
    let failed = false
    try {
      const raw = await this.#withTimeout(this.#load())
      const { document: parsed, issues, notes } = parseConfig(raw)
      document = parsed
      faultsEndAt = this.#endOf(parsed, raw)
      if (notes !== undefined && notes.length > 0) this.#note(parsed, notes, raw)
      if (issues.length > 0) {
        this.#warn('Chaos config has problems; the entries concerned are ignored', {
          issues: issues.map((issue) => `${issue.path}: ${issue.message}`),
        })
      }
    } catch (error) {
      failed = true
      this.#warn('Chaos config could not be loaded; no faults are injected', {
        error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      })
    }
    const now = Date.now()
    const snapshot = snapshotOf(document, now, faultsEndAt)
    this.#snapshot = snapshot
    // A store that fails is asked again after the window, and never more than once a second.
    this.#expiresAt = now + (failed ? Math.max(this.#maxAgeMs, FAILURE_RETRY_MS) : this.#maxAgeMs)
    return snapshot
  }

  /** Notes of a converted format, logged once per distinct document. */
  #note(document: ChaosDocument, notes: readonly string[], raw: unknown): void {
    const text = fingerprint(raw)
    if (text === this.#notedText) return
    this.#notedText = text
    try {
      this.#logger().info(`Chaos config read from the ${document.format} format`, {
        chaosSource: this.description,
        notes,
      })
    } catch {
      // A logger that throws must not break the invocation.
    }
  }

  /** When a document's faults end: its `expiresAt`, or first sight + `duration`. */
  #endOf(document: ChaosDocument, raw: unknown): number {
    let end = document.expiresAt ?? Number.POSITIVE_INFINITY
    if (document.durationMs !== undefined) {
      const text = fingerprint(raw)
      if (this.#seen?.text !== text) this.#seen = { text, at: Date.now() }
      end = Math.min(end, this.#seen.at + document.durationMs)
    } else {
      this.#seen = undefined
    }
    return end
  }

  #withTimeout<T>(promise: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new ChaosConfigTimeoutError(this.description, this.#fetchTimeoutMs)),
        this.#fetchTimeoutMs,
      )
    })
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
  }

  /** At most one warning per cache window (and never more than one a second). */
  #warn(message: string, details: Record<string, unknown>): void {
    const now = Date.now()
    if (now - this.#lastWarningAt < Math.max(this.#maxAgeMs, 1000)) return
    this.#lastWarningAt = now
    try {
      this.#logger().warn(message, { chaosSource: this.description, ...details })
    } catch {
      // A logger that throws must not break the invocation.
    }
  }
}

/** Environment variable choosing the default store: `ssm` (default) or `file`. */
export const STORE_ENV = 'CHAOS_STORE'

/** Built-in stores, selected by the `store` option or `CHAOS_STORE`. */
export type ChaosStore = 'ssm' | 'file'

const defaultProviders = new Map<ChaosStore, Promise<ConfigProvider>>()

/** The process-wide provider of a built-in store, loaded on first use. */
const getDefaultProvider = (store: ChaosStore): Promise<ConfigProvider> => {
  let provider = defaultProviders.get(store)
  if (!provider) {
    provider =
      store === 'file'
        ? import('./file-store.js').then(({ FileProvider }) => new FileProvider())
        : import('@aws-lambda-powertools/parameters/ssm').then(
            ({ SSMProvider }) => new SSMProvider() as ConfigProvider,
          )
    defaultProviders.set(store, provider)
  }
  return provider
}

const resolveStore = (store: string | undefined): ChaosStore => {
  const value = (store ?? process.env[STORE_ENV] ?? 'ssm').toLowerCase()
  return value === 'file' ? 'file' : 'ssm'
}

const sharedSources = new Map<string, ConfigSource>()
const providerSources = new WeakMap<object, Map<string, ConfigSource>>()
const staticSources = new WeakMap<object, ConfigSource>()
const staticTextSources = new Map<string, ConfigSource>()
let noSource: ConfigSource | undefined

/**
 * The config source for a set of options. Middlewares built with the same
 * provider, parameter name and cache settings share one source, so a chain of
 * several chaos middlewares fetches once per cache window.
 *
 * @example
 * ```ts
 * const source = getConfigSource({ parameterName: '/chaos/config', maxAge: 10 })
 * const snapshot = await source.refresh()
 * ```
 */
export const getConfigSource = (options: ChaosSourceOptions = {}): ConfigSource => {
  const logger = options.logger ? () => options.logger as Logger : undefined
  const fetchTimeoutMs = options.fetchTimeout ?? DEFAULT_FETCH_TIMEOUT_MS
  if (options.config !== undefined) {
    const config = options.config
    const create = () =>
      new ConfigSource({
        description: 'static',
        load: async () => config,
        maxAgeSeconds: Number.POSITIVE_INFINITY,
        fetchTimeoutMs,
        ...(logger ? { logger } : {}),
      })
    if (typeof config === 'string') {
      let source = staticTextSources.get(config)
      if (!source) {
        source = create()
        staticTextSources.set(config, source)
      }
      return source
    }
    if (typeof config !== 'object' || config === null) return create()
    let source = staticSources.get(config)
    if (!source) {
      source = create()
      staticSources.set(config, source)
    }
    return source
  }

  const name = options.parameterName ?? process.env[PARAMETER_ENV]
  const maxAgeSeconds = resolveMaxAgeSeconds(options.maxAge)
  const provider = options.provider
  if (name === undefined || name === '') {
    noSource ??= new ConfigSource({
      description: 'none',
      load: async () => {
        throw new Error(
          `no config source: set the ${PARAMETER_ENV} environment variable or the parameterName option`,
        )
      },
      maxAgeSeconds: Number.POSITIVE_INFINITY,
      fetchTimeoutMs,
      ...(logger ? { logger } : {}),
    })
    return noSource
  }

  const store = resolveStore(options.store)
  const key = `${store}\u0000${name}\u0000${maxAgeSeconds}\u0000${fetchTimeoutMs}\u0000${JSON.stringify(options.providerOptions ?? {})}`
  let registry = sharedSources
  if (provider) {
    registry = providerSources.get(provider) ?? new Map()
    providerSources.set(provider, registry)
  }
  let source = registry.get(key)
  if (!source) {
    // This source is the cache: the provider is asked only when the window has passed.
    const getOptions = { maxAge: maxAgeSeconds, forceFetch: true, ...options.providerOptions }
    source = new ConfigSource({
      description: `${provider ? (provider.constructor?.name ?? 'provider') : store}:${name}`,
      load: async () => (provider ?? (await getDefaultProvider(store))).get(name, getOptions),
      maxAgeSeconds,
      fetchTimeoutMs,
      ...(logger ? { logger } : {}),
    })
    registry.set(key, source)
  }
  return source
}

/** Drops every shared source and the default provider (for tests). */
export const resetConfigSources = (): void => {
  sharedSources.clear()
  staticTextSources.clear()
  noSource = undefined
  defaultProviders.clear()
}
