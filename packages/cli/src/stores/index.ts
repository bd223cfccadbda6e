import { randomUUID } from 'node:crypto'
import { link, mkdir, open, readFile, rename, rm } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import {
  DeleteParameterCommand,
  DescribeParametersCommand,
  GetParameterCommand,
  GetParameterHistoryCommand,
  ParameterNotFound,
  PutParameterCommand,
  SSMClient,
} from '@aws-sdk/client-ssm'
import {
  FileStoreConflictError,
  readFileHistory,
  readFileValue,
  removeFileValue,
  writeFileValue,
} from '@middy-chaos/core'
import { CliError, describeError, UsageError } from './errors.js'

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

const isMissing = (error: unknown) => (error as NodeJS.ErrnoException)?.code === 'ENOENT'

/** The local file store: the file `FileProvider` reads, written atomically with version history. */
export class FileStore implements ConfigStore {
  public readonly kind = 'file'
  public readonly parameter: string
  public readonly description: string

  public constructor(path: string) {
    this.parameter = path
    this.description = `file:${path}`
  }

  public async read(): Promise<StoredValue | undefined> {
    try {
      const [value, history] = await Promise.all([
        readFileValue(this.parameter),
        readFileHistory(this.parameter),
      ])
      const last = history.at(-1)
      return {
        value,
        version: last?.version ?? 0,
        ...(last ? { modifiedAt: last.modifiedAt } : {}),
      }
    } catch (error) {
      if (isMissing(error)) return undefined
      throw new CliError(`cannot read the file store ${this.parameter}: ${describeError(error)}`)
    }
  }

  public async write(value: string, options: WriteOptions = {}): Promise<StoredValue> {
    try {
      const entry = await writeFileValue(this.parameter, value, options)
      return { value: entry.value, version: entry.version, modifiedAt: entry.modifiedAt }
    } catch (error) {
      if (error instanceof FileStoreConflictError) {
        throw new StoreConflictError(this.description, error.expectedVersion, error.actualVersion)
      }
      throw new CliError(`cannot write the file store ${this.parameter}: ${describeError(error)}`)
    }
  }

  public async remove(options: { label?: string } = {}): Promise<void> {
    try {
      await removeFileValue(this.parameter, options)
    } catch (error) {
      throw new CliError(`cannot remove ${this.parameter}: ${describeError(error)}`)
    }
  }

  public async history(): Promise<HistoryEntry[]> {
    try {
      return await readFileHistory(this.parameter)
    } catch (error) {
      throw new CliError(`cannot read the history of ${this.parameter}: ${describeError(error)}`)
    }
  }

  #companion(suffix: string): string {
    return resolve(`${this.parameter}.${suffix}`)
  }

  /** Writes a complete temporary file beside `target` and returns its path. */
  async #temporary(target: string, value: string): Promise<string> {
    await mkdir(dirname(target), { recursive: true })
    const temporary = join(dirname(target), `.${randomUUID()}.tmp`)
    const handle = await open(temporary, 'w')
    try {
      await handle.writeFile(value, 'utf8')
      await handle.sync()
    } finally {
      await handle.close()
    }
    return temporary
  }

  public async createCompanion(suffix: string, value: string): Promise<boolean> {
    const target = this.#companion(suffix)
    try {
      const temporary = await this.#temporary(target, value)
      try {
        await link(temporary, target)
        return true
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false
        throw error
      } finally {
        await rm(temporary, { force: true })
      }
    } catch (error) {
      throw new CliError(`cannot create ${target}: ${describeError(error)}`)
    }
  }

  public async readCompanion(suffix: string): Promise<string | undefined> {
    try {
      return await readFile(this.#companion(suffix), 'utf8')
    } catch (error) {
      if (isMissing(error)) return undefined
      throw new CliError(`cannot read ${this.#companion(suffix)}: ${describeError(error)}`)
    }
  }

  public async writeCompanion(suffix: string, value: string): Promise<void> {
    const target = this.#companion(suffix)
    try {
      await rename(await this.#temporary(target, value), target)
    } catch (error) {
      throw new CliError(`cannot write ${target}: ${describeError(error)}`)
    }
  }

  public async removeCompanion(suffix: string): Promise<void> {
    try {
      await rm(this.#companion(suffix), { force: true })
    } catch (error) {
      throw new CliError(`cannot remove ${this.#companion(suffix)}: ${describeError(error)}`)
    }
  }
}

/** Options of {@link SsmStore}. */
export interface SsmStoreOptions {
  /** Endpoint URL (moto, LocalStack); defaults to `AWS_ENDPOINT_URL_SSM` / `AWS_ENDPOINT_URL`. */
  endpoint?: string
  region?: string
  /** A client of your own; `endpoint` and `region` are then ignored. */
  client?: SSMClient
}

/** How a companion parameter is written: its type, and the KMS key of a SecureString. */
type CompanionType = { Type: 'String' } | { Type: 'SecureString'; KeyId?: string }

/** The key SSM encrypts a SecureString with when none is named. */
const DEFAULT_SSM_KEY = 'alias/aws/ssm'

/** SSM Parameter Store, the store of the AWS FIS workshop. */
export class SsmStore implements ConfigStore {
  public readonly kind = 'ssm'
  public readonly parameter: string
  public readonly description: string
  readonly #client: SSMClient
  readonly #where: string
  #companionTypeOf: Promise<CompanionType> | undefined

  public constructor(name: string, options: SsmStoreOptions = {}) {
    this.parameter = name
    this.description = `ssm:${name}`
    const endpoint =
      options.endpoint ?? process.env.AWS_ENDPOINT_URL_SSM ?? process.env.AWS_ENDPOINT_URL
    const region = options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION
    this.#where = endpoint ?? `region ${region ?? '(default)'}`
    this.#client =
      options.client ??
      new SSMClient({
        ...(endpoint ? { endpoint } : {}),
        ...(region ? { region } : {}),
        maxAttempts: 2,
        requestHandler: { connectionTimeout: 2000, requestTimeout: 5000 },
      })
  }

  #fail(action: string, error: unknown): CliError {
    const name = (error as Error)?.name
    const reason =
      name === 'AccessDeniedException' || name === 'UnrecognizedClientException'
        ? `access denied (${describeError(error)})`
        : describeError(error)
    return new CliError(`cannot ${action} ${this.description} (SSM at ${this.#where}): ${reason}`)
  }

  public async read(): Promise<StoredValue | undefined> {
    try {
      const { Parameter } = await this.#client.send(
        new GetParameterCommand({ Name: this.parameter, WithDecryption: true }),
      )
      return {
        value: Parameter?.Value ?? '',
        version: Parameter?.Version ?? 0,
        ...(Parameter?.LastModifiedDate
          ? { modifiedAt: Parameter.LastModifiedDate.toISOString() }
          : {}),
      }
    } catch (error) {
      if (error instanceof ParameterNotFound || (error as Error)?.name === 'ParameterNotFound') {
        return undefined
      }
      throw this.#fail('read', error)
    }
  }

  public async write(value: string, options: WriteOptions = {}): Promise<StoredValue> {
    // SSM has no conditional put: check the version just before writing.
    const current = await this.read()
    if (options.expectedVersion !== undefined && current?.version !== options.expectedVersion) {
      throw new StoreConflictError(this.description, options.expectedVersion, current?.version)
    }
    try {
      const { Version } = await this.#client.send(
        new PutParameterCommand({
          Name: this.parameter,
          Value: value,
          Overwrite: true,
          // The type of an existing parameter is kept; a new one is a plain String.
          ...(current === undefined ? { Type: 'String' } : {}),
        }),
      )
      return { value, version: Version ?? (current?.version ?? 0) + 1 }
    } catch (error) {
      throw this.#fail('write', error)
    }
  }

  public async remove(): Promise<void> {
    try {
      await this.#client.send(new DeleteParameterCommand({ Name: this.parameter }))
    } catch (error) {
      if ((error as Error)?.name === 'ParameterNotFound') return
      throw this.#fail('delete', error)
    }
  }

  public async history(): Promise<HistoryEntry[]> {
    const entries: HistoryEntry[] = []
    try {
      let NextToken: string | undefined
      do {
        const page = await this.#client.send(
          new GetParameterHistoryCommand({
            Name: this.parameter,
            WithDecryption: true,
            MaxResults: 50,
            NextToken,
          }),
        )
        for (const item of page.Parameters ?? []) {
          entries.push({
            value: item.Value ?? '',
            version: item.Version ?? 0,
            ...(item.LastModifiedDate ? { modifiedAt: item.LastModifiedDate.toISOString() } : {}),
            ...(item.Labels?.length ? { label: item.Labels.join(',') } : {}),
          })
        }
        NextToken = page.NextToken
      } while (NextToken)
    } catch (error) {
      if ((error as Error)?.name === 'ParameterNotFound') return []
      throw this.#fail('read the history of', error)
    }
    return entries.sort((a, b) => a.version - b.version)
  }

  /**
   * How companions are written: a `SecureString` when the parameter is one (a
   * lease records the pre-experiment value: it must not be less protected
   * than the parameter), encrypted with the parameter's own KMS key when
   * `DescribeParameters` tells it (otherwise SSM's default key for the
   * account); a `String` otherwise. Read once.
   */
  async #companionType(): Promise<CompanionType> {
    this.#companionTypeOf ??= this.#client
      .send(new GetParameterCommand({ Name: this.parameter, WithDecryption: false }))
      .then(
        async ({ Parameter }): Promise<CompanionType> =>
          Parameter?.Type === 'SecureString'
            ? { Type: 'SecureString', ...(await this.#keyId()) }
            : { Type: 'String' },
        (error: unknown) => {
          if ((error as Error)?.name === 'ParameterNotFound') return { Type: 'String' as const }
          this.#companionTypeOf = undefined
          throw this.#fail('read the type of', error)
        },
      )
    return this.#companionTypeOf
  }

  /** The parameter's own KMS key, unless it is SSM's default one or cannot be read. */
  async #keyId(): Promise<{ KeyId?: string }> {
    try {
      const { Parameters } = await this.#client.send(
        new DescribeParametersCommand({
          ParameterFilters: [{ Key: 'Name', Option: 'Equals', Values: [this.parameter] }],
        }),
      )
      const key = Parameters?.[0]?.KeyId
      return key === undefined || key === DEFAULT_SSM_KEY ? {} : { KeyId: key }
    } catch {
      // No ssm:DescribeParameters: still a SecureString, under the account's default key.
      return {}
    }
  }

  /**
   * `PutParameter` with `Overwrite: false` is SSM's only conditional write:
   * Parameter Store creates the name only if no version of it exists, and
   * answers `ParameterAlreadyExists` to every other caller, so of several
   * creators exactly one succeeds. A companion of a SecureString parameter is
   * a SecureString (under the parameter's own key when it can be read).
   */
  public async createCompanion(suffix: string, value: string): Promise<boolean> {
    const name = `${this.parameter}.${suffix}`
    const type = await this.#companionType()
    try {
      await this.#client.send(
        new PutParameterCommand({ Name: name, Value: value, ...type, Overwrite: false }),
      )
      return true
    } catch (error) {
      if ((error as Error)?.name === 'ParameterAlreadyExists') return false
      throw this.#fail(`create ssm:${name} for`, error)
    }
  }

  public async readCompanion(suffix: string): Promise<string | undefined> {
    const name = `${this.parameter}.${suffix}`
    try {
      const { Parameter } = await this.#client.send(
        new GetParameterCommand({ Name: name, WithDecryption: true }),
      )
      return Parameter?.Value
    } catch (error) {
      if ((error as Error)?.name === 'ParameterNotFound') return undefined
      throw this.#fail(`read ssm:${name} for`, error)
    }
  }

  public async writeCompanion(suffix: string, value: string): Promise<void> {
    const name = `${this.parameter}.${suffix}`
    const type = await this.#companionType()
    try {
      await this.#client.send(
        new PutParameterCommand({ Name: name, Value: value, ...type, Overwrite: true }),
      )
    } catch (error) {
      throw this.#fail(`write ssm:${name} for`, error)
    }
  }

  public async removeCompanion(suffix: string): Promise<void> {
    const name = `${this.parameter}.${suffix}`
    try {
      await this.#client.send(new DeleteParameterCommand({ Name: name }))
    } catch (error) {
      if ((error as Error)?.name === 'ParameterNotFound') return
      throw this.#fail(`delete ssm:${name} for`, error)
    }
  }
}

/** Default parameter of the file store. */
export const DEFAULT_FILE_PARAMETER = '.chaos/config.json'

/** What selects a store on the command line. */
export interface StoreSelection {
  /** `file` (default) or `ssm`; defaults to `CHAOS_STORE`. */
  store?: string
  /** Parameter name or file path; defaults to `CHAOS_PARAM`, then `.chaos/config.json` for files. */
  param?: string
  endpoint?: string
  region?: string
}

/** Resolves `--store`/`CHAOS_STORE` and `--param`/`CHAOS_PARAM` into a kind and a parameter. */
export const resolveStoreSelection = (
  selection: StoreSelection,
  experimentParameter?: string,
): { kind: 'file' | 'ssm'; parameter: string } => {
  const raw = (selection.store ?? process.env.CHAOS_STORE ?? 'file').toLowerCase()
  if (raw !== 'file' && raw !== 'ssm') {
    throw new UsageError(`--store: "${raw}" is not a store (use "file" or "ssm")`)
  }
  const parameter = selection.param ?? experimentParameter ?? process.env.CHAOS_PARAM
  if (
    selection.store === undefined &&
    process.env.CHAOS_STORE === undefined &&
    selection.param === undefined &&
    experimentParameter === undefined &&
    process.env.CHAOS_PARAM
  ) {
    // CHAOS_PARAM usually names the function's SSM parameter: writing a local file of
    // that name while SSM stays untouched would look like success and change nothing.
    throw new UsageError(
      `CHAOS_PARAM is set (${process.env.CHAOS_PARAM}) but not which store holds it: add --store ssm or --store file (or set CHAOS_STORE)`,
    )
  }
  if (raw === 'ssm') {
    if (!parameter) {
      throw new UsageError(
        'no SSM parameter given: use --param /name (or set CHAOS_PARAM) with --store ssm',
      )
    }
    return { kind: 'ssm', parameter }
  }
  return { kind: 'file', parameter: parameter || DEFAULT_FILE_PARAMETER }
}

/**
 * The store chosen by `--store`/`CHAOS_STORE` (default `file`) for the
 * parameter `--param`/`CHAOS_PARAM` (default `.chaos/config.json` for files).
 *
 * @example
 * ```ts
 * const store = createStore({ store: 'ssm', param: '/chaos/config', endpoint: 'http://127.0.0.1:5000' })
 * console.log((await store.read())?.value)
 * ```
 */
export const createStore = (
  selection: StoreSelection,
  experimentParameter?: string,
): ConfigStore => {
  const { kind, parameter } = resolveStoreSelection(selection, experimentParameter)
  if (kind === 'ssm') {
    return new SsmStore(parameter, {
      ...(selection.endpoint ? { endpoint: selection.endpoint } : {}),
      ...(selection.region ? { region: selection.region } : {}),
    })
  }
  return new FileStore(parameter)
}
