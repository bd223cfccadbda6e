/**
 * A config store seen through a cache window: {@link ConfigSource}. The
 * process-wide registry of sources is in `sources.ts`.
 *
 * @module
 */
import type { Logger } from '@aws-lambda-powertools/logger'
import type { Request } from '@middy/core'
import { catalogGeneration } from './catalog.js'
import { decodeConfigValue, parseConfig } from './config.js'
import { ChaosConfigTimeoutError } from './errors.js'
import { EMPTY_DOCUMENT } from './formats/common.js'
import {
  failureLambdaReader,
  isFailureLambdaConfig,
  loadFailureLambdaReader,
} from './formats/failure-lambda-detect.js'
import { isMiddyChaosDocument } from './formats/middy-chaos.js'
import { getDefaultLogger } from './logger.js'
import { remainingTimeMs } from './time.js'
import type { ChaosDocument } from './types.js'
import { boundLines, errorText, formatIssues, isRecord, safeLog } from './util.js'

export const DEFAULT_MAX_AGE_SECONDS = 5
export const DEFAULT_FETCH_TIMEOUT_MS = 1000
export const DEFAULT_REQUEST_TIMEOUT_MS = 5000
/** Time kept free before the Lambda deadline when waiting for the config store (ms). */
const DEADLINE_MARGIN_MS = 100
/** A store that failed is not asked again sooner than this (ms). */
const FAILURE_RETRY_MS = 1000
/**
 * The part of the cache window after which an invocation starts the next fetch
 * in the background: with steady traffic, the next document is in before the
 * current one is too old to fire a fault, and nothing waits.
 */
const REFRESH_AHEAD = 0.8

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

/** Reads the store; the request ends when `signal` aborts (where the provider allows). */
type Loader = (signal: AbortSignal) => Promise<unknown>

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

/** A store's value that parseConfig reads as a failure-lambda document. */
const isFailureLambdaValue = (raw: unknown): boolean => {
  const { value } = decodeConfigValue(raw)
  return isRecord(value) && !isMiddyChaosDocument(value) && isFailureLambdaConfig(value)
}

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
 * A config store seen through a cache window. Fetches about once per window
 * (the next fetch starts in the background in the window's last fifth), shares
 * one in-flight request between concurrent callers, ends each request at
 * `requestTimeout`, and never throws: whatever goes wrong ends in an empty
 * config and at most one warning per window.
 *
 * **No fault fires from a document read more than `maxAge` before the
 * invocation**: a document is fresh for `maxAge` from the moment its fetch
 * started (when the store was read, at the latest). An invocation that finds
 * only a stale document either uses it because it turns no fault on (the
 * refresh goes on in the background: a function with faults off never waits
 * after its cold start), or waits for the refresh, at most `fetchTimeout` and
 * never past its deadline less a margin, and runs with no faults if it does not
 * come in time. A cold start waits for the first value the same way. It also
 * knows which snapshot each invocation uses ({@link ConfigSource.snapshotFor}),
 * so that every chaos hook of a chain sees the same one.
 */
export class ConfigSource {
  /** Human-readable name of the source for log lines: `ssm:/chaos/config`. */
  public readonly description: string
  /** Per-invocation key under which hooks share the snapshot on Middy's `request`. */
  readonly #requestKey: symbol
  /**
   * The request seen last and the snapshot it uses: lets every chaos hook of a
   * chain after the first find its snapshot with one comparison. Interleaved
   * invocations fall back to `request[#requestKey]`.
   */
  #lastRequest: object | undefined = undefined
  #lastSnapshot: ConfigSnapshot | undefined = undefined
  readonly #load: Loader
  readonly #maxAgeMs: number
  readonly #fetchTimeoutMs: number
  readonly #requestTimeoutMs: number
  readonly #logger: () => Logger
  #snapshot: ConfigSnapshot | undefined
  /** An invocation arriving from then on starts the next fetch (epoch ms). */
  #refreshAt = 0
  /** The snapshot may fire faults in invocations arriving before then: its fetch's start + `maxAge`. */
  #freshUntil = 0
  #inflight: Promise<ConfigSnapshot> | undefined
  /** When the fetch in flight started (epoch ms). */
  #inflightStartedAt = 0
  /** With `maxAge: 0`, the one fetch that starts when the one in flight ends. */
  #queued: Promise<ConfigSnapshot> | undefined
  #lastWarningAt = Number.NEGATIVE_INFINITY
  #lastSlowWarningAt = Number.NEGATIVE_INFINITY
  #fetches = 0
  /** The catalog the snapshot was parsed with: a fault registered later means a new parse. */
  #generation = -1
  /** The document text last fetched and when it was first seen, for relative `duration`s. */
  #seen: { text: string; at: number } | undefined
  #notedText: string | undefined
  /** The value last fetched, kept to read it again when the catalog of faults grows. */
  #lastRaw: { ok: true; raw: unknown } | { ok: false } = { ok: false }
  /** The document text last fetched, and the last one whose expiry was logged. */
  #lastText: string | undefined
  #expiredText: string | undefined

  public constructor(options: {
    description: string
    load: Loader
    maxAgeSeconds: number
    fetchTimeoutMs?: number
    requestTimeoutMs?: number
    logger?: () => Logger
  }) {
    this.description = options.description
    this.#requestKey = Symbol(`middy-chaos:${options.description}`)
    this.#load = options.load
    this.#maxAgeMs = Math.max(0, options.maxAgeSeconds * 1000)
    this.#fetchTimeoutMs = options.fetchTimeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS
    this.#requestTimeoutMs = Math.max(
      this.#fetchTimeoutMs,
      options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    )
    this.#logger = options.logger ?? getDefaultLogger
  }

  /** How many times the store has been asked, for tests and benchmarks. */
  public get fetchCount(): number {
    return this.#fetches
  }

  /**
   * Resolves once no fetch is in flight (at once when none is), for tests and
   * benchmarks: a background refresh started by an invocation has then landed.
   */
  public async whenSettled(): Promise<void> {
    while (this.#inflight !== undefined || this.#queued !== undefined)
      await (this.#queued ?? this.#inflight)
  }

  /**
   * The snapshot an invocation uses, the same for every chaos hook of its
   * chain: the first hook takes the cached one (synchronously) or waits for a
   * refresh, at most `fetchTimeout` and never past the Lambda deadline less a
   * margin (past it, the invocation runs with no faults while the request goes
   * on); the hooks after it find it with one comparison. The returned promise
   * never rejects.
   */
  public snapshotFor(request: Request): ConfigSnapshot | Promise<ConfigSnapshot> {
    if (request === this.#lastRequest) return this.#lastSnapshot as ConfigSnapshot
    // Interleaved invocations (a local server, tests) keep theirs on the request itself.
    const carrier = request as unknown as Record<symbol, ConfigSnapshot | undefined>
    const shared = carrier[this.#requestKey]
    if (shared !== undefined) return this.#use(request, shared)
    const current = this.current()
    if (!(current instanceof Promise)) return this.#use(request, current)
    const remaining = remainingTimeMs(request.context)
    // A fetch keeps invocations waiting at most `fetchTimeout` after it started (with
    // `maxAge: 0`, after the invocation arrived: its fetch starts later).
    const wait = Math.min(
      this.#maxAgeMs === 0
        ? this.#fetchTimeoutMs
        : this.#inflightStartedAt + this.#fetchTimeoutMs - Date.now(),
      remaining === undefined ? Number.POSITIVE_INFINITY : remaining - DEADLINE_MARGIN_MS,
    )
    return this.within(current, wait).then((snapshot) => this.#use(request, snapshot))
  }

  #use(request: Request, snapshot: ConfigSnapshot): ConfigSnapshot {
    ;(request as unknown as Record<symbol, ConfigSnapshot>)[this.#requestKey] = snapshot
    this.#lastRequest = request
    this.#lastSnapshot = snapshot
    return snapshot
  }

  /**
   * The current snapshot: synchronously while it may serve an invocation
   * arriving now, otherwise a promise of the refreshed one (which never
   * rejects). A document whose fetch started more than `maxAge` ago serves
   * only if it turns no fault on.
   */
  public current(): ConfigSnapshot | Promise<ConfigSnapshot> {
    let snapshot = this.#snapshot
    // A fault registered since the value was read (a chain's middlewares are created one by
    // one, after the first prefetch): read the same value again, without asking the store
    // (a fetch that failed stays failed until its retry time).
    if (snapshot !== undefined && this.#generation !== catalogGeneration()) {
      snapshot = this.#reparse(snapshot)
    }
    if (snapshot !== undefined && this.#generation === catalogGeneration()) {
      const now = Date.now()
      if (now >= this.#refreshAt) {
        // `maxAge: 0`: every invocation waits for a fetch that starts no earlier than it.
        if (this.#maxAgeMs === 0) return this.#refreshFromNow()
        const refresh = this.refresh()
        // Too old to fire a fault: wait for the refresh, or run with none.
        if (now >= this.#freshUntil && !snapshot.inert && now < snapshot.faultsEndAt)
          return this.#fresher(refresh, now)
      }
      return now < snapshot.faultsEndAt || snapshot.inert ? snapshot : this.#ended(snapshot)
    }
    // The cold start: the first value, in flight since the middleware was created.
    if (this.#maxAgeMs === 0) return this.#refreshFromNow()
    return this.#fresher(this.refresh(), Date.now())
  }

  /**
   * The fetch in flight, for an invocation arriving at `now` that has no
   * document it may use; no faults at once when that fetch started
   * `fetchTimeout` ago or more (nobody waits for it any longer: an invocation
   * already did, in vain) or `maxAge` ago or more (what it reads would be too
   * old for this invocation).
   */
  #fresher(
    refresh: Promise<ConfigSnapshot>,
    now: number,
  ): ConfigSnapshot | Promise<ConfigSnapshot> {
    const started = this.#inflightStartedAt
    if (now >= started + this.#fetchTimeoutMs || now >= started + this.#maxAgeMs) return NO_FAULTS
    return refresh
  }

  /**
   * Starts loading the store and fetching the config now (a middleware does it
   * when it is created: Lambda's init phase), so that the first invocation
   * finds it ready or in flight.
   */
  public prefetch(): void {
    if (this.#snapshot === undefined) void this.refresh()
  }

  /** The last value read again with today's catalog; the window and the fetch time stay. */
  #reparse(previous: ConfigSnapshot): ConfigSnapshot {
    const generation = catalogGeneration()
    let snapshot = previous
    if (this.#lastRaw.ok) {
      const { document } = parseConfig(this.#lastRaw.raw)
      snapshot = snapshotOf(document, previous.fetchedAt, previous.faultsEndAt)
    }
    this.#snapshot = snapshot
    this.#generation = generation
    return snapshot
  }

  /** The snapshot's faults have reached their end time: the same document, inert. */
  #ended(snapshot: ConfigSnapshot): ConfigSnapshot {
    const ended = snapshotOf(snapshot.document, snapshot.fetchedAt, snapshot.fetchedAt)
    this.#snapshot = ended
    if (this.#expiredText !== this.#lastText) {
      this.#expiredText = this.#lastText
      this.#logExpired(snapshot.faultsEndAt)
    }
    return ended
  }

  /** Fetches now unless a fetch is already in flight, whose result is shared. */
  public refresh(): Promise<ConfigSnapshot> {
    if (this.#inflight === undefined) {
      this.#inflightStartedAt = Date.now()
      this.#inflight = this.#fetch().finally(() => {
        this.#inflight = undefined
      })
    }
    return this.#inflight
  }

  /**
   * A fetch that starts no earlier than now (`maxAge: 0`: a fresh value for
   * every invocation): the one in flight may have read the store before a
   * write this invocation must see, so callers arriving meanwhile share the
   * one fetch that starts when it ends.
   */
  #refreshFromNow(): Promise<ConfigSnapshot> {
    const inflight = this.#inflight
    if (inflight === undefined) return this.refresh()
    // When it ends, the store is asked again, unless it failed: a failing store is asked
    // again no sooner than a second later.
    this.#queued ??= inflight.then(() => {
      this.#queued = undefined
      return this.current()
    })
    return this.#queued
  }

  /**
   * A refresh that the caller waits for at most `ms` (`fetchTimeout`, or less
   * before its Lambda deadline): past it the caller goes on with no faults, and
   * the request goes on, within `requestTimeout`, for the next invocations.
   */
  public within(refresh: Promise<ConfigSnapshot>, ms: number): Promise<ConfigSnapshot> {
    // The request ends by itself by then.
    if (!(ms < this.#requestTimeoutMs)) return refresh
    let timer: NodeJS.Timeout | undefined
    const fallback = new Promise<ConfigSnapshot>((resolve) => {
      timer = setTimeout(
        () => {
          this.#warnSlow(ms)
          resolve(NO_FAULTS)
        },
        Math.max(0, ms),
      )
    })
    return Promise.race([refresh, fallback]).finally(() => clearTimeout(timer))
  }

  async #fetch(): Promise<ConfigSnapshot> {
    this.#fetches++
    const startedAt = Date.now()
    const generation = catalogGeneration()
    let document: ChaosDocument = EMPTY_DOCUMENT
    let faultsEndAt = Number.POSITIVE_INFINITY
    let failed = false
    try {
      const raw = await this.#bounded()
      // A failure-lambda document in a function that has not loaded its reader: load it now.
      if (failureLambdaReader() === undefined && isFailureLambdaValue(raw))
        await loadFailureLambdaReader()
      this.#lastRaw = { ok: true, raw }
      const { document: parsed, issues, notes, warnings } = parseConfig(raw)
      document = parsed
      const text = fingerprint(raw)
      faultsEndAt = this.#endOf(parsed, text)
      if (notes !== undefined && notes.length > 0) this.#note(parsed, notes, warnings ?? [], text)
      if (
        faultsEndAt <= Date.now() &&
        parsed.enabled &&
        parsed.faults.length > 0 &&
        this.#expiredText !== text
      ) {
        // Expired before this fetch (sparse traffic): said once per document, as when it expires in cache.
        this.#expiredText = text
        this.#logExpired(faultsEndAt)
      }
      this.#lastText = text
      if (issues.length > 0) {
        this.#warn('Chaos config has problems; the entries concerned are ignored', {
          issues: formatIssues(issues),
        })
      }
    } catch (error) {
      failed = true
      this.#lastRaw = { ok: false }
      this.#warn('Chaos config could not be loaded; no faults are injected', {
        error: errorText(error),
      })
    }
    const now = Date.now()
    const snapshot = snapshotOf(document, now, faultsEndAt)
    this.#snapshot = snapshot
    this.#generation = generation
    // Fresh for the window from when the store was read at the latest; the next fetch starts in
    // its last fifth. A store that fails is asked again after the window, and never more than
    // once a second.
    this.#freshUntil = startedAt + this.#maxAgeMs
    this.#refreshAt = failed
      ? now + Math.max(this.#maxAgeMs, FAILURE_RETRY_MS)
      : startedAt + this.#maxAgeMs * REFRESH_AHEAD
    return snapshot
  }

  /**
   * Notes of a converted format, logged once per distinct document: what was
   * dropped or skipped as a warning, the approximations as information.
   */
  #note(
    document: ChaosDocument,
    notes: readonly string[],
    warnings: readonly string[],
    text: string,
  ): void {
    if (text === this.#notedText) return
    this.#notedText = text
    const others = notes.filter((note) => !warnings.includes(note))
    if (warnings.length > 0)
      safeLog(
        this.#logger,
        'warn',
        `Chaos config in the ${document.format} format: parts ignored`,
        {
          chaosSource: this.description,
          issues: formatIssues(
            warnings.map((warning) => ({ path: 'failure-lambda', message: warning })),
          ),
        },
      )
    if (others.length > 0)
      safeLog(this.#logger, 'info', `Chaos config read from the ${document.format} format`, {
        chaosSource: this.description,
        notes: boundLines(others),
      })
  }

  #logExpired(faultsEndAt: number): void {
    safeLog(this.#logger, 'info', 'Chaos config expired: faults stopped by themselves', {
      chaosSource: this.description,
      expiredAt: new Date(faultsEndAt).toISOString(),
    })
  }

  /** When a document's faults end: its `expiresAt`, or first sight + `duration`. */
  #endOf(document: ChaosDocument, text: string): number {
    let end = document.expiresAt ?? Number.POSITIVE_INFINITY
    if (document.durationMs !== undefined) {
      if (this.#seen?.text !== text) this.#seen = { text, at: Date.now() }
      end = Math.min(end, this.#seen.at + document.durationMs)
    } else {
      this.#seen = undefined
    }
    return end
  }

  /** One store request, ended at `requestTimeout`: aborted where the provider allows, given up on in any case. */
  #bounded(): Promise<unknown> {
    const controller = new AbortController()
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new ChaosConfigTimeoutError(this.description, this.#requestTimeoutMs))
        controller.abort()
      }, this.#requestTimeoutMs)
      // The bound never keeps a process alive by itself (a request's own socket does).
      timer.unref?.()
    })
    let request: Promise<unknown>
    try {
      request = Promise.resolve(this.#load(controller.signal))
    } catch (error) {
      request = Promise.reject(error)
    }
    return Promise.race([request, timeout]).finally(() => clearTimeout(timer))
  }

  /** The invocation stopped waiting for the store: said at most once per window. */
  #warnSlow(waitedMs: number): void {
    const now = Date.now()
    if (now - this.#lastSlowWarningAt < Math.max(this.#maxAgeMs, 1000)) return
    this.#lastSlowWarningAt = now
    safeLog(
      this.#logger,
      'warn',
      'Chaos config not ready in time: this invocation runs with no faults; the request goes on for the next ones',
      {
        chaosSource: this.description,
        waitedMs: Math.round(waitedMs),
        requestTimeoutMs: this.#requestTimeoutMs,
      },
    )
  }

  /** At most one warning per cache window (and never more than one a second). */
  #warn(message: string, details: Record<string, unknown>): void {
    const now = Date.now()
    if (now - this.#lastWarningAt < Math.max(this.#maxAgeMs, 1000)) return
    this.#lastWarningAt = now
    safeLog(this.#logger, 'warn', message, { chaosSource: this.description, ...details })
  }
}
