/**
 * Ctrl-C and `kill`: how a long-running command hears SIGINT / SIGTERM, and the
 * exit codes it ends with.
 *
 * @module
 */
import type { Terminal } from './terminal.js'

/** Calls `onSignal` on SIGINT / SIGTERM; returns a disposer. */
export const trapSignals = (onSignal: (signal: NodeJS.Signals) => void): (() => void) => {
  const handler = (signal: NodeJS.Signals) => onSignal(signal)
  process.on('SIGINT', handler)
  process.on('SIGTERM', handler)
  return () => {
    process.off('SIGINT', handler)
    process.off('SIGTERM', handler)
  }
}

/** 130 after SIGINT, 143 after SIGTERM, as shells report them. */
export const signalExitCode = (signal: NodeJS.Signals | undefined): number =>
  signal === 'SIGTERM' ? 143 : signal === 'SIGINT' ? 130 : 1

/** Resolves with the first SIGINT / SIGTERM. */
export const nextSignal = (): Promise<NodeJS.Signals> =>
  new Promise((resolve) => {
    const dispose = trapSignals((signal) => {
      dispose()
      resolve(signal)
    })
  })

/**
 * Runs work that restores what it changed when interrupted: the first signal
 * aborts it (it then restores; the abort's `reason` is the signal's name),
 * later ones only say that the restore is under way (`messages` says it otherwise).
 */
export const runInterruptible = async <T>(
  terminal: Terminal,
  run: (signal: AbortSignal) => Promise<T>,
  messages: { stopping: string; waiting: string } = {
    stopping: 'stopping the experiment and restoring the parameter',
    waiting: 'restoring the parameter, please wait',
  },
): Promise<{ result: T; signal: NodeJS.Signals | undefined }> => {
  const controller = new AbortController()
  let received: NodeJS.Signals | undefined
  const dispose = trapSignals((signal) => {
    if (received) {
      terminal.error(`middy-chaos: ${messages.waiting}`)
      return
    }
    received = signal
    terminal.error(`middy-chaos: ${signal}: ${messages.stopping}`)
    controller.abort(signal)
  })
  try {
    return { result: await run(controller.signal), signal: received }
  } finally {
    dispose()
  }
}
