/**
 * Rate modes of a fault entry: when, among the invocations an execution
 * environment sees, a fault fires.
 *
 * Fields of a fault entry (all optional):
 *
 * | field | value | meaning |
 * | --- | --- | --- |
 * | `rate` | number 0..1, default 1 | probability of firing (validated by `parseConfig`) |
 * | `every` | integer ≥ 1 | fire only on the Nth, 2Nth, 3Nth… invocation that reaches the decision |
 * | `budget` | `{ "max": integer 0..10000, "windowMs": integer 1..86400000 }` | at most `max` injections in any `windowMs` ms (sliding window) |
 * | `seed` | integer 0..4294967295 | draw `rate` decisions from a seeded PRNG so a run can be reproduced |
 *
 * ```json
 * { "type": "latency", "delay": 300, "rate": 0.5, "every": 3, "budget": { "max": 5, "windowMs": 60000 }, "seed": 42 }
 * ```
 *
 * All state (the every-Nth counter, the budget's timestamps, the PRNG) lives in
 * a {@link Sampler}, one per fault per execution environment.
 *
 * @module
 */

import type { ConfigIssue } from './issue.js'
import { describeValue, isRecord, joinPath } from './util.js'

/** Largest `budget.max`: a sliding budget keeps this many timestamps. */
export const MAX_BUDGET = 10_000
/** Longest `budget.windowMs`: one day. */
export const MAX_WINDOW_MS = 86_400_000
/** Largest `seed`: seeds are 32-bit. */
export const MAX_SEED = 0xffff_ffff

/** At most `max` injections in any window of `windowMs` milliseconds. */
export interface RateBudget {
  readonly max: number
  readonly windowMs: number
}

/** The rate fields of one fault entry, validated. */
export interface RatePolicy {
  /** Probability of firing, 0..1. */
  readonly rate: number
  /** Fire only on every Nth invocation that reaches the decision. */
  readonly every?: number
  /** Cap on injections per sliding window. */
  readonly budget?: RateBudget
  /** Seed of the PRNG used for `rate` decisions. */
  readonly seed?: number
}

/** Options of a {@link Sampler}. */
export interface SamplerOptions {
  /**
   * Source of uniform numbers in [0, 1) for `rate` decisions. Wins over the
   * policy's `seed`; defaults to `mulberry32(seed)` when the policy has a seed,
   * else `Math.random`.
   */
  random?: () => number
}

/**
 * A small, fast 32-bit PRNG (Tommy Ettinger's Mulberry32): the same seed gives
 * the same sequence of numbers in [0, 1), on every platform. Not for
 * cryptography.
 *
 * @example
 * ```ts
 * const random = mulberry32(42)
 * random() // 0.6011037519201636, every time
 * ```
 */
export const mulberry32 = (seed: number): (() => number) => {
  let state = (Number.isFinite(seed) ? seed : 0) >>> 0
  return () => {
    state = (state + 0x6d2b79f5) | 0
    let t = Math.imul(state ^ (state >>> 15), 1 | state)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

const integerIn = (value: unknown, min: number, max: number): value is number =>
  typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max

const BUDGET_FIELDS = ['max', 'windowMs'] as const

const parseBudget = (raw: unknown, at: string, issues: ConfigIssue[]): RateBudget | undefined => {
  if (!isRecord(raw)) {
    issues.push({
      path: at,
      message: `must be an object { "max": integer, "windowMs": integer } (got ${describeValue(raw)})`,
    })
    return undefined
  }
  const before = issues.length
  for (const key of Object.keys(raw)) {
    if (!(BUDGET_FIELDS as readonly string[]).includes(key)) {
      issues.push({
        path: `${at}.${key}`,
        message: 'is not a budget field (expected "max" and "windowMs")',
      })
    }
  }
  const { max, windowMs } = raw
  if (max === undefined) {
    issues.push({ path: `${at}.max`, message: `is required: an integer from 0 to ${MAX_BUDGET}` })
  } else if (!integerIn(max, 0, MAX_BUDGET)) {
    issues.push({
      path: `${at}.max`,
      message: `must be an integer from 0 to ${MAX_BUDGET} (got ${describeValue(max)})`,
    })
  }
  if (windowMs === undefined) {
    issues.push({
      path: `${at}.windowMs`,
      message: `is required: an integer from 1 to ${MAX_WINDOW_MS} ms`,
    })
  } else if (!integerIn(windowMs, 1, MAX_WINDOW_MS)) {
    issues.push({
      path: `${at}.windowMs`,
      message: `must be an integer from 1 to ${MAX_WINDOW_MS} ms (got ${describeValue(windowMs)})`,
    })
  }
  if (issues.length > before) return undefined
  return { max: max as number, windowMs: windowMs as number }
}

/**
 * Reads `every`, `budget` and `seed` of a fault entry and combines them with
 * its already validated `rate`. Records every problem in `issues` (path like
 * `faults[0].every`, message naming the bound) and returns `undefined` when
 * any field is invalid: the fault must then not fire. Never throws.
 *
 * A `rate` outside 0..1 (or not a number) is clamped (NaN reads as 0): it is
 * validated, and reported, by `parseConfig`.
 *
 * @param fields - the fault entry as written
 * @param rate - the entry's validated `rate`
 * @param path - prefix of the entry's fields in messages: `faults[0]`, or `` at top level
 * @param issues - where problems are recorded
 *
 * @example
 * ```ts
 * const issues: ConfigIssue[] = []
 * const policy = parseRateFields({ every: 3, budget: { max: 5, windowMs: 60_000 } }, 1, 'faults[0]', issues)
 * // policy: { rate: 1, every: 3, budget: { max: 5, windowMs: 60000 } }
 * parseRateFields({ every: 0 }, 1, 'faults[0]', issues)
 * // undefined; issues: [{ path: 'faults[0].every', message: 'must be an integer of at least 1 (got 0)' }]
 * ```
 */
export const parseRateFields = (
  fields: Readonly<Record<string, unknown>>,
  rate: number,
  path: string,
  issues: ConfigIssue[],
): RatePolicy | undefined => {
  const before = issues.length
  const source: Readonly<Record<string, unknown>> = isRecord(fields) ? fields : {}
  const clamped = typeof rate === 'number' && rate > 0 ? Math.min(rate, 1) : 0
  const policy: { rate: number; every?: number; budget?: RateBudget; seed?: number } = {
    rate: clamped,
  }

  const every = source.every
  if (every !== undefined) {
    if (integerIn(every, 1, Number.MAX_SAFE_INTEGER)) policy.every = every
    else
      issues.push({
        path: joinPath(path, 'every'),
        message: `must be an integer of at least 1 (got ${describeValue(every)})`,
      })
  }

  if (source.budget !== undefined) {
    const budget = parseBudget(source.budget, joinPath(path, 'budget'), issues)
    if (budget !== undefined) policy.budget = budget
  }

  const seed = source.seed
  if (seed !== undefined) {
    if (integerIn(seed, 0, MAX_SEED)) policy.seed = seed
    else
      issues.push({
        path: joinPath(path, 'seed'),
        message: `must be an integer from 0 to ${MAX_SEED} (got ${describeValue(seed)})`,
      })
  }

  return issues.length > before ? undefined : policy
}

/** `true` when the policy fires on every invocation: no sampler is needed at all. */
export const alwaysFires = (policy: RatePolicy): boolean =>
  policy.rate >= 1 &&
  (policy.every === undefined || policy.every === 1) &&
  policy.budget === undefined

/**
 * A canonical text of a policy. Two policies with the same key behave the
 * same, so a caller can keep a {@link Sampler} (its counter, budget and PRNG
 * position) across config refreshes that leave the entry unchanged.
 *
 * @example
 * ```ts
 * policyKey({ rate: 0.5, every: 2 }) // 'r=0.5;e=2;b=;s='
 * ```
 */
export const policyKey = (policy: RatePolicy): string =>
  `r=${policy.rate};e=${policy.every ?? ''};b=${
    policy.budget ? `${policy.budget.max}/${policy.budget.windowMs}` : ''
  };s=${policy.seed ?? ''}`

/**
 * Decides, per invocation, whether a fault fires. Conditions are checked in
 * this order, and the fault fires only when all pass:
 *
 * 1. `every`: a counter of the calls to {@link Sampler.shouldFire} (the
 *    invocations that reached the decision); passes on the Nth, 2Nth, …
 * 2. `rate`: one draw from the random source, `random() < rate` (no draw when
 *    `rate` is 1 or 0);
 * 3. `budget`: passes when fewer than `max` injections happened in the last
 *    `windowMs` ms, i.e. in `(now - windowMs, now]`. Only injections count.
 *
 * The budget is a **sliding** window: in no interval of `windowMs` ms are
 * there more than `max` injections. It keeps the times of the last `max`
 * injections in a ring (memory O(max), time O(1) per call). Times are
 * milliseconds; a clock that goes backwards is read as not having moved, so
 * the guarantee holds for the recorded times.
 *
 * Memory is bounded, and a plain `rate: 1` costs one branch.
 *
 * @example
 * ```ts
 * const sampler = new Sampler({ rate: 1, every: 3 })
 * ;[1, 2, 3, 4, 5, 6].map(() => sampler.shouldFire()) // [false, false, true, false, false, true]
 *
 * const seeded = new Sampler({ rate: 0.5, seed: 7 }) // same decisions on every run
 * ```
 */
export class Sampler {
  readonly #always: boolean
  readonly #rate: number
  readonly #every: number
  readonly #random: () => number
  readonly #budgetMax: number
  readonly #windowMs: number
  #count = 0
  /** Ring of the last `max` injection times (budget only). */
  readonly #times: number[] | undefined
  #next = 0
  #filled = 0
  #last = Number.NEGATIVE_INFINITY

  public constructor(policy: RatePolicy, options: SamplerOptions = {}) {
    const rate = policy?.rate
    this.#rate = typeof rate === 'number' && rate > 0 ? Math.min(rate, 1) : 0
    const every = policy?.every
    this.#every = typeof every === 'number' && Number.isInteger(every) && every > 1 ? every : 1
    const budget = policy?.budget
    const hasBudget =
      budget !== undefined &&
      Number.isInteger(budget.max) &&
      budget.max >= 0 &&
      Number.isFinite(budget.windowMs) &&
      budget.windowMs > 0
    this.#budgetMax = hasBudget ? Math.min(budget.max, MAX_BUDGET) : 0
    this.#windowMs = hasBudget ? budget.windowMs : 0
    this.#times = hasBudget ? [] : undefined
    const seed = policy?.seed
    this.#random =
      typeof options.random === 'function'
        ? options.random
        : typeof seed === 'number'
          ? mulberry32(seed)
          : Math.random
    this.#always = this.#rate >= 1 && this.#every === 1 && !hasBudget
  }

  /**
   * Whether the fault fires for this invocation; updates the state. Never
   * throws: a random source that throws or returns a non-number counts as
   * "do not fire".
   *
   * @param now - current time in ms, only read by a budget (default `Date.now()`)
   */
  public shouldFire(now?: number): boolean {
    if (this.#always) return true
    if (this.#every > 1) {
      this.#count += 1
      if (this.#count < this.#every) return false
      this.#count = 0
    }
    if (this.#rate < 1) {
      if (this.#rate <= 0) return false
      let draw: unknown
      try {
        draw = this.#random()
      } catch {
        return false
      }
      if (!(typeof draw === 'number' && draw < this.#rate)) return false
    }
    const times = this.#times
    if (times === undefined) return true
    const max = this.#budgetMax
    if (max === 0) return false
    let time = typeof now === 'number' && Number.isFinite(now) ? now : Date.now()
    if (time < this.#last) time = this.#last
    if (this.#filled === max) {
      // times[#next] is the oldest of the last `max` injections.
      const oldest = times[this.#next] as number
      if (time - oldest < this.#windowMs) return false
    } else {
      this.#filled += 1
    }
    times[this.#next] = time
    this.#next = this.#next + 1 === max ? 0 : this.#next + 1
    this.#last = time
    return true
  }
}
