/**
 * The middy-chaos runbook handlers, played locally: the TypeScript equivalent
 * of the Python `acquire` / `hold` / `restore` that the runbook this project
 * generates runs in `aws:executeScript` steps (their Script starts with
 * {@link RUNBOOK_MARKER}). The TypeScript stands for that Python only: a step
 * is played only when its Script is exactly the one this version of
 * `@middy-chaos/fis` generates ({@link isGeneratedScript}). They keep the lease
 * and the stamp exactly as `experiment run` does (`lease.ts`, and `stampExpiry`
 * of `@middy-chaos/experiment`), through the same store:
 *
 * - `acquire` creates the lease `<parameter>.lease` atomically, id = the
 *   automation's execution id (another holder: the step fails, nothing is
 *   written), then records the pre-experiment value in it;
 * - `hold` checks it holds the lease, renews it, writes the step's value
 *   (stamped when it turns faults on with `expiresAt` = now + TTL, never later
 *   than the hold's planned end + `GraceSeconds` when it holds), and until its
 *   time has passed does so again every third of the TTL (a wait-only step
 *   renews the value in force, kept in the lease as `inForce`);
 * - `restore`, if this execution holds the lease, writes the recorded value
 *   back (or deletes the parameter, which did not exist), then releases it.
 *
 * Locally the lease names this host and this process (on AWS:
 * `aws-ssm-automation`, pid 0), so `status` and `recover` judge it as any
 * local run's lease.
 *
 * @module
 */
import { hostname } from 'node:os'
import { type FaultCatalog, sleep } from '@middy-chaos/core'
import { CliError, stampExpiry, valueExpiry } from '@middy-chaos/experiment'
import { EXPIRY_GRACE_SECONDS, RUNBOOK_MARKER, type RunbookHandler } from '../handlers.js'
import { runbookScript } from '../runbook.js'
import { VERSION as FIS_VERSION } from '../version.js'
import {
  describeLease,
  LEASE_SUFFIX,
  Lease,
  type LeaseRecord,
  leaseRefusal,
  parseLease,
} from './lease.js'
import type { ConfigStore } from './store.js'

/** The first line of the runbook's handlers module: the player recognises it. */
export { FIS_VERSION, RUNBOOK_MARKER }

/**
 * Whether `script` is the `Script` `@middy-chaos/fis` ({@link FIS_VERSION})
 * generates for `handler` (as `runbookScript(handler)` writes it: comment lines
 * out, the marker kept), line ends and the whitespace around it aside. Only
 * that script is played: its TypeScript equivalent here does what it does,
 * and an edited one (a `restore` that returns at once) would not.
 */
export const isGeneratedScript = (script: string, handler: HandlerName): boolean =>
  script.replace(/\r\n/g, '\n').trim() === runbookScript(handler).trim()

export type HandlerName = RunbookHandler

/** The `InputPayload` keys each handler takes. */
export const HANDLER_INPUTS: Record<HandlerName, { required: string[]; optional: string[] }> = {
  acquire: {
    required: ['ParameterName', 'LeaseTtlSeconds', 'ExecutionId', 'Experiment'],
    // LeaseTier: the SSM tier of the lease on AWS; the store here writes it its own way.
    optional: ['KmsKeyId', 'LeaseTier'],
  },
  hold: {
    required: ['ParameterName', 'LeaseTtlSeconds', 'ExecutionId', 'Config', 'Stamp', 'HoldSeconds'],
    optional: ['KmsKeyId', 'GraceSeconds'],
  },
  restore: {
    required: ['ParameterName', 'ExecutionId'],
    optional: ['LeaseTtlSeconds', 'KmsKeyId'],
  },
}

/** The lease as the runbook keeps it: the value in force rides along, for wait-only steps. */
type RunbookLease = LeaseRecord & { readonly inForce?: string }

/** What a handler runs with. */
export interface HandlerContext {
  readonly store: ConfigStore
  /** The parameter name the documents use, mapped onto the store. */
  readonly parameterName: string
  /** The step's name, for the store's history labels. */
  readonly stepName: string
  /** Aborted when the step is cancelled or times out: `hold` stops waiting. */
  readonly signal: AbortSignal
  /** How long a hold of this many seconds lasts here (`--time-scale`, `--wait`), ms. */
  readonly holdMs: (seconds: number) => number
  readonly faults: FaultCatalog
  /** Called after each write to the parameter (`undefined`: deleted). */
  readonly onWrite?: (value: string | undefined, version?: number) => void
}

const text = (payload: Record<string, unknown>, key: string): string => {
  const value = payload[key]
  if (typeof value !== 'string') throw new CliError(`InputPayload.${key}: must be a string`)
  return value
}

const seconds = (payload: Record<string, unknown>, key: string): number => {
  const value = Number(text(payload, key))
  if (!Number.isFinite(value) || value < 0)
    throw new CliError(`InputPayload.${key}: "${payload[key]}" is not a number of seconds`)
  return value
}

/**
 * The lease, if this execution holds it and has recorded the value; else
 * throws: the run must not write.
 */
const heldLease = async (store: ConfigStore, executionId: string): Promise<RunbookLease> => {
  const current = parseLease(await store.readCompanion(LEASE_SUFFIX))
  if (current?.id !== executionId || current.original === undefined)
    throw new CliError(
      `lost the lease on ${store.description}: ${current ? `now held by ${describeLease(current)}` : 'it was removed'}; not writing`,
    )
  return current
}

const acquire = async (payload: Record<string, unknown>, context: HandlerContext) => {
  const { store } = context
  const ttlMs = seconds(payload, 'LeaseTtlSeconds') * 1000
  const now = Date.now()
  const record: LeaseRecord = {
    id: text(payload, 'ExecutionId'),
    experiment: text(payload, 'Experiment'),
    host: hostname(),
    pid: process.pid,
    since: new Date(now).toISOString(),
    expiresAt: new Date(now + ttlMs).toISOString(),
  }
  if (!(await store.createCompanion(LEASE_SUFFIX, JSON.stringify(record)))) {
    const held = parseLease(await store.readCompanion(LEASE_SUFFIX))
    if (held === undefined)
      throw new CliError(
        `${store.description}.${LEASE_SUFFIX} exists but is not a middy-chaos lease: remove it if no experiment runs`,
      )
    throw leaseRefusal(store, held)
  }
  const original = await store.read()
  await new Lease(store, record).recordOriginal(original)
  return { original: original === undefined ? null : original.version }
}

const hold = async (payload: Record<string, unknown>, context: HandlerContext) => {
  const { store, faults } = context
  const executionId = text(payload, 'ExecutionId')
  const ttlMs = seconds(payload, 'LeaseTtlSeconds') * 1000
  const stamp = text(payload, 'Stamp').toLowerCase() === 'true'
  const holdMs = context.holdMs(seconds(payload, 'HoldSeconds'))
  const end = Date.now() + holdMs
  // The stamp never outlives the hold's planned end by more than the grace; a hold of 0 s: one TTL.
  const graceMs =
    (payload.GraceSeconds === undefined ? EXPIRY_GRACE_SECONDS : seconds(payload, 'GraceSeconds')) *
    1000
  const endsAt = holdMs > 0 ? end : undefined
  let pending = text(payload, 'Config')
  let writes = 0
  for (;;) {
    // Every round: check the lease is ours, renew it, then (re)write the value in force, stamped.
    const { inForce, ...held } = await heldLease(store, executionId)
    const kept = pending ? (stamp ? pending : undefined) : (inForce ?? undefined)
    const now = Date.now()
    const lease: RunbookLease = {
      ...held,
      expiresAt: new Date(now + ttlMs).toISOString(),
      ...(kept === undefined ? {} : { inForce: kept }),
    }
    await store.writeCompanion(LEASE_SUFFIX, JSON.stringify(lease))
    const expires = valueExpiry(now, ttlMs, endsAt, graceMs)
    const value = kept === undefined ? pending : stampExpiry(kept, expires, faults)
    if (value) {
      const written = await store.write(value, {
        label: `experiment ${lease.experiment}: ${context.stepName}`,
      })
      context.onWrite?.(value, written.version)
      writes++
    }
    pending = ''
    const left = end - Date.now()
    if (left <= 0 || context.signal.aborted) return { writes, expiresAt: lease.expiresAt }
    await sleep(Math.min(Math.max(ttlMs / 3, 1000), left), context.signal)
    if (context.signal.aborted) return { writes, expiresAt: lease.expiresAt }
  }
}

const restore = async (payload: Record<string, unknown>, context: HandlerContext) => {
  const { store } = context
  const lease = parseLease(await store.readCompanion(LEASE_SUFFIX))
  // Never clobber another run's parameter: a failed AcquireLease ends here.
  if (lease?.id !== text(payload, 'ExecutionId'))
    return { restore: 'nothing: this execution does not hold the lease' }
  const label = `experiment ${lease.experiment}: restore`
  let result = 'nothing: nothing was written'
  if (lease.original) {
    const written = await store.write(lease.original.value, { label })
    context.onWrite?.(lease.original.value, written.version)
    result = `wrote back the value of version ${lease.original.version}`
  } else if (lease.original === null) {
    await store.remove({ label })
    context.onWrite?.(undefined)
    result = 'deleted the parameter: it did not exist before'
  }
  await store.removeCompanion(LEASE_SUFFIX)
  return { restore: result }
}

const HANDLERS: Record<
  HandlerName,
  (payload: Record<string, unknown>, context: HandlerContext) => Promise<Record<string, unknown>>
> = { acquire, hold, restore }

/**
 * Runs one handler with its (substituted) `InputPayload`; resolves with what
 * the Python returns (the step's `Payload`). The payload's `ParameterName` must
 * be the parameter the store plays.
 */
export const runHandler = async (
  name: HandlerName,
  payload: Record<string, unknown>,
  context: HandlerContext,
): Promise<Record<string, unknown>> => {
  const parameter = text(payload, 'ParameterName')
  if (parameter !== context.parameterName)
    throw new CliError(
      `InputPayload.ParameterName is ${parameter}, but the player plays ${context.parameterName}`,
    )
  return HANDLERS[name](payload, context)
}
