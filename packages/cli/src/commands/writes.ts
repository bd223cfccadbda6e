/**
 * What `enable`, `disable` and `set` share: reading the stored value as JSON,
 * and writing a new one with a line saying what it does.
 *
 * @module
 */
import { type FaultCatalog, isRecord } from '@middy-chaos/core'
import {
  checkConfig,
  describeConfig,
  InputError,
  stampExpiry,
  turnsFaultsOn,
  UsageError,
} from '@middy-chaos/experiment'
import type { ConfigStore } from '@middy-chaos/fis/local'
import type { Terminal } from '../terminal.js'
import { durationOption, type OptionSpecs, type OptionValues, stringOption } from './args.js'

/** The stored value as a JSON object, or `undefined` (none, or not an object). */
export const parseStored = (value: string | undefined): Record<string, unknown> | undefined => {
  if (value === undefined) return undefined
  try {
    const parsed = JSON.parse(value) as unknown
    return isRecord(parsed) ? parsed : undefined
  } catch {
    return undefined
  }
}

/** Refuses a value a middleware would not take (every problem listed), before anything is written. */
export const assertValid = (value: string, faults: FaultCatalog, what = 'chaos config'): void => {
  const { issues } = checkConfig(value, faults)
  if (issues.length > 0) {
    throw new InputError(
      `invalid ${what}: ${issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ')} (nothing written)`,
    )
  }
}

/** How long faults turned on by `enable` or `set` stay on unless said otherwise: 1 hour. */
export const DEFAULT_FOR_MS = 3_600_000

/** The `--for` option of `enable` and `set`. */
export const FOR_OPTION: OptionSpecs = { for: { type: 'string' } }

/** Its help line. */
export const FOR_HELP = `  --for <duration>       faults stop by themselves after this long (default 1h, more than 0,
                         at most 12h); --for never keeps them on until disabled`

/**
 * Reads `--for`: a duration more than 0 (default 1 h, at most 12 h), or
 * `never`, the explicit opt-in to faults that stay on (`undefined`). `0` or a
 * negative duration is a usage error: it would mean "never" by accident.
 */
export const forOption = (values: OptionValues): number | undefined => {
  const text = stringOption(values, 'for')
  if (text?.trim().toLowerCase() === 'never') return undefined
  const refuse = () =>
    new UsageError(
      `--for: "${text}" is not a duration more than 0 (examples: 30m, 1h; --for never keeps faults on until disabled)`,
    )
  if (text !== undefined && /^\s*-/.test(text)) throw refuse()
  const ms = durationOption('for', text, DEFAULT_FOR_MS)
  if (ms <= 0) throw refuse()
  return ms
}

/**
 * Stamps a value that turns faults on with `expiresAt` = now + `--for`
 * (default 1 h): a tool that writes a config never leaves faults on by
 * accident. `--for never` writes the value as it is. `--for` is read (and a
 * wrong one refused) whatever the value.
 */
export const withExpiry = (
  value: string,
  values: OptionValues,
  faults: FaultCatalog,
): { value: string; expiresAt?: number } => {
  const ms = forOption(values)
  if (ms === undefined || !turnsFaultsOn(value, faults)) return { value }
  const expiresAt = Date.now() + ms
  const stamped = stampExpiry(value, expiresAt, faults)
  return stamped === value ? { value } : { value: stamped, expiresAt }
}

/** Writes a value and says what the store now holds. */
export const writeAndReport = async (
  store: ConfigStore,
  value: string,
  label: string,
  terminal: Terminal,
  faults: FaultCatalog,
): Promise<number> => {
  const written = await store.write(value, { label })
  terminal.line(
    `${store.description} is now version ${written.version}: ${describeConfig(value, faults)}`,
  )
  terminal.line(value)
  const expiry = parseExpiry(value)
  if (expiry !== undefined && turnsFaultsOn(value, faults))
    terminal.line(
      `Faults stop by themselves at ${new Date(expiry).toISOString()} (--for sets how long, --for never keeps them on; middy-chaos disable turns them off now)`,
    )
  return 0
}

const parseExpiry = (value: string): number | undefined => {
  const raw = parseStored(value)?.expiresAt
  const time =
    typeof raw === 'string' ? Date.parse(raw) : typeof raw === 'number' ? raw : Number.NaN
  return Number.isNaN(time) ? undefined : time
}
