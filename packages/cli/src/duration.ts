import { parseDuration } from '@middy-chaos/core'
import { UsageError } from './errors.js'

/** {@link parseDuration} for a command-line option: throws a usage error naming the option. */
export const durationOption = (
  name: string,
  text: string | undefined,
  fallback: number,
): number => {
  if (text === undefined) return fallback
  const ms = parseDuration(text) ?? parseDuration(`${text}s`)
  if (ms === undefined) {
    throw new UsageError(`--${name}: "${text}" is not a duration (examples: 500ms, 4s, 1m)`)
  }
  return ms
}

/** `4s`, `1m`, `1m30s`, `400ms`: a duration as people write it. */
export const formatDuration = (ms: number): string => {
  if (ms < 1000) return `${Math.round(ms)}ms`
  if (ms < 60_000) return `${Number((ms / 1000).toFixed(1))}s`
  const minutes = Math.floor(ms / 60_000)
  const seconds = Math.round((ms % 60_000) / 1000)
  return seconds === 0 ? `${minutes}m` : `${minutes}m${seconds}s`
}

/** Elapsed time as `00:04.2` (minutes:seconds.tenths). */
export const formatElapsed = (ms: number): string => {
  const tenths = Math.floor(ms / 100)
  const minutes = Math.floor(tenths / 600)
  const seconds = (tenths % 600) / 10
  return `${String(minutes).padStart(2, '0')}:${seconds.toFixed(1).padStart(4, '0')}`
}
