/**
 * The experiment as this package takes it ({@link FisExperiment}), and the
 * names and durations AWS wants: step names of `[A-Za-z0-9_]`, whole seconds
 * for the runbook, whole minutes (ISO 8601) for FIS.
 *
 * @module
 */

import type { FisExperiment, FisExperimentStep } from '@middy-chaos/experiment'

export type { FisExperiment, FisExperimentStep }

/** AWS FIS's longest experiment, and so the longest this package generates: 12 h, in seconds. */
export const MAX_EXPERIMENT_SECONDS = 12 * 3600

/** FIS's limit on an action parameter's value (the runbook's `documentParameters` among them). */
export const MAX_ACTION_PARAMETER_LENGTH = 1024

/** Longest name of an FIS action (and the longest step name generated). */
export const MAX_NAME_LENGTH = 64

/** An experiment this package cannot turn into AWS resources; the message names what is wrong. */
export class FisExperimentError extends Error {
  public constructor(message: string) {
    super(message)
    this.name = 'FisExperimentError'
  }
}

/**
 * `S<nn>_<name>`: the step's runbook step and FIS action name, with every
 * character outside `[A-Za-z0-9_]` replaced by `_`, at most
 * {@link MAX_NAME_LENGTH} characters with room for the suffix of a long wait's loop (`_rest`, `_more`).
 * A name that already starts with its own `S<nn>_` (the workshop's `S02_Wait1`
 * as the second step) keeps it once: `S02_Wait1`, not `S02_S02_Wait1`. Names
 * stay unique, as an experiment's step names are: only the step at that
 * position can keep the prefix as its own.
 *
 * @example
 * ```ts
 * stepName(0, 'enable latency!') // 'S01_enable_latency_'
 * stepName(1, 'S02_Wait1') // 'S02_Wait1'
 * stepName(1, 'S01_Wait1') // 'S02_S01_Wait1'
 * ```
 */
export const stepName = (index: number, name: string): string => {
  const prefix = `S${String(index + 1).padStart(2, '0')}_`
  const safe = name.replace(/[^A-Za-z0-9_]/g, '_')
  return (safe.startsWith(prefix) ? safe : `${prefix}${safe}`).slice(0, MAX_NAME_LENGTH - 5)
}

/** A step's wait in whole seconds, rounded up (0 when it does not wait). */
export const holdSeconds = (step: FisExperimentStep): number => Math.ceil((step.waitMs ?? 0) / 1000)

/** The experiment's waits added up, in whole seconds. */
export const totalSeconds = (experiment: FisExperiment): number =>
  experiment.steps.reduce((sum, step) => sum + holdSeconds(step), 0)

/**
 * An FIS duration: whole minutes, rounded up, at least one (`PT1M`), at most
 * 12 hours.
 *
 * @example
 * ```ts
 * isoMinutes(61) // 'PT2M'
 * ```
 */
export const isoMinutes = (seconds: number): string =>
  `PT${Math.min(Math.max(1, Math.ceil(seconds / 60)), MAX_EXPERIMENT_SECONDS / 60)}M`

/**
 * Refuses, naming each problem, what AWS would refuse or SSM would change:
 * no steps, waits past 12 hours, and `{{` in a name or a value (SSM
 * Automation would substitute it as a variable).
 */
export const checkFisExperiment = (experiment: FisExperiment): void => {
  const problems: string[] = []
  if (experiment.name.trim() === '') problems.push('name: must not be empty')
  if (experiment.steps.length === 0) problems.push('steps: none')
  if (experiment.name.includes('{{'))
    problems.push('name: "{{" would be read by SSM Automation as a variable')
  experiment.steps.forEach((step, index) => {
    if (step.set?.includes('{{'))
      problems.push(`steps[${index}].set: "{{" would be read by SSM Automation as a variable`)
    if (step.waitMs !== undefined && !(step.waitMs >= 0))
      problems.push(`steps[${index}].waitMs: must be a number of ms, 0 or more`)
  })
  const names = experiment.steps.map((step, index) => stepName(index, step.name))
  if (new Set(names).size !== names.length) problems.push('steps: two steps have the same name')
  if (totalSeconds(experiment) > MAX_EXPERIMENT_SECONDS)
    problems.push(
      `steps: the waits add up to ${totalSeconds(experiment)} s, longer than 12 h, AWS FIS's maximum`,
    )
  for (const alarm of experiment.alarms ?? []) {
    if (alarm.trim() === '' || alarm.length > 255)
      problems.push(`alarms: "${alarm}" is not a CloudWatch alarm name`)
  }
  if (problems.length > 0)
    throw new FisExperimentError(`experiment ${experiment.name}: ${problems.join('; ')}`)
}
