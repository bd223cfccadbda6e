/**
 * `--report <file>`: every probe sample and the summary of a run, as JSON.
 *
 * @module
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import type { Experiment } from './experiment.js'
import type { SessionResult } from './session.js'
import type { ConfigStore } from './store.js'

/** Writes the JSON report of an experiment session. */
export const writeReport = async (
  path: string,
  experiment: Experiment,
  store: ConfigStore,
  session: SessionResult,
): Promise<void> => {
  await mkdir(dirname(resolve(path)), { recursive: true })
  await writeFile(
    path,
    `${JSON.stringify(
      {
        experiment: experiment.name,
        store: store.description,
        outcome: session.result.outcome,
        error: session.result.error,
        stoppedBy: session.result.stoppedBy,
        lease: session.result.lease,
        restore: session.result.restore,
        phases: session.phases,
        summary: session.rows,
        samples: session.samples,
      },
      null,
      2,
    )}\n`,
  )
}
