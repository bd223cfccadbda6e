/**
 * The chaos config as its writer writes it, typed: the middy-chaos document
 * ({@link ChaosConfig}), chaos_lambda's ({@link ChaosLambdaConfig}) and
 * failure-lambda's ({@link FailureLambdaConfig}). What the `config` option
 * and {@link parseConfig} accept.
 *
 * The fault entries of a middy-chaos document are contributed by the fault
 * packages: each adds its entry to {@link ChaosFaultEntries} by module
 * augmentation, so a document written in code knows the faults whose
 * packages the program imports, and a misspelled field of an entry is a
 * compile error. The values read from a store are checked at run time, as
 * before: these types change nothing of what runs.
 *
 * @module
 */

/** A JSON value: what a `set` edit writes, or a `body` given as JSON. */
export type ChaosJsonValue =
  | string
  | number
  | boolean
  | null
  | readonly ChaosJsonValue[]
  | { readonly [key: string]: ChaosJsonValue }

/** A path into an event, a body or data: `"items.0.price"`, `"items[0].price"`, or keys: `["headers", "x.forwarded"]`. */
export type ChaosPath = string | readonly string[]

/** What `equals` and `oneOf` compare: a JSON primitive. */
export type ChaosMatchValue = string | number | boolean | null

/**
 * One `match` condition: a `path` and exactly one of `equals`, `oneOf`,
 * `prefix`, `exists`.
 */
export type ChaosMatchCondition =
  | {
      readonly path: ChaosPath
      readonly equals: ChaosMatchValue
      readonly oneOf?: never
      readonly prefix?: never
      readonly exists?: never
    }
  | {
      readonly path: ChaosPath
      readonly oneOf: readonly ChaosMatchValue[]
      readonly equals?: never
      readonly prefix?: never
      readonly exists?: never
    }
  | {
      readonly path: ChaosPath
      readonly prefix: string
      readonly equals?: never
      readonly oneOf?: never
      readonly exists?: never
    }
  | {
      readonly path: ChaosPath
      readonly exists: boolean
      readonly equals?: never
      readonly oneOf?: never
      readonly prefix?: never
    }

/**
 * The fields every fault entry shares, read by the config engine: when, where
 * and how often the fault fires. A fault package's entry type extends it.
 */
export interface ChaosEntryFields {
  /** Probability of firing per invocation, 0 to 1 (default 1). */
  readonly rate?: number
  /** Fire on the Nth, 2Nth, 3Nth… invocation that reaches the decision. */
  readonly every?: number
  /** At most `max` injections in any `windowMs` (a sliding window). */
  readonly budget?: { readonly max: number; readonly windowMs: number }
  /** Draw the `rate` decisions from a seeded PRNG: the same seed gives the same sequence. */
  readonly seed?: number
  /** Conditions on the event, all of which must hold. */
  readonly match?: readonly ChaosMatchCondition[]
  /** Function names, `name:alias`, `name:version` or `name:$LATEST`. */
  readonly functions?: readonly string[]
  /** The Middy hook the fault runs in, among those its middleware registered. */
  readonly phase?: 'before' | 'after' | 'onError'
  /** `false` skips the entry. */
  readonly enabled?: boolean
  /** Log what the entry would inject, inject nothing. */
  readonly dryRun?: boolean
}

/** A `set` edit: a JSON value written at a path. */
export interface ChaosSetEdit {
  readonly path: ChaosPath
  readonly value: ChaosJsonValue
}

/** Edits by path, of the faults that alter data (`event`, `response`, `point`). */
export interface ChaosEditFields {
  /** Writes a JSON value at each path. */
  readonly set?: readonly ChaosSetEdit[]
  /** Removes each path: one path, or a list of paths. */
  readonly remove?: string | readonly ChaosPath[]
}

/** The one change of a body an entry may ask for (`event`, `response`). */
export interface ChaosBodyFields {
  /** Replaces the body: a string, or a JSON value written out. */
  readonly body?: ChaosJsonValue
  /** Keeps the first N characters of the body. */
  readonly truncate?: number
  /** Cuts the body at a random 30 to 80 % of its length and appends `"\uFFFD\uFFFD\uFFFD"`. */
  readonly mangle?: boolean
  /** Makes a JSON body that no longer parses. */
  readonly invalidJson?: boolean
}

/**
 * The fault entries a middy-chaos document may hold, by fault type: empty
 * here, filled by the fault packages through module augmentation. An entry
 * type extends {@link ChaosEntryFields}, and its `type` is the fault's type
 * (and its aliases).
 *
 * @example
 * ```ts
 * // in a fault package of your own
 * import type { ChaosEntryFields } from '@middy-chaos/core'
 *
 * export interface HeaderEntry extends ChaosEntryFields {
 *   readonly type: 'header'
 *   readonly name: string
 *   readonly value?: string
 * }
 *
 * declare module '@middy-chaos/core' {
 *   interface ChaosFaultEntries {
 *     header: HeaderEntry
 *   }
 * }
 * ```
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled by the fault packages (module augmentation)
export interface ChaosFaultEntries {}

/**
 * One entry of a middy-chaos document: the union of the entries of the fault
 * packages the program imports (`never` when it imports none).
 */
export type ChaosFaultEntry = ChaosFaultEntries[keyof ChaosFaultEntries]

/** When the faults of a document stop by themselves; read in every format. */
export interface ChaosExpiry {
  /** ISO 8601 time or epoch ms after which no fault fires. */
  readonly expiresAt?: string | number
  /** `"15m"`, `"30s"`, `"2h"`, `"1d"` or ms, at most 7 days. */
  readonly duration?: string | number
  /** When the writer stored the document: with `duration`, faults end at `writtenAt + duration`. */
  readonly writtenAt?: string | number
}

/**
 * A middy-chaos document (version 1): several faults at once.
 *
 * @example
 * ```ts
 * import type { ChaosConfig } from '@middy-chaos/core'
 * import '@middy-chaos/status-code'
 *
 * const config: ChaosConfig = {
 *   version: 1,
 *   faults: [{ type: 'status_code', statusCode: 503, preventExecution: true, rate: 0.1 }],
 * }
 * ```
 */
export interface ChaosConfig extends ChaosExpiry {
  /** `1`, the only version (missing means 1). */
  readonly version?: 1
  /** `false` turns every fault off. */
  readonly enabled?: boolean
  /** Every fault of the document is a dry run. */
  readonly dryRun?: boolean
  /** At most 50 entries. */
  readonly faults: readonly ChaosFaultEntry[]
}

/** The fields of a chaos_lambda document whatever `is_enabled` says. */
interface ChaosLambdaFields extends ChaosExpiry {
  /** Probability of injection, 0 to 1 (missing means 1). */
  readonly rate?: number
  /** Latency in ms (`@middy-chaos/latency`). */
  readonly delay?: number
  /** HTTP status (`@middy-chaos/status-code`). */
  readonly error_code?: number
  /** Error message (`@middy-chaos/exception`). */
  readonly exception_msg?: string
}

/**
 * chaos_lambda's flat document, as the AWS FIS workshop writes it: one fault,
 * `fault_type`, which fires only when `is_enabled` is `true`.
 */
export type ChaosLambdaConfig =
  | (ChaosLambdaFields & { readonly is_enabled: true; readonly fault_type: string })
  | (ChaosLambdaFields & { readonly is_enabled: false; readonly fault_type?: string })

/** A 1.x `match` condition of failure-lambda. */
export interface FailureLambdaMatch {
  readonly path: string
  /** Default `eq`. */
  readonly operator?: 'eq' | 'exists' | 'startsWith' | 'regex'
  readonly value?: string
}

/** A failure-lambda 1.x flag: one mode, with the fields that mode reads. */
export interface FailureLambdaFlag {
  readonly enabled: boolean
  /** 0 to 100. */
  readonly percentage?: number
  readonly match?: readonly FailureLambdaMatch[]
  /** `latency` */
  readonly min_latency?: number
  /** `latency` */
  readonly max_latency?: number
  /** `timeout` */
  readonly timeout_buffer_ms?: number
  /** `diskspace` */
  readonly disk_space?: number
  /** `denylist` */
  readonly deny_list?: readonly string[]
  /** `statuscode` */
  readonly status_code?: number
  /** `exception` */
  readonly exception_msg?: string
  /** `corruption` */
  readonly body?: string
}

/** failure-lambda 1.x: one flag per mode. */
export interface FailureLambdaV1Config extends ChaosExpiry {
  readonly latency?: FailureLambdaFlag
  readonly timeout?: FailureLambdaFlag
  readonly diskspace?: FailureLambdaFlag
  readonly denylist?: FailureLambdaFlag
  readonly statuscode?: FailureLambdaFlag
  readonly exception?: FailureLambdaFlag
  readonly corruption?: FailureLambdaFlag
}

/** failure-lambda 0.x: one flat fault. */
export interface FailureLambdaV0Config extends ChaosExpiry {
  readonly isEnabled: boolean
  readonly failureMode:
    | 'latency'
    | 'statuscode'
    | 'exception'
    | 'diskspace'
    | 'denylist'
    | 'blacklist'
  /** 0 to 1. */
  readonly rate?: number
  readonly minLatency?: number
  readonly maxLatency?: number
  readonly exceptionMsg?: string
  readonly statusCode?: number
  readonly diskSpace?: number
  readonly denylist?: readonly string[]
  readonly blacklist?: readonly string[]
}

/** A failure-lambda document, 0.x or 1.x, read unchanged. */
export type FailureLambdaConfig = FailureLambdaV0Config | FailureLambdaV1Config

/**
 * What the `config` option takes: a document in any accepted format, or its
 * JSON text (checked at run time only).
 */
export type ChaosConfigInput = ChaosConfig | ChaosLambdaConfig | FailureLambdaConfig | string

/**
 * What {@link parseConfig} takes for a value of type `T`. A value whose type
 * says nothing of its fields (`unknown`, `object`, `Record<string, unknown>`:
 * what a store or a file returned), text, bytes, `null` or `undefined` is
 * checked at run time only; an object literal must be a
 * {@link ChaosConfigInput}, so that a document written in code is checked by
 * the compiler, as the `config` option is.
 */
export type ChaosConfigArgument<T> = unknown extends T
  ? unknown
  : [T] extends [string | Uint8Array | null | undefined]
    ? T
    : // biome-ignore lint/complexity/noBannedTypes: `{}` is what a type saying nothing of its fields accepts
      {} extends T
      ? T
      : ChaosConfigInput
