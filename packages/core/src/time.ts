import { setTimeout as wait } from 'node:timers/promises'
import type { Context } from 'aws-lambda'

/** Milliseconds left before the Lambda deadline, or `undefined` outside Lambda. */
export const remainingTimeMs = (context: Partial<Context> | undefined): number | undefined => {
  const remaining = context?.getRemainingTimeInMillis?.()
  return typeof remaining === 'number' && Number.isFinite(remaining) ? remaining : undefined
}

/** Waits `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> => wait(ms)
