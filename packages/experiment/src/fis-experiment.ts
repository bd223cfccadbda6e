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

/** What an experiment states that AWS FIS leaves out, one sentence for each kind (none: undefined). */
export interface FisLeftOut {
  /** `{ "probe": … }` stop conditions: FIS stops on CloudWatch alarms only. */
  readonly probeStopConditions?: string
  /** Expectations, on steps and over all of them: FIS does not judge them. */
  readonly expectations?: string
}

/**
 * The experiment as `@middy-chaos/fis` takes it: each value's `turnsFaultsOn`
 * from the registry, the alarm stop conditions as alarm names. Probe
 * thresholds cannot be FIS stop conditions and expectations are not judged
 * by FIS: they are returned apart (`leftOut`, the probe thresholds;
 * `expectations`, how many), and `notes` says so in one sentence each, which
 * the CLI's export prints and the CDK construct adds as warnings.
 *
 * @example
 * ```ts
 * const { fis, notes } = toFisExperiment(parseExperiment(raw, 'experiments/slo.json'))
 * for (const note of Object.values(notes)) console.warn(note)
 * ```
 */
export const toFisExperiment = (
  experiment: Experiment,
  faults: FaultCatalog = FAULTS,
): { fis: FisExperiment; leftOut: string[]; expectations: number; notes: FisLeftOut } => {
  const conditions = experiment.stopConditions ?? []
  const alarms = conditions.flatMap((condition) => ('alarm' in condition ? [condition.alarm] : []))
  const leftOut = conditions.flatMap((condition) => ('probe' in condition ? [condition.probe] : []))
  const expectations =
    (experiment.expect?.length ?? 0) +
    experiment.steps.reduce((sum, step) => sum + (step.expect?.length ?? 0), 0)
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
    leftOut,
    expectations,
    notes: {
      ...(leftOut.length === 0
        ? {}
        : {
            probeStopConditions: `probe stop conditions are left out (${leftOut.join(', ')}): FIS stops on CloudWatch alarms only`,
          }),
      ...(expectations === 0
        ? {}
        : {
            expectations: `expectations are left out (${expectations}): FIS does not judge them; middy-chaos experiment run --probe does`,
          }),
    },
  }
}
