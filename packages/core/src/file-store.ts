import { randomUUID } from 'node:crypto'
import { appendFile, mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { BaseProvider } from '@aws-lambda-powertools/parameters/base'

/** One entry of a file store's version history, as SSM's `GetParameterHistory` gives. */
export interface FileStoreVersion {
  version: number
  value: string
  modifiedAt: string
  /** Who wrote it, e.g. `experiment workshop: restore`. */
  label?: string
}

/** Raised when a conditional write finds another version than the one expected. */
export class FileStoreConflictError extends Error {
  public readonly expectedVersion: number
  public readonly actualVersion: number

  public constructor(path: string, expectedVersion: number, actualVersion: number) {
    super(
      `${path} is at version ${actualVersion}, not ${expectedVersion}: another writer changed it`,
    )
    this.name = 'FileStoreConflictError'
    this.expectedVersion = expectedVersion
    this.actualVersion = actualVersion
  }
}

const historyPath = (path: string) => `${path}.history.jsonl`

const isMissing = (error: unknown) => (error as NodeJS.ErrnoException)?.code === 'ENOENT'

/**
 * Reads a file-store value: the file's text, exactly what an SSM parameter
 * would hold. Throws when the file does not exist.
 */
export const readFileValue = (path: string): Promise<string> => readFile(resolve(path), 'utf8')

/** Every version written through {@link writeFileValue}, oldest first. */
export const readFileHistory = async (path: string): Promise<FileStoreVersion[]> => {
  try {
    const text = await readFile(historyPath(resolve(path)), 'utf8')
    return text
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as FileStoreVersion)
  } catch (error) {
    if (isMissing(error)) return []
    throw error
  }
}

const withLock = async <T>(path: string, timeoutMs: number, fn: () => Promise<T>): Promise<T> => {
  const lock = `${path}.lock`
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      const handle = await open(lock, 'wx')
      await handle.close()
      break
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      // A lock older than the timeout belongs to a writer that died. Taking it over is
      // a rename, which only one of several waiters can win; the others wait on.
      const age = await stat(lock).then(
        (s) => Date.now() - s.mtimeMs,
        () => 0,
      )
      if (age > timeoutMs) {
        const stale = `${lock}.${randomUUID()}.stale`
        if (
          await rename(lock, stale).then(
            () => true,
            () => false,
          )
        )
          await rm(stale, { force: true })
      } else if (Date.now() > deadline) {
        throw new Error(`${path} is locked by another writer`)
      } else {
        await new Promise((r) => setTimeout(r, 10))
      }
    }
  }
  try {
    return await fn()
  } finally {
    await rm(lock, { force: true })
  }
}

/**
 * Writes a file-store value atomically (a temporary file renamed over the old
 * one, so a reader never sees half a value) and appends it to the version
 * history. Writers are serialised by a lock file; with `expectedVersion` the
 * write happens only if nobody wrote in between, like a compare-and-set.
 *
 * @example
 * ```ts
 * const { version } = await writeFileValue('.chaos/config.json', '{"is_enabled":false}')
 * await writeFileValue('.chaos/config.json', next, { expectedVersion: version })
 * ```
 */
export const writeFileValue = async (
  path: string,
  value: string,
  options: { expectedVersion?: number; label?: string; lockTimeoutMs?: number } = {},
): Promise<FileStoreVersion> => {
  const file = resolve(path)
  await mkdir(dirname(file), { recursive: true })
  return withLock(file, options.lockTimeoutMs ?? 5000, async () => {
    const history = await readFileHistory(file)
    const current = history.at(-1)?.version ?? 0
    if (options.expectedVersion !== undefined && options.expectedVersion !== current) {
      throw new FileStoreConflictError(path, options.expectedVersion, current)
    }
    const entry: FileStoreVersion = {
      version: current + 1,
      value,
      modifiedAt: new Date().toISOString(),
      ...(options.label === undefined ? {} : { label: options.label }),
    }
    const temporary = join(dirname(file), `.${randomUUID()}.tmp`)
    const handle = await open(temporary, 'w')
    try {
      await handle.writeFile(value, 'utf8')
      await handle.sync()
    } finally {
      await handle.close()
    }
    await rename(temporary, file)
    await appendFile(historyPath(file), `${JSON.stringify(entry)}\n`, 'utf8')
    return entry
  })
}

/**
 * A Powertools parameters provider over local files: the parameter name is a
 * file path, the value the file's text. The chaos middlewares read it through
 * the same engine and cache as SSM; the CLI writes it with
 * {@link writeFileValue}. Select it with `CHAOS_STORE=file` or pass it as `provider`.
 *
 * @example
 * ```ts
 * chaosLatency({ provider: new FileProvider(), parameterName: '.chaos/config.json' })
 * ```
 */
export class FileProvider extends BaseProvider {
  public constructor() {
    super({})
  }

  protected async _get(name: string): Promise<string> {
    return readFileValue(name)
  }

  protected async _getMultiple(path: string): Promise<Record<string, unknown>> {
    const directory = resolve(path)
    const out: Record<string, unknown> = {}
    for (const entry of await readdir(directory, { withFileTypes: true })) {
      if (entry.isFile() && !entry.name.endsWith('.history.jsonl') && !entry.name.startsWith('.')) {
        out[entry.name] = await readFile(join(directory, entry.name), 'utf8')
      }
    }
    return out
  }
}
