/**
 * The stores: where the chaos config lives, as the CLI reads and writes it
 * (the `ConfigStore` interface of `@middy-chaos/fis/local`, which the FIS
 * player writes through too). `file.ts`: the local JSON file; `ssm.ts`: SSM
 * Parameter Store. Here: which one the command line selects. A store knows
 * nothing of experiments: this room imports no other room of the CLI.
 *
 * @module
 */
import { UsageError } from '@middy-chaos/experiment'
import type { ConfigStore } from '@middy-chaos/fis/local'
import { FileStore } from './file.js'
import { SsmStore } from './ssm.js'

export { FileStore } from './file.js'
export { SsmStore, type SsmStoreOptions } from './ssm.js'

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
