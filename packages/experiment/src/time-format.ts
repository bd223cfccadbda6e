/**
 * Durations and elapsed times as people read them, for every line the CLI
 * prints (a module of its own: the experiment reader uses it too).
 *
 * @module
 */

/** `4s`, `1m`, `1m30s`, `2h`, `1h30m`, `400ms`: a duration as people write it. */
export const formatDuration = (ms: number): string => {
  if (ms < 1000) return `${Math.round(ms)}ms`
  if (ms < 60_000) return `${Number((ms / 1000).toFixed(1))}s`
  if (ms < 3_600_000) {
    const minutes = Math.floor(ms / 60_000)
    const seconds = Math.round((ms % 60_000) / 1000)
    return seconds === 0 ? `${minutes}m` : `${minutes}m${seconds}s`
  }
  const hours = Math.floor(ms / 3_600_000)
  const minutes = Math.round((ms % 3_600_000) / 60_000)
  return minutes === 0 ? `${hours}h` : `${hours}h${minutes}m`
}

/**
 * A duration without rounding: `12h0.5s`, `1h30m`, `4s`, `400ms`, `2m0.001s`
 * (for messages where the exact value matters, such as a bound just passed).
 */
export const formatExactDuration = (ms: number): string => {
  if (ms < 1000) return `${ms}ms`
  const hours = Math.floor(ms / 3_600_000)
  const minutes = Math.floor((ms % 3_600_000) / 60_000)
  const seconds = Number(((ms % 60_000) / 1000).toFixed(3))
  const parts = [hours > 0 ? `${hours}h` : '', minutes > 0 ? `${minutes}m` : '']
  if (seconds > 0) parts.push(`${seconds}s`)
  return parts.join('')
}

/** Elapsed time as `00:04.2` (minutes:seconds.tenths). */
export const formatElapsed = (ms: number): string => {
  const tenths = Math.floor(ms / 100)
  const minutes = Math.floor(tenths / 600)
  const seconds = (tenths % 600) / 10
  return `${String(minutes).padStart(2, '0')}:${seconds.toFixed(1).padStart(4, '0')}`
}
