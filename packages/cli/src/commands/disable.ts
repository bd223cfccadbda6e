import { STORE_HELP, STORE_OPTIONS, storeSelection } from '../args.js'
import type { Command } from '../command.js'
import { createStore } from '../store.js'
import { parseStored, writeAndReport } from '../writes.js'

/** chaos_lambda's "off" as the workshop writes it, for a store that holds no chaos_lambda value. */
const WORKSHOP_OFF = {
  is_enabled: false,
  delay: 400,
  error_code: 404,
  exception_msg: 'Fault injected by chaos-lambda',
  rate: 1,
  fault_type: 'latency',
}

/** `middy-chaos disable`: faults off, settings kept. */
export const disableCommand: Command = {
  name: 'disable',
  positionals: 0,
  usage: ['disable'],
  help: () => `middy-chaos disable [options]
  Turns every fault off and keeps the fault settings (as the workshop's S07_DisableFaults does):
  "is_enabled": false in chaos_lambda's format, "enabled": false in middy-chaos's.
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
    const value: Record<string, unknown> = Array.isArray(current.faults)
      ? { ...current, enabled: false }
      : { ...WORKSHOP_OFF, ...current, is_enabled: false }
    return writeAndReport(store, JSON.stringify(value), 'cli: disable', terminal, faults)
  },
}
