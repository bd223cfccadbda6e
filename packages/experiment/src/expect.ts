/**
 * Expectations: the hypothesis of an experiment, checked against what the
 * probe measured. Written per step and for the whole run, in the syntax of
 * the probe stop conditions (`2xx>=99%`, `p95<500ms`, `errors==0`), or as the
 * body of the answers with a status (`{ "status": 200, "body": "Hello" }`).
 * The CLI's runner judges a step once it ends, with {@link judge}.
 *
 * @module
 */
import { isRecord } from '@middy-chaos/core'
import { CliError, describeError, UsageError } from './errors.js'
import type { ProbeSample } from './samples.js'
import {
  compare,
  formatMeasure,
  isAnswerOf,
  measure,
  type ProbeThreshold,
  parseThreshold,
} from './stop.js'

/** An expectation as written: a threshold, or the body of the answers with a status. */
export type ExpectationSpec =
  | string
  | { status: number | string; body?: string; bodyMatches?: string }

/** An expectation, checked. */
export type Expectation =
  | { readonly kind: 'threshold'; readonly text: string; readonly threshold: ProbeThreshold }
  | {
      readonly kind: 'body'
      readonly text: string
      /** The answers it is about: a status (`200`, `000`) or a class (`5xx`). */
      readonly status: string
      /** Every such answer has exactly this body… */
      readonly body?: string
      /** …or a body this regular expression (JavaScript syntax) finds. */
      readonly bodyMatches?: string
    }

/** How an expectation fared over the requests of its step (or of the run). */
export interface Verdict {
  /** The expectation, as the timeline and the table name it. */
  readonly expectation: string
  readonly held: boolean
  /** What was measured: `p95 0.412s (12 requests)`, `2xx 50% (6 of 12)`. */
  readonly measured: string
  /** Requests judged. */
  readonly requests: number
}

/** The verdicts of one step (its name), or of the whole run (`scope: 'run'`). */
export interface JudgedScope {
  readonly scope: 'step' | 'run'
  /** The step's name, or `(all steps)`. */
  readonly name: string
  /** ms since the probe's origin when it was judged. */
  readonly atMs: number
  readonly verdicts: readonly Verdict[]
}

/** Exit code of a run that completed and restored, but where an expectation failed. */
export const EXPECTATION_FAILED_EXIT_CODE = 6

/** Name of the run's row and scope. */
export const RUN_SCOPE = '(all steps)'

const EXPECTATION = { noun: 'expectation', window: false } as const
const BODY_FIELDS = new Set(['status', 'body', 'bodyMatches'])
const SHAPE =
  'must be a threshold such as "2xx>=99%", "p95<500ms", "errors==0", or { "status": 200, "body": "<exact body>" } ({ "status": "5xx", "bodyMatches": "<regular expression>" })'

const quote = (text: string, max = 60): string =>
  JSON.stringify(text.length > max ? `${text.slice(0, max)}…` : text)

const readStatus = (raw: unknown): string | undefined => {
  const text = typeof raw === 'number' ? String(raw).padStart(3, '0') : raw
  if (typeof text !== 'string') return undefined
  if (/^[1-5]xx$/i.test(text)) return text.toLowerCase()
  if (!/^[0-9]{3}$/.test(text)) return undefined
  const status = Number(text)
  return status === 0 || (status >= 100 && status <= 599) ? text : undefined
}

/** Reads one expectation; each mistake is pushed to `problems`, prefixed with `at`. */
const readExpectation = (raw: unknown, at: string, problems: string[]): Expectation | undefined => {
  const problem = (text: string) => problems.push(`${at}${text}`)
  if (typeof raw === 'string') {
    try {
      return { kind: 'threshold', text: raw.trim(), threshold: parseThreshold(raw, EXPECTATION) }
    } catch (error) {
      problem(`: ${describeError(error)}`)
      return undefined
    }
  }
  if (!isRecord(raw)) {
    problem(`: ${SHAPE}`)
    return undefined
  }
  const before = problems.length
  for (const key of Object.keys(raw))
    if (!BODY_FIELDS.has(key))
      problem(`.${key}: unknown field (use "status" with "body" or "bodyMatches")`)
  const status = readStatus(raw.status)
  if (status === undefined)
    problem('.status: must be an HTTP status (200, or "000" for no answer) or a class ("5xx")')
  const { body, bodyMatches } = raw
  if ((body === undefined) === (bodyMatches === undefined))
    problem(': needs "body" (the exact body) or "bodyMatches" (a regular expression), one of them')
  if (body !== undefined && typeof body !== 'string') problem('.body: must be a string')
  if (bodyMatches !== undefined) {
    if (typeof bodyMatches !== 'string' || bodyMatches === '')
      problem('.bodyMatches: must be a non-empty string')
    else
      try {
        new RegExp(bodyMatches)
      } catch (error) {
        problem(`.bodyMatches: not a regular expression (${describeError(error)})`)
      }
  }
  if (problems.length > before || status === undefined) return undefined
  return typeof body === 'string'
    ? { kind: 'body', text: `body of ${status} == ${quote(body)}`, status, body }
    : {
        kind: 'body',
        text: `body of ${status} matches /${bodyMatches as string}/`,
        status,
        bodyMatches: bodyMatches as string,
      }
}

/**
 * Reads one expectation: a threshold (`"p95<500ms"`) or a body
 * (`{ "status": 200, "body": "Hello" }`); a {@link CliError} naming every
 * mistake when it is not one.
 */
export const parseExpectation = (raw: unknown): Expectation => {
  const problems: string[] = []
  const expectation = readExpectation(raw, '', problems)
  if (expectation === undefined)
    throw new CliError(problems.map((problem) => problem.replace(/^(: |\.)/, '')).join('; '))
  return expectation
}

/** `--expect <threshold>`: {@link parseExpectation}, or a usage error naming the option. */
export const readExpectOption = (text: string): Expectation => {
  try {
    return parseExpectation(text)
  } catch (error) {
    throw new UsageError(`--expect: ${describeError(error)}`)
  }
}

/**
 * Reads the `expect` field of an experiment or a step (`at` names it:
 * `steps[1].expect`); every mistake is pushed to `problems`, named by field.
 */
export const parseExpectations = (raw: unknown, at: string, problems: string[]): Expectation[] => {
  if (!Array.isArray(raw)) {
    problems.push(`${at}: must be an array of expectations, such as ["2xx>=99%", "p95<500ms"]`)
    return []
  }
  const expectations: Expectation[] = []
  raw.forEach((entry: unknown, index: number) => {
    const expectation = readExpectation(entry, `${at}[${index}]`, problems)
    if (expectation) expectations.push(expectation)
  })
  return expectations
}

/**
 * The samples a step is judged with: those that started in it and saw one
 * config (not in flight while the step or the store changed, not in the
 * settling time after a write), as the summary counts them.
 */
export const judgedSamples = (
  samples: readonly ProbeSample[],
  phases: ReadonlySet<string>,
): ProbeSample[] =>
  samples.filter(
    // A request the probe itself cut off (`stopped`) says nothing about the service.
    (sample) =>
      !sample.straddles &&
      sample.settling !== true &&
      sample.stopped !== true &&
      phases.has(sample.phase),
  )

const judgeThreshold = (threshold: ProbeThreshold, samples: readonly ProbeSample[]) => {
  const n = samples.length
  const value = measure(threshold, samples)
  if (value === undefined || (n === 0 && threshold.metric !== 'requests'))
    return { held: false, measured: 'no requests to judge' }
  const held = compare(value, threshold.operator, threshold.value)
  const shown = `${threshold.metric} ${formatMeasure(threshold, value)}`
  if (threshold.kind === 'share') {
    const matching = samples.filter((s) => isAnswerOf(s, threshold.of ?? 'all')).length
    return { held, measured: `${shown} (${matching} of ${n})` }
  }
  if (threshold.metric === 'requests') return { held, measured: shown }
  return { held, measured: `${shown} (${n} requests)` }
}

const judgeBody = (
  expectation: Extract<Expectation, { kind: 'body' }>,
  samples: readonly ProbeSample[],
) => {
  if (samples.length === 0) return { held: false, measured: 'no requests to judge' }
  const answers = samples.filter((s) => isAnswerOf(s, expectation.status))
  if (answers.length === 0)
    return { held: true, measured: `no answer ${expectation.status} (of ${samples.length})` }
  const pattern =
    expectation.bodyMatches === undefined ? undefined : new RegExp(expectation.bodyMatches)
  const other = answers.filter((s) =>
    pattern ? !pattern.test(s.body) : s.body !== expectation.body,
  )
  const first = other[0]
  return first === undefined
    ? {
        held: true,
        measured: `${answers.length} of ${answers.length} answers ${expectation.status} as expected`,
      }
    : {
        held: false,
        measured: `${other.length} of ${answers.length} answers ${expectation.status} had another body, such as ${quote(first.body)}`,
      }
}

/**
 * Judges expectations over samples (already chosen with {@link judgedSamples}).
 * An expectation over no request fails (`no requests to judge`), except
 * `requests` itself; a body expectation holds when no answer has its status.
 *
 * @example
 * ```ts
 * const verdicts = judge([parseExpectation('2xx>=99%')], judgedSamples(probe.samples, new Set(['S02_Wait1'])))
 * ```
 */
export const judge = (
  expectations: readonly Expectation[],
  samples: readonly ProbeSample[],
): Verdict[] =>
  expectations.map((expectation) => ({
    expectation: expectation.text,
    ...(expectation.kind === 'threshold'
      ? judgeThreshold(expectation.threshold, samples)
      : judgeBody(expectation, samples)),
    requests: samples.length,
  }))

/** How many verdicts failed, over every scope. */
export const failedCount = (scopes: readonly JudgedScope[]): number =>
  scopes.reduce((sum, scope) => sum + scope.verdicts.filter((v) => !v.held).length, 0)
