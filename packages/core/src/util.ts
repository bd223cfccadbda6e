/**
 * Small helpers shared by the core, the fault packages and the CLI, written once.
 *
 * @module
 */
import type { Logger } from '@aws-lambda-powertools/logger'

/** A plain JSON-like object (not null, not an array). */
export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/**
 * Path segments that would read an inherited property (`__proto__`,
 * `constructor`, `prototype`) rather than data: refused wherever a config
 * names a path into an event or a response.
 */
export const FORBIDDEN_SEGMENTS: ReadonlySet<string> = new Set([
  '__proto__',
  'constructor',
  'prototype',
])

/**
 * Describes a config value for an issue message: strings quoted (cut at 40
 * characters), objects and arrays named, never their contents. Never throws.
 *
 * @example
 * ```ts
 * describeValue('x'.repeat(100)) // '"xxxx…"' (40 characters and an ellipsis)
 * describeValue([1, 2]) // 'an array'
 * ```
 */
export const describeValue = (value: unknown): string => {
  if (typeof value === 'string')
    return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)
  if (typeof value === 'symbol') return 'a symbol'
  if (typeof value === 'function') return 'a function'
  if (typeof value === 'bigint') return 'a bigint'
  if (value === null || typeof value !== 'object') return String(value)
  return Array.isArray(value) ? 'an array' : 'an object'
}

/** `null`, `an array`, `string`: the kind of a value, for messages. */
export const kindOf = (value: unknown): string =>
  value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value

/** `faults[0].budget` from prefix `faults[0]` and field `budget`; just `budget` for an empty prefix. */
export const joinPath = (prefix: string, field: string): string =>
  prefix ? `${prefix}.${field}` : field

/** `Name: message` of any thrown value, on one line. */
export const errorText = (error: unknown): string =>
  error instanceof Error ? `${error.name}: ${error.message}` : String(error)

/**
 * Writes one log line through a logger, which must never break the invocation:
 * a logger that throws (a broken transport, a bad custom formatter) is ignored.
 */
export const safeLog = (
  logger: () => Logger,
  level: 'info' | 'warn',
  message: string,
  extra: object = {},
): void => {
  try {
    logger()[level](message, extra as Record<string, unknown>)
  } catch {
    // A logger that throws must not break the invocation.
  }
}

/** Longest single timer Node.js keeps (2^31 - 1 ms, about 24.8 days); a longer one fires at once. */
export const MAX_TIMER_MS = 2_147_483_647

/**
 * Waits `ms` milliseconds, or until `signal` aborts. Never rejects, and
 * resolves to `undefined` (a fault's `run` may return it: no early response).
 * Waits longer than a Node.js timer can hold are waited in several timers.
 * A caller that needs to know whether it was interrupted reads `signal.aborted`.
 *
 * @example
 * ```ts
 * await sleep(60_000, controller.signal)
 * if (controller.signal.aborted) console.log('interrupted')
 * ```
 */
export const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal?.aborted || !(ms > 0)) return resolve()
    const end = Date.now() + ms
    let timer: NodeJS.Timeout | undefined
    const done = () => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    const arm = () => {
      const left = end - Date.now()
      if (left <= 0) return done()
      timer = setTimeout(left > MAX_TIMER_MS ? arm : done, Math.min(left, MAX_TIMER_MS))
    }
    signal?.addEventListener('abort', done, { once: true })
    arm()
  })

/**
 * Merges option defaults under user options the way a user expects: a key the
 * user left `undefined` keeps its default.
 */
export const withDefaults = <O extends object>(defaults: Partial<O> | undefined, options: O): O => {
  if (defaults === undefined) return options
  const merged: Record<string, unknown> = { ...defaults }
  for (const [key, value] of Object.entries(options)) if (value !== undefined) merged[key] = value
  return merged as O
}

/** Most issues one warning line lists; the others are counted. */
export const MAX_LOGGED_ISSUES = 20
/** Longest issue text in a warning line (path and message). */
export const MAX_ISSUE_LENGTH = 300

/**
 * Lines of a log line's list: at most {@link MAX_LOGGED_ISSUES}, each at most
 * {@link MAX_ISSUE_LENGTH} characters, then `(and N more)`. A line the
 * middlewares write about a config therefore stays under about 8 KB, whatever
 * the config (the core README documents the bound).
 */
export const boundLines = <T>(
  items: readonly T[],
  textOf: (item: T) => string = String,
): string[] => {
  const lines = items.slice(0, MAX_LOGGED_ISSUES).map((item) => {
    const text = textOf(item)
    return text.length > MAX_ISSUE_LENGTH ? `${text.slice(0, MAX_ISSUE_LENGTH - 1)}…` : text
  })
  if (items.length > MAX_LOGGED_ISSUES) lines.push(`(and ${items.length - MAX_LOGGED_ISSUES} more)`)
  return lines
}

/** Issues as the lines of a warning, bounded as {@link boundLines} says. */
export const formatIssues = (issues: readonly { path: string; message: string }[]): string[] =>
  boundLines(issues, (issue) => `${issue.path}: ${issue.message}`)
