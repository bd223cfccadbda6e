import { readFile } from 'node:fs/promises'
import {
  CliError,
  checkConfig,
  describeError,
  InputError,
  UsageError,
} from '@middy-chaos/experiment'
import { createStore } from '../stores/index.js'
import { STORE_HELP, STORE_OPTIONS, storeSelection, stringOption } from './args.js'
import type { Command } from './command.js'
import { FOR_HELP, FOR_OPTION, withExpiry, writeAndReport } from './writes.js'

/** `middy-chaos set`: writes a config value, checked first. */
export const setCommand: Command = {
  name: 'set',
  positionals: 1,
  usage: ["set '<json>' | --file <config.json>"],
  help: ({ faults }) => `middy-chaos set '<json>' | --file <config.json> [options]
  Writes a chaos config, in any accepted format (middy-chaos, chaos_lambda, failure-lambda),
  after checking every entry with its fault's own rules (known faults: ${faults.map((f) => f.type).join(', ')});
  in a failure-lambda document, what the middlewares would drop or skip is refused too.
  --file <path>          read the value from a file
  --force                write it even if it has problems (a value that turns faults on still
                         gets its expiresAt)
${FOR_HELP}
                         (a value with its own earlier expiresAt keeps it)
${STORE_HELP}`,
  options: () => ({
    ...STORE_OPTIONS,
    ...FOR_OPTION,
    file: { type: 'string' },
    force: { type: 'boolean' },
  }),
  async run({ values, positionals }, { terminal, faults }) {
    let value = positionals[0]
    const file = stringOption(values, 'file')
    if (file !== undefined && value !== undefined)
      throw new UsageError('set: give the value or --file, not both')
    if (file !== undefined) {
      try {
        value = await readFile(file, 'utf8')
      } catch (error) {
        throw new CliError(
          (error as NodeJS.ErrnoException).code === 'ENOENT'
            ? `config file not found: ${file}`
            : `cannot read ${file}: ${describeError(error)}`,
        )
      }
    }
    if (value === undefined)
      throw new UsageError(
        'set: which value? (middy-chaos set \'{"is_enabled":false}\' or --file config.json)',
      )
    const { issues, notes } = checkConfig(value, faults)
    if (issues.length > 0 && values.force !== true) {
      throw new InputError(
        `invalid chaos config: ${issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ')} (nothing written; --force writes it anyway)`,
      )
    }
    // Read before anything is written: a wrong --for is refused with or without --force.
    const { value: stamped } = withExpiry(value.trim(), values, faults)
    const store = createStore(storeSelection(values))
    for (const issue of issues)
      terminal.error(`warning: ${issue.path}: ${issue.message} (written anyway: --force)`)
    for (const note of notes) terminal.error(`note: ${note}`)
    return writeAndReport(store, stamped, 'cli: set', terminal, faults)
  },
}
