/**
 * What the probe measures: one sample per request, and the percentile the
 * expectations, the stop conditions and the summary take of their latencies.
 *
 * @module
 */

/** One request of the probe. */
export interface ProbeSample {
  seq: number
  /** ms since the probe's origin. */
  startedAtMs: number
  seconds: number
  /** HTTP status; 0 when no answer came (curl's `000`). */
  status: number
  body: string
  /** Why no answer came: `timed out`, `stopped`, `ECONNREFUSED`, … */
  error?: string
  /**
   * True when the probe itself ended the request (`--duration`, Ctrl-C): status
   * 0, error `stopped`. It says nothing about the service, so `probe --expect`
   * leaves it out; the summary counts it (as `000`).
   */
  stopped?: true
  /** Phase when the request started, and when it ended. */
  phase: string
  phaseAtEnd: string
  /** True when the phase or the store changed while the request was in flight. */
  straddles: boolean
  /**
   * True when the request started within the settling time after a write
   * (`experiment run --settle`): the functions may still have used the
   * previous config from their cache. Drawn in the report, not judged.
   */
  settling?: true
  /** ms between the start of its phase and the request's start. */
  phaseOffsetMs: number
}

/** Nearest-rank percentile of sorted values. */
export const percentile = (sorted: readonly number[], p: number): number | undefined => {
  if (sorted.length === 0) return undefined
  const rank = Math.ceil((p / 100) * sorted.length)
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]
}
