/**
 * How a long-running command hears that it must end before its time, and the
 * exit codes it ends with: Ctrl-C (SIGINT), `kill` (SIGTERM), a closed terminal
 * (SIGHUP), an output that can no longer be written (a pipe closed by its
 * reader, as `| head` does; a terminal gone), or an unexpected error that
 * escaped (an uncaught exception, an unhandled rejection). A runner hears them
 * all the same way: it stops, restores, and exits with the code of the first.
 * Only SIGKILL ends it without a restore.
 *
 * @module
 */
import type { Terminal } from '../terminal.js'

/**
 * What ended a command before its time: a signal, `output` (a write to stdout
 * or stderr failed), or `error` (an exception or rejection nothing caught).
 */
export type Interruption = 'SIGINT' | 'SIGTERM' | 'SIGHUP' | 'output' | 'error'

/** The signals a command ends on, and restores on. */
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const

/** Whoever listens for an escaped error (see {@link interruptOnError}). */
const errorListeners = new Set<(detail: string) => void>()

/**
 * Calls `onInterrupt` on SIGINT / SIGTERM / SIGHUP, on the first failed write
 * of `terminal` (when given), and, with `errors`, on an error that escaped
 * ({@link interruptOnError}); returns a disposer.
 */
export const trapSignals = (
  onInterrupt: (cause: Interruption, detail?: string) => void,
  options: { terminal?: Terminal; errors?: boolean } = {},
): (() => void) => {
  const handler = (signal: NodeJS.Signals) => onInterrupt(signal as Interruption)
  for (const signal of SIGNALS) process.on(signal, handler)
  const { terminal } = options
  const onOutput = () => onInterrupt('output', String(terminal?.failed.reason ?? ''))
  if (terminal?.failed.aborted) queueMicrotask(onOutput)
  else terminal?.failed.addEventListener('abort', onOutput, { once: true })
  const onError = (detail: string) => onInterrupt('error', detail)
  if (options.errors) errorListeners.add(onError)
  return () => {
    for (const signal of SIGNALS) process.off(signal, handler)
    terminal?.failed.removeEventListener('abort', onOutput)
    errorListeners.delete(onError)
  }
}

/**
 * Hands an error that escaped (the process's `uncaughtException` or
 * `unhandledRejection`; `detail` is the line to print, `unexpected error: …`)
 * to the runs under way: each stops and restores. Returns `false` when no run
 * listens (the caller then exits).
 */
export const interruptOnError = (detail: string): boolean => {
  if (errorListeners.size === 0) return false
  for (const listener of [...errorListeners]) listener(detail)
  return true
}

/**
 * The exit code after an interruption, as shells report a process ended by
 * the signal: 130 SIGINT, 143 SIGTERM, 129 SIGHUP, 141 a failed write to the
 * output (SIGPIPE's code: `| head`); 1 an unexpected error.
 */
export const signalExitCode = (cause: Interruption | undefined): number => {
  switch (cause) {
    case 'SIGINT':
      return 130
    case 'SIGTERM':
      return 143
    case 'SIGHUP':
      return 129
    case 'output':
      return 141
    default:
      return 1
  }
}

/** How the timeline and the report name an interruption: `SIGINT`, `a closed output`. */
export const describeInterruption = (cause: Interruption): string =>
  cause === 'output' ? 'a closed output' : cause === 'error' ? 'an unexpected error' : cause

/** Resolves with the first SIGINT / SIGTERM / SIGHUP. */
export const nextSignal = (): Promise<Interruption> =>
  new Promise((resolve) => {
    const dispose = trapSignals((signal) => {
      dispose()
      resolve(signal)
    })
  })

/**
 * Runs work that restores what it changed when interrupted: the first
 * interruption (a signal, a failed write to `terminal`, an error that escaped)
 * aborts it (it then restores; the abort's `reason` is the interruption),
 * later ones only say that the restore is under way (`messages` says it
 * otherwise). Whatever the terminal can no longer show is dropped: the
 * restore never waits on it.
 */
export const runInterruptible = async <T>(
  terminal: Terminal,
  run: (signal: AbortSignal) => Promise<T>,
  messages: { stopping: string; waiting: string } = {
    stopping: 'stopping the experiment and restoring the parameter',
    waiting: 'restoring the parameter, please wait',
  },
): Promise<{ result: T; signal: Interruption | undefined }> => {
  const controller = new AbortController()
  let received: Interruption | undefined
  const dispose = trapSignals(
    (cause, detail) => {
      if (received) {
        if (cause === 'error') terminal.error(`middy-chaos: ${detail}`)
        if (cause !== 'output') terminal.error(`middy-chaos: ${messages.waiting}`)
        return
      }
      received = cause
      const what =
        cause === 'output' ? `the output is closed (${detail})` : cause === 'error' ? detail : cause
      terminal.error(`middy-chaos: ${what}: ${messages.stopping}`)
      controller.abort(cause)
    },
    { terminal, errors: true },
  )
  try {
    return { result: await run(controller.signal), signal: received }
  } finally {
    dispose()
  }
}
