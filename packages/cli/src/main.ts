/**
 * `middy-chaos`: finds the command, parses its options, prints help, and turns
 * every user mistake into one `middy-chaos: …` line and an exit code.
 *
 * @module
 */
import type { FaultCatalog } from '@middy-chaos/core'
import { CliError, describeError, FAULTS, UsageError } from '@middy-chaos/experiment'
import { parseOptions } from './commands/args.js'
import type { Command, CommandContext } from './commands/command.js'
import { COMMANDS } from './commands/index.js'
import { Terminal } from './terminal.js'

export const VERSION = '0.1.0'

/** The global help, made from the command table. */
export const globalHelp = (commands: readonly Command[] = COMMANDS): string =>
  `middy-chaos ${VERSION}: chaos experiments for Lambda handlers built with Middy

Usage:
${commands.flatMap((command) => command.usage.map((usage) => `  middy-chaos ${usage}`)).join('\n')}

Config store options (every command that reads or writes the config):
  --store file|ssm     file (default, or CHAOS_STORE): a local JSON file; ssm: SSM Parameter Store
  --param <name>       file path or SSM parameter name (CHAOS_PARAM; file default .chaos/config.json)
  --endpoint <url>     SSM endpoint, e.g. moto (AWS_ENDPOINT_URL_SSM / AWS_ENDPOINT_URL)
  --region <region>    AWS region for SSM (AWS_REGION)

Run "middy-chaos <command> --help" for a command's options.`

/** Options of {@link main}. */
export interface MainOptions {
  /** The faults the commands know; default: the registry of every middy-chaos fault. */
  faults?: FaultCatalog
}

/**
 * Runs the `middy-chaos` command line and resolves with the exit code. User
 * mistakes end with one line on stderr, never a stack trace.
 *
 * @example
 * ```ts
 * process.exitCode = await main(['status', '--store', 'file'])
 * ```
 */
export const main = async (
  argv: string[],
  terminal: Terminal = new Terminal(),
  options: MainOptions = {},
): Promise<number> => {
  const context: CommandContext = { terminal, faults: options.faults ?? FAULTS }
  const [name, ...args] = argv
  try {
    if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
      const command = COMMANDS.find((candidate) => candidate.name === args[0])
      terminal.line(command ? command.help(context) : globalHelp())
      return 0
    }
    if (name === '--version' || name === '-v') {
      terminal.line(VERSION)
      return 0
    }
    const command = COMMANDS.find((candidate) => candidate.name === name)
    if (!command) throw new UsageError(`unknown command "${name}" (run middy-chaos --help)`)
    const parsed = parseOptions(args, command.options(context))
    if (parsed.values.help === true) {
      terminal.line(command.help(context))
      return 0
    }
    const extra = parsed.positionals[command.positionals]
    if (extra !== undefined) throw new UsageError(`${name}: unexpected argument "${extra}"`)
    return await command.run(parsed, context)
  } catch (error) {
    if (error instanceof CliError) {
      terminal.error(`middy-chaos: ${error.message}`)
      return error.exitCode
    }
    terminal.error(`middy-chaos: unexpected error: ${describeError(error)}`)
    if (process.env.MIDDY_CHAOS_DEBUG) terminal.error(String((error as Error)?.stack ?? error))
    return 1
  }
}
