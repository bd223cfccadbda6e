import { readFile } from 'node:fs/promises'
import { type FaultCatalog, isRecord, parseDuration, sleep } from '@middy-chaos/core'
import { describeConfig, validateConfig } from './config-check.js'
import { CliError, describeError } from './errors.js'
import { FAULTS } from './faults.js'
import type { ConfigStore, StoredValue } from './store.js'

/** One step of an experiment: set the fault config, then wait (either or both). */
export interface ExperimentStep {
  readonly name: string
  /** The exact text written to the store, when the step sets a value. */
  readonly set?: string
  /** How long the step waits after setting, in ms. */
  readonly waitMs?: number
  /** `latency 400ms`, `faults off`: what the set value does. */
  readonly setSummary?: string
}

/** An experiment, validated. */
export interface Experiment {
  readonly name: string
  readonly description?: string
  /** Parameter the experiment is written for; `--param` / `CHAOS_PARAM` win over it. */
  readonly parameter?: string
  readonly steps: readonly ExperimentStep[]
}

const STEP_FIELDS = new Set(['name', 'set', 'wait', 'description'])
const EXPERIMENT_FIELDS = new Set(['name', 'description', 'parameter', 'steps', '$schema'])

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
    throw new CliError(
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
          problems.push(`${at}.${key}: unknown field (use "set" or "wait")`)
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
      steps.push({
        name: typeof name === 'string' ? name : `#${index}`,
        ...(set === undefined ? {} : { set, setSummary: setSummary ?? '' }),
        ...(waitMs === undefined ? {} : { waitMs }),
      })
    })
  }
  if (problems.length > 0) {
    throw new CliError(`invalid experiment ${source}: ${problems.join('; ')}`)
  }
  return {
    name: raw.name as string,
    ...(typeof raw.description === 'string' ? { description: raw.description } : {}),
    ...(typeof raw.parameter === 'string' ? { parameter: raw.parameter } : {}),
    steps,
  }
}

/** Reads and validates an experiment file (JSON). */
export const loadExperiment = async (
  path: string,
  faults: FaultCatalog = FAULTS,
): Promise<Experiment> => {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT') throw new CliError(`experiment file not found: ${path}`)
    throw new CliError(`cannot read experiment file ${path}: ${describeError(error)}`)
  }
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (error) {
    throw new CliError(`invalid experiment ${path}: not valid JSON (${describeError(error)})`)
  }
  return parseExperiment(raw, path, faults)
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

export type StepState = 'running' | 'done' | 'failed' | 'interrupted'

/** What the runner reports while it runs, for the timeline and the probe. */
export type RunEvent =
  | { type: 'start'; experiment: Experiment; store: ConfigStore; initial: StoredValue | undefined }
  | {
      type: 'step'
      index: number
      step: ExperimentStep
      state: StepState
      /** ms since the experiment started. */
      elapsedMs: number
      /** Version written by the step, once it is written. */
      version?: number
      error?: string
    }
  | { type: 'writing'; index: number; step: ExperimentStep }
  | { type: 'written'; index: number; step: ExperimentStep; version: number }
  | { type: 'restoring' }
  | { type: 'restored'; restore: RestoreReport }

/** What the runner did to put the parameter back. */
export interface RestoreReport {
  /** `restored`: the value was written back; `deleted`: it did not exist before; `unchanged`: nothing was written. */
  action: 'restored' | 'deleted' | 'unchanged' | 'failed'
  /** The pre-experiment value (undefined if the parameter did not exist). */
  value?: string
  /** Version written by the restore. */
  version?: number
  /** Set when someone else changed the parameter during the experiment. */
  warning?: string
  error?: string
}

export interface RunResult {
  outcome: 'completed' | 'interrupted' | 'failed'
  /** Why a step failed. */
  error?: string
  initial: StoredValue | undefined
  restore: RestoreReport
  elapsedMs: number
}

export interface RunOptions {
  /** Aborting interrupts the experiment (Ctrl-C); the value is restored. */
  signal?: AbortSignal
  onEvent?: (event: RunEvent) => void
}

/**
 * Runs an experiment's steps in order against a store. Reads the parameter's
 * value first, and whatever happens (completion, interruption through
 * `signal`, a failed step) writes that value back, or deletes the parameter
 * if it did not exist: never a hard-coded "off".
 *
 * @example
 * ```ts
 * const controller = new AbortController()
 * process.once('SIGINT', () => controller.abort())
 * const result = await runExperiment(experiment, new FileStore('.chaos/config.json'), { signal: controller.signal })
 * console.log(result.restore)
 * ```
 */
export const runExperiment = async (
  experiment: Experiment,
  store: ConfigStore,
  options: RunOptions = {},
): Promise<RunResult> => {
  const emit = (event: RunEvent) => {
    try {
      options.onEvent?.(event)
    } catch {
      // A broken renderer must not stop the restore.
    }
  }
  const { signal } = options
  // Nothing is changed before the initial value is known: a failed read ends here.
  const initial = await store.read()
  const started = Date.now()
  const elapsed = () => Date.now() - started
  emit({ type: 'start', experiment, store, initial })

  let outcome: RunResult['outcome'] = 'completed'
  let failure: string | undefined
  let lastVersion = initial?.version
  let wrote = false

  for (const [index, step] of experiment.steps.entries()) {
    if (signal?.aborted) {
      outcome = 'interrupted'
      break
    }
    emit({ type: 'step', index, step, state: 'running', elapsedMs: elapsed() })
    let version: number | undefined
    try {
      if (step.set !== undefined) {
        emit({ type: 'writing', index, step })
        const written = await store.write(step.set, {
          label: `experiment ${experiment.name}: ${step.name}`,
          ...(lastVersion === undefined ? {} : { expectedVersion: lastVersion }),
        })
        wrote = true
        version = written.version
        lastVersion = written.version
        emit({ type: 'written', index, step, version })
      }
      if (step.waitMs !== undefined && step.waitMs > 0) {
        await sleep(step.waitMs, signal)
        if (signal?.aborted) {
          outcome = 'interrupted'
          emit({ type: 'step', index, step, state: 'interrupted', elapsedMs: elapsed() })
          break
        }
      }
      emit({
        type: 'step',
        index,
        step,
        state: 'done',
        elapsedMs: elapsed(),
        ...(version === undefined ? {} : { version }),
      })
    } catch (error) {
      // A write that may or may not have landed still needs a restore.
      wrote = true
      outcome = 'failed'
      failure = `step ${step.name} failed: ${describeError(error)}`
      emit({
        type: 'step',
        index,
        step,
        state: 'failed',
        elapsedMs: elapsed(),
        error: describeError(error),
      })
      break
    }
  }

  emit({ type: 'restoring' })
  const restore = wrote
    ? await restoreValue(store, experiment, initial, lastVersion)
    : ({ action: 'unchanged', ...(initial ? { value: initial.value } : {}) } as RestoreReport)
  emit({ type: 'restored', restore })
  return {
    outcome,
    ...(failure === undefined ? {} : { error: failure }),
    initial,
    restore,
    elapsedMs: elapsed(),
  }
}

const restoreValue = async (
  store: ConfigStore,
  experiment: Experiment,
  initial: StoredValue | undefined,
  lastVersion: number | undefined,
): Promise<RestoreReport> => {
  let lastError: unknown
  for (let attempt = 0; attempt < 3; attempt++) {
    if (attempt > 0) await sleep(500 * attempt)
    try {
      let warning: string | undefined
      const current = await store.read()
      if (current !== undefined && lastVersion !== undefined && current.version !== lastVersion) {
        warning = `another writer changed ${store.description} during the experiment (version ${current.version}, ours was ${lastVersion}); restored anyway`
      }
      if (initial === undefined) {
        await store.remove({ label: `experiment ${experiment.name}: restore` })
        return { action: 'deleted', ...(warning ? { warning } : {}) }
      }
      const written = await store.write(initial.value, {
        label: `experiment ${experiment.name}: restore`,
      })
      return {
        action: 'restored',
        value: initial.value,
        version: written.version,
        ...(warning ? { warning } : {}),
      }
    } catch (error) {
      lastError = error
    }
  }
  return {
    action: 'failed',
    ...(initial ? { value: initial.value } : {}),
    error: describeError(lastError),
  }
}
