/**
 * `FileProvider`: the local file store as a Powertools parameters provider.
 * Its own entry point (`@middy-chaos/core/file-provider`): importing
 * `@middy-chaos/core` does not load Powertools Parameters' `BaseProvider`.
 *
 * @module
 */
import { readdir, readFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { BaseProvider } from '@aws-lambda-powertools/parameters/base'
import { readFileValue } from './file-store.js'

const orMissing = async (read: Promise<string>): Promise<string | undefined> => {
  try {
    return await read
  } catch (error) {
    if ((error as NodeJS.ErrnoException)?.code === 'ENOENT') return undefined
    throw error
  }
}

const isStoreFile = (name: string) =>
  name.startsWith('.') ||
  name.endsWith('.history.jsonl') ||
  name.endsWith('.lock') ||
  name.endsWith('.stale') ||
  // The experiment lease and its takeover markers, kept beside the value by the CLI.
  /\.lease(\.takeover-[\w-]+)?$/.test(name)

/**
 * A Powertools parameters provider over local files: the parameter name is a
 * file path, the value the file's text. The chaos middlewares read it through
 * the same engine and cache as SSM; the CLI writes it with
 * `writeFileValue`. Select it with `CHAOS_STORE=file` or pass it as `provider`.
 *
 * @example
 * ```ts
 * import { FileProvider } from '@middy-chaos/core/file-provider'
 *
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

  /** The values of a directory, by file name (the store's own files left out). */
  protected async _getMultiple(path: string): Promise<Record<string, unknown>> {
    const directory = resolve(path)
    const out: Record<string, unknown> = {}
    for (const entry of await readdir(directory, { withFileTypes: true })) {
      if (entry.isFile() && !isStoreFile(entry.name)) {
        // A value removed since readdir is not a value any more.
        const text = await orMissing(readFile(join(directory, entry.name), 'utf8'))
        if (text !== undefined) out[entry.name] = text
      }
    }
    return out
  }
}
