/**
 * The experiment file: read, then validated by `parseExperiment` of
 * `@middy-chaos/experiment`.
 *
 * @module
 */
import { readFile } from 'node:fs/promises'
import type { FaultCatalog } from '@middy-chaos/core'
import {
  CliError,
  describeError,
  type Experiment,
  FAULTS,
  InputError,
  parseExperiment,
} from '@middy-chaos/experiment'

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
    throw new InputError(`invalid experiment ${path}: not valid JSON (${describeError(error)})`)
  }
  return parseExperiment(raw, path, faults)
}
