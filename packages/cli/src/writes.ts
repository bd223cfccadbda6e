/**
 * What `enable`, `disable` and `set` share: reading the stored value as JSON,
 * and writing a new one with a line saying what it does.
 *
 * @module
 */
import { type FaultCatalog, isRecord } from '@middy-chaos/core'
import { checkConfig, describeConfig } from './config-check.js'
import { CliError } from './errors.js'
import type { ConfigStore } from './store.js'
import type { Terminal } from './terminal.js'

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
    throw new CliError(
      `invalid ${what}: ${issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ')} (nothing written)`,
    )
  }
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
  return 0
}
