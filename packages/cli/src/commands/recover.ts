import { describeRestore } from '../report/output.js'
import { recoverStaleLease } from '../runner/run.js'
import { createStore } from '../stores/index.js'
import { STORE_HELP, STORE_OPTIONS, storeSelection } from './args.js'
import type { Command } from './command.js'

/** `middy-chaos recover`: after a runner died, restores the value its stale lease recorded. */
export const recoverCommand: Command = {
  name: 'recover',
  positionals: 0,
  usage: ['recover'],
  help: () => `middy-chaos recover [options]
  After an experiment's runner died (kill -9, a closed laptop): takes over its stale lease, writes
  back the pre-experiment value the lease recorded (never the chaos value left in the store), and
  releases the lease. Its faults stop by themselves (the values carry an expiry); this puts the
  parameter back as it was. A lease is stale once its runner is gone: on this host, as soon as its
  process has ended; on another host (or an automation on AWS), once the lease has expired. Refused
  (exit 5, nothing changed) while its runner may be alive.
${STORE_HELP}`,
  options: () => STORE_OPTIONS,
  async run({ values }, { terminal, faults }) {
    const store = createStore(storeSelection(values))
    const { stale, restore } = await recoverStaleLease(store)
    if (stale === undefined) {
      terminal.line(`${store.description} has no stale lease: nothing to recover`)
      return 0
    }
    terminal.line(
      `Took over the stale lease of experiment ${stale.experiment} (host ${stale.host}, pid ${stale.pid})`,
    )
    terminal.line(describeRestore(store, restore, faults))
    return restore.action === 'failed' ? 3 : 0
  },
}
