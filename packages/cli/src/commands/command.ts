/**
 * What a command is: its name, its help, its options and its `run`. Each
 * command lives in its own file under `commands/`; `main.ts` dispatches.
 *
 * @module
 */
import type { FaultCatalog } from '@middy-chaos/core'
import type { Terminal } from '../terminal.js'
import type { OptionSpecs, ParsedArgs } from './args.js'

/** What every command runs with. */
export interface CommandContext {
  readonly terminal: Terminal
  /** The faults the command knows (the registry, or a test's own). */
  readonly faults: FaultCatalog
}

/** One `middy-chaos <command>`. */
export interface Command {
  readonly name: string
  /** Usage lines for the global help, without the `middy-chaos ` prefix. */
  readonly usage: readonly string[]
  /** How many arguments besides options it takes; more is a usage error. */
  readonly positionals: number
  /** Its own help, for `middy-chaos <command> --help`. */
  help(context: CommandContext): string
  /** Its options (`--help` is added to every command). */
  options(context: CommandContext): OptionSpecs
  run(args: ParsedArgs, context: CommandContext): Promise<number>
}
