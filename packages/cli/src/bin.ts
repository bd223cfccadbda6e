#!/usr/bin/env node
import { describeError } from './errors.js'

// Whatever escapes (a handler's stray rejection while serving, a bug) is one line, not a stack trace.
process.on('uncaughtException', (error) => {
  process.stderr.write(`middy-chaos: unexpected error: ${describeError(error)}\n`)
  if (process.argv[2] !== 'serve') process.exit(1)
})
process.on('unhandledRejection', (error) => {
  process.stderr.write(`middy-chaos: unhandled rejection: ${describeError(error)}\n`)
  if (process.argv[2] !== 'serve') process.exit(1)
})

const { main } = await import('./main.js')
process.exit(await main(process.argv.slice(2)))
