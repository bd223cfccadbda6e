import {
  FAILURE_LAMBDA_MODES,
  type FaultCatalog,
  isFailureLambdaConfig,
  isRecord,
} from '@middy-chaos/core'
import { turnsFaultsOn } from '@middy-chaos/experiment'
import { createStore } from '../stores/index.js'
import { STORE_HELP, STORE_OPTIONS, storeSelection } from './args.js'
import type { Command } from './command.js'
import { parseStored, writeAndReport } from './writes.js'

/** chaos_lambda's "off" as the workshop writes it, for a store that holds no chaos_lambda value. */
const WORKSHOP_OFF = {
  is_enabled: false,
  delay: 400,
  error_code: 404,
  exception_msg: 'Fault injected by chaos-lambda',
  rate: 1,
  fault_type: 'latency',
}

/**
 * A value with every fault off, in the format it is in, its settings kept:
 * middy-chaos's `enabled: false`; failure-lambda 0.x's `isEnabled: false`, 1.x's
 * `enabled: false` on every flag (failure-lambda reads nothing else); otherwise
 * chaos_lambda's `is_enabled: false`.
 */
export const turnedOff = (current: Record<string, unknown>): Record<string, unknown> => {
  if (Array.isArray(current.faults)) return { ...current, enabled: false }
  if (isFailureLambdaConfig(current)) {
    // Both spellings off: a document with 0.x keys and 1.x flags is read as 1.x.
    const off = Object.fromEntries(
      Object.entries(current).map(([key, flag]) => [
        key,
        isRecord(flag) && (FAILURE_LAMBDA_MODES as readonly string[]).includes(key)
          ? { ...flag, enabled: false }
          : flag,
      ]),
    )
    return 'isEnabled' in current ? { ...off, isEnabled: false } : off
  }
  return { ...WORKSHOP_OFF, ...current, is_enabled: false }
}

/** Faults off for certain: the value {@link turnedOff} gives, else an empty disabled document. */
const offValue = (current: Record<string, unknown>, faults: FaultCatalog): string => {
  const value = JSON.stringify(turnedOff(current))
  return turnsFaultsOn(value, faults)
    ? JSON.stringify({ version: 1, enabled: false, faults: [] })
    : value
}

/** `middy-chaos disable`: faults off, settings kept. */
export const disableCommand: Command = {
  name: 'disable',
  positionals: 0,
  usage: ['disable'],
  help: () => `middy-chaos disable [options]
  Turns every fault off and keeps the fault settings (as the workshop's S07_DisableFaults does):
  "is_enabled": false in chaos_lambda's format, "enabled": false in middy-chaos's, and in
  failure-lambda's "isEnabled": false (0.x) or "enabled": false on every flag (1.x).
${STORE_HELP}`,
  options: () => STORE_OPTIONS,
  async run({ values }, { terminal, faults }) {
    const store = createStore(storeSelection(values))
    const stored = await store.read()
    if (stored === undefined) {
      terminal.line(
        `${store.description} does not exist: no faults are injected; nothing to disable`,
      )
      return 0
    }
    // The settings stay; the expiry of the faults that were on goes with them.
    const { expiresAt: _, ...current } = parseStored(stored.value) ?? {}
    return writeAndReport(store, offValue(current, faults), 'cli: disable', terminal, faults)
  },
}
