/**
 * One experiment per parameter: an exclusive, expiring lease, kept beside the
 * parameter as its companion `<parameter>.lease` (a file beside the file
 * store's, an SSM parameter beside the SSM one).
 *
 * - **Taken before anything is read or written.** Creating the companion is
 *   atomic on both stores (see `ConfigStore.createCompanion`): of two runs
 *   started at once, exactly one holds the lease; the other is refused at
 *   once, naming the holder, and changes nothing.
 * - **It records the pre-experiment value**, so whoever ends the experiment
 *   (its runner, or a takeover after the runner died) restores that value,
 *   never a chaos value it finds in the store.
 * - **It expires** unless its holder renews it. A lease is stale once its
 *   holder is provably gone: on this host, its process no longer exists (at
 *   once, even before its expiry); on another host, its expiry has passed.
 *   `recover` restores the value a stale lease recorded; `--takeover` takes it
 *   over, runs, and restores that value at its end. A live holder is never
 *   taken over.
 *
 * @module
 */
import { randomUUID } from 'node:crypto'
import { hostname } from 'node:os'
import { isRecord } from '@middy-chaos/core'
import { CliError } from '@middy-chaos/experiment'
import type { ConfigStore, StoredValue } from './store.js'

/** Suffix of the lease's companion entry: `/chaos/hello-world.lease`. */
export const LEASE_SUFFIX = 'lease'

/** What a lease says. */
export interface LeaseRecord {
  /** Unique per run. */
  readonly id: string
  readonly experiment: string
  readonly host: string
  readonly pid: number
  /** When the run took it (ISO 8601). */
  readonly since: string
  /** When it lapses unless renewed (ISO 8601). */
  readonly expiresAt: string
  /**
   * The parameter's value before the experiment: `null` when it did not
   * exist; absent while the holder has not read it yet (it has then written
   * nothing either).
   */
  readonly original?: { readonly value: string; readonly version: number } | null
  /** Set by a run that took over a stale lease: the one it took over. */
  readonly tookOver?: string
}

/** A second run on a parameter whose lease is held: refused, nothing changed. */
export class LeaseHeldError extends CliError {
  public readonly lease: LeaseRecord

  public constructor(message: string, lease: LeaseRecord) {
    super(message, { exitCode: 5 })
    this.name = 'LeaseHeldError'
    this.lease = lease
  }
}

/** Reads a lease record; `undefined` for a value that is not one. */
export const parseLease = (text: string | undefined): LeaseRecord | undefined => {
  if (text === undefined) return undefined
  try {
    const raw = JSON.parse(text) as unknown
    if (
      isRecord(raw) &&
      typeof raw.id === 'string' &&
      typeof raw.experiment === 'string' &&
      typeof raw.host === 'string' &&
      typeof raw.pid === 'number' &&
      typeof raw.since === 'string' &&
      typeof raw.expiresAt === 'string'
    )
      return raw as unknown as LeaseRecord
  } catch {
    // Not a lease: reported by the caller.
  }
  return undefined
}

/** Whether a process of this host with this pid is alive. */
const processAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * Why a lease is stale, or `undefined` while its holder may be alive: a holder
 * on this host is gone when its process no longer exists, whatever the
 * expiry (`its process 4242 on this host is gone`); a holder on another host
 * (an automation on AWS, another machine) is gone only once the lease has
 * expired, as nothing here can tell whether it lives (`expired 5 s ago`).
 */
export const staleReason = (lease: LeaseRecord, now = Date.now()): string | undefined => {
  if (lease.host === hostname())
    return processAlive(lease.pid) ? undefined : `its process ${lease.pid} on this host is gone`
  const expiresAt = Date.parse(lease.expiresAt)
  if (!(expiresAt <= now)) return undefined
  return `expired ${formatAgo(now - expiresAt)} ago`
}

/** What to do about a stale lease: the same words in the refusals and in `status`. */
export const RECOVER_HINT =
  'middy-chaos recover writes back the value it recorded (experiment run --takeover does too, at the end of its own run)'

/**
 * The refusal of a lease held by another run: live (`is held by …`; with
 * `takeover`, when `recover` or `--takeover` will be able to take it over),
 * or stale without `takeover` (`has a stale lease …`: `recover`, or
 * `--takeover`). The one story the runner, the FIS player and `recover` tell.
 */
export const leaseRefusal = (
  store: Pick<ConfigStore, 'description'>,
  held: LeaseRecord,
  options: { takeover?: boolean; now?: number } = {},
): LeaseHeldError => {
  const now = options.now ?? Date.now()
  const stale = staleReason(held, now)
  if (stale === undefined) {
    const when =
      held.host === hostname()
        ? `its process ${held.pid} on this host is alive: recover and --takeover can take the lease over once it has ended`
        : `its holder runs on host ${held.host}: recover and --takeover can take the lease over once it has expired`
    return new LeaseHeldError(
      `${store.description} is held by ${describeLease(held, now)}: one experiment per parameter; nothing was changed${options.takeover ? ` (${when})` : ''}`,
      held,
    )
  }
  return new LeaseHeldError(
    `${store.description} has a stale lease from ${describeLease(held, now)}: its runner is gone (${stale}) and the parameter may still hold its chaos value. ${RECOVER_HINT}`,
    held,
  )
}

const formatAgo = (ms: number): string =>
  ms < 120_000 ? `${Math.round(ms / 1000)} s` : `${Math.round(ms / 60_000)} min`

/** `experiment workshop (host ci-1, pid 4242, since …, expires …)`: who holds a lease. */
export const describeLease = (lease: LeaseRecord, now = Date.now()): string => {
  const left = Date.parse(lease.expiresAt) - now
  const expiry =
    left >= 0
      ? `expires in ${formatAgo(left)}`
      : `expired ${formatAgo(-left)} ago (${lease.expiresAt})`
  return `experiment ${lease.experiment} (host ${lease.host}, pid ${lease.pid}, since ${lease.since}, ${expiry})`
}

/** Options of {@link acquireLease}. */
export interface AcquireOptions {
  experiment: string
  /** How long the lease lives without renewal, ms. */
  ttlMs: number
  /** Take over a stale lease ({@link staleReason}: its holder is gone). */
  takeover?: boolean
}

/** A lease this run holds. */
export class Lease {
  readonly #store: ConfigStore
  #record: LeaseRecord
  /** The stale lease this one took over, if any. */
  public readonly previous: LeaseRecord | undefined

  public constructor(store: ConfigStore, record: LeaseRecord, previous?: LeaseRecord) {
    this.#store = store
    this.#record = record
    this.previous = previous
  }

  public get record(): LeaseRecord {
    return this.#record
  }

  /** The pre-experiment value: `undefined` when the parameter did not exist. */
  public get original(): StoredValue | undefined {
    return this.#record.original ?? undefined
  }

  /** Records the pre-experiment value in the lease (before anything is written). */
  public async recordOriginal(original: StoredValue | undefined): Promise<void> {
    await this.#save({
      ...this.#record,
      original:
        original === undefined ? null : { value: original.value, version: original.version },
    })
  }

  /**
   * Extends the lease to `expiresAt`; throws when another run has taken it over
   * (this run then must not write again).
   */
  public async renew(expiresAt: number): Promise<void> {
    await this.#assertHeld()
    await this.#save({ ...this.#record, expiresAt: new Date(expiresAt).toISOString() })
  }

  /** Gives the lease up (after the restore). Leaves another run's lease alone. */
  public async release(): Promise<void> {
    const current = parseLease(await this.#store.readCompanion(LEASE_SUFFIX))
    if (current !== undefined && current.id !== this.#record.id) return
    await this.#store.removeCompanion(LEASE_SUFFIX)
    if (this.#record.tookOver !== undefined)
      await this.#store.removeCompanion(`${LEASE_SUFFIX}.takeover-${this.#record.tookOver}`)
  }

  async #assertHeld(): Promise<void> {
    const current = parseLease(await this.#store.readCompanion(LEASE_SUFFIX))
    if (current?.id !== this.#record.id) {
      throw new CliError(
        `lost the lease on ${this.#store.description}: ${current ? `now held by ${describeLease(current)}` : 'it was removed'}`,
      )
    }
  }

  async #save(record: LeaseRecord): Promise<void> {
    await this.#store.writeCompanion(LEASE_SUFFIX, JSON.stringify(record))
    this.#record = record
  }
}

/**
 * Takes the lease of a store's parameter, or refuses at once, changing
 * nothing, when another run holds it ({@link leaseRefusal}). With `takeover`,
 * a stale lease ({@link staleReason}) is taken over (one taker wins even if
 * several try at once) and keeps the pre-experiment value it recorded.
 */
export const acquireLease = async (store: ConfigStore, options: AcquireOptions): Promise<Lease> => {
  const now = Date.now()
  const record: LeaseRecord = {
    id: randomUUID(),
    experiment: options.experiment,
    host: hostname(),
    pid: process.pid,
    since: new Date(now).toISOString(),
    expiresAt: new Date(now + options.ttlMs).toISOString(),
  }
  if (await store.createCompanion(LEASE_SUFFIX, JSON.stringify(record))) {
    return new Lease(store, record)
  }
  const text = await store.readCompanion(LEASE_SUFFIX)
  const held = parseLease(text)
  if (held === undefined) {
    if (text === undefined) {
      // Released between our attempt and our read: try once more.
      if (await store.createCompanion(LEASE_SUFFIX, JSON.stringify(record)))
        return new Lease(store, record)
    }
    throw new CliError(
      `${store.description}.${LEASE_SUFFIX} exists but is not a middy-chaos lease: remove it if no experiment runs`,
    )
  }
  if (staleReason(held, now) === undefined || !options.takeover)
    throw leaseRefusal(store, held, { now, ...(options.takeover ? { takeover: true } : {}) })
  // One taker per stale lease: the marker can be created once.
  if (!(await store.createCompanion(`${LEASE_SUFFIX}.takeover-${held.id}`, record.id))) {
    throw new LeaseHeldError(
      `${store.description}: another run is taking over the stale lease of experiment ${held.experiment}; nothing was changed`,
      held,
    )
  }
  const taken: LeaseRecord = {
    ...record,
    tookOver: held.id,
    ...(held.original === undefined ? {} : { original: held.original }),
  }
  await store.writeCompanion(LEASE_SUFFIX, JSON.stringify(taken))
  return new Lease(store, taken, held)
}
