/**
 * The settling time of a run: how long after each write the probe's requests
 * are not judged, because a function may still serve the previous config from
 * its cache. A function reads its chaos config once per cache window
 * (`POWERTOOLS_PARAMETERS_MAX_AGE`, 5 s by default) and starts its next read
 * on the first request of the window's last fifth; kept busy by a probe, the
 * last request that can still meet the previous config starts at most
 * 0.8 × the window + one probe interval after the write. The window plus one
 * probe interval covers it, with a fifth of the window for the read itself.
 *
 * @module
 */
import { DEFAULT_MAX_AGE_SECONDS } from '@middy-chaos/core'
import type { Experiment } from '@middy-chaos/experiment'
import { formatDuration } from '@middy-chaos/experiment'
import type { StoredValue } from '@middy-chaos/fis/local'
import type { ProbeCheck } from '../runner/probe.js'

/** A run's settling time and where it comes from. */
export interface Settle {
  /** ms after each write during which the probe's requests are not judged. */
  readonly ms: number
  /** Where the figure comes from, for the run's first lines and the report. */
  readonly why: string
}

/**
 * The settling time: `--settle` when given; else the cache window `serve`
 * announced with its answer to the probe check (0: it reads the store on
 * every request, nothing to settle), or Powertools' default window, 5 s, for
 * any other endpoint, plus one probe interval.
 *
 * @example
 * ```ts
 * settleTime(undefined, { status: 200 }, 1000) // { ms: 6000, why: "the functions' cache window …" }
 * settleTime(undefined, { status: 200, cacheMaxAgeSeconds: 0 }, 1000) // { ms: 0, … }
 * ```
 */
export const settleTime = (
  given: number | undefined,
  check: ProbeCheck | undefined,
  intervalMs: number,
): Settle => {
  if (given !== undefined) return { ms: given, why: `--settle ${formatDuration(given)}` }
  const served = check?.cacheMaxAgeSeconds
  if (served === 0)
    return {
      ms: 0,
      why: 'the function served there reads its config on every request (serve --max-age 0)',
    }
  const window = served ?? DEFAULT_MAX_AGE_SECONDS
  const cache =
    served === undefined
      ? `the functions' cache window, ${window} s unless they set POWERTOOLS_PARAMETERS_MAX_AGE`
      : `the served function's cache window, ${window} s (serve --max-age)`
  return {
    ms: Math.round(window * 1000) + intervalMs,
    why: `${cache}, and one probe interval, ${formatDuration(intervalMs)}`,
  }
}

/**
 * What the run says before it starts when a step is shorter than, or close
 * to, the settling time: a step with expectations judges only its requests
 * past the settling time of the write before it (none at all when it holds
 * less); a step without, shorter than the settling time, may end before the
 * functions show its config.
 */
export const settleWarnings = (experiment: Experiment, settleMs: number): string[] => {
  if (settleMs <= 0) return []
  const warnings: string[] = []
  const settle = formatDuration(settleMs)
  // ms since the last write when a step starts; none before the first step that writes.
  let sinceWrite = Number.POSITIVE_INFINITY
  for (const step of experiment.steps) {
    if (step.set !== undefined) sinceWrite = 0
    const waitMs = step.waitMs ?? 0
    const judgedMs = waitMs - Math.max(0, settleMs - sinceWrite)
    const holds = `step ${step.name} holds ${formatDuration(waitMs)}`
    if (waitMs > 0 && (step.expect ?? []).length > 0) {
      if (judgedMs <= 0)
        warnings.push(
          `${holds}, within the settling time after a write (${settle}): its expectations judge no request; lengthen it, or lower --settle if the functions cache their config for less`,
        )
      else if (judgedMs < settleMs)
        warnings.push(
          `${holds}, close to the settling time after a write (${settle}): its expectations judge its last ${formatDuration(judgedMs)} only`,
        )
    } else if (waitMs > 0 && judgedMs <= 0) {
      warnings.push(
        `${holds}, less than the settling time after a write (${settle}): the functions may show its config late, or not at all`,
      )
    }
    sinceWrite += waitMs
  }
  return warnings
}

/**
 * How long to wait before the baseline so that the value the run starts from
 * is in force in the functions: the rest of the settling time after it was
 * written (a previous run's restore, an `enable` a moment ago); 0 when it is
 * older, or its time is unknown. Never more than the settling time, whatever
 * the clocks say.
 */
export const inForceWait = (
  current: StoredValue | undefined,
  settleMs: number,
  now = Date.now(),
): number => {
  const written = current?.modifiedAt === undefined ? Number.NaN : Date.parse(current.modifiedAt)
  if (Number.isNaN(written) || settleMs <= 0) return 0
  return Math.min(settleMs, Math.max(0, written + settleMs - now))
}
