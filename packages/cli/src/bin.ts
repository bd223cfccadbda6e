#!/usr/bin/env node
import { describeError } from '@middy-chaos/experiment'
import { interruptOnError } from './runner/signals.js'

/**
 * Whatever escapes (a handler's stray rejection while serving, a bug) is one
 * line, not a stack trace. A run under way hears it as an interruption: it
 * stops, restores, and exits with 1; with none, the process exits with 1 at
 * once. `serve` logs it and goes on serving.
 */
const escaped = (what: string) => (error: unknown) => {
  const line = `${what}: ${describeError(error)}`
  if (process.argv[2] !== 'serve' && interruptOnError(line)) return
  try {
    process.stderr.write(`middy-chaos: ${line}\n`)
  } catch {
    // stderr is gone too: the exit code says it.
  }
  if (process.argv[2] !== 'serve') process.exit(1)
}
process.on('uncaughtException', escaped('unexpected error'))
process.on('unhandledRejection', escaped('unhandled rejection'))

const { main } = await import('./main.js')
process.exit(await main(process.argv.slice(2)))
