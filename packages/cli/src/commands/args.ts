/**
 * Option parsing for the commands: `node:util` `parseArgs` with one-line usage
 * errors, and readers for numbers, durations, URLs and the store selection.
 *
 * @module
 */
import { parseArgs } from 'node:util'
import { parseDuration } from '@middy-chaos/core'
import {
  describeError,
  formatDuration,
  formatExactDuration,
  UsageError,
} from '@middy-chaos/experiment'
import { DEFAULT_PROBE_LOST_MS, PROBE_INTERVAL_BOUNDS } from '../runner/probe.js'
import type { StoreSelection } from '../stores/index.js'

/** The options of a command, as `parseArgs` takes them. */
export type OptionSpecs = Record<
  string,
  { type: 'string' | 'boolean'; short?: string; multiple?: boolean }
>

/** Parsed values: strings, booleans, or lists of strings for repeatable options. */
export type OptionValues = Record<string, string | boolean | string[] | undefined>

/** What {@link parseOptions} returns. */
export interface ParsedArgs {
  values: OptionValues
  positionals: string[]
}

/** The options of every command that reads or writes the config. */
export const STORE_OPTIONS: OptionSpecs = {
  store: { type: 'string' },
  param: { type: 'string' },
  endpoint: { type: 'string' },
  region: { type: 'string' },
}

/** Their lines in a command's help. */
export const STORE_HELP = '  plus the config store options (--store, --param, --endpoint, --region)'

/**
 * `--for -5s` as `--for=-5s`: a value that reads as a negative number or
 * duration is never an option, so the option's own reader says what is wrong
 * with it (`parseArgs` would call it "ambiguous").
 */
const joinNegativeValues = (args: readonly string[], options: OptionSpecs): string[] => {
  const joined: string[] = []
  for (let index = 0; index < args.length; index++) {
    const arg = args[index] as string
    const next = args[index + 1]
    if (arg === '--') {
      joined.push(...args.slice(index))
      break
    }
    const name = arg.startsWith('--') ? arg.slice(2) : undefined
    if (
      name !== undefined &&
      Object.hasOwn(options, name) &&
      options[name]?.type === 'string' &&
      next !== undefined &&
      /^-\.?[0-9]/.test(next)
    ) {
      joined.push(`--${name}=${next}`)
      index++
    } else joined.push(arg)
  }
  return joined
}

/** Parses a command's arguments strictly: an unknown option is a usage error. */
export const parseOptions = (args: string[], options: OptionSpecs): ParsedArgs => {
  try {
    const { values, positionals } = parseArgs({
      args: joinNegativeValues(args, options),
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    })
    return { values: values as OptionValues, positionals }
  } catch (error) {
    const message = describeError(error).replace(/^ERR_PARSE_ARGS_[A-Z_]+: /, '')
    throw new UsageError(message.split('. ')[0] ?? message)
  }
}

/** A string option's value, if given. */
export const stringOption = (values: OptionValues, name: string): string | undefined => {
  const value = values[name]
  return typeof value === 'string' ? value : undefined
}

/** A number option: `fallback` when absent, a usage error naming the option when invalid. */
export const numberOption = (
  name: string,
  text: string | undefined,
  fallback: number,
  check: (n: number) => boolean = Number.isFinite,
): number => {
  if (text === undefined) return fallback
  const value = Number(text)
  if (text.trim() === '' || !Number.isFinite(value) || !check(value)) {
    throw new UsageError(`--${name}: "${text}" is not a valid value`)
  }
  return value
}

/** Longest duration any option takes: 12 hours, AWS FIS's maximum experiment duration. */
export const MAX_OPTION_DURATION_MS = 12 * 3_600_000

/**
 * `parseDuration` for an option (`4s`, `1m`, `500ms`, a bare number of
 * seconds), at most `max` (12 h by default: no timer can overflow).
 */
export const durationOption = (
  name: string,
  text: string | undefined,
  fallback: number,
  max = MAX_OPTION_DURATION_MS,
): number => {
  if (text === undefined) return fallback
  const ms = parseDuration(text) ?? parseDuration(`${text}s`)
  if (ms === undefined) {
    throw new UsageError(
      /^\s*-/.test(text)
        ? `--${name}: "${text}" is negative (a duration is 0 or more: 500ms, 4s, 1m)`
        : `--${name}: "${text}" is not a duration (examples: 500ms, 4s, 1m)`,
    )
  }
  if (ms > max) {
    throw new UsageError(
      `--${name}: "${text}" is longer than the ${formatExactDuration(max)} allowed`,
    )
  }
  return ms
}

/**
 * `--interval`: the time between two requests of the probe, from 10 ms to
 * 1 h ({@link PROBE_INTERVAL_BOUNDS}): `0` would send requests back to back.
 */
export const intervalOption = (values: OptionValues, fallback: number): number => {
  const text = stringOption(values, 'interval')
  const ms = durationOption('interval', text, fallback)
  if (ms < PROBE_INTERVAL_BOUNDS.min || ms > PROBE_INTERVAL_BOUNDS.max)
    throw new UsageError(
      `--interval: "${text}" is not from ${formatDuration(PROBE_INTERVAL_BOUNDS.min)} to ${formatDuration(PROBE_INTERVAL_BOUNDS.max)}`,
    )
  return ms
}

/**
 * `--probe-lost <duration>|never`: stop when the probe has reached nothing for
 * this long (default {@link DEFAULT_PROBE_LOST_MS}); `never`: `Infinity`.
 */
export const probeLostOption = (values: OptionValues): number => {
  const text = stringOption(values, 'probe-lost')
  if (text === 'never') return Number.POSITIVE_INFINITY
  const ms = durationOption('probe-lost', text, DEFAULT_PROBE_LOST_MS)
  if (ms <= 0) throw new UsageError('--probe-lost: must be more than 0, or never')
  return ms
}

/** An http(s) URL, or a usage error. */
export const urlOption = (text: string): URL => {
  try {
    const url = new URL(text)
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http')
    return url
  } catch {
    throw new UsageError(`"${text}" is not an http(s) URL`)
  }
}

/** `--store`, `--param`, `--endpoint`, `--region`, as given; an empty one is a usage error. */
export const storeSelection = (values: OptionValues): StoreSelection => {
  const selection: StoreSelection = {}
  for (const key of ['store', 'param', 'endpoint', 'region'] as const) {
    const value = stringOption(values, key)
    if (value !== undefined && value.trim() === '')
      throw new UsageError(`--${key}: must not be empty`)
    if (value !== undefined) selection[key] = value
  }
  return selection
}
