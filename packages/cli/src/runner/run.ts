/**
 * Runs an experiment against a store so that it never leaves chaos on:
 *
 * 1. takes the parameter's lease before reading anything (one experiment per
 *    parameter; a second run is refused and changes nothing), and records the
 *    pre-experiment value in it;
 * 2. writes each step's value stamped with a short expiry (`expiresAt`): one
 *    lease TTL ahead, never later than the step's planned end plus
 *    {@link EXPIRY_GRACE_MS}; and renews both the lease and the stamp (with the
 *    same cap) while it lives: if the runner dies by any means, the faults stop
 *    by themselves with the step under way, at most one lease TTL later;
 * 3. on completion, interruption (a signal, a closed output, an unexpected
 *    error: see `signals.ts`), a failed step or a stop condition, writes the
 *    pre-experiment value back (or deletes the parameter if it did not
 *    exist), then releases the lease.
 *
 * @module
 */
import { type FaultCatalog, sleep } from '@middy-chaos/core'
import type { Experiment, ExperimentStep } from '@middy-chaos/experiment'
import {
  describeError,
  EXPIRY_GRACE_MS,
  FAULTS,
  stampExpiry,
  turnsFaultsOn,
  valueExpiry,
} from '@middy-chaos/experiment'
import type { ConfigStore, StoredValue } from '@middy-chaos/fis/local'
import { acquireLease, type Lease, type LeaseRecord } from '@middy-chaos/fis/local'

/** Default lease TTL: how long after its runner dies an experiment's faults go on at most. */
export const DEFAULT_LEASE_TTL_MS = 60_000
/** Shortest and longest lease TTL a run may ask for. */
export const LEASE_TTL_BOUNDS = { min: 2_000, max: 3_600_000 } as const

export type StepState = 'running' | 'done' | 'failed' | 'interrupted' | 'stopped'

/** What the runner reports while it runs, for the timeline and the probe. */
export type RunEvent =
  | {
      type: 'start'
      experiment: Experiment
      store: ConfigStore
      initial: StoredValue | undefined
      lease: LeaseRecord
    }
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
  | { type: 'renewal-failed'; error: string }
  | { type: 'stopped'; reason: string; elapsedMs: number }
  | { type: 'restoring' }
  | { type: 'restored'; restore: RestoreReport }

/** What the runner did to put the parameter back. */
export interface RestoreReport {
  /**
   * `restored`: the value was written back; `deleted`: it did not exist before;
   * `unchanged`: nothing was written; `failed`: the restore itself failed (the
   * lease is kept, with the value to restore); `skipped`: another run took the
   * lease over and restores instead.
   */
  action: 'restored' | 'deleted' | 'unchanged' | 'failed' | 'skipped'
  /** The pre-experiment value (undefined if the parameter did not exist). */
  value?: string
  /** Version written by the restore. */
  version?: number
  /** Set when someone else changed the parameter during the experiment. */
  warning?: string
  error?: string
}

export interface RunResult {
  /** `stopped`: a stop condition tripped. */
  outcome: 'completed' | 'interrupted' | 'failed' | 'stopped'
  /** Why a step failed. */
  error?: string
  /** The stop condition that tripped. */
  stoppedBy?: string
  initial: StoredValue | undefined
  restore: RestoreReport
  elapsedMs: number
  /** The lease the run held. */
  lease: LeaseRecord
}

export interface RunOptions {
  /** Aborting interrupts the experiment (Ctrl-C); the value is restored. */
  signal?: AbortSignal
  /** Aborting stops the experiment for a stop condition, its `reason` saying which. */
  stop?: AbortSignal
  onEvent?: (event: RunEvent) => void
  /** Lease and expiry TTL, ms (default 60 s): renewed every third of it. */
  leaseTtlMs?: number
  /** Take over a stale lease and restore the value it recorded. */
  takeover?: boolean
  /** The faults the values are read with (default: the registry). */
  faults?: FaultCatalog
  /**
   * Runs once the lease is held and the value before the experiment recorded,
   * before the first step and before `start` is emitted; the lease is renewed
   * meanwhile. `current` is the value in force now (after a takeover, the
   * dead run's), `initial` the value the run restores. `experiment run`
   * checks its probe there and probes the baseline. Throwing refuses the run:
   * the lease is released, nothing was written, and the error is thrown again.
   */
  beforeSteps?: (values: {
    current: StoredValue | undefined
    initial: StoredValue | undefined
  }) => Promise<void>
}

/** Runs `work` one at a time: step writes, renewals and the restore never interleave. */
const serial = () => {
  let tail: Promise<unknown> = Promise.resolve()
  return <T>(work: () => Promise<T>): Promise<T> => {
    const next = tail.then(work, work)
    tail = next.catch(() => undefined)
    return next
  }
}

/**
 * Runs an experiment's steps in order against a store. Takes the parameter's
 * lease, reads the value, and whatever happens (completion, interruption
 * through `signal`, a stop condition through `stop`, a failed step) writes
 * that value back, or deletes the parameter if it did not exist: never a
 * hard-coded "off". Throws, changing nothing, when another run holds the lease.
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
  const faults = options.faults ?? FAULTS
  const ttlMs = options.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS
  // The lease comes first: a second run is refused here, before anything is read or written.
  const lease = await acquireLease(store, {
    experiment: experiment.name,
    ttlMs,
    ...(options.takeover ? { takeover: true } : {}),
  })
  let current: StoredValue | undefined
  let initial: StoredValue | undefined
  try {
    current = await store.read()
    if (lease.record.original === undefined) {
      // Nothing is changed before the initial value is recorded in the lease.
      initial = current
      await lease.recordOriginal(current)
    } else {
      // Taken over: the value recorded by the run that died, never the chaos value found now.
      initial = lease.original
    }
  } catch (error) {
    await lease.release().catch(() => undefined)
    throw error
  }
  const exclusive = serial()
  const internal = new AbortController()
  const waits = AbortSignal.any(
    [options.signal, options.stop, internal.signal].filter(
      (s): s is AbortSignal => s !== undefined,
    ),
  )
  let outcome = 'completed' as RunResult['outcome']
  let failure: string | undefined
  let lastVersion = current?.version
  // A write may or may not have landed: a restore is due.
  let wrote = lease.record.tookOver !== undefined
  let leaseLost = false
  /** The step value in force that turns faults on, unstamped: renewals stamp it afresh. */
  let inForce: { text: string; label: string } | undefined
  /** When the step under way is planned to end, if it waits: no stamp outlives it by more than the grace. */
  let stepEndsAt: number | undefined

  /** Writes a value stamped with its expiry: one TTL ahead, capped at the step's end plus the grace. */
  const writeStamped = async (text: string, label: string) => {
    const expiresAt = valueExpiry(Date.now(), ttlMs, stepEndsAt, EXPIRY_GRACE_MS)
    const written = await store.write(stampExpiry(text, expiresAt, faults), {
      label,
      ...(lastVersion === undefined ? {} : { expectedVersion: lastVersion }),
    })
    lastVersion = written.version
    return written
  }
  const restamp = async () => {
    if (inForce !== undefined) await writeStamped(inForce.text, inForce.label)
  }

  // Renewal: the lease, and the stamp of the value in force, every third of the TTL.
  let renewedAt = Date.now()
  const renew = async () => {
    try {
      await exclusive(async () => {
        await lease.renew(Date.now() + ttlMs)
        await restamp()
      })
      renewedAt = Date.now()
    } catch (error) {
      const message = describeError(error)
      emit({ type: 'renewal-failed', error: message })
      if (/lost the lease/.test(message)) {
        leaseLost = true
        failure = message
        internal.abort(message)
      } else if (Date.now() - renewedAt >= ttlMs) {
        failure = `could not renew the lease and the expiry for ${Math.round(ttlMs / 1000)} s (${message}); the faults have stopped by themselves`
        internal.abort(failure)
      }
    }
  }
  let renewal: Promise<void> = Promise.resolve()
  const timer = setInterval(
    () => {
      renewal = renewal.then(renew)
    },
    Math.max(500, Math.floor(ttlMs / 3)),
  )
  try {
    await options.beforeSteps?.({ current, initial })
  } catch (error) {
    // Refused before the first write: nothing to restore.
    clearInterval(timer)
    await renewal
    if (!leaseLost) await lease.release().catch(() => undefined)
    throw error
  }
  const started = Date.now()
  const elapsed = () => Date.now() - started
  emit({ type: 'start', experiment, store, initial, lease: lease.record })

  const interrupted = (index: number, step: ExperimentStep): boolean => {
    if (options.stop?.aborted) {
      outcome = 'stopped'
      emit({ type: 'step', index, step, state: 'stopped', elapsedMs: elapsed() })
      return true
    }
    if (options.signal?.aborted) {
      outcome = 'interrupted'
      emit({ type: 'step', index, step, state: 'interrupted', elapsedMs: elapsed() })
      return true
    }
    if (internal.signal.aborted) {
      outcome = 'failed'
      emit({ type: 'step', index, step, state: 'failed', elapsedMs: elapsed(), error: failure })
      return true
    }
    return false
  }

  try {
    for (const [index, step] of experiment.steps.entries()) {
      if (waits.aborted) {
        interrupted(index, step)
        break
      }
      const endsAt = (step.waitMs ?? 0) > 0 ? Date.now() + (step.waitMs ?? 0) : undefined
      stepEndsAt = endsAt
      emit({ type: 'step', index, step, state: 'running', elapsedMs: elapsed() })
      let version: number | undefined
      try {
        if (step.set !== undefined) {
          const text = step.set
          const label = `experiment ${experiment.name}: ${step.name}`
          emit({ type: 'writing', index, step })
          wrote = true
          const written = await exclusive(async () => {
            const result = await writeStamped(text, label)
            inForce = turnsFaultsOn(text, faults) ? { text, label } : undefined
            return result
          })
          version = written.version
          emit({ type: 'written', index, step, version })
        } else if (endsAt !== undefined) {
          // A wait-only step renews the value in force at once: its stamp now ends with this step.
          await exclusive(restamp)
        }
        if (endsAt !== undefined) {
          await sleep(Math.max(0, endsAt - Date.now()), waits)
          if (waits.aborted && interrupted(index, step)) break
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
  } finally {
    clearInterval(timer)
    await renewal
  }
  const stoppedBy =
    outcome === 'stopped' ? String(options.stop?.reason ?? 'a stop condition') : undefined
  if (stoppedBy !== undefined) emit({ type: 'stopped', reason: stoppedBy, elapsedMs: elapsed() })

  emit({ type: 'restoring' })
  let restore: RestoreReport
  if (leaseLost) {
    restore = { action: 'skipped', error: failure ?? 'the lease was taken over' }
  } else {
    restore = wrote
      ? await exclusive(() => restoreValue(store, experiment, initial, lastVersion))
      : { action: 'unchanged', ...(initial ? { value: initial.value } : {}) }
    // A failed restore keeps the lease: it holds the value to restore (--takeover).
    if (restore.action !== 'failed') await lease.release().catch(() => undefined)
  }
  emit({ type: 'restored', restore })
  return {
    outcome,
    ...(failure === undefined ? {} : { error: failure }),
    ...(stoppedBy === undefined ? {} : { stoppedBy }),
    initial,
    restore,
    elapsedMs: elapsed(),
    lease: lease.record,
  }
}

/** What {@link recoverStaleLease} did. */
export interface RecoverResult {
  /** The stale lease taken over, or `undefined` when there was none. */
  stale?: LeaseRecord
  restore: RestoreReport
}

/**
 * After a runner died (kill -9, a lost laptop): takes over its stale lease,
 * writes back the pre-experiment value the lease recorded (never the chaos
 * value found in the store), and releases the lease. Refuses, changing
 * nothing, while the lease is live.
 */
export const recoverStaleLease = async (store: ConfigStore): Promise<RecoverResult> => {
  const lease = await acquireLease(store, {
    experiment: 'recover',
    ttlMs: DEFAULT_LEASE_TTL_MS,
    takeover: true,
  })
  const stale = lease.previous
  if (stale === undefined || lease.record.original === undefined) {
    // No lease, or its runner died before it wrote anything.
    await lease.release()
    const current = await store.read()
    return { restore: { action: 'unchanged', ...(current ? { value: current.value } : {}) } }
  }
  const restore = await restoreValue(store, { name: 'recover' }, lease.original, undefined)
  if (restore.action !== 'failed') await lease.release()
  return { stale, restore }
}

const restoreValue = async (
  store: ConfigStore,
  experiment: Pick<Experiment, 'name'>,
  initial: StoredValue | undefined,
  lastVersion: number | undefined,
): Promise<RestoreReport> => {
  const label = `experiment ${experiment.name}: restore`
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
        await store.remove({ label })
        return { action: 'deleted', ...(warning ? { warning } : {}) }
      }
      const written = await store.write(initial.value, { label })
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

/** Exported for the timeline: the lease this module takes. */
export type { Lease }
