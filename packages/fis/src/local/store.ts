/**
 * The store an experiment's config is written to, as the runner and the
 * player see it: the CLI's file store and SSM store implement it, and a
 * player is given one (`playFisExperiment({ store })`).
 *
 * @module
 */
import { CliError } from '@middy-chaos/experiment'

/** A value held by a config store, with its version (SSM's `Version`, the file store's counter). */
export interface StoredValue {
  value: string
  version: number
  modifiedAt?: string
}

/** One entry of a store's version history, oldest first. */
export interface HistoryEntry extends StoredValue {
  /** Who wrote it (file store: `experiment workshop: restore`; SSM: the version's labels). */
  label?: string
  /** The version that removed the value (file store; SSM deletes a parameter's history with it). */
  removed?: boolean
}

/** Options of a write. */
export interface WriteOptions {
  /** Recorded with the version where the store can (file store). */
  label?: string
  /** Write only if the store is still at this version (compare-and-set; best effort on SSM). */
  expectedVersion?: number
}

/**
 * Where the chaos config lives, seen by the CLI: the same parameter the
 * middlewares read, through `FileProvider` or `SSMProvider`.
 */
export interface ConfigStore {
  readonly kind: 'file' | 'ssm'
  /** Parameter name (SSM) or file path (file store). */
  readonly parameter: string
  /** `file:.chaos/config.json`, `ssm:/chaos/config`: for messages. */
  readonly description: string
  /** The current value, or `undefined` when the parameter does not exist. */
  read(): Promise<StoredValue | undefined>
  write(value: string, options?: WriteOptions): Promise<StoredValue>
  /** Deletes the parameter (used to restore "did not exist"). */
  remove(options?: { label?: string }): Promise<void>
  history(): Promise<HistoryEntry[]>
  /**
   * Creates the companion entry `<parameter>.<suffix>` (the experiment lease)
   * only if it does not exist, atomically: of several creators, exactly one
   * gets `true`. The file store links a complete temporary file into place
   * (link(2) fails if the name exists); SSM puts with `Overwrite: false`.
   */
  createCompanion(suffix: string, value: string): Promise<boolean>
  /** The companion's value, or `undefined` when it does not exist. */
  readCompanion(suffix: string): Promise<string | undefined>
  /** Overwrites the companion (its holder renewing it). */
  writeCompanion(suffix: string, value: string): Promise<void>
  /** Deletes the companion; nothing when it does not exist. */
  removeCompanion(suffix: string): Promise<void>
}

/** Another writer changed the parameter between our read and our write. */
export class StoreConflictError extends CliError {
  public constructor(description: string, expected: number, actual: number | undefined) {
    super(
      `${description} was changed by another writer (version ${actual ?? 'none'}, expected ${expected})`,
    )
    this.name = 'StoreConflictError'
  }
}
