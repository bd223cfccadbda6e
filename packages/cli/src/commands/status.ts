import { checkConfig, describeConfig } from '@middy-chaos/experiment'
import { LEASE_SUFFIX, parseLease, staleReason } from '@middy-chaos/fis/local'
import { leaseStatusLine } from '../report/output.js'
import { createStore } from '../stores/index.js'
import { STORE_HELP, STORE_OPTIONS, storeSelection } from './args.js'
import type { Command } from './command.js'

/** `middy-chaos status`: what the store holds and what it does. */
export const statusCommand: Command = {
  name: 'status',
  positionals: 0,
  usage: ['status [--history]'],
  help: () => `middy-chaos status [options]
  Shows the config the functions read: version, value, the faults it turns on, any problem, and
  the lease of the experiment running on it (or a stale one, left by a runner that died).
  --history              also every earlier version
${STORE_HELP}`,
  options: () => ({ ...STORE_OPTIONS, history: { type: 'boolean' } }),
  async run({ values }, { terminal, faults }) {
    const store = createStore(storeSelection(values))
    const current = await store.read()
    terminal.line(`store    ${store.description}`)
    if (current === undefined) {
      terminal.line('value    (none: the parameter does not exist; no faults are injected)')
    } else {
      terminal.line(
        `version  ${current.version}${current.modifiedAt ? ` (${current.modifiedAt})` : ''}`,
      )
      terminal.line(`value    ${current.value}`)
      terminal.line(`faults   ${describeConfig(current.value, faults)}`)
      const { issues, notes } = checkConfig(current.value, faults)
      for (const issue of issues) terminal.line(`problem  ${issue.path}: ${issue.message}`)
      for (const note of notes) terminal.line(`note     ${note}`)
    }
    const lease = parseLease(await store.readCompanion(LEASE_SUFFIX))
    terminal.line(leaseStatusLine(lease, lease && staleReason(lease)))
    if (values.history === true) {
      for (const entry of await store.history()) {
        const what = entry.removed ? 'removed' : describeConfig(entry.value, faults)
        terminal.line(`  v${entry.version} ${entry.modifiedAt ?? ''} ${entry.label ?? ''}: ${what}`)
      }
    }
    return 0
  },
}
