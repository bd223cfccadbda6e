/**
 * The local file store: the JSON file the middlewares read through
 * `FileProvider`, written atomically with its version history.
 *
 * @module
 */
import { randomUUID } from 'node:crypto'
import { link, mkdir, open, readFile, rename, rm } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import {
  FileStoreConflictError,
  readFileHistory,
  readFileValue,
  removeFileValue,
  writeFileValue,
} from '@middy-chaos/core'
import { CliError, describeError } from '@middy-chaos/experiment'
import {
  type ConfigStore,
  type HistoryEntry,
  StoreConflictError,
  type StoredValue,
  type WriteOptions,
} from '@middy-chaos/fis/local'

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
