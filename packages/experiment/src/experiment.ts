/**
 * An experiment: a name, steps run in order (each sets the config and/or
 * waits, and may state what the probe must see), stop conditions and
 * expectations for the whole run. Checked here (the CLI reads the file and
 * runs it; the FIS generator and the CDK construct turn it into AWS resources).
 *
 * @module
 */
import { type FaultCatalog, isRecord, parseDuration } from '@middy-chaos/core'
import { describeConfig, validateConfig } from './config-check.js'
import { describeError, InputError } from './errors.js'
import { type Expectation, parseExpectations } from './expect.js'
import { FAULTS } from './faults.js'
import { parseProbeThreshold, type StopConditionSpec } from './stop.js'
import { formatDuration, formatExactDuration } from './time-format.js'

/**
 * Longest experiment: 12 hours, AWS FIS's own maximum. Every wait, and their
 * total, is checked against it before anything is written.
 */
export const MAX_EXPERIMENT_MS = 12 * 3_600_000

/** One step of an experiment: set the fault config, then wait (either or both). */
export interface ExperimentStep {
  readonly name: string
  /** The exact text written to the store, when the step sets a value. */
  readonly set?: string
  /** How long the step waits after setting, in ms. */
  readonly waitMs?: number
  /** `latency 400ms`, `faults off`: what the set value does. */
  readonly setSummary?: string
  /** What the probe must see over the step's requests; judged when the step ends. */
  readonly expect?: readonly Expectation[]
}

/** An experiment, validated. */
export interface Experiment {
  readonly name: string
  readonly description?: string
  /** Parameter the experiment is written for; `--param` / `CHAOS_PARAM` win over it. */
  readonly parameter?: string
  readonly steps: readonly ExperimentStep[]
  /** CloudWatch alarms and probe thresholds that stop the experiment (and restore). */
  readonly stopConditions?: readonly StopConditionSpec[]
  /** What the probe must see over the requests of all the steps; judged after the last one. */
  readonly expect?: readonly Expectation[]
}

const STEP_FIELDS = new Set(['name', 'set', 'wait', 'expect', 'description'])
const EXPERIMENT_FIELDS = new Set([
  'name',
  'description',
  'parameter',
  'steps',
  'stopConditions',
  'expect',
  '$schema',
])

/** Reads `stopConditions`: `[{ "alarm": "name" }, { "probe": "errors>20%" }]`. */
const parseStopConditions = (raw: unknown, problems: string[]): StopConditionSpec[] => {
  if (!Array.isArray(raw)) {
    problems.push('stopConditions: must be an array of { "alarm": name } or { "probe": threshold }')
    return []
  }
  const conditions: StopConditionSpec[] = []
  raw.forEach((entry: unknown, index: number) => {
    const at = `stopConditions[${index}]`
    const keys = isRecord(entry) ? Object.keys(entry) : []
    if (isRecord(entry) && keys.length === 1 && typeof entry.alarm === 'string' && entry.alarm) {
      conditions.push({ alarm: entry.alarm })
    } else if (isRecord(entry) && keys.length === 1 && typeof entry.probe === 'string') {
      try {
        parseProbeThreshold(entry.probe)
        conditions.push({ probe: entry.probe })
      } catch (error) {
        problems.push(`${at}: ${describeError(error)}`)
      }
    } else {
      problems.push(
        `${at}: must be { "alarm": "<CloudWatch alarm name>" } or { "probe": "errors>20%" }`,
      )
    }
  })
  return conditions
}

/**
 * Refuses an experiment whose waits cannot be kept: a wait or a total past
 * {@link MAX_EXPERIMENT_MS} (a timer would overflow long before the store
 * noticed), checked after `--wait` / `--time-scale` too. The durations are
 * printed exactly (`12h0.5s`, never a rounded `12h`).
 */
export const checkDurations = (experiment: Experiment, source = 'experiment'): void => {
  const problems: string[] = []
  experiment.steps.forEach((step, index) => {
    if (step.waitMs !== undefined && step.waitMs > MAX_EXPERIMENT_MS)
      problems.push(
        `steps[${index}].wait: ${formatExactDuration(step.waitMs)} is longer than ${formatDuration(MAX_EXPERIMENT_MS)}, AWS FIS's maximum experiment duration`,
      )
  })
  const total = totalWait(experiment)
  if (problems.length === 0 && total > MAX_EXPERIMENT_MS)
    problems.push(
      `steps: the waits add up to ${formatExactDuration(total)}, longer than ${formatDuration(MAX_EXPERIMENT_MS)}, AWS FIS's maximum experiment duration`,
    )
  if (problems.length > 0)
    throw new InputError(`invalid experiment ${source}: ${problems.join('; ')}`)
}

/**
 * Validates an experiment document. Every problem is named by its field
 * (`steps[2].wait: "5 minutes" is not a duration`); the error lists them all.
 *
 * @example
 * ```ts
 * const experiment = parseExperiment({ name: 'x', steps: [{ name: 'off', set: { is_enabled: false } }] })
 * ```
 */
export const parseExperiment = (
  raw: unknown,
  source = 'experiment',
  faults: FaultCatalog = FAULTS,
): Experiment => {
  const problems: string[] = []
  if (!isRecord(raw)) {
    throw new InputError(
      `invalid experiment ${source}: must be a JSON object with "name" and "steps"`,
    )
  }
  for (const key of Object.keys(raw)) {
    if (!EXPERIMENT_FIELDS.has(key)) problems.push(`${key}: unknown field`)
  }
  if (typeof raw.name !== 'string' || raw.name.trim() === '') {
    problems.push('name: must be a non-empty string')
  }
  if (raw.description !== undefined && typeof raw.description !== 'string') {
    problems.push('description: must be a string')
  }
  if (raw.parameter !== undefined && (typeof raw.parameter !== 'string' || raw.parameter === '')) {
    problems.push('parameter: must be a non-empty string')
  }
  const stopConditions =
    raw.stopConditions === undefined ? undefined : parseStopConditions(raw.stopConditions, problems)
  const expect =
    raw.expect === undefined ? undefined : parseExpectations(raw.expect, 'expect', problems)
  const steps: ExperimentStep[] = []
  if (!Array.isArray(raw.steps) || raw.steps.length === 0) {
    problems.push('steps: must be a non-empty array of steps')
  } else {
    const names = new Set<string>()
    raw.steps.forEach((step: unknown, index: number) => {
      const at = `steps[${index}]`
      if (!isRecord(step)) {
        problems.push(`${at}: must be an object with "name" and "set" and/or "wait"`)
        return
      }
      for (const key of Object.keys(step)) {
        if (!STEP_FIELDS.has(key))
          problems.push(`${at}.${key}: unknown field (use "set", "wait" or "expect")`)
      }
      const name = step.name
      if (typeof name !== 'string' || name.trim() === '') {
        problems.push(`${at}.name: must be a non-empty string`)
      } else if (names.has(name)) {
        problems.push(`${at}.name: "${name}" is used by an earlier step`)
      } else names.add(name)
      if (step.set === undefined && step.wait === undefined) {
        problems.push(`${at}: needs "set" (a chaos config) or "wait" (a duration), or both`)
      }
      let set: string | undefined
      let setSummary: string | undefined
      if (step.set !== undefined) {
        set = typeof step.set === 'string' ? step.set : JSON.stringify(step.set)
        for (const issue of validateConfig(set, faults)) {
          problems.push(
            issue.path === '(document)'
              ? `${at}.set: ${issue.message}`
              : `${at}.set.${issue.path}: ${issue.message}`,
          )
        }
        setSummary = describeConfig(set, faults)
      }
      let waitMs: number | undefined
      if (step.wait !== undefined) {
        waitMs = parseDuration(step.wait)
        if (waitMs === undefined) {
          problems.push(
            `${at}.wait: ${JSON.stringify(step.wait)} is not a duration (examples: "400ms", "4s", "1m", "PT1M")`,
          )
        }
      }
      const expect =
        step.expect === undefined
          ? undefined
          : parseExpectations(step.expect, `${at}.expect`, problems)
      steps.push({
        name: typeof name === 'string' ? name : `#${index}`,
        ...(set === undefined ? {} : { set, setSummary: setSummary ?? '' }),
        ...(waitMs === undefined ? {} : { waitMs }),
        ...(expect === undefined ? {} : { expect }),
      })
    })
  }
  if (problems.length > 0) {
    throw new InputError(`invalid experiment ${source}: ${problems.join('; ')}`)
  }
  const experiment: Experiment = {
    name: raw.name as string,
    ...(typeof raw.description === 'string' ? { description: raw.description } : {}),
    ...(typeof raw.parameter === 'string' ? { parameter: raw.parameter } : {}),
    steps,
    ...(stopConditions === undefined ? {} : { stopConditions }),
    ...(expect === undefined ? {} : { expect }),
  }
  checkDurations(experiment, source)
  return experiment
}

/** Changes the waits of an experiment: `wait` replaces each, `timeScale` multiplies each. */
export const adjustWaits = (
  experiment: Experiment,
  options: { waitMs?: number; timeScale?: number },
): Experiment => ({
  ...experiment,
  steps: experiment.steps.map((step) =>
    step.waitMs === undefined
      ? step
      : {
          ...step,
          waitMs: Math.round(options.waitMs ?? step.waitMs * (options.timeScale ?? 1)),
        },
  ),
})

/** Total of an experiment's waits, in ms. */
export const totalWait = (experiment: Experiment): number =>
  experiment.steps.reduce((sum, step) => sum + (step.waitMs ?? 0), 0)
