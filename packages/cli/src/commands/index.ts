import type { Command } from './command.js'
import { demoCommand } from './demo.js'
import { disableCommand } from './disable.js'
import { enableCommand } from './enable.js'
import { experimentCommand } from './experiment.js'
import { probeCommand } from './probe.js'
import { recoverCommand } from './recover.js'
import { serveCommand } from './serve.js'
import { setCommand } from './set.js'
import { statusCommand } from './status.js'

/** Every command, in the order of the global help. */
export const COMMANDS: readonly Command[] = [
  serveCommand,
  experimentCommand,
  probeCommand,
  statusCommand,
  enableCommand,
  disableCommand,
  setCommand,
  recoverCommand,
  demoCommand,
]
