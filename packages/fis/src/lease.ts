/**
 * The lease on AWS, `<ParameterName>.lease`: one SSM parameter that the
 * runbook writes as compact JSON (Python's `json.dumps`, which escapes every
 * character outside ASCII) holding the value before the experiment, the value
 * in force and a few fields about the run. A Standard-tier parameter takes
 * 4 KB, so a config of about 1.8 KB is already too large for it: the lease
 * would carry it twice, its quotes escaped. {@link checkLeaseFits} refuses
 * such an experiment before anything is deployed; the Advanced tier (8 KB)
 * is an option, at a cost.
 *
 * @module
 */
import { type FisExperiment, FisExperimentError, stepName } from './experiment.js'
import { AUTOMATION_HOST } from './handlers.js'

/** The SSM parameter tiers the lease can be written in. */
export const LEASE_TIERS = ['Standard', 'Advanced'] as const

/**
 * `Standard` (the default: 4 KB, no charge) or `Advanced` (8 KB; AWS charges
 * for each advanced parameter per month, prorated by the hour, and for the
 * API calls on it: see "AWS Systems Manager Pricing", Parameter Store). The
 * lease exists only while an experiment runs.
 */
export type LeaseTier = (typeof LEASE_TIERS)[number]

/** The largest value of an SSM parameter of each tier ("Managing parameter tiers"), bytes. */
export const PARAMETER_VALUE_BYTES: Readonly<Record<LeaseTier, number>> = {
  Standard: 4096,
  Advanced: 8192,
}

/**
 * The size of `value` once Python's `json.dumps` has written it (every
 * character outside ASCII as `\uXXXX`): how a string weighs in the lease.
 *
 * @example
 * ```ts
 * pythonJsonBytes('{"a":"é"}') // 20: its quotes escaped, é as \u00e9
 * ```
 */
export const pythonJsonBytes = (value: unknown): number =>
  JSON.stringify(value).replace(/[\u0080-\uffff]/g, '\\uXXXX').length

/** The lease the runbook writes, its fields at their longest (a SecureString, a 10-digit version). */
const largestLease = (
  experiment: string,
  original: string,
  inForce: string | undefined,
  tier: LeaseTier,
) => ({
  id: '00000000-0000-0000-0000-000000000000',
  experiment,
  host: AUTOMATION_HOST,
  pid: 0,
  since: '2026-12-01T12:00:00.000Z',
  expiresAt: '2026-12-01T12:00:00.000Z',
  secure: true,
  ...(tier === 'Advanced' ? { tier } : {}),
  original: { value: original, version: 9_999_999_999, type: 'SecureString' },
  ...(inForce === undefined ? {} : { inForce }),
})

/**
 * The most the lease weighs while it holds `inForce` (a value that turns
 * faults on; `undefined` for one that does not, which the lease does not
 * keep), with `original` recorded as the value before the experiment.
 *
 * @example
 * ```ts
 * leaseBytes('workshop', '{"is_enabled":false}', '{"is_enabled":true}') // 316
 * ```
 */
export const leaseBytes = (
  experiment: string,
  original: string,
  inForce: string | undefined,
  tier: LeaseTier = 'Standard',
): number => pythonJsonBytes(largestLease(experiment, original, inForce, tier))

/** Options of {@link checkLeaseFits}. */
export interface LeaseFitOptions {
  /** The tier the lease is written in (default `Standard`). */
  readonly leaseTier?: LeaseTier
  /**
   * The parameter's value before the experiment, when known (a CDK
   * `ChaosConfigParameter`'s initial value). The lease is sized as if that
   * value were at least as large as the largest value the experiment writes
   * (a config of the same shape, faults off), since it is read only at run
   * time.
   */
  readonly originalValue?: string
}

/** What {@link leaseFit} finds: the largest lease the experiment leads to, and its bound. */
export interface LeaseFit {
  readonly tier: LeaseTier
  /** The tier's limit, bytes. */
  readonly limit: number
  /** The largest lease of the run, bytes (0: no step writes a value). */
  readonly bytes: number
  /** The step whose value makes it, with its value's size in bytes (UTF-8). */
  readonly step?: { readonly index: number; readonly name: string; readonly valueBytes: number }
  /** The size taken for the value before the experiment, bytes. */
  readonly originalBytes: number
}

/**
 * The largest lease an experiment leads to, in `leaseTier` (see {@link checkLeaseFits}).
 *
 * @example
 * ```ts
 * const { bytes, limit } = leaseFit(experiment) // e.g. 587 of 4096 for the workshop
 * ```
 */
export const leaseFit = (experiment: FisExperiment, options: LeaseFitOptions = {}): LeaseFit => {
  const tier = options.leaseTier ?? 'Standard'
  const values = experiment.steps.flatMap((step) => (step.set === undefined ? [] : [step.set]))
  const original = [...values, options.originalValue ?? ''].reduce(
    (largest, value) => (pythonJsonBytes(value) > pythonJsonBytes(largest) ? value : largest),
    '',
  )
  let largest: LeaseFit['step']
  let bytes = 0
  experiment.steps.forEach((step, index) => {
    if (step.set === undefined) return
    const size = leaseBytes(
      experiment.name,
      original,
      step.turnsFaultsOn ? step.set : undefined,
      tier,
    )
    if (size <= bytes) return
    bytes = size
    largest = {
      index,
      name: stepName(index, step.name),
      valueBytes: new TextEncoder().encode(step.set).length,
    }
  })
  return {
    tier,
    limit: PARAMETER_VALUE_BYTES[tier],
    bytes,
    ...(largest === undefined ? {} : { step: largest }),
    originalBytes: new TextEncoder().encode(original).length,
  }
}

/**
 * Refuses an experiment whose lease would not fit its SSM parameter: the
 * runbook's `AcquireLease` or a hold would fail on AWS (safely, through
 * `Restore`, but the experiment could not run). The message names the step,
 * the sizes and the bound, and the Advanced tier when the lease is Standard.
 *
 * @example
 * ```ts
 * checkLeaseFits(experiment)                           // Standard: 4,096 bytes
 * checkLeaseFits(experiment, { leaseTier: 'Advanced' }) // 8,192 bytes, at a cost
 * ```
 */
export const checkLeaseFits = (experiment: FisExperiment, options: LeaseFitOptions = {}): void => {
  const fit = leaseFit(experiment, options)
  if (fit.bytes <= fit.limit || fit.step === undefined) return
  const { step } = fit
  throw new FisExperimentError(
    `experiment ${experiment.name}: steps[${step.index}] (${step.name}) writes a config of ${step.valueBytes} bytes; ` +
      `the lease on AWS keeps it and the value before the experiment (taken as ${fit.originalBytes} bytes), JSON-escaped, ` +
      `in one ${fit.tier}-tier SSM parameter: ${fit.bytes} bytes, over its ${fit.limit}. ` +
      (fit.tier === 'Standard'
        ? 'Shorten the config, or write the lease in the Advanced tier (8,192 bytes; AWS charges for each advanced parameter per month and for its API calls): --lease-tier advanced, leaseTier: "Advanced"'
        : 'Shorten the config'),
  )
}
