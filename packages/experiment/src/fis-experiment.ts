/**
 * The experiment as AWS FIS runs it: the steps with whether each value turns a
 * fault on (then the runbook stamps and renews it), the alarms that stop it.
 * `@middy-chaos/fis` generates the runbook, the template and IAM from it.
 *
 * @module
 */
import type { FaultCatalog } from '@middy-chaos/core'
import type { Experiment } from './experiment.js'
import { FAULTS } from './faults.js'
import { turnsFaultsOn } from './stamp.js'

/** One step: set the config and/or wait. */
export interface FisExperimentStep {
  readonly name: string
  /** The exact text written to the parameter, when the step sets a value. */
  readonly set?: string
  /** How long the step holds after setting, in ms. */
  readonly waitMs?: number
  /**
   * Whether `set` turns at least one fault on (then it is written with
   * `expiresAt` and renewed): `turnsFaultsOn(set, FAULTS)`.
   */
  readonly turnsFaultsOn: boolean
}

/**
 * An experiment as `@middy-chaos/fis` takes it: what {@link toFisExperiment}
 * makes of an {@link Experiment} (the CLI's export command and the CDK
 * construct build it so).
 *
 * @example
 * ```ts
 * const experiment: FisExperiment = {
 *   name: 'FisWorkshopLambdaFailure',
 *   steps: [
 *     { name: 'S01_EnableLatency', set: '{"is_enabled":true,"fault_type":"latency","delay":400,"rate":1}', turnsFaultsOn: true },
 *     { name: 'S02_Wait1', waitMs: 60_000, turnsFaultsOn: false },
 *   ],
 *   alarms: ['HelloWorld5xx'],
 * }
 * ```
 */
export interface FisExperiment {
  readonly name: string
  readonly description?: string
  readonly steps: readonly FisExperimentStep[]
  /** CloudWatch alarm names (in the stack's account and region) that stop the experiment. */
  readonly alarms?: readonly string[]
}

/**
 * The experiment as `@middy-chaos/fis` takes it: each value's `turnsFaultsOn`
 * from the registry, the alarm stop conditions as alarm names. Probe
 * thresholds cannot be FIS stop conditions: they are returned apart.
 */
export const toFisExperiment = (
  experiment: Experiment,
  faults: FaultCatalog = FAULTS,
): { fis: FisExperiment; leftOut: string[] } => {
  const conditions = experiment.stopConditions ?? []
  const alarms = conditions.flatMap((condition) => ('alarm' in condition ? [condition.alarm] : []))
  return {
    fis: {
      name: experiment.name,
      ...(experiment.description === undefined ? {} : { description: experiment.description }),
      steps: experiment.steps.map((step) => ({
        name: step.name,
        ...(step.set === undefined ? {} : { set: step.set }),
        ...(step.waitMs === undefined ? {} : { waitMs: step.waitMs }),
        turnsFaultsOn: step.set !== undefined && turnsFaultsOn(step.set, faults),
      })),
      ...(alarms.length === 0 ? {} : { alarms }),
    },
    leftOut: conditions.flatMap((condition) => ('probe' in condition ? [condition.probe] : [])),
  }
}
