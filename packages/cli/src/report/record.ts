/**
 * What a run leaves to be printed and reported: the session's result (the
 * run, the probe's samples, phases and marks, the verdicts) and the record a
 * report is made of.
 *
 * @module
 */

import type { Experiment, JudgedScope, ProbeSample } from '@middy-chaos/experiment'
import type { LeaseRecord } from '@middy-chaos/fis/local'
import type { SummaryRow } from '../runner/probe.js'
import type { RestoreReport, RunResult, StepState } from '../runner/run.js'

/** An instant of a run, on the probe's clock (ms since its origin): the report marks it. */
export type SessionMark =
  | { type: 'step'; atMs: number; index: number; step: string; state: StepState; error?: string }
  | { type: 'write'; atMs: number; step: string; version: number; config: string }
  | { type: 'renewal-failed'; atMs: number; error: string }
  | { type: 'stopped'; atMs: number; reason: string }
  | { type: 'restored'; atMs: number; restore: RestoreReport; text: string }

/** A phase of the probe: `(baseline)`, a step, `(restore)`, `(after)`. */
export interface SessionPhase {
  name: string
  config: string
  /** ms since the probe's origin. */
  startedAtMs: number
}

export interface SessionResult {
  result: RunResult
  samples: ProbeSample[]
  rows: SummaryRow[]
  phases: SessionPhase[]
  /** Wall-clock time of the probe's origin (ms 0 of the samples and marks), ISO 8601. */
  startedAt: string
  /** ms since the origin when the session ended. */
  endedAtMs: number
  /** Steps, writes, stop, restore: the instants of the run. */
  marks: SessionMark[]
  /** The verdicts of each judged step, then of the run (`(all steps)`). */
  judged: JudgedScope[]
  /** With a probe: the settling time after each write, and its bands on the probe's clock. */
  settle?: SessionSettle
  /** What the run warned of before it started (steps shorter than the settling time). */
  warnings?: string[]
}

/** The settling time of a run: requests starting within it after a write are drawn, not judged. */
export interface SessionSettle {
  /** ms after each write. */
  readonly ms: number
  /** Where the figure comes from (`--settle 2s`, the functions' cache window …). */
  readonly why: string
  /** Each settling time, from the write (or the restore) on, ms since the probe's origin. */
  readonly bands: readonly { readonly fromMs: number; readonly toMs: number }[]
}

/** How a run ended, as the report tells it. */
export interface RunOutcome {
  readonly state: 'completed' | 'stopped' | 'interrupted' | 'failed'
  /** One line: `completed`, `stopped by probe threshold "errors>20%" (…)`, `interrupted by SIGINT`. */
  readonly text: string
  readonly exitCode: number
  readonly error?: string
  readonly stoppedBy?: string
  /** What the restore did, and its line as the terminal printed it. */
  readonly restore?: RestoreReport & { readonly text: string }
}

/** Everything a report shows: one run of `experiment run`, `demo` or `probe`. */
export interface RunRecord {
  readonly kind: 'experiment' | 'probe'
  /** The experiment's name, or the probed URL. */
  readonly title: string
  readonly description?: string
  readonly url?: string
  /** Time between two probe requests, ms. */
  readonly intervalMs?: number
  readonly store?: string
  /** Wall-clock time of ms 0 of the samples and marks, ISO 8601. */
  readonly startedAt: string
  readonly endedAtMs: number
  readonly phases: readonly SessionPhase[]
  readonly samples: readonly ProbeSample[]
  readonly rows: readonly SummaryRow[]
  /** The summary's title as the terminal printed it. */
  readonly summaryTitle: string
  readonly marks: readonly SessionMark[]
  readonly judged: readonly JudgedScope[]
  readonly outcome: RunOutcome
  readonly experiment?: Experiment
  /** The experiment file as read. */
  readonly file?: { readonly path: string; readonly text: string }
  /** How the waits were changed for this run (`--wait 4s`). */
  readonly waits?: string
  readonly lease?: LeaseRecord
  /** The settling time after each write, with its bands. */
  readonly settle?: SessionSettle
  /** What the run warned of before it started. */
  readonly warnings?: readonly string[]
}
